#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "basin/common/result.h"
#include "basin/storage/s3_object_store.h"

namespace basin::app {

/// basin's settings. Precedence, highest first: command-line flags, environment
/// variables, the home's basin.yaml, built-in defaults (docs/configuration.md).
struct Config {
  std::string home;                       // absolute path of the basin home
  std::string lake = "lake";              // folder (relative to home) or s3://bucket/prefix
  std::string metadata = "metadata.db";   // SQLite file (relative to home) or postgresql:// URL
  std::string listen = "127.0.0.1:8080";  // host:port of `basin serve`
  uint64_t max_request_bytes = 64ull << 20;
  int server_threads = 512;  // connections `basin serve` serves at once (a thread each)
  // A connection silent this long in the middle of a request is closed: slow or half-open
  // clients cannot hold server threads for longer.
  std::chrono::milliseconds server_read_timeout{10000};
  std::string log_level = "info";
  std::string default_database = "default";  // where unqualified table names are looked up
  /// Results of read queries kept in memory (0: no cache); larger single results are not kept.
  uint64_t result_cache_bytes = 256ull << 20;
  uint64_t result_cache_entry_bytes = 16ull << 20;
  /// Run-time limit of a query in a workgroup that sets none (0: none).
  std::chrono::milliseconds query_default_run_time_limit{30 * 60 * 1000};
  /// What one synchronous answer holds at most; beyond it the answer says `truncated`.
  int64_t sync_result_max_rows = 100000;
  uint64_t sync_result_max_bytes = 64ull << 20;
  /// URL prefixes ("s3://public-data/") SQL may read besides the lake and catalog tables.
  std::vector<std::string> sql_allowed_urls;
  /// After SIGTERM/SIGINT, the server exits within this even if work does not stop.
  std::chrono::milliseconds shutdown_timeout{30000};
  int engine_threads = 0;
  uint64_t engine_memory_limit_bytes = 0;
  // streams: (docs/streams.md, "Back-pressure")
  uint64_t stream_wal_max_bytes = 1ull << 30;       // write-ahead log disk use before 503
  uint64_t stream_wal_segment_bytes = 64ull << 20;  // one log file; max is at least twice this
  uint64_t stream_buffer_max_bytes = 256ull << 20;  // undelivered records in memory before 503
  std::chrono::milliseconds stream_refuse_when_failing_for{60000};  // failing lake before 503
  int stream_delivery_workers = 2;
  int stream_max_record_depth = 32;  // records nested deeper are refused
  // auth: (docs/configuration.md, "Logins")
  int login_max_failures = 5;  // of one user from one address within the window, then 429
  std::chrono::milliseconds login_failure_window{15 * 60 * 1000};  // counted in, refused for
  int password_hashes_at_once = 2;  // argon2 runs at once (64 MiB each); more wait, then 503
  storage::S3Options s3;  // endpoint, region, path style, credentials (bucket comes from URLs)

  /// The lake as an absolute location: "/home/u/basin/lake" or "s3://bucket/prefix".
  std::string LakeUrl() const;
  std::string MetadataPath() const;
};

/// Name of the config file inside a basin home.
inline constexpr const char* kConfigFileName = "basin.yaml";

/// Reads `home`/basin.yaml over the defaults, then applies `environment` (normally the
/// process environment): BASIN_LAKE, BASIN_METADATA, BASIN_LISTEN, BASIN_LOG_LEVEL, BASIN_DATABASE,
/// BASIN_S3_ENDPOINT, BASIN_S3_REGION, BASIN_S3_PATH_STYLE, and the AWS variables
/// (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, AWS_REGION, AWS_DEFAULT_REGION,
/// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN).
/// InvalidArgument naming the file and field for a malformed value; NotFound when the
/// file is missing.
Result<Config> LoadConfig(const std::string& home,
                          const std::map<std::string, std::string>& environment);

/// The process environment as a map.
std::map<std::string, std::string> ProcessEnvironment();

/// The YAML text `basin init` writes: every setting, commented.
std::string DefaultConfigText(const std::string& lake, const std::string& metadata,
                              const storage::S3Options& s3);

/// "64MiB", "512KB", "1GiB", "1000" -> bytes: KB, MB, GB, TB are powers of 1000, KiB,
/// MiB, GiB, TiB powers of 1024. InvalidArgument otherwise, and above 2^63-1 bytes.
Result<uint64_t> ParseByteSize(const std::string& text);

/// "500ms", "60s", "5m", "1h" -> milliseconds ("0" needs no unit). InvalidArgument
/// otherwise.
Result<std::chrono::milliseconds> ParseDuration(const std::string& text);

}  // namespace basin::app
