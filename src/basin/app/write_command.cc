// CREATE TABLE ... AS / INSERT OVERWRITE from `basin query` and the server: writes go through
// the table writer.
#include "basin/app/write_command.h"

#include <nlohmann/json.hpp>

namespace basin::app {

service::WriteStatementRunner WriteStatementRunnerFor(
    writer::TableWriter& table_writer, std::function<void(const writer::WriteResult&)> on_written) {
  return [&table_writer, on_written](
             const std::string& sql, const std::string& database, const std::string& user,
             const std::atomic<bool>* cancel) -> Result<std::optional<query::QueryResult>> {
    BASIN_ASSIGN_OR_RETURN(
        std::optional<writer::WriteResult> written,
        table_writer.RunIfWriteStatement(
            sql, {.default_database = database, .user = user, .cancel = cancel}));
    if (!written)
      return std::optional<query::QueryResult>();
    if (on_written)
      on_written(*written);
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
