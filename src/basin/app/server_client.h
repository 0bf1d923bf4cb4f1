#pragma once

// The command line's way to the running `basin serve` of the same home, for what only the
// server has: stream ingest (its write-ahead log) and live stream stats.
//
// Address: --url, else BASIN_URL, else the address the server wrote to <home>/run/server.json
// when it started (so a server on a port the OS picked is found), else server.listen.
// Credential: --token, else BASIN_TOKEN, else a one-hour session of the home's first admin
// user that the command creates (it already has the home's full authority: it opens the
// metadata database) and deletes when done.

#include <memory>
#include <optional>
#include <string>

#include "basin/app/home.h"
#include "basin/common/result.h"

namespace httplib {
class Client;
}

namespace basin::app {

/// Where the running server said it listens; removed when it stops.
Status WriteServerAddress(const std::string& home, const std::string& url);
void RemoveServerAddress(const std::string& home);

struct ServerResponse {
  int status = 0;
  std::string body;
  std::string retry_after;  // the Retry-After header, if any
};

class ServerClient {
 public:
  /// NotFound when no server address is known; the connection is made on the first request.
  static Result<std::unique_ptr<ServerClient>> Connect(Home& home,
                                                       const std::optional<std::string>& url,
                                                       const std::optional<std::string>& token);
  ~ServerClient();
  ServerClient(const ServerClient&) = delete;
  ServerClient& operator=(const ServerClient&) = delete;

  const std::string& url() const { return url_; }
  /// Unavailable (naming the URL) when the server cannot be reached.
  Result<ServerResponse> Get(const std::string& path);
  Result<ServerResponse> Post(const std::string& path, const std::string& body,
                              const std::string& content_type);

 private:
  ServerClient(std::string url, std::string token, auth::AuthStore* session_owner);
  Result<ServerResponse> Finish(const std::string& what, const void* result);

  std::string url_;
  std::string token_;
  auth::AuthStore* session_owner_;  // set when token_ is a session this client created
  std::unique_ptr<httplib::Client> http_;
};

/// "message" of a JSON error body, else the body itself (shortened).
std::string ErrorMessageOf(const ServerResponse& response);

}  // namespace basin::app
