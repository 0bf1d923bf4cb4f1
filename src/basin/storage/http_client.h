#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "basin/common/result.h"

namespace basin::storage {

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string_view body;
  /// When set, a 2xx response body is written here (up to `capacity` bytes) instead of
  /// into HttpResponse::body: ranged reads land in the caller's buffer without a copy.
  char* body_out = nullptr;
  size_t body_out_capacity = 0;
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  size_t body_out_size = 0;  // bytes written to HttpRequest::body_out
};

struct HttpClientOptions {
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds request_timeout{300000};
};

/// A libcurl client that reuses connections through a pool of easy handles.
/// Thread-safe: concurrent Send calls each take their own handle.
class HttpClient {
 public:
  explicit HttpClient(HttpClientOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  /// Sends one request. Any HTTP status is a successful Result; Unavailable when no
  /// answer came (connection refused, DNS, timeout), naming the URL and curl's reason.
  Result<HttpResponse> Send(const HttpRequest& request);

 private:
  void* AcquireHandle();
  void ReleaseHandle(void* handle);

  HttpClientOptions options_;
  std::mutex mutex_;
  std::vector<void*> idle_handles_;  // GUARDED_BY(mutex_)
};

}  // namespace basin::storage
