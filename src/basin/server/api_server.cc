#include "basin/server/api_server.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <thread>

#include <httplib.h>

#include "basin/common/crypto.h"
#include "basin/common/log.h"
#include "basin/server/aws_json_dispatch.h"
#include "basin/server/connection_threads.h"
#include "basin/server/json_body.h"
#include "basin/sigv4/sigv4.h"

namespace basin::server {
namespace {

constexpr const char* kRequestIdHeader = "X-Request-Id";
// Connection threads kept even when idle: enough for a dashboard's burst of panels.
constexpr size_t kWarmThreads = 8;
// cpp-httplib's limit on application/x-www-form-urlencoded bodies
// (CPPHTTPLIB_FORM_URL_ENCODED_PAYLOAD_MAX_LENGTH, fixed in Debian's compiled library).
constexpr size_t kFormBodyLimit = 8192;

std::pair<time_t, time_t> SecondsAndMicroseconds(std::chrono::milliseconds duration) {
  int64_t milliseconds = std::max<int64_t>(duration.count(), 1);
  return {static_cast<time_t>(milliseconds / 1000),
          static_cast<time_t>(milliseconds % 1000 * 1000)};
}

std::string RequestIdOf(const httplib::Response& response) {
  auto found = response.headers.find(kRequestIdHeader);
  return found == response.headers.end() ? "" : found->second;
}

// Ensures the response carries a request id, keeping one a client sent if it is sane.
std::string EnsureRequestId(const httplib::Request& request, httplib::Response& response) {
  std::string id = RequestIdOf(response);
  if (!id.empty())
    return id;
  std::string client = request.get_header_value(kRequestIdHeader);
  bool sane = !client.empty() && client.size() <= 64 &&
              std::all_of(client.begin(), client.end(),
                          [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '_'; });
  id = sane ? client : RandomAlphanumeric(16);
  response.set_header(kRequestIdHeader, id);
  return id;
}

// The request as it came over the wire, for SigV4: raw path and query from the target.
sigv4::Request WireRequest(const httplib::Request& request) {
  sigv4::Request wire;
  wire.method = request.method;
  size_t question = request.target.find('?');
  wire.path = request.target.substr(0, question);
  if (question != std::string::npos)
    wire.query = request.target.substr(question + 1);
  for (const auto& [name, value] : request.headers) {
    // httplib adds these for its own bookkeeping; they were not on the wire.
    if (name == "REMOTE_ADDR" || name == "REMOTE_PORT" || name == "LOCAL_ADDR" ||
        name == "LOCAL_PORT")
      continue;
    wire.headers.emplace_back(name, value);
  }
  wire.payload_hash = Sha256Hex(request.body);
  return wire;
}

// Why httplib refused a body with 413: over server.max_request_size, or a form body over
// httplib's own, smaller limit for forms (it parses them into parameters).
std::string TooLargeMessage(const httplib::Request& request, uint64_t limit) {
  std::string length = request.get_header_value("Content-Length");
  bool within_limit = !length.empty() && std::strtoull(length.c_str(), nullptr, 10) <= limit;
  if (within_limit &&
      request.get_header_value("Content-Type").starts_with("application/x-www-form-urlencoded")) {
    return "form-encoded (application/x-www-form-urlencoded) request bodies are limited to " +
           std::to_string(kFormBodyLimit) +
           " bytes; send the body with another Content-Type (application/json for the API, "
           "application/octet-stream for lake objects)";
  }
  return "request body exceeds the limit of " + std::to_string(limit) +
         " bytes (server.max_request_size)";
}

bool TakesBody(const std::string& method) {
  return method == "POST" || method == "PUT" || method == "PATCH";
}

}  // namespace

std::string CookieValue(const httplib::Request& request, std::string_view name) {
  std::string cookies = request.get_header_value("Cookie");
  size_t start = 0;
  while (start < cookies.size()) {
    size_t end = cookies.find(';', start);
    if (end == std::string::npos)
      end = cookies.size();
    std::string_view pair = std::string_view(cookies).substr(start, end - start);
    while (!pair.empty() && pair.front() == ' ')
      pair.remove_prefix(1);
    if (pair.size() > name.size() && pair.substr(0, name.size()) == name &&
        pair[name.size()] == '=') {
      return std::string(pair.substr(name.size() + 1));
    }
    start = end + 1;
  }
  return "";
}

void WriteJson(httplib::Response& response, int http_status, const nlohmann::json& body) {
  response.status = http_status;
  response.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                       "application/json");
}

