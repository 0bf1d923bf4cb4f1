#include "basin/storage/http_client.h"

#include <algorithm>
#include <cctype>
#include <cstring>

#include <curl/curl.h>

namespace basin::storage {
namespace {

struct Transfer {
  const HttpRequest* request;
  HttpResponse* response;
  size_t upload_offset = 0;
};

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  size_t bytes = size * count;
  HttpResponse& response = *transfer->response;
  const HttpRequest& request = *transfer->request;
  if (request.body_out != nullptr && response.status >= 200 && response.status < 300) {
    size_t room = request.body_out_capacity - response.body_out_size;
    size_t take = std::min(room, bytes);
    std::memcpy(request.body_out + response.body_out_size, data, take);
    response.body_out_size += take;
  } else {
    response.body.append(data, bytes);
  }
  return bytes;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  size_t bytes = size * count;
  std::string_view line(data, bytes);
  if (line.rfind("HTTP/", 0) == 0) {
    // A new response (after a redirect or 100-continue): the status comes first.
    transfer->response->headers.clear();
    size_t space = line.find(' ');
    if (space != std::string_view::npos)
      transfer->response->status = std::atol(line.data() + space + 1);
    return bytes;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos)
    return bytes;
  std::string name(line.substr(0, colon));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
    value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
    value.remove_suffix(1);
  }
  transfer->response->headers[name] = std::string(value);
  return bytes;
}

size_t OnUpload(char* buffer, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  std::string_view body = transfer->request->body;
  size_t take = std::min(size * count, body.size() - transfer->upload_offset);
  std::memcpy(buffer, body.data() + transfer->upload_offset, take);
  transfer->upload_offset += take;
  return take;
}

struct GlobalCurl {
  GlobalCurl() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

}  // namespace

HttpClient::HttpClient(HttpClientOptions options) : options_(options) {
  static GlobalCurl global;  // thread-safe one-time init
}

HttpClient::~HttpClient() {
  for (void* handle : idle_handles_)
    curl_easy_cleanup(static_cast<CURL*>(handle));
}

void* HttpClient::AcquireHandle() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!idle_handles_.empty()) {
      void* handle = idle_handles_.back();
      idle_handles_.pop_back();
      return handle;
    }
  }
  return curl_easy_init();
}

void HttpClient::ReleaseHandle(void* handle) {
  std::lock_guard<std::mutex> lock(mutex_);
  idle_handles_.push_back(handle);
}

Result<HttpResponse> HttpClient::Send(const HttpRequest& request) {
  CURL* curl = static_cast<CURL*>(AcquireHandle());
  if (curl == nullptr)
    return Status::Internal("curl_easy_init failed");
  curl_easy_reset(curl);
  HttpResponse response;
  Transfer transfer{&request, &response};

  curl_slist* headers = nullptr;
  for (const auto& [name, value] : request.headers) {
    headers = curl_slist_append(headers, (name + ": " + value).c_str());
  }
  // No "Expect: 100-continue" round trip, and no Content-Type curl would invent.
  headers = curl_slist_append(headers, "Expect:");
  headers = curl_slist_append(headers, "Accept:");
  if (request.method == "POST" || request.method == "PUT") {
    bool has_type = std::any_of(request.headers.begin(), request.headers.end(), [](const auto& h) {
      return strcasecmp(h.first.c_str(), "content-type") == 0;
    });
    if (!has_type)
      headers = curl_slist_append(headers, "Content-Type:");
  }

  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.request_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
  if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (request.method == "PUT" || request.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, OnUpload);
    curl_easy_setopt(curl, CURLOPT_READDATA, &transfer);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    if (request.method == "POST")
      curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, "POST");
  } else if (request.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }

  CURLcode code = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  if (code != CURLE_OK) {
    curl_easy_cleanup(curl);  // the connection may be broken: do not reuse it
    return Status::Unavailable("no answer from " + request.url + " (" + curl_easy_strerror(code) +
                               ")");
  }
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  response.status = status;
  ReleaseHandle(curl);
  return response;
}

}  // namespace basin::storage
