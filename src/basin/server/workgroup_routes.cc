// Workgroups over HTTP: admins manage them and users' membership; everyone may see the
// workgroup they belong to.
#include <map>

#include <httplib.h>

#include "basin/server/api_server.h"
#include "basin/server/json_body.h"
#include "basin/workgroup/workgroup_json.h"

namespace basin::server {
namespace {

// The workgroup with what only admins see: its member count and, when this server admits
// queries, how many of them run and wait now.
nlohmann::json AdminJson(const workgroup::Workgroup& workgroup, int64_t users,
                         const workgroup::AdmissionQueue* admission) {
  nlohmann::json json = workgroup::ToJson(workgroup);
  json["users"] = users;
  workgroup::AdmissionCounts counts;
  if (admission != nullptr)
    counts = admission->Counts(workgroup.name);
  json["running"] = counts.running;
  json["queued"] = counts.queued;
  return json;
}

}  // namespace

void ApiServer::RegisterWorkgroupRoutes() {
  using Request = httplib::Request;
  using Response = httplib::Response;
  if (workgroups_ == nullptr)
    return;
  workgroup::WorkgroupStore* store = workgroups_;
  const workgroup::AdmissionQueue* admission = admission_;

  // Admins: every workgroup with counts. Others: only their own, without counts.
  Route("GET", "/api/workgroups", Access::kViewer,
        [store, admission](const Request&, Response& response, const RequestContext& context) {
          nlohmann::json list = nlohmann::json::array();
          if (context.principal.user.role != auth::Role::kAdmin) {
            auto own = store->UserWorkgroup(context.principal.user.name);
            if (!own.ok())
              return WriteError(response, own.status());
            list.push_back(workgroup::ToJson(*own));
            return WriteJson(response, 200, {{"workgroups", list}});
          }
          auto workgroups = store->List();
          if (!workgroups.ok())
            return WriteError(response, workgroups.status());
          auto member_counts = store->MemberCounts();
          if (!member_counts.ok())
            return WriteError(response, member_counts.status());
          std::map<std::string, int64_t> members(member_counts->begin(), member_counts->end());
          for (const auto& workgroup : *workgroups)
            list.push_back(AdminJson(workgroup, members[workgroup.name], admission));
          WriteJson(response, 200, {{"workgroups", list}});
        });

  // Body {"name", and any settings of GET's answer}; unset settings take the defaults.
  Route("POST", "/api/workgroups", Access::kAdmin,
        [store](const Request& request, Response& response, const RequestContext&) {
          Result<nlohmann::json> body = ParseJsonBody(request.body);
          if (!body.ok())
            return WriteError(response, body.status());
          Result<std::string> name = RequiredString(*body, "name");
          if (!name.ok())
            return WriteError(response, name.status());
          Result<workgroup::WorkgroupSettings> settings = workgroup::SettingsFromJson(*body);
          if (!settings.ok())
            return WriteError(response, settings.status());
          auto created = store->Create(*name, *settings);
          if (!created.ok())
            return WriteError(response, created.status());
          WriteJson(response, 201, {{"workgroup", workgroup::ToJson(*created)}});
        });

  Route("GET", R"(/api/workgroups/([^/]+))", Access::kAdmin,
        [store, admission](const Request& request, Response& response, const RequestContext&) {
          auto found = store->Get(std::string(request.matches[1]));
          if (!found.ok())
            return WriteError(response, found.status());
          auto members = store->Members(found->name);
          if (!members.ok())
            return WriteError(response, members.status());
          nlohmann::json json = AdminJson(*found, static_cast<int64_t>(members->size()), admission);
          json["members"] = *members;
          WriteJson(response, 200, {{"workgroup", json}});
        });

  // Body: the settings to change; the others stay.
  Route("PUT", R"(/api/workgroups/([^/]+))", Access::kAdmin,
        [store](const Request& request, Response& response, const RequestContext&) {
          Result<nlohmann::json> body = ParseJsonBody(request.body);
          if (!body.ok())
            return WriteError(response, body.status());
          Result<workgroup::WorkgroupSettings> settings = workgroup::SettingsFromJson(*body);
          if (!settings.ok())
            return WriteError(response, settings.status());
          auto updated = store->Update(std::string(request.matches[1]), *settings);
          if (!updated.ok())
            return WriteError(response, updated.status());
          WriteJson(response, 200, {{"workgroup", workgroup::ToJson(*updated)}});
        });

  Route("DELETE", R"(/api/workgroups/([^/]+))", Access::kAdmin,
        [store](const Request& request, Response& response, const RequestContext&) {
          std::string name = request.matches[1];
          if (Status deleted = store->Delete(name); !deleted.ok())
            return WriteError(response, deleted);
          WriteJson(response, 200, {{"deleted", name}});
        });

  // Body {"workgroup"}: effective for the user's next query.
  Route("PUT", R"(/api/users/([^/]+)/workgroup)", Access::kAdmin,
        [store](const Request& request, Response& response, const RequestContext&) {
          Result<nlohmann::json> body = ParseJsonBody(request.body);
          if (!body.ok())
            return WriteError(response, body.status());
          Result<std::string> workgroup = RequiredString(*body, "workgroup");
          if (!workgroup.ok())
            return WriteError(response, workgroup.status());
          std::string user = request.matches[1];
          if (Status assigned = store->AssignUser(user, *workgroup); !assigned.ok())
            return WriteError(response, assigned);
          WriteJson(response, 200, {{"user", user}, {"workgroup", *workgroup}});
        });
}

}  // namespace basin::server
