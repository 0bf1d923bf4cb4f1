// SQL over HTTP: a synchronous query endpoint (the history: query_history_routes.cc).
#include <httplib.h>

#include "basin/server/api_server.h"
#include "basin/server/json_body.h"

namespace basin::server {

void ApiServer::RegisterQueryRoutes() {
  using Request = httplib::Request;
  using Response = httplib::Response;
  if (engine_ == nullptr || history_ == nullptr) return;

  // Body {"sql", "max_rows"?}. Viewers may only read (SELECT); every query is recorded.
  Route("POST", "/api/query", Access::kViewer, [this](const Request& request, Response& response, const RequestContext& context) {
    Result<nlohmann::json> body = ParseJsonBody(request.body);
    if (!body.ok()) return WriteError(response, body.status());
    Result<std::string> sql = RequiredString(*body, "sql");
    if (!sql.ok()) return WriteError(response, sql.status());
    int64_t max_rows = body->value("max_rows", int64_t{10000});
    if (max_rows < 1) return WriteError(response, Status::InvalidArgument("field 'max_rows' must be at least 1"));
    query::QueryRecord record{.user = context.principal.user.name, .sql = *sql,
                              .started_at = std::chrono::system_clock::now()};
    // Refused and unparsable queries are recorded too: the history is also an audit trail.
    Status gate;
    if (!auth::RoleAtLeast(context.principal.user.role, auth::Role::kEditor)) {
      Result<bool> read_only = query::IsReadOnlySql(*sql);
      if (!read_only.ok()) {
        gate = read_only.status();
      } else if (!*read_only) {
        gate = Status::PermissionDenied("viewers may only run SELECT queries; user '" + context.principal.user.name +
                                        "' is a viewer");
      }
    }
    Result<query::QueryResult> result = gate.ok() ? engine_->Execute(*sql, &stopping_) : Result<query::QueryResult>(gate);
    record.duration = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now() -
                                                                            record.started_at);
    if (result.ok()) {
      record.status = "succeeded";
      record.rows_returned = static_cast<int64_t>(result->rows.size());
      record.bytes_read = static_cast<int64_t>(result->bytes_read);
    } else {
      record.status = result.status().code() == StatusCode::kCancelled           ? "cancelled"
                      : result.status().code() == StatusCode::kPermissionDenied ? "refused"
                                                                               : "failed";
      record.error = result.status().message();
    }
    Result<int64_t> id = history_->Record(record);
    if (!id.ok()) return WriteError(response, id.status());
    if (!result.ok()) return WriteError(response, result.status());
    nlohmann::json columns = nlohmann::json::array();
    for (size_t i = 0; i < result->column_names.size(); ++i) {
      columns.push_back({{"name", result->column_names[i]}, {"type", result->column_types[i]}});
    }
    nlohmann::json rows = nlohmann::json::array();
    for (size_t r = 0; r < result->rows.size() && static_cast<int64_t>(r) < max_rows; ++r) {
      nlohmann::json row = nlohmann::json::array();
      for (const auto& value : result->rows[r]) row.push_back(value ? nlohmann::json(*value) : nlohmann::json(nullptr));
      rows.push_back(std::move(row));
    }
    WriteJson(response, 200, {{"id", *id},
                              {"columns", columns},
                              {"rows", rows},
                              {"row_count", result->rows.size()},
                              {"truncated", static_cast<int64_t>(result->rows.size()) > max_rows},
                              {"bytes_read", result->bytes_read},
                              {"elapsed_ms", record.duration.count()}});
  });
}

}  // namespace basin::server
