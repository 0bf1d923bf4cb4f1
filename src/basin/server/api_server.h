#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "basin/auth/auth_store.h"
#include "basin/auth/login_throttle.h"
#include "basin/common/result.h"
#include "basin/crawler/crawl.h"
#include "basin/delivery/stream_service.h"
#include "basin/query/query_history.h"
#include "basin/query/saved_queries.h"
#include "basin/service/crawl_service.h"
#include "basin/storage/store_resolver.h"
#include "basin/stream/stream_store.h"
#include "basin/workgroup/admission_queue.h"
#include "basin/workgroup/workgroup_store.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace basin::service {
class QueryService;
}  // namespace basin::service

namespace basin::source {
class SourceStore;
}  // namespace basin::source

namespace basin::server {

class AwsJsonDispatcher;

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: the OS picks one (see ApiServer::port)
  uint64_t max_request_bytes = 64ull << 20;
  /// Connections served at once. cpp-httplib holds a thread per open connection (a kept-alive
  /// one until it has been idle for a second); threads start on demand up to this many
  /// (ConnectionThreads), and further connections wait for one.
  int worker_threads = 512;
  /// A connection that sends nothing for this long in the middle of a request (or does not
  /// take the answer's bytes for this long) is closed, so that slow or half-open clients
  /// hold a thread for no longer.
  std::chrono::milliseconds read_timeout{10000};
  std::chrono::milliseconds write_timeout{10000};
  std::chrono::seconds session_ttl{std::chrono::hours(12)};
  /// What one synchronous JSON query answer holds at most (docs/api.md): beyond it the
  /// answer is `truncated` and points at the asynchronous API.
  int64_t sync_max_rows = 100000;
  uint64_t sync_max_bytes = 64ull << 20;
  /// Failed logins before POST /api/auth/login answers 429 (by client address).
  auth::LoginThrottleOptions login_throttle;
};

/// What a handler knows about the request it serves.
struct RequestContext {
  std::string request_id;
  auth::Principal principal;  // who is calling (empty for public routes)
  std::string bearer_token;   // the session or API token that authenticated it, if any
};

/// An error answer: {"error": {"code": "NotFound", "message": "..."}} with the HTTP status
/// of the code (HttpStatusFor). A 500's message is replaced (ForClient).
void WriteError(httplib::Response& response, const Status& status);
/// `status` as a client may see it: the message of a 500 (Internal, IOError), which names
/// server paths and library internals, is logged with the request id of `response` and
/// replaced by "internal error (request ID); ...". Other statuses are returned as they are.
Status ForClient(const httplib::Response& response, const Status& status);
void WriteJson(httplib::Response& response, int http_status, const nlohmann::json& body);

/// The value of cookie `name` in the request's Cookie header; empty when it has none.
std::string CookieValue(const httplib::Request& request, std::string_view name);

/// The HTTP server: /healthz without auth, the JSON API under /api/ with a session or API
/// token (Authorization: Bearer ...) or a SigV4-signed request from an access key, and
/// roles checked per route. One error shape, request size limit (413), request ids
/// (X-Request-Id) in every answer and log line, graceful Stop.
class ApiServer {
 public:
  /// `crawler` (not owned; may be null) serves the catalog and crawler endpoints;
  /// `engine` and `history` (not owned; may be null) the query endpoints; `saved_queries`
  /// (not owned; may be null) the saved-query endpoints;
  /// `workgroups` (not owned; may be null) the workgroup endpoints, with the running and
  /// queued counts of `admission` (not owned; may be null); `streams` (not owned; may be
  /// null) the delivery stream endpoints; `stream_service` (not owned; may be null) record
  /// ingest (POST /api/streams/{name}/records) and the streams' delivery stats.
  ApiServer(ServerOptions options, auth::AuthStore& auth,
            std::shared_ptr<storage::StoreResolver> stores, crawler::Crawler* crawler = nullptr,
            query::Engine* engine = nullptr, query::QueryHistory* history = nullptr,
            query::SavedQueryStore* saved_queries = nullptr,
            workgroup::WorkgroupStore* workgroups = nullptr,
            workgroup::AdmissionQueue* admission = nullptr,
            service::QueryService* queries = nullptr, stream::StreamStore* streams = nullptr,
            delivery::StreamService* stream_service = nullptr,
            source::SourceStore* sources = nullptr);
  ~ApiServer();