Status ForClient(const httplib::Response& response, const Status& status) {
  if (HttpStatusFor(status.code()) != 500)
    return status;
  // Messages of internal and I/O errors name server paths, hosts and library internals:
  // the log keeps them, under the request id the client gets.
  std::string id = RequestIdOf(response);
  log::Error("http_internal_error", {{"request_id", id}, {"error", status.ToString()}});
  return Status(status.code(),
                "internal error (request " + id + "); the server log has the details");
}

void WriteError(httplib::Response& response, const Status& status) {
  Status shown = ForClient(response, status);
  WriteJson(response, HttpStatusFor(shown.code()),
            {{"error", {{"code", StatusCodeName(shown.code())}, {"message", shown.message()}}}});
}

ApiServer::ApiServer(ServerOptions options, auth::AuthStore& auth,
                     std::shared_ptr<storage::StoreResolver> stores, crawler::Crawler* crawler,
                     query::Engine* engine, query::QueryHistory* history,
                     query::SavedQueryStore* saved_queries, workgroup::WorkgroupStore* workgroups,
                     workgroup::AdmissionQueue* admission, service::QueryService* queries,
                     stream::StreamStore* streams, delivery::StreamService* stream_service,
                     source::SourceStore* sources)
    : options_(std::move(options)),
      auth_(auth),
      stores_(std::move(stores)),
      crawler_(crawler),
      crawls_(crawler != nullptr ? std::make_unique<service::CrawlService>(*crawler) : nullptr),
      engine_(engine),
      history_(history),
      queries_(queries),
      saved_queries_(saved_queries),
      workgroups_(workgroups),
      admission_(admission),
      streams_(streams),
      stream_service_(stream_service),
      sources_(sources),
      http_(std::make_unique<httplib::Server>()),
      aws_json_(std::make_unique<AwsJsonDispatcher>([this](const httplib::Request& request) {
        std::string token;
        return Authenticate(request, token);
      })) {
  size_t max_threads = static_cast<size_t>(std::max(options_.worker_threads, 1));
  http_->new_task_queue = [max_threads] {
    return new ConnectionThreads(std::min(kWarmThreads, max_threads), max_threads);
  };
  http_->set_payload_max_length(options_.max_request_bytes);
  // Per read and write, not per request: a client that trickles a byte now and then keeps
  // its thread, but one silent half-way through a request loses it after the timeout, and
  // threads for other clients start on demand meanwhile.
  auto [read_seconds, read_microseconds] = SecondsAndMicroseconds(options_.read_timeout);
  http_->set_read_timeout(read_seconds, read_microseconds);
  auto [write_seconds, write_microseconds] = SecondsAndMicroseconds(options_.write_timeout);
  http_->set_write_timeout(write_seconds, write_microseconds);
  // Idle keep-alive connections (and those that connect but never send) are closed after a
  // second: they would otherwise hold a thread, and a graceful stop, for seconds.
  http_->set_keep_alive_timeout(1);
  // The default (5 requests, then reconnect) makes steady producers queue for a thread.
  http_->set_keep_alive_max_count(10000);
  // An answer is written in pieces (headers, then body); with Nagle's algorithm on, the body
  // waits for the client's delayed ACK of the headers: 40 ms per request on a kept-alive
  // connection (query_bench's small-query latency).
  http_->set_tcp_nodelay(true);
  // The listening socket, as it is made, so Bind can deepen its accept queue (see there).
  // SO_REUSEADDR as servers use it; not cpp-httplib's default SO_REUSEPORT, with which a
  // second server on the same port would share it instead of failing to start.
  http_->set_socket_options([this](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    listen_socket_ = sock;
  });

  // Every error answer has the one JSON shape, including those httplib makes itself
  // (404 for unknown paths, 413 for bodies over the limit, 400 for malformed requests).
  uint64_t limit = options_.max_request_bytes;
  http_->set_error_handler(httplib::Server::HandlerWithResponse(
      [limit](const httplib::Request& request, httplib::Response& response) {
        EnsureRequestId(request, response);
        if (!response.body.empty())
          return httplib::Server::HandlerResponse::Unhandled;
        switch (response.status) {
          case 404:
            WriteError(response, Status::NotFound("no such endpoint: " + request.method + " " +
                                                  request.path));
            break;
          case 413:
            WriteError(response, Status::PayloadTooLarge(TooLargeMessage(request, limit)));
            break;
          case 405:
            WriteJson(
                response, 405,
                {{"error", {{"code", "MethodNotAllowed"}, {"message", "method not allowed"}}}});
            break;
          default:
            WriteJson(
                response, response.status,
                {{"error",
                  {{"code", response.status >= 500 ? "Internal" : "InvalidArgument"},
                   {"message", "request failed (HTTP " + std::to_string(response.status) + ")"}}}});
        }
        return httplib::Server::HandlerResponse::Handled;
      }));
  http_->set_pre_routing_handler(
      [this](const httplib::Request& request, httplib::Response& response) {
        // httplib checks the size limit against Content-Length only; a chunked body could be
        // any size, so it is refused before it is read.
        if (request.get_header_value("Transfer-Encoding").find("chunked") != std::string::npos) {
          EnsureRequestId(request, response);
          response.set_header("Connection", "close");
          WriteJson(response, 411,
                    {{"error",
                      {{"code", "LengthRequired"},
                       {"message", "send the body with a Content-Length, not chunked"}}}});
          return httplib::Server::HandlerResponse::Handled;
        }
        // httplib parses multipart bodies itself, before any route, and answers a malformed
        // one with a bare 400; no basin endpoint takes a form upload.
        if (request.get_header_value("Content-Type").starts_with("multipart/")) {
          EnsureRequestId(request, response);
          response.set_header("Connection", "close");
          WriteJson(response, 415,
                    {{"error",
                      {{"code", "UnsupportedMediaType"},
                       {"message",
                        "basin does not take multipart (form upload) bodies: send "
                        "JSON (application/json), or the object's bytes to "
                        "PUT /api/lake/object"}}}});
          return httplib::Server::HandlerResponse::Handled;
        }
        // Without a length, httplib would read the body until the client closes: a client
        // that keeps the connection open waits for the read timeout and gets a bare 400.
        if (TakesBody(request.method) && !request.has_header("Content-Length")) {
          EnsureRequestId(request, response);
          response.set_header("Connection", "close");
          WriteJson(response, 411,
                    {{"error",
                      {{"code", "LengthRequired"},
                       {"message", request.method + " " + request.path +
                                       " needs a Content-Length header (Content-Length: 0 "
                                       "when there is no body)"}}}});
          return httplib::Server::HandlerResponse::Handled;
        }
        if (stopping_ && request.path != "/healthz") {
          EnsureRequestId(request, response);
          response.set_header("Connection", "close");
          WriteError(response, Status::Unavailable("the server is shutting down; retry shortly"));
          return httplib::Server::HandlerResponse::Handled;
        }
        return httplib::Server::HandlerResponse::Unhandled;
      });
  http_->set_exception_handler([](const httplib::Request& request, httplib::Response& response,
                                  std::exception_ptr error) {
    std::string what = "unknown error";
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    std::string id = EnsureRequestId(request, response);
    log::Error("http_handler_failed",
               {{"request_id", id}, {"path", request.path}, {"error", what}});
    // Not the exception's message: it was logged above, and may name server internals.
    WriteJson(
        response, 500,
        {{"error",
          {{"code", "Internal"},
           {"message", "internal error (request " + id + "); the server log has the details"}}}});
  });
  http_->set_logger([](const httplib::Request& request, const httplib::Response& response) {
    // Only method, path and outcome: never headers or bodies, which carry secrets.
    log::Info("http_request", {{"request_id", RequestIdOf(response)},
                               {"method", request.method},
                               {"path", request.path},
                               {"status", response.status},
                               {"remote", request.remote_addr}});
  });
  RegisterRoutes();
}

