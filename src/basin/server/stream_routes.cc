// Delivery stream definitions over HTTP: viewers list and read them, editors create,
// change and delete them. Bodies use the field names of stream::ToJson.
#include <httplib.h>

#include "basin/server/api_server.h"
#include "basin/server/json_body.h"

namespace basin::server {
namespace {

constexpr char kNamePattern[] = R"(/api/streams/([^/]+))";
constexpr char kRecordsPattern[] = R"(/api/streams/([^/]+)/records)";

// The records of an ingest body: a JSON array (each element's text), or NDJSON (each
// non-blank line, parsed later, so that one bad line fails only itself).
Result<std::vector<std::string>> RecordsOfBody(const std::string& body) {
  size_t start = body.find_first_not_of(" \t\r\n");
  std::vector<std::string> records;
  if (start != std::string::npos && body[start] == '[') {
    nlohmann::json array = nlohmann::json::parse(body, nullptr, false);
    if (array.is_discarded() || !array.is_array())
      return Status::InvalidArgument(
          "body starts with '[' but is not a JSON array (send a JSON array or NDJSON)");
    for (const nlohmann::json& record : array)
      records.push_back(record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    return records;
  }
  size_t begin = 0;
  while (begin <= body.size()) {
    size_t end = body.find('\n', begin);
    if (end == std::string::npos)
      end = body.size();
    std::string line = body.substr(begin, end - begin);
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    if (line.find_first_not_of(" \t") != std::string::npos)
      records.push_back(std::move(line));
    begin = end + 1;
  }
  return records;
}

}  // namespace

void ApiServer::RegisterStreamRoutes() {
  using Request = httplib::Request;
  using Response = httplib::Response;
  if (streams_ == nullptr)
    return;
  stream::StreamStore& store = *streams_;
  delivery::StreamService* service = stream_service_;

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
        [&store, service](const Request& request, Response& response, const RequestContext&) {
          Result<stream::StoredStream> stored = store.Get(request.matches[1].str());
          if (!stored.ok())
            return WriteError(response, stored.status());
          nlohmann::json body = stream::ToJson(*stored);
          if (service != nullptr) {
            Result<delivery::StreamStats> stats = service->Stats(stored->definition.name);
            if (stats.ok())
              body["stats"] = delivery::ToJson(*stats);
          }
          WriteJson(response, 200, body);
        });

  // Body: NDJSON or a JSON array of records. Answers per record; 503 with Retry-After when
  // the write-ahead log or the buffers are full, or the stream has been failing to deliver.
  if (service != nullptr) {
    Route(
        "POST", kRecordsPattern, Access::kEditor,
        [service](const Request& request, Response& response, const RequestContext&) {
          Result<std::vector<std::string>> records = RecordsOfBody(request.body);
          if (!records.ok())
            return WriteError(response, records.status());
          Result<delivery::IngestResult> ingested =
              service->Ingest(request.matches[1].str(), *records, std::chrono::system_clock::now());
          if (!ingested.ok()) {
            if (ingested.status().code() == StatusCode::kUnavailable) {
              response.set_header(
                  "Retry-After",
                  std::to_string(service->RetryAfter(request.matches[1].str()).count()));
            }
            return WriteError(response, ingested.status());
          }
          nlohmann::json errors = nlohmann::json::array();
          for (size_t i = 0; i < ingested->records.size(); ++i) {
            const Status& status = ingested->records[i];
            if (!status.ok()) {
              errors.push_back({{"index", i},
                                {"code", std::string(StatusCodeName(status.code()))},
                                {"message", status.message()}});
            }
          }
          WriteJson(response, 200,
                    {{"records", records->size()},
                     {"accepted", ingested->accepted},
                     {"failed", ingested->failed},
                     {"errors", errors}});
        },
        Body::kAny);
  }

  // Body: the fields to change; those left out stay. The name cannot change, but a body
  // that repeats it (a definition read with GET, edited and sent back) is fine.
  Route("PUT", kNamePattern, Access::kEditor,
        [&store, service](const Request& request, Response& response, const RequestContext&) {
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
          if (service != nullptr)
            service->Forget(updated->definition.name);
          WriteJson(response, 200, stream::ToJson(*updated));
        });

  Route("DELETE", kNamePattern, Access::kEditor,
        [&store, service](const Request& request, Response& response, const RequestContext&) {
          std::string name = request.matches[1].str();
          if (Status deleted = store.Delete(name); !deleted.ok())
            return WriteError(response, deleted);
          if (service != nullptr)
            service->Forget(name);
          WriteJson(response, 200, {{"deleted", name}});
        });
}

}  // namespace basin::server