  /// Binds the listening socket. Unavailable when the address is taken or invalid.
  Status Bind();
  /// The bound port. REQUIRES: Bind() succeeded.
  int port() const { return port_; }
  /// Serves until Stop(). REQUIRES: Bind() succeeded.
  Status Run();
  /// Stops accepting; requests in flight finish before Run() returns. Thread-safe and
  /// safe to call from a signal-handling thread.
  void Stop();

  using Handler =
      std::function<void(const httplib::Request&, httplib::Response&, const RequestContext&)>;
  enum class Access { kPublic, kPassword, kViewer, kEditor, kAdmin };
  /// What a route's body is. kJson: a request body with a Content-Type that is not JSON
  /// (AcceptsAsJson) gets 415 before the handler runs. kAny: the handler takes any body
  /// (lake objects, NDJSON records, AWS JSON).
  enum class Body { kJson, kAny };
  /// Registers a route; `access` is the least role a caller needs (kPublic: no auth;
  /// kPassword: the handler authenticates with a password itself). A nlohmann::json
  /// exception from the handler about the body's shape answers 400 naming the field
  /// (BodyShapeError); other exceptions answer a 500 without their message.
  void Route(const std::string& method, const std::string& pattern, Access access, Handler handler,
             Body body = Body::kJson);

 private:
  /// Counts one streamed response for as long as it lives.
  /// Answers with the object `reader` reads, streamed in chunks: a large object never sits
  /// whole in server memory, and a graceful stop waits until the last chunk is sent.
  void RespondWithObject(httplib::Response& response,
                         std::unique_ptr<storage::RandomAccessReader> reader,
                         const std::string& content_type);

  class StreamGuard {
   public:
    explicit StreamGuard(std::atomic<int>& count);
    ~StreamGuard();
    StreamGuard(const StreamGuard&) = delete;
    StreamGuard& operator=(const StreamGuard&) = delete;

   private:
    std::atomic<int>* count_;
  };

  void RegisterRoutes();
  void RegisterAuthRoutes();
  void RegisterUserRoutes();
  void RegisterTokenRoutes();
  void RegisterAccessKeyRoutes();
  void RegisterLakeRoutes();
  void RegisterCatalogRoutes();
  void RegisterTableWriteRoutes();
  void RegisterPartitionWriteRoutes();
  void RegisterCrawlerRoutes();
  void RegisterQueryRoutes();
  void RegisterAsyncQueryRoutes();
  void RegisterQueryHistoryRoutes();
  void RegisterSavedQueryRoutes();
  void RegisterSourceRoutes();
  void RegisterWorkgroupRoutes();
  void RegisterStreamRoutes();
  void RegisterMetricsRoutes();
  // The AWS services spoken in the JSON 1.1 protocol, each a registration with aws_json_:
  // firehose_routes.cc.
  void RegisterFirehoseRoutes();
  // Registered last: the route of aws_json_'s services matches any POST outside /api/.
  void RegisterAwsJsonRoute();
  /// False, having answered 415, when a kJson route's request has a body that is not JSON.
  static bool AcceptsJsonBody(const httplib::Request& request, httplib::Response& response);
  /// Sets `bearer_token` to the token used, when the credential is a token.
  Result<auth::Principal> Authenticate(const httplib::Request& request, std::string& bearer_token);

  ServerOptions options_;
  auth::AuthStore& auth_;
  std::shared_ptr<storage::StoreResolver> stores_;
  crawler::Crawler* crawler_;
  std::unique_ptr<service::CrawlService> crawls_;  // runs crawler_'s crawls (null without it)
  query::Engine* engine_;
  query::QueryHistory* history_;
  service::QueryService* queries_;
  query::SavedQueryStore* saved_queries_;
  workgroup::WorkgroupStore* workgroups_;
  workgroup::AdmissionQueue* admission_;
  stream::StreamStore* streams_;
  delivery::StreamService* stream_service_;  // may be null: no ingest endpoint
  source::SourceStore* sources_;             // may be null: no /api/sources
  std::unique_ptr<httplib::Server> http_;
  std::unique_ptr<AwsJsonDispatcher> aws_json_;                  // X-Amz-Target requests
  auth::LoginThrottle login_throttle_{options_.login_throttle};  // of POST /api/auth/login
  int port_ = 0;
  int listen_socket_ = -1;  // set while binding (the socket options callback)
  static constexpr int kListenBacklog = 512;
  // Streamed downloads in flight: Stop() lets them finish (httplib would cut them off).
  std::atomic<int> active_streams_{0};
  std::atomic<bool> stopping_{false};
};

}  // namespace basin::server
