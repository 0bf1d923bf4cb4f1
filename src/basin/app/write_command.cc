// basin query "CREATE TABLE ... AS ..." / "INSERT OVERWRITE ...": writes go through the table
// writer.
#include "basin/app/write_command.h"

#include <iostream>

#include <nlohmann/json.hpp>

#include "basin/app/cli.h"
#include "basin/query/query_history.h"
#include "basin/writer/write_statement.h"

namespace basin::app {

std::optional<int> RunIfWriteStatement(Home& home, bool json, const std::string& sql) {
  if (!writer::IsWriteStatement(sql))
    return std::nullopt;
  Result<writer::TableWriter*> table_writer = home.Writer();
  if (!table_writer.ok())
    return ReportError(table_writer.status());
  Result<metadata::Database*> metadata = home.Metadata();
  if (!metadata.ok())
    return ReportError(metadata.status());
  query::QueryRecord record{
      .user = "local", .sql = sql, .started_at = std::chrono::system_clock::now()};
  writer::WriteContext context{
      .default_database = home.config().default_database, .user = "local", .cancel = &interrupted};
  Result<std::optional<writer::WriteResult>> written =
      (*table_writer)->RunIfWriteStatement(sql, context);
  record.duration = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now() - record.started_at);
  record.status = written.ok()                                        ? "succeeded"
                  : written.status().code() == StatusCode::kCancelled ? "cancelled"
                                                                      : "failed";
  if (written.ok() && written->has_value()) {
    record.rows_returned = (*written)->rows;  // rows written
  } else if (!written.ok()) {
    record.error = written.status().message();
  }
  Result<int64_t> recorded = query::QueryHistory(**metadata).Record(record);
  if (!recorded.ok())
    std::cerr << "basin: warning: query not recorded in history: " << recorded.status().message()
              << "\n";
  if (!written.ok())
    return ReportError(written.status());
  if (!written->has_value())
    return std::nullopt;  // not reached: IsWriteStatement said it is one
  if (json) {
    PrintJson(writer::ToJson(**written));
  } else {
    std::cout << writer::Summary(**written) << std::endl;
  }
  return kExitOk;
}

service::WriteStatementRunner WriteStatementRunnerFor(writer::TableWriter& table_writer) {
  return [&table_writer](
             const std::string& sql, const std::string& database, const std::string& user,
             const std::atomic<bool>* cancel) -> Result<std::optional<query::QueryResult>> {
    BASIN_ASSIGN_OR_RETURN(
        std::optional<writer::WriteResult> written,
        table_writer.RunIfWriteStatement(
            sql, {.default_database = database, .user = user, .cancel = cancel}));
    if (!written)
      return std::optional<query::QueryResult>();
    query::QueryResult result;
    query::Row row;
    // Bound to a name: items() refers into the JSON, so iterating a temporary's items() dangles.
    const nlohmann::json summary = writer::ToJson(*written);
    for (const auto& [key, value] : summary.items()) {
      result.column_names.push_back(key);
      result.column_types.push_back(value.is_boolean()  ? "BOOLEAN"
                                    : value.is_number() ? "BIGINT"
                                                        : "VARCHAR");
      row.push_back(value.is_string() ? value.get<std::string>() : value.dump());
    }
    result.rows.push_back(std::move(row));
    return std::optional<query::QueryResult>(std::move(result));
  };
}

}  // namespace basin::app
