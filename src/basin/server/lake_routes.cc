// Lake objects over HTTP: list and read for viewers, write and delete for editors.
#include <filesystem>

#include <httplib.h>

#include "basin/common/time_format.h"
#include "basin/server/api_server.h"

namespace basin::server {
namespace {

// `_basin/` holds basin's own objects (query results, which belong to whoever ran the
// query): only admins reach it here; owners read their results through /api/queries.
bool InBasinArea(const std::string& key) {
  std::string normal = std::filesystem::path("/" + key).lexically_normal().string();
  return normal == "/_basin" || normal.rfind("/_basin/", 0) == 0;
}

Status RefuseBasinArea(const std::string& key, const RequestContext& context) {
  if (context.principal.user.role == auth::Role::kAdmin || !InBasinArea(key))
    return Status();
  return Status::PermissionDenied("'" + key +
                                  "' is in basin's own area of the lake (_basin/), which only "
                                  "admins reach; query results are at /api/queries/{id}/results");
}

}  // namespace

void ApiServer::RegisterLakeRoutes() {
  using Request = httplib::Request;
  using Response = httplib::Response;

  Route("GET", "/api/lake/objects", Access::kViewer,
        [this](const Request& request, Response& response, const RequestContext& context) {
          storage::ObjectStore& lake = stores_->lake();
          bool admin = context.principal.user.role == auth::Role::kAdmin;
          bool recursive = request.get_param_value("recursive") != "false";
          auto listed = lake.List(request.get_param_value("prefix"), {.recursive = recursive});
          if (!listed.ok())
            return WriteError(response, listed.status());
          nlohmann::json objects = nlohmann::json::array();
          nlohmann::json prefixes = nlohmann::json::array();
          for (const storage::ObjectInfo& info : *listed) {
            if (!admin && InBasinArea(info.key))
              continue;
            if (info.is_prefix) {
              prefixes.push_back(info.key);
            } else {
              objects.push_back({{"key", info.key},
                                 {"size", info.size},
                                 {"modified", FormatIso8601(info.modified)},
                                 {"etag", info.etag}});
            }
          }
          WriteJson(response, 200,
                    {{"lake", lake.Describe()}, {"objects", objects}, {"prefixes", prefixes}});
        });

  Route("GET", "/api/lake/object", Access::kViewer,
        [this](const Request& request, Response& response, const RequestContext& context) {
          if (Status refused = RefuseBasinArea(request.get_param_value("key"), context);
              !refused.ok())
            return WriteError(response, refused);
          auto reader = stores_->lake().OpenForRead(request.get_param_value("key"));
          if (!reader.ok())
            return WriteError(response, reader.status());
          RespondWithObject(response, std::move(reader).value(), "application/octet-stream");
        });

  Route(
      "PUT", "/api/lake/object", Access::kEditor,
      [this](const Request& request, Response& response, const RequestContext& context) {
        std::string key = request.get_param_value("key");
        if (Status refused = RefuseBasinArea(key, context); !refused.ok())
          return WriteError(response, refused);
        Status written = stores_->lake().Write(key, request.body);
        if (!written.ok())
          return WriteError(response, written);
        WriteJson(response, 201, {{"key", key}, {"size", request.body.size()}});
      },
      Body::kAny);

  Route("DELETE", "/api/lake/object", Access::kEditor,
        [this](const Request& request, Response& response, const RequestContext& context) {
          std::string key = request.get_param_value("key");
          if (Status refused = RefuseBasinArea(key, context); !refused.ok())
            return WriteError(response, refused);
          Result<storage::ObjectInfo> info = stores_->lake().Stat(key);
          if (!info.ok())
            return WriteError(response, info.status());
          Status deleted = stores_->lake().Delete(key);
          if (!deleted.ok())
            return WriteError(response, deleted);
          WriteJson(response, 200, {{"deleted", info->key}});
        });
}

void ApiServer::RespondWithObject(httplib::Response& response,
                                  std::unique_ptr<storage::RandomAccessReader> reader,
                                  const std::string& content_type) {
  std::shared_ptr<storage::RandomAccessReader> shared(std::move(reader));
  auto guard = std::make_shared<StreamGuard>(active_streams_);
  response.set_content_provider(
      shared->size(), content_type,
      [shared, guard](size_t offset, size_t length, httplib::DataSink& sink) {
        std::string chunk(std::min<size_t>(length, 1 << 20), '\0');
        Result<size_t> got = shared->ReadAt(offset, chunk.size(), chunk.data());
        if (!got.ok() || *got == 0)
          return false;
        return sink.write(chunk.data(), *got);
      },
      [guard](bool) {});
}

}  // namespace basin::server
