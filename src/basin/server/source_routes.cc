// Sources over HTTP, for editors and admins (a source's host and user are not for every
// viewer). A password comes in once, in the body of the create request, and never goes out.
#include <httplib.h>

#include "basin/server/api_server.h"
#include "basin/server/json_body.h"
#include "basin/source/source_probe.h"

namespace basin::server {
namespace {

constexpr char kNamePattern[] = R"(/api/sources/([^/]+))";

}  // namespace

void ApiServer::RegisterSourceRoutes() {
  using Request = httplib::Request;
  using Response = httplib::Response;
  if (sources_ == nullptr)
    return;
  source::SourceStore& store = *sources_;

  Route("GET", "/api/sources", Access::kEditor,
        [&store](const Request&, Response& response, const RequestContext&) {
          auto sources = store.List();
          if (!sources.ok())
            return WriteError(response, sources.status());
          nlohmann::json list = nlohmann::json::array();
          for (const source::StoredSource& stored : *sources)
            list.push_back(source::ToJson(stored));
          WriteJson(response, 200, {{"sources", list}});
        });

  // Body: the source's fields (source::SourceFromJson), with "password" or "password_env".
  Route("POST", "/api/sources", Access::kEditor,
        [&store](const Request& request, Response& response, const RequestContext&) {
          Result<nlohmann::json> body = ParseJsonBody(request.body);
          if (!body.ok())
            return WriteError(response, body.status());
          std::optional<std::string> password;
          Result<source::SourceDefinition> definition = source::SourceFromJson(*body, &password);
          if (!definition.ok())
            return WriteError(response, definition.status());
          Result<source::StoredSource> created = store.Create(*definition, password);
          if (!created.ok())
            return WriteError(response, created.status());
          WriteJson(response, 201, source::ToJson(*created));
        });

  Route("GET", kNamePattern, Access::kEditor,
        [&store](const Request& request, Response& response, const RequestContext&) {
          Result<source::StoredSource> stored = store.Get(request.matches[1].str());
          if (!stored.ok())
            return WriteError(response, stored.status());
          WriteJson(response, 200, source::ToJson(*stored));
        });

  Route("DELETE", kNamePattern, Access::kEditor,
        [&store](const Request& request, Response& response, const RequestContext&) {
          Result<source::StoredSource> stored = store.Get(request.matches[1].str());
          if (!stored.ok())
            return WriteError(response, stored.status());
          if (Status deleted = store.Delete(stored->definition.name); !deleted.ok())
            return WriteError(response, deleted);
          WriteJson(response, 200, {{"deleted", stored->definition.name}});
        });

  // Connects and answers what the source's user can see, or why it cannot connect: 200
  // either way (a source's wrong password is not the caller's), with "ok" saying which.
  Route("POST", std::string(kNamePattern) + "/test", Access::kEditor,
        [&store](const Request& request, Response& response, const RequestContext&) {
          Result<source::TestedSource> tested = source::TestSource(store, request.matches[1].str());
          if (!tested.ok())
            return WriteError(response, tested.status());
          WriteJson(response, 200, source::ProbeToJson(tested->source.definition, tested->probe));
        });
}

}  // namespace basin::server