ApiServer::~ApiServer() = default;

Result<auth::Principal> ApiServer::Authenticate(const httplib::Request& request,
                                                std::string& bearer_token) {
  std::string authorization = request.get_header_value("Authorization");
  if (authorization.rfind("Bearer ", 0) == 0) {
    bearer_token = authorization.substr(7);
    return auth_.AuthenticateBearer(bearer_token);
  }
  if (authorization.rfind("AWS4-HMAC-SHA256 ", 0) == 0) {
    auth::User user;
    auto lookup = [&](std::string_view key_id) -> Result<std::string> {
      BASIN_ASSIGN_OR_RETURN(auth::AccessKeySecret secret, auth_.LookupAccessKey(key_id));
      user = secret.user;
      return secret.secret_access_key;
    };
    BASIN_RETURN_IF_ERROR(
        sigv4::Verify(WireRequest(request), request.body, lookup, std::chrono::system_clock::now())
            .status());
    return auth::Principal{user, auth::CredentialKind::kAccessKey};
  }
  if (!authorization.empty()) {
    return Status::Unauthenticated(
        "unsupported Authorization scheme (use Bearer or AWS4-HMAC-SHA256)");
  }
  std::string session = CookieValue(request, "basin_session");
  if (!session.empty()) {
    bearer_token = session;
    return auth_.AuthenticateBearer(session);
  }
  return Status::Unauthenticated("authentication required: send 'Authorization: Bearer <token>'");
}

