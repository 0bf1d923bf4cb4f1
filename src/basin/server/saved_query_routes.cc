// Saved queries over HTTP. Viewers list and read them, editors save new ones, and only a
// query's owner or an admin changes or deletes it.
#include <initializer_list>
#include <optional>
#include <utility>

#include <httplib.h>

#include "basin/query/query_json.h"
#include "basin/server/api_server.h"
#include "basin/server/json_body.h"

namespace basin::server {
namespace {

constexpr char kNamePattern[] = R"(/api/saved-queries/([^/]+))";

// Body fields and where they go.
using Fields = std::initializer_list<std::pair<const char*, std::string*>>;
using OptionalFields = std::initializer_list<std::pair<const char*, std::optional<std::string>*>>;

// The optional string field `name`: nullopt when absent, InvalidArgument when not a string.
Result<std::optional<std::string>> OptionalString(const nlohmann::json& body, const char* name) {
  if (!body.contains(name))
    return std::optional<std::string>();
  if (!body[name].is_string()) {
    return Status::InvalidArgument("field '" + std::string(name) + "' must be a string");
  }
  return std::optional(body[name].get<std::string>());
}

Status CheckMayChange(const query::SavedQuery& saved, const auth::User& user) {
  if (user.role == auth::Role::kAdmin || user.name == saved.owner)
    return Status::OK();
  return Status::PermissionDenied("only the owner ('" + saved.owner +
                                  "') or an admin may change saved query '" + saved.name +
                                  "'; user '" + user.name + "' is neither");
}

}  // namespace

void ApiServer::RegisterSavedQueryRoutes() {
  using Request = httplib::Request;
  using Response = httplib::Response;
  if (saved_queries_ == nullptr)
    return;
  query::SavedQueryStore& store = *saved_queries_;

  // ?search=TEXT: in the name, description or SQL.
  Route("GET", "/api/saved-queries", Access::kViewer,
        [&store](const Request& request, Response& response, const RequestContext&) {
          auto queries = store.List(request.get_param_value("search"));
          if (!queries.ok())
            return WriteError(response, queries.status());
          nlohmann::json list = nlohmann::json::array();
          for (const auto& saved : *queries)
            list.push_back(query::ToJson(saved));
          WriteJson(response, 200, {{"saved_queries", list}});
        });

  // Body {"name", "sql", "description"?, "database"?}; the caller owns it.
  Route("POST", "/api/saved-queries", Access::kEditor,
        [&store](const Request& request, Response& response, const RequestContext& context) {
          Result<nlohmann::json> body = ParseJsonBody(request.body);
          if (!body.ok())
            return WriteError(response, body.status());
          query::SavedQuery saved{.owner = context.principal.user.name};
          for (auto [field, target] : Fields{{"name", &saved.name}, {"sql", &saved.sql}}) {
            Result<std::string> value = RequiredString(*body, field);
            if (!value.ok())
              return WriteError(response, value.status());
            *target = *value;
          }
          for (auto [field, target] :
               Fields{{"description", &saved.description}, {"database", &saved.database}}) {
            Result<std::optional<std::string>> value = OptionalString(*body, field);
            if (!value.ok())
              return WriteError(response, value.status());
            *target = value->value_or("");
          }
          Result<query::SavedQuery> created = store.Create(saved);
          if (!created.ok())
            return WriteError(response, created.status());
          WriteJson(response, 201, query::ToJson(*created));
        });

  Route("GET", kNamePattern, Access::kViewer,
        [&store](const Request& request, Response& response, const RequestContext&) {
          Result<query::SavedQuery> saved = store.Get(request.matches[1].str());
          if (!saved.ok())
            return WriteError(response, saved.status());
          WriteJson(response, 200, query::ToJson(*saved));
        });

  // Body {"name"? (renames), "sql"?, "description"?, "database"?}: fields left out stay.
  Route("PUT", kNamePattern, Access::kEditor,
        [&store](const Request& request, Response& response, const RequestContext& context) {
          Result<nlohmann::json> body = ParseJsonBody(request.body);
          if (!body.ok())
            return WriteError(response, body.status());
          query::SavedQueryChanges changes;
          for (auto [field, target] : OptionalFields{{"name", &changes.name},
                                                     {"sql", &changes.sql},
                                                     {"description", &changes.description},
                                                     {"database", &changes.database}}) {
            Result<std::optional<std::string>> value = OptionalString(*body, field);
            if (!value.ok())
              return WriteError(response, value.status());
            *target = *value;
          }
          Result<query::SavedQuery> saved = store.Get(request.matches[1].str());
          if (!saved.ok())
            return WriteError(response, saved.status());
          if (Status allowed = CheckMayChange(*saved, context.principal.user); !allowed.ok()) {
            return WriteError(response, allowed);
          }
          Result<query::SavedQuery> updated = store.Update(saved->name, changes);
          if (!updated.ok())
            return WriteError(response, updated.status());
          WriteJson(response, 200, query::ToJson(*updated));
        });

  Route("DELETE", kNamePattern, Access::kEditor,
        [&store](const Request& request, Response& response, const RequestContext& context) {
          Result<query::SavedQuery> saved = store.Get(request.matches[1].str());
          if (!saved.ok())
            return WriteError(response, saved.status());
          if (Status allowed = CheckMayChange(*saved, context.principal.user); !allowed.ok()) {
            return WriteError(response, allowed);
          }
          if (Status deleted = store.Delete(saved->name); !deleted.ok()) {
            return WriteError(response, deleted);
          }
          WriteJson(response, 200, {{"deleted", saved->name}});
        });
}

}  // namespace basin::server
