#include "basin/metadata/sqlite_database.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <string_view>
#include <utility>
#include <vector>

#include "basin/metadata/migration_runner.h"
#include "basin/metadata/statement_text.h"

namespace basin::metadata {
namespace {

constexpr std::string_view kMemoryPath = ":memory:";
constexpr int kBusyTimeoutMs = 5000;
constexpr std::string_view kCreateHistoryTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at INTEGER NOT NULL)";

// Maps an SQLite result code (extended codes are enabled) to basin's codes.
Status StatusFromSqlite(int code, std::string message) {
  switch (code & 0xff) {
    case SQLITE_CONSTRAINT:
      if (code == SQLITE_CONSTRAINT_UNIQUE || code == SQLITE_CONSTRAINT_PRIMARYKEY) {
        return Status::AlreadyExists(std::move(message));
      }
      return Status::FailedPrecondition(std::move(message));
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status::Unavailable(std::move(message));
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_PROTOCOL:
    case SQLITE_NOLFS:
      return Status::IOError(std::move(message));
    case SQLITE_NOMEM:
      return Status::ResourceExhausted(std::move(message));
    case SQLITE_TOOBIG:
      return Status::PayloadTooLarge(std::move(message));
    case SQLITE_INTERRUPT:
      return Status::Cancelled(std::move(message));
    default:
      return Status::Internal(std::move(message));
  }
}

struct StatementDeleter {
  void operator()(sqlite3_stmt* statement) const { sqlite3_finalize(statement); }
};
using StatementPtr = std::unique_ptr<sqlite3_stmt, StatementDeleter>;

class SqliteDatabase final : public Database {
 public:
  SqliteDatabase(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  ~SqliteDatabase() override { sqlite3_close_v2(db_); }
  SqliteDatabase(const SqliteDatabase&) = delete;
  SqliteDatabase& operator=(const SqliteDatabase&) = delete;

  // Sets the connection up; then brings the schema up to the newest of `migrations`.
  Status Configure();
  Status Migrate(std::span<const Migration> migrations);

  int SchemaVersion() const override { return schema_version_; }
  Status Transaction(const std::function<Status()>& body) override;

 protected:
  Result<ExecuteSummary> DoExecute(std::string_view sql, const std::vector<Value>& params) override;
  Result<std::vector<Row>> DoQuery(std::string_view sql, const std::vector<Value>& params) override;

 private:
  // REQUIRES: mutex_ held by the caller (for all private methods below).
  Status Error(int code, std::string_view what);
  Status Run(std::string_view sql, const std::vector<Value>& params, std::vector<Row>* rows);
  Status ExecuteScript(std::string_view sql);
  Status RollBack(int depth);

  // One connection for the process; every use goes through this lock, which is
  // recursive so that a Transaction body can run statements on its own thread.
  std::recursive_mutex mutex_;
  sqlite3* const db_;          // guarded by mutex_
  int transaction_depth_ = 0;  // guarded by mutex_
  const std::string path_;
  int schema_version_ = 0;  // written only while opening
};

Status SqliteDatabase::Error(int code, std::string_view what) {
  return StatusFromSqlite(code,
                          std::string(what) + ": " + sqlite3_errmsg(db_) + " (" + path_ + ")");
}

Status SqliteDatabase::Configure() {
  std::lock_guard lock(mutex_);
  sqlite3_busy_timeout(db_, kBusyTimeoutMs);
  BASIN_ASSIGN_OR_RETURN(std::vector<Row> mode, DoQuery("PRAGMA journal_mode = WAL", {}));
  const std::string want = path_ == kMemoryPath ? "memory" : "wal";
  if (mode.size() != 1 || mode[0].Text(0).ValueOr("") != want) {
    return Status::FailedPrecondition(
        "metadata database cannot use WAL journal mode (is it on a network file system?): " +
        path_);
  }
  // FULL: in WAL mode NORMAL may lose the last commits on power loss, and a lost commit
  // here can be a revoked token or a changed password coming back. Metadata commits are
  // rare (last-used times are throttled by their writers), so the fsync is cheap.
  BASIN_RETURN_IF_ERROR(ExecuteScript("PRAGMA synchronous = FULL"));
  BASIN_RETURN_IF_ERROR(ExecuteScript("PRAGMA foreign_keys = ON"));
  BASIN_ASSIGN_OR_RETURN(std::vector<Row> foreign_keys, DoQuery("PRAGMA foreign_keys", {}));
  if (foreign_keys.size() != 1 || foreign_keys[0].Int(0).ValueOr(0) != 1) {
    return Status::Internal("metadata database: SQLite was built without foreign keys");
  }
  return Status::OK();
}

Status SqliteDatabase::Run(std::string_view sql, const std::vector<Value>& params,
                           std::vector<Row>* rows) {
  // Some errors (SQLITE_FULL, SQLITE_IOERR) roll the whole transaction back; a body
  // that carried on would then commit its remaining statements one by one.
  if (transaction_depth_ > 0 && sqlite3_get_autocommit(db_)) {
    return Status::FailedPrecondition(
        "metadata transaction was rolled back by an earlier error; not running: " +
        DescribeSql(sql));
  }
  sqlite3_stmt* raw = nullptr;
  const char* tail = nullptr;
  int code = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &raw, &tail);
  StatementPtr statement(raw);
  if (code != SQLITE_OK)
    return Error(code, "metadata statement failed to compile: " + DescribeSql(sql));
  if (statement == nullptr)
    return Status::Internal("metadata statement is empty");
  const std::string_view rest(tail, sql.data() + sql.size() - tail);
  sqlite3_stmt* extra = nullptr;
  const int extra_code =
      sqlite3_prepare_v2(db_, rest.data(), static_cast<int>(rest.size()), &extra, nullptr);
  if (extra != nullptr || extra_code != SQLITE_OK) {
    sqlite3_finalize(extra);
    return Status::Internal("metadata statement holds more than one statement: " +
                            DescribeSql(sql));
  }