void ApiServer::Route(const std::string& method, const std::string& pattern, Access access,
                      Handler handler, Body body) {
  auto wrapped = [this, access, body, handler = std::move(handler)](const httplib::Request& request,
                                                                    httplib::Response& response) {
    RequestContext context;
    context.request_id = EnsureRequestId(request, response);
    if (access != Access::kPublic && access != Access::kPassword) {
      Result<auth::Principal> principal = Authenticate(request, context.bearer_token);
      if (!principal.ok()) {
        response.set_header("WWW-Authenticate", "Bearer realm=\"basin\"");
        WriteError(response, principal.status().code() == StatusCode::kUnauthenticated
                                 ? principal.status()
                                 : Status::Unauthenticated(principal.status().message()));
        return;
      }
      auth::Role needed = access == Access::kAdmin    ? auth::Role::kAdmin
                          : access == Access::kEditor ? auth::Role::kEditor
                                                      : auth::Role::kViewer;
      if (!auth::RoleAtLeast(principal->user.role, needed)) {
        WriteError(response, Status::PermissionDenied(
                                 "this needs the " + std::string(auth::RoleName(needed)) +
                                 " role; user '" + principal->user.name + "' is " +
                                 std::string(auth::RoleName(principal->user.role))));
        return;
      }
      context.principal = std::move(principal).value();
    }
    if (body == Body::kJson && !AcceptsJsonBody(request, response))
      return;
    try {
      handler(request, response, context);
    } catch (const nlohmann::json::exception& error) {
      // A body of the wrong shape read with nlohmann's throwing accessors (get<T>, at,
      // value): the caller's error, named by field. Anything else, and any JSON error of a
      // request without a body, is the server's.
      std::optional<Status> shape = BodyShapeError(error);
      if (!shape || !TakesBody(request.method))
        throw;
      WriteError(response, *shape);
    }
  };
  if (method == "GET")
    http_->Get(pattern, wrapped);
  else if (method == "POST")
    http_->Post(pattern, wrapped);
  else if (method == "PUT")
    http_->Put(pattern, wrapped);
  else if (method == "PATCH")
    http_->Patch(pattern, wrapped);
  else if (method == "DELETE")
    http_->Delete(pattern, wrapped);
}

