// SQLite sources: a database file opened read-only.
#include <sqlite3.h>

#include <filesystem>
#include <memory>

#include "basin/source/source_probe.h"

namespace basin::source {
namespace {

struct Closer {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct Finalizer {
  void operator()(sqlite3_stmt* statement) const { sqlite3_finalize(statement); }
};

}  // namespace

Result<SourceProbe> ProbeSqlite(const SourceDefinition& definition) {
  const std::string& path = definition.database;
  const std::string where = "SQLite source '" + definition.name + "' (" + path + ")";
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error))
    return Status::NotFound(where + ": no such file");
  sqlite3* raw = nullptr;
  int opened = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);
  std::unique_ptr<sqlite3, Closer> db(raw);
  if (opened != SQLITE_OK) {
    return Status::PermissionDenied(
        where + ": cannot open it: " + (db ? sqlite3_errmsg(db.get()) : sqlite3_errstr(opened)));
  }
  sqlite3_stmt* raw_statement = nullptr;
  int prepared =
      sqlite3_prepare_v2(db.get(),
                         "SELECT name FROM sqlite_schema WHERE type IN ('table', 'view') "
                         "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
                         -1, &raw_statement, nullptr);
  std::unique_ptr<sqlite3_stmt, Finalizer> statement(raw_statement);
  if (prepared != SQLITE_OK) {
    const int code = sqlite3_errcode(db.get());
    if (code == SQLITE_NOTADB)
      return Status::FailedPrecondition(where + ": the file is not a SQLite database");
    return Status::PermissionDenied(where + ": cannot read it: " + sqlite3_errmsg(db.get()));
  }
  SourceProbe probe;
  probe.server = std::string("SQLite ") + sqlite3_libversion();
  int step = SQLITE_ROW;
  while ((step = sqlite3_step(statement.get())) == SQLITE_ROW) {
    probe.tables.push_back(
        {"main", reinterpret_cast<const char*>(sqlite3_column_text(statement.get(), 0))});
  }
  if (step != SQLITE_DONE) {
    if (step == SQLITE_NOTADB)
      return Status::FailedPrecondition(where + ": the file is not a SQLite database");
    return Status::Unavailable(where + ": " + sqlite3_errmsg(db.get()));
  }
  return probe;
}

}  // namespace basin::source