  const int expected = sqlite3_bind_parameter_count(statement.get());
  if (static_cast<size_t>(expected) != params.size()) {
    return Status::Internal("metadata statement expects " + std::to_string(expected) +
                            " parameters, got " + std::to_string(params.size()) + ": " +
                            DescribeSql(sql));
  }
  for (size_t i = 0; i < params.size(); ++i) {
    const int index = static_cast<int>(i) + 1;
    const Value& value = params[i];
    if (const auto* integer = std::get_if<int64_t>(&value)) {
      code = sqlite3_bind_int64(statement.get(), index, *integer);
    } else if (const auto* real = std::get_if<double>(&value)) {
      code = sqlite3_bind_double(statement.get(), index, *real);
    } else if (const auto* text = std::get_if<std::string>(&value)) {
      // SQLITE_STATIC: `params` outlives the statement, which is finalised below.
      code = sqlite3_bind_text64(statement.get(), index, text->data(), text->size(), SQLITE_STATIC,
                                 SQLITE_UTF8);
    } else {
      code = sqlite3_bind_null(statement.get(), index);
    }
    if (code != SQLITE_OK) {
      return Error(code, "metadata statement parameter " + std::to_string(index) +
                             " could not be bound: " + DescribeSql(sql));
    }
  }

  const int columns = sqlite3_column_count(statement.get());
  while ((code = sqlite3_step(statement.get())) == SQLITE_ROW) {
    if (rows == nullptr)
      continue;
    std::vector<Value> values;
    values.reserve(columns);
    for (int c = 0; c < columns; ++c) {
      switch (sqlite3_column_type(statement.get(), c)) {
        case SQLITE_INTEGER:
          values.emplace_back(static_cast<int64_t>(sqlite3_column_int64(statement.get(), c)));
          break;
        case SQLITE_FLOAT:
          values.emplace_back(sqlite3_column_double(statement.get(), c));
          break;
        case SQLITE_TEXT:
        case SQLITE_BLOB: {
          const auto* data = static_cast<const char*>(sqlite3_column_blob(statement.get(), c));
          const int size = sqlite3_column_bytes(statement.get(), c);
          values.emplace_back(data == nullptr ? std::string() : std::string(data, size));
          break;
        }
        default:
          values.emplace_back(kNull);
      }
    }
    rows->emplace_back(std::move(values));
  }
  if (code != SQLITE_DONE)
    return Error(code, "metadata statement failed: " + DescribeSql(sql));
  return Status::OK();
}

Result<Database::ExecuteSummary> SqliteDatabase::DoExecute(std::string_view sql,
                                                           const std::vector<Value>& params) {
  std::lock_guard lock(mutex_);
  BASIN_RETURN_IF_ERROR(Run(sql, params, nullptr));
  return ExecuteSummary{sqlite3_changes64(db_), sqlite3_last_insert_rowid(db_)};
}

Result<std::vector<Row>> SqliteDatabase::DoQuery(std::string_view sql,
                                                 const std::vector<Value>& params) {
  std::lock_guard lock(mutex_);
  std::vector<Row> rows;
  BASIN_RETURN_IF_ERROR(Run(sql, params, &rows));
  return rows;
}

Status SqliteDatabase::ExecuteScript(std::string_view sql) {
  const std::string text(sql);
  const int code = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr);
  if (code != SQLITE_OK)
    return Error(code, "metadata statement failed: " + DescribeSql(sql));
  return Status::OK();
}

