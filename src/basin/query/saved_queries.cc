#include "basin/query/saved_queries.h"

#include "basin/common/plain_name.h"
#include "basin/query/text_search.h"

namespace basin::query {
namespace {

using Clock = std::chrono::system_clock;

constexpr size_t kMaxNameLength = 128;

constexpr char kColumns[] =
    "id, name, description, sql_text, database_name, owner, created_at, updated_at";

int64_t Seconds(Clock::time_point time) {
  return std::chrono::duration_cast<std::chrono::seconds>(time.time_since_epoch()).count();
}

Clock::time_point FromSeconds(int64_t seconds) {
  return Clock::time_point(std::chrono::seconds(seconds));
}

Result<SavedQuery> SavedQueryFromRow(const metadata::Row& row) {
  SavedQuery query;
  BASIN_ASSIGN_OR_RETURN(query.id, row.Int(0));
  BASIN_ASSIGN_OR_RETURN(query.name, row.Text(1));
  BASIN_ASSIGN_OR_RETURN(query.description, row.Text(2));
  BASIN_ASSIGN_OR_RETURN(query.sql, row.Text(3));
  BASIN_ASSIGN_OR_RETURN(query.database, row.Text(4));
  BASIN_ASSIGN_OR_RETURN(query.owner, row.Text(5));
  BASIN_ASSIGN_OR_RETURN(int64_t created, row.Int(6));
  query.created_at = FromSeconds(created);
  BASIN_ASSIGN_OR_RETURN(int64_t updated, row.Int(7));
  query.updated_at = FromSeconds(updated);
  return query;
}

Status ValidateSql(const std::string& sql) {
  if (sql.find_first_not_of(" \t\r\n;") == std::string::npos) {
    return Status::InvalidArgument("a saved query needs SQL; got none");
  }
  return Status::OK();
}

// The database names the violated index, not the value: say which name is taken.
Status NameTaken(const Status& status, std::string_view name) {
  if (status.code() != StatusCode::kAlreadyExists)
    return status;
  return Status::AlreadyExists("saved query '" + std::string(name) + "' already exists");
}

}  // namespace

Status ValidateSavedQueryName(std::string_view name) {
  if (!IsPlainName(name, kMaxNameLength)) {
    return Status::InvalidArgument(
        "a saved query name is 1-128 letters, digits, '_', '-' or '.', got '" +
        std::string(name.substr(0, kMaxNameLength)) + "'");
  }
  return Status::OK();
}

Result<SavedQuery> SavedQueryStore::Create(const SavedQuery& query) {
  BASIN_RETURN_IF_ERROR(ValidateSavedQueryName(query.name));
  BASIN_RETURN_IF_ERROR(ValidateSql(query.sql));
  SavedQuery stored = query;
  stored.created_at = stored.updated_at = FromSeconds(Seconds(Clock::now()));
  Result<int64_t> id = database_.ExecuteReturningId(
      "INSERT INTO saved_queries (name, description, sql_text, database_name, owner, created_at, "
      "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
      {stored.name, stored.description, stored.sql, stored.database, stored.owner,
       Seconds(stored.created_at), Seconds(stored.updated_at)});
  if (!id.ok())
    return NameTaken(id.status(), stored.name);
  stored.id = *id;
  return stored;
}

Result<SavedQuery> SavedQueryStore::Get(std::string_view name) {
  // Only valid names can be stored; checking first also keeps odd input out of messages.
  BASIN_RETURN_IF_ERROR(ValidateSavedQueryName(name));
  BASIN_ASSIGN_OR_RETURN(std::optional<metadata::Row> row,
                         database_.QueryRow(std::string("SELECT ") + kColumns +
                                                " FROM saved_queries WHERE lower(name) = lower(?)",
                                            {std::string(name)}));
  if (!row)
    return Status::NotFound("no saved query named '" + std::string(name) + "'");
  return SavedQueryFromRow(*row);
}

Result<std::vector<SavedQuery>> SavedQueryStore::List(std::string_view search) {
  std::string sql = std::string("SELECT ") + kColumns + " FROM saved_queries";
  std::vector<metadata::Value> params;
  if (!search.empty()) {
    sql +=
        " WHERE lower(name) LIKE ? ESCAPE '!' OR lower(description) LIKE ? ESCAPE '!'"
        " OR lower(sql_text) LIKE ? ESCAPE '!'";
    params.assign(3, ContainsPattern(search));
  }
  sql += " ORDER BY name";
  BASIN_ASSIGN_OR_RETURN(std::vector<metadata::Row> rows, database_.Query(sql, std::move(params)));
  std::vector<SavedQuery> queries;
  queries.reserve(rows.size());
  for (const metadata::Row& row : rows) {
    BASIN_ASSIGN_OR_RETURN(SavedQuery query, SavedQueryFromRow(row));
    queries.push_back(std::move(query));
  }
  return queries;
}

Result<SavedQuery> SavedQueryStore::Update(std::string_view name,
                                           const SavedQueryChanges& changes) {
  if (changes.name)
    BASIN_RETURN_IF_ERROR(ValidateSavedQueryName(*changes.name));
  if (changes.sql)
    BASIN_RETURN_IF_ERROR(ValidateSql(*changes.sql));
  SavedQuery updated;
  // Read and write in one transaction so that a concurrent update is not lost.
  BASIN_RETURN_IF_ERROR(database_.Transaction([&]() -> Status {
    BASIN_ASSIGN_OR_RETURN(updated, Get(name));
    if (changes.name)
      updated.name = *changes.name;
    if (changes.description)
      updated.description = *changes.description;
    if (changes.sql)
      updated.sql = *changes.sql;
    if (changes.database)
      updated.database = *changes.database;
    updated.updated_at = FromSeconds(Seconds(Clock::now()));
    Status written = database_.Execute(
        "UPDATE saved_queries SET name = ?, description = ?, sql_text = ?, database_name = ?, "
        "updated_at = ? WHERE id = ?",
        {updated.name, updated.description, updated.sql, updated.database,
         Seconds(updated.updated_at), updated.id});
    return NameTaken(written, updated.name);
  }));
  return updated;
}

Status SavedQueryStore::Delete(std::string_view name) {
  BASIN_RETURN_IF_ERROR(ValidateSavedQueryName(name));
  BASIN_ASSIGN_OR_RETURN(
      int64_t deleted,
      database_.ExecuteReturningChangeCount(
          "DELETE FROM saved_queries WHERE lower(name) = lower(?)", {std::string(name)}));
  if (deleted == 0)
    return Status::NotFound("no saved query named '" + std::string(name) + "'");
  return Status::OK();
}

}  // namespace basin::query