bool ApiServer::AcceptsJsonBody(const httplib::Request& request, httplib::Response& response) {
  std::string content_type = request.get_header_value("Content-Type");
  std::string length = request.get_header_value("Content-Length");
  bool has_body = !length.empty() && length != "0";
  if (!has_body || AcceptsAsJson(content_type))
    return true;
  WriteJson(response, 415,
            {{"error",
              {{"code", "UnsupportedMediaType"},
               {"message", request.method + " " + request.path +
                               " takes a JSON body (Content-Type: application/json), not " +
                               content_type}}}});
  return false;
}

void ApiServer::RegisterRoutes() {
  Route("GET", "/healthz", Access::kPublic,
        [](const httplib::Request&, httplib::Response& response, const RequestContext&) {
          WriteJson(response, 200, {{"status", "ok"}});
        });
  RegisterAuthRoutes();
  RegisterLakeRoutes();
  RegisterCatalogRoutes();
  RegisterQueryRoutes();
  RegisterQueryHistoryRoutes();
  RegisterSavedQueryRoutes();
  RegisterSourceRoutes();
  RegisterWorkgroupRoutes();
  RegisterStreamRoutes();
  RegisterMetricsRoutes();
  RegisterFirehoseRoutes();
  RegisterAwsJsonRoute();
}

void ApiServer::RegisterAwsJsonRoute() {
  if (aws_json_->empty())
    return;
  // Any path but the native API's: the SDKs POST to "/", some proxies add a path.
  Route(
      "POST", R"((?!/api/)/.*)", Access::kPublic,
      [this](const httplib::Request& request, httplib::Response& response, const RequestContext&) {
        aws_json_->Serve(request, response);
      },
      Body::kAny);
}

Status ApiServer::Bind() {
  if (options_.port == 0) {
    port_ = http_->bind_to_any_port(options_.host);
  } else {
    port_ = http_->bind_to_port(options_.host, options_.port) ? options_.port : -1;
  }
  if (port_ <= 0) {
    return Status::Unavailable("cannot listen on " + options_.host + ":" +
                               std::to_string(options_.port) +
                               " (address in use or not available); choose another with --listen");
  }
  // Debian's cpp-httplib is a compiled library, whose listen() keeps its default backlog of
  // 5 whatever this build defines: of more clients connecting at once (producers, a
  // dashboard's panels), the others lose their SYN and retry a second later. Linux applies
  // the backlog of a second listen() to the listening socket.
  if (listen_socket_ >= 0 && ::listen(listen_socket_, kListenBacklog) != 0) {
    return Status::Internal("cannot set the accept queue of " + options_.host + ":" +
                            std::to_string(port_) + ": " + std::strerror(errno));
  }
  return Status::OK();
}

Status ApiServer::Run() {
  if (!http_->listen_after_bind())
    return Status::Internal("the HTTP server stopped unexpectedly");
  return Status::OK();
}

void ApiServer::Stop() {
  stopping_ = true;
  if (crawls_)
    crawls_->Stop();
  // Let streamed downloads finish (bounded by the write timeout), then stop accepting.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (active_streams_.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  http_->stop();
}

ApiServer::StreamGuard::StreamGuard(std::atomic<int>& count) : count_(&count) {
  count_->fetch_add(1);
}
ApiServer::StreamGuard::~StreamGuard() {
  count_->fetch_sub(1);
}

}  // namespace basin::server