Status SqliteDatabase::RollBack(int depth) {
  // An error such as SQLITE_FULL may already have rolled the whole transaction back.
  if (sqlite3_get_autocommit(db_))
    return Status::OK();
  if (depth == 0)
    return ExecuteScript("ROLLBACK");
  const std::string savepoint = "basin_savepoint_" + std::to_string(depth);
  BASIN_RETURN_IF_ERROR(ExecuteScript("ROLLBACK TO " + savepoint));
  return ExecuteScript("RELEASE " + savepoint);
}

Status SqliteDatabase::Transaction(const std::function<Status()>& body) {
  std::lock_guard lock(mutex_);
  const int depth = transaction_depth_;
  const std::string savepoint = "basin_savepoint_" + std::to_string(depth);
  // IMMEDIATE takes the write lock now: a deferred transaction that reads, then writes,
  // can fail with SQLITE_BUSY against another process without waiting.
  BASIN_RETURN_IF_ERROR(ExecuteScript(depth == 0 ? "BEGIN IMMEDIATE" : "SAVEPOINT " + savepoint));

  Status status;
  ++transaction_depth_;
  try {
    status = body();
  } catch (...) {
    --transaction_depth_;
    // The exception is what the caller needs to see; a failed rollback cannot be added.
    (void)RollBack(depth);
    throw;
  }
  --transaction_depth_;

  if (status.ok()) {
    status = ExecuteScript(depth == 0 ? "COMMIT" : "RELEASE " + savepoint);
    if (status.ok())
      return status;
  }
  if (Status rollback = RollBack(depth); !rollback.ok()) {
    return Status(status.code(),
                  status.message() + "; rollback also failed: " + rollback.message());
  }
  return status;
}

Status SqliteDatabase::Migrate(std::span<const Migration> migrations) {
  std::lock_guard lock(mutex_);
  BASIN_ASSIGN_OR_RETURN(
      schema_version_,
      ApplyMigrations(
          *this, migrations,
          {.create_history_table = kCreateHistoryTable,
           .execute_script = [this](std::string_view sql) { return ExecuteScript(sql); },
           .transaction =
               [this](const std::function<Status()>& body) {
                 return Transaction(body);
               }}));
  return Status::OK();
}

// SQLite would create the file with the umask's mode; it holds password hashes and
// sealed secrets, so create it 0600 first (SQLite gives -wal and -shm the same mode).
Status CreatePrivateFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Status::IOError("metadata database open failed: " + std::string(std::strerror(errno)) +
                           ": " + path);
  }
  ::close(fd);
  return Status::OK();
}

}  // namespace

Result<std::unique_ptr<Database>> OpenSqliteDatabase(const std::string& path,
                                                     std::span<const Migration> migrations) {
  if (path != kMemoryPath)
    BASIN_RETURN_IF_ERROR(CreatePrivateFile(path));
  sqlite3* raw = nullptr;
  // NOMUTEX: SqliteDatabase serialises every use of the connection with its own lock.
  const int flags =
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  const int code = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  if (code != SQLITE_OK) {
    Status status = StatusFromSqlite(
        code, "metadata database open failed: " +
                  std::string(raw ? sqlite3_errmsg(raw) : sqlite3_errstr(code)) + ": " + path);
    sqlite3_close_v2(raw);
    return status;
  }
  auto db = std::make_unique<SqliteDatabase>(raw, path);
  BASIN_RETURN_IF_ERROR(db->Configure());
  BASIN_RETURN_IF_ERROR(db->Migrate(migrations));
  return std::unique_ptr<Database>(std::move(db));
}

}  // namespace basin::metadata
