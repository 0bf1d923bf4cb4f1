// The query history over HTTP: each user reads their own; admins read anyone's.
#include <charconv>

#include <httplib.h>

#include "basin/common/time_format.h"
#include "basin/query/query_json.h"
#include "basin/server/api_server.h"

namespace basin::server {
namespace {

// An integer query parameter, `fallback` when absent. InvalidArgument when it is not one.
Result<int64_t> IntParam(const httplib::Request& request, const char* name, int64_t fallback) {
  if (!request.has_param(name))
    return fallback;
  std::string text = request.get_param_value(name);
  int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) {
    return Status::InvalidArgument("parameter '" + std::string(name) +
                                   "' must be an integer, got '" + text.substr(0, 32) + "'");
  }
  return value;
}

// An ISO 8601 time parameter, nullopt when absent.
Result<std::optional<std::chrono::system_clock::time_point>> TimeParam(
    const httplib::Request& request, const char* name) {
  if (!request.has_param(name))
    return std::optional<std::chrono::system_clock::time_point>();
  Result<std::chrono::system_clock::time_point> time = ParseIso8601(request.get_param_value(name));
  if (!time.ok())
    return time.status().WithContext("parameter '" + std::string(name) + "'");
  return std::optional(*time);
}

// ?search=&status=&since=&until=&limit=&offset=&all=true&user=NAME. Without `all` or
// `user`, the caller's own queries; anyone else's need the admin role.
Result<query::HistoryFilter> FilterFor(const httplib::Request& request,
                                       const auth::Principal& principal) {
  bool admin = principal.user.role == auth::Role::kAdmin;
  query::HistoryFilter filter;
  filter.user = principal.user.name;
  if (request.get_param_value("all") == "true") {
    if (!admin)
      return Status::PermissionDenied("only admins see everyone's queries");
    filter.user = "";
  }
  if (request.has_param("user")) {
    std::string user = request.get_param_value("user");
    if (!admin && user != principal.user.name) {
      return Status::PermissionDenied("only admins see another user's queries; user '" +
                                      principal.user.name + "' is not an admin");
    }
    filter.user = user;
  }
  filter.search = request.get_param_value("search");
  filter.status = request.get_param_value("status");
  BASIN_ASSIGN_OR_RETURN(filter.since, TimeParam(request, "since"));
  BASIN_ASSIGN_OR_RETURN(filter.until, TimeParam(request, "until"));
  BASIN_ASSIGN_OR_RETURN(int64_t limit, IntParam(request, "limit", 100));
  filter.limit = std::clamp<int64_t>(limit, 1, 1000);
  BASIN_ASSIGN_OR_RETURN(filter.offset, IntParam(request, "offset", 0));
  if (filter.offset < 0)
    return Status::InvalidArgument("parameter 'offset' must not be negative");
  return filter;
}

}  // namespace

void ApiServer::RegisterQueryHistoryRoutes() {
  using Request = httplib::Request;
  using Response = httplib::Response;
  if (history_ == nullptr)
    return;

  Route("GET", "/api/queries", Access::kViewer,
        [this](const Request& request, Response& response, const RequestContext& context) {
          Result<query::HistoryFilter> filter = FilterFor(request, context.principal);
          if (!filter.ok())
            return WriteError(response, filter.status());
          auto records = history_->List(*filter);
          if (!records.ok())
            return WriteError(response, records.status());
          nlohmann::json list = nlohmann::json::array();
          for (const auto& record : *records)
            list.push_back(query::ToJson(record));
          WriteJson(response, 200,
                    {{"queries", list}, {"limit", filter->limit}, {"offset", filter->offset}});
        });
}

}  // namespace basin::server
