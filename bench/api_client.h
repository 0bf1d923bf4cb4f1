#pragma once

// POST /api/query from the client's side: libcurl (basin's storage::HttpClient, which keeps
// connections open between requests, as a dashboard's HTTP client would), a Bearer token,
// and the wall time from sending the request to having the whole answer.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "basin/storage/http_client.h"

namespace basin::bench {

struct ApiAnswer {
  double micros = 0;  // client-side: request sent to answer received
  std::vector<std::vector<std::optional<std::string>>> rows;
  uint64_t bytes_read = 0;
  double server_ms = 0;    // the answer's elapsed_ms
  bool cache_hit = false;  // the answer's cache_hit, once the server has a result cache
  bool has_cache_field = false;
};

class ApiClient {
 public:
  ApiClient(std::string base_url, std::string token)
      : base_url_(std::move(base_url)),
        token_(std::move(token)),
        http_({.connect_timeout = std::chrono::milliseconds(5000),
               .request_timeout = std::chrono::milliseconds(3'600'000)}) {}

  /// Runs `sql` through POST /api/query. An error (no answer, or not HTTP 200) comes back
  /// as a message in `error` and nullopt.
  std::optional<ApiAnswer> Query(const std::string& sql, std::string& error) {
    std::string body = nlohmann::json({{"sql", sql}}).dump();
    storage::HttpRequest request{
        .method = "POST",
        .url = base_url_ + "/api/query",
        .headers = {{"Authorization", "Bearer " + token_}, {"Content-Type", "application/json"}},
        .body = body};
    auto started = std::chrono::steady_clock::now();
    Result<storage::HttpResponse> response = http_.Send(request);
    double micros =
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - started)
            .count();
    if (!response.ok()) {
      error = response.status().ToString();
      return std::nullopt;
    }
    if (response->status != 200) {
      error = "HTTP " + std::to_string(response->status) + ": " + response->body.substr(0, 2000);
      return std::nullopt;
    }
    nlohmann::json json = nlohmann::json::parse(response->body, nullptr, false);
    if (!json.is_object() || !json.contains("rows")) {
      error = "the answer is not a query result: " + response->body.substr(0, 2000);
      return std::nullopt;
    }
    ApiAnswer answer;
    answer.micros = micros;
    for (const nlohmann::json& row : json["rows"]) {
      std::vector<std::optional<std::string>>& values = answer.rows.emplace_back();
      for (const nlohmann::json& value : row) {
        // Values come as text; anything else is kept as its JSON text.
        if (value.is_null()) {
          values.push_back(std::nullopt);
        } else {
          values.push_back(value.is_string() ? value.get<std::string>() : value.dump());
        }
      }
    }
    answer.bytes_read = json.value("bytes_read", uint64_t{0});
    answer.server_ms = json.value("elapsed_ms", 0.0);
    answer.has_cache_field = json.contains("cache_hit");
    answer.cache_hit = json.value("cache_hit", false);
    return answer;
  }

 private:
  std::string base_url_;
  std::string token_;
  storage::HttpClient http_;
};

}  // namespace basin::bench
