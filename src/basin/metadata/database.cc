#include "basin/metadata/database.h"

#include "basin/metadata/migrations.h"
#include "basin/metadata/postgres_database.h"
#include "basin/metadata/sqlite_database.h"

namespace basin::metadata {

Result<std::unique_ptr<Database>> Database::Open(const std::string& location) {
  if (IsPostgresUrl(location))
    return OpenPostgresDatabase(location, PostgresMigrations());
  return OpenSqliteDatabase(location, SqliteMigrations());
}

Result<int64_t> Database::DoExecuteReturningId(std::string_view sql,
                                               const std::vector<Value>& params) {
  BASIN_ASSIGN_OR_RETURN(ExecuteSummary summary, DoExecute(sql, params));
  return summary.last_insert_id;
}

Result<std::optional<Row>> Database::QueryRow(std::string_view sql, std::vector<Value> params) {
  BASIN_ASSIGN_OR_RETURN(std::vector<Row> rows, DoQuery(sql, params));
  if (rows.empty())
    return std::optional<Row>();
  if (rows.size() > 1) {
    return Status::Internal("metadata query returned " + std::to_string(rows.size()) +
                            " rows where at most one was expected: " + std::string(sql));
  }
  return std::optional<Row>(std::move(rows.front()));
}

}  // namespace basin::metadata
