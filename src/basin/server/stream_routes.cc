// Delivery stream definitions over HTTP: viewers list and read them, editors create,
// change and delete them. Bodies use the field names of stream::ToJson.
#include <httplib.h>

#include "basin/server/api_server.h"
#include "basin/server/json_body.h"

namespace basin::server {
namespace {

constexpr char kNamePattern[] = R"(/api/streams/([^/]+))";

}  // namespace

void ApiServer::RegisterStreamRoutes() {
  using Request = httplib::Request;
  using Response = httplib::Response;
  if (streams_ == nullptr)
    return;
  stream::StreamStore& store = *streams_;

  Route("GET", "/api/streams", Access::kViewer,
        [&store](const Request&, Response& response, const RequestContext&) {
          auto streams = store.List();
          if (!streams.ok())
            return WriteError(response, streams.status());
          nlohmann::json list = nlohmann::json::array();
          for (const auto& stored : *streams)
            list.push_back(stream::ToJson(stored));
          WriteJson(response, 200, {{"streams", list}});
        });

  // Body: a definition, {"name", "table": "db.table" (or "database" and "table"), ...}.
  Route("POST", "/api/streams", Access::kEditor,
        [&store](const Request& request, Response& response, const RequestContext&) {
          Result<nlohmann::json> body = ParseJsonBody(request.body);
          if (!body.ok())
            return WriteError(response, body.status());
          Result<stream::StreamDefinition> definition = stream::StreamFromJson(*body);
          if (!definition.ok())
            return WriteError(response, definition.status());
          Result<stream::StoredStream> created = store.Create(*definition);
          if (!created.ok())
            return WriteError(response, created.status());
          WriteJson(response, 201, stream::ToJson(*created));
        });

  Route("GET", kNamePattern, Access::kViewer,
        [&store](const Request& request, Response& response, const RequestContext&) {
          Result<stream::StoredStream> stored = store.Get(request.matches[1].str());
          if (!stored.ok())
            return WriteError(response, stored.status());
          WriteJson(response, 200, stream::ToJson(*stored));
        });

  // Body: the fields to change; those left out stay. The name cannot change, but a body
  // that repeats it (a definition read with GET, edited and sent back) is fine.
  Route("PUT", kNamePattern, Access::kEditor,
        [&store](const Request& request, Response& response, const RequestContext&) {
          Result<nlohmann::json> body = ParseJsonBody(request.body);
          if (!body.ok())
            return WriteError(response, body.status());
          if (body->contains("name") && (*body)["name"] == request.matches[1].str())
            body->erase("name");
          Result<stream::StreamChanges> changes = stream::StreamChangesFromJson(*body);
          if (!changes.ok())
            return WriteError(response, changes.status());
          Result<stream::StoredStream> updated = store.Update(request.matches[1].str(), *changes);
          if (!updated.ok())
            return WriteError(response, updated.status());
          WriteJson(response, 200, stream::ToJson(*updated));
        });

  Route("DELETE", kNamePattern, Access::kEditor,
        [&store](const Request& request, Response& response, const RequestContext&) {
          std::string name = request.matches[1].str();
          if (Status deleted = store.Delete(name); !deleted.ok())
            return WriteError(response, deleted);
          WriteJson(response, 200, {{"deleted", name}});
        });
}

}  // namespace basin::server
