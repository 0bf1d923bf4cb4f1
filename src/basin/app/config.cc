#include "basin/app/config.h"

#include <unistd.h>

#include <cctype>
#include <charconv>
#include <filesystem>
#include <limits>

#include <yaml-cpp/yaml.h>

extern char** environ;

namespace basin::app {
namespace {

std::string Absolute(const std::string& home, const std::string& path) {
  if (path.empty() || path[0] == '/')
    return path;
  return (std::filesystem::path(home) / path).lexically_normal().string();
}

template <typename T>
Status Read(const YAML::Node& node, const char* field, const std::string& file, T& out) {
  if (!node || node.IsNull())
    return Status::OK();
  try {
    out = node.as<T>();
  } catch (const YAML::Exception& error) {
    return Status::InvalidArgument(file + ": field '" + field + "' (line " +
                                   std::to_string(node.Mark().line + 1) +
                                   ") has a value of the wrong type");
  }
  return Status::OK();
}

Status ReadBytes(const YAML::Node& node, const char* field, const std::string& file,
                 uint64_t& out) {
  std::string text;
  BASIN_RETURN_IF_ERROR(Read(node, field, file, text));
  if (text.empty())
    return Status::OK();
  Result<uint64_t> bytes = ParseByteSize(text);
  if (!bytes.ok())
    return Status::InvalidArgument(file + ": field '" + field + "': " + bytes.status().message());
  out = *bytes;
  return Status::OK();
}

Status ReadDuration(const YAML::Node& node, const char* field, const std::string& file,
                    std::chrono::milliseconds& out) {
  std::string text;
  BASIN_RETURN_IF_ERROR(Read(node, field, file, text));
  if (text.empty())
    return Status::OK();
  Result<std::chrono::milliseconds> duration = ParseDuration(text);
  if (!duration.ok())
    return Status::InvalidArgument(file + ": field '" + field +
                                   "': " + duration.status().message());
  out = *duration;
  return Status::OK();
}

// The auth: section: login throttling and password hashing (docs/configuration.md, "Logins").
Status ReadAuth(const YAML::Node& auth, const std::string& file, Config& config) {
  if (!auth)
    return Status::OK();
  BASIN_RETURN_IF_ERROR(
      Read(auth["login_max_failures"], "auth.login_max_failures", file, config.login_max_failures));
  BASIN_RETURN_IF_ERROR(ReadDuration(auth["login_failure_window"], "auth.login_failure_window",
                                     file, config.login_failure_window));
  BASIN_RETURN_IF_ERROR(Read(auth["password_hashes_at_once"], "auth.password_hashes_at_once", file,
                             config.password_hashes_at_once));
  if (config.login_max_failures < 1 || config.login_max_failures > 1000)
    return Status::InvalidArgument(file + ": field 'auth.login_max_failures' must be 1-1000");
  if (config.login_failure_window < std::chrono::seconds(1) ||
      config.login_failure_window > std::chrono::hours(24))
    return Status::InvalidArgument(file + ": field 'auth.login_failure_window' must be 1s-24h");
  if (config.password_hashes_at_once < 1 || config.password_hashes_at_once > 64)
    return Status::InvalidArgument(file + ": field 'auth.password_hashes_at_once' must be 1-64");
  return Status::OK();
}

}  // namespace

std::string Config::LakeUrl() const {
  if (lake.rfind("s3://", 0) == 0)
    return lake;
  return Absolute(home, lake);
}

std::string Config::MetadataPath() const {
  if (metadata.rfind("postgresql://", 0) == 0 || metadata.rfind("postgres://", 0) == 0)
    return metadata;
  return Absolute(home, metadata);
}

Result<uint64_t> ParseByteSize(const std::string& text) {
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits])))
    ++digits;
  if (digits == 0)
    return Status::InvalidArgument("not a size: '" + text + "' (use e.g. 64MiB)");
  uint64_t number = 0;
  if (std::from_chars(text.data(), text.data() + digits, number).ec != std::errc()) {
    return Status::InvalidArgument("size too large: '" + text + "'");
  }
  std::string unit = text.substr(digits);
  while (!unit.empty() && unit.front() == ' ')
    unit.erase(0, 1);
  static const std::map<std::string, uint64_t> kUnits = {{"", 1},
                                                         {"B", 1},
                                                         {"KB", 1000},
                                                         {"MB", 1000000},
                                                         {"GB", 1000000000},
                                                         {"TB", 1000000000000},
                                                         {"KiB", 1ull << 10},
                                                         {"MiB", 1ull << 20},
                                                         {"GiB", 1ull << 30},
                                                         {"TiB", 1ull << 40}};
  auto found = kUnits.find(unit);
  if (found == kUnits.end())
    return Status::InvalidArgument("unknown size unit in '" + text + "' (use B, KiB, MiB, GiB)");
  // Sizes are stored as signed 64-bit integers (metadata, DuckDB settings).
  if (number > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) / found->second) {
    return Status::InvalidArgument("size too large: '" + text + "'");
  }
  return number * found->second;
}

Result<std::chrono::milliseconds> ParseDuration(const std::string& text) {
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits])))
    ++digits;
  auto invalid = [&] {
    return Status::InvalidArgument("not a duration: '" + text + "' (use e.g. 500ms, 60s, 5m, 1h)");
  };
  if (digits == 0)
    return invalid();
  int64_t number = 0;
  if (std::from_chars(text.data(), text.data() + digits, number).ec != std::errc())
    return invalid();
  std::string unit = text.substr(digits);
  while (!unit.empty() && unit.front() == ' ')
    unit.erase(0, 1);
  static const std::map<std::string, int64_t> kUnitMilliseconds = {
      {"ms", 1}, {"s", 1000}, {"m", 60 * 1000}, {"h", 60 * 60 * 1000}};
  auto found = kUnitMilliseconds.find(unit);
  if (unit.empty() && number == 0)
    return std::chrono::milliseconds(0);  // zero needs no unit
  if (found == kUnitMilliseconds.end())
    return invalid();
  if (number > std::numeric_limits<int64_t>::max() / found->second)
    return invalid();
  return std::chrono::milliseconds(number * found->second);
}

std::map<std::string, std::string> ProcessEnvironment() {
  std::map<std::string, std::string> out;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string text = *entry;
    size_t equals = text.find('=');
    if (equals != std::string::npos)
      out[text.substr(0, equals)] = text.substr(equals + 1);
  }
  return out;
}

Result<Config> LoadConfig(const std::string& home,
                          const std::map<std::string, std::string>& environment) {
  Config config;
  config.home = std::filesystem::absolute(home).lexically_normal().string();
  while (config.home.size() > 1 && config.home.back() == '/')
    config.home.pop_back();
  std::string file = config.home + "/" + kConfigFileName;
  if (!std::filesystem::exists(file)) {
    return Status::NotFound("no basin home at " + config.home + " (" + kConfigFileName +
                            " is missing); create one with 'basin init " + home + "'");
  }
  YAML::Node root;
  try {
    root = YAML::LoadFile(file);
  } catch (const YAML::Exception& error) {
    return Status::InvalidArgument(file + ": line " + std::to_string(error.mark.line + 1) + ": " +
                                   error.msg);
  }
  if (root && !root.IsNull() && !root.IsMap())
    return Status::InvalidArgument(file + ": expected a mapping of settings");
  BASIN_RETURN_IF_ERROR(Read(root["lake"], "lake", file, config.lake));
  BASIN_RETURN_IF_ERROR(Read(root["metadata"], "metadata", file, config.metadata));
  if (YAML::Node server = root["server"]) {
    BASIN_RETURN_IF_ERROR(Read(server["listen"], "server.listen", file, config.listen));
    BASIN_RETURN_IF_ERROR(ReadBytes(server["max_request_size"], "server.max_request_size", file,
                                    config.max_request_bytes));
    BASIN_RETURN_IF_ERROR(Read(server["threads"], "server.threads", file, config.server_threads));
    BASIN_RETURN_IF_ERROR(ReadDuration(server["shutdown_timeout"], "server.shutdown_timeout", file,
                                       config.shutdown_timeout));
    if (config.server_threads < 2 || config.server_threads > 4096)
      return Status::InvalidArgument(file + ": field 'server.threads' must be 2-4096");
    BASIN_RETURN_IF_ERROR(ReadDuration(server["read_timeout"], "server.read_timeout", file,
                                       config.server_read_timeout));
    if (config.server_read_timeout < std::chrono::seconds(1) ||
        config.server_read_timeout > std::chrono::minutes(10))
      return Status::InvalidArgument(file + ": field 'server.read_timeout' must be 1s to 10m");
  }
  if (YAML::Node log = root["log"])
    BASIN_RETURN_IF_ERROR(Read(log["level"], "log.level", file, config.log_level));
  if (YAML::Node query = root["query"]) {
    BASIN_RETURN_IF_ERROR(
        Read(query["default_database"], "query.default_database", file, config.default_database));
    BASIN_RETURN_IF_ERROR(ReadBytes(query["result_cache_size"], "query.result_cache_size", file,
                                    config.result_cache_bytes));
    BASIN_RETURN_IF_ERROR(ReadBytes(query["result_cache_entry_size"],
                                    "query.result_cache_entry_size", file,
                                    config.result_cache_entry_bytes));
    BASIN_RETURN_IF_ERROR(ReadDuration(query["default_run_time_limit"],
                                       "query.default_run_time_limit", file,
                                       config.query_default_run_time_limit));
    BASIN_RETURN_IF_ERROR(
        Read(query["sync_max_rows"], "query.sync_max_rows", file, config.sync_result_max_rows));
    BASIN_RETURN_IF_ERROR(ReadBytes(query["sync_max_size"], "query.sync_max_size", file,
                                    config.sync_result_max_bytes));
    BASIN_RETURN_IF_ERROR(
        Read(query["allowed_urls"], "query.allowed_urls", file, config.sql_allowed_urls));
    if (config.sync_result_max_rows < 1)
      return Status::InvalidArgument(file + ": field 'query.sync_max_rows' must be at least 1");
    for (const std::string& url : config.sql_allowed_urls) {
      if (url.rfind("s3://", 0) != 0 || url.size() <= 5)
        return Status::InvalidArgument(file + ": field 'query.allowed_urls': '" + url +
                                       "' is not an s3://bucket/prefix URL");
    }
  }
  if (YAML::Node engine = root["engine"]) {
    BASIN_RETURN_IF_ERROR(Read(engine["threads"], "engine.threads", file, config.engine_threads));
    BASIN_RETURN_IF_ERROR(ReadBytes(engine["memory_limit"], "engine.memory_limit", file,
                                    config.engine_memory_limit_bytes));
  }
  if (YAML::Node streams = root["streams"]) {
    BASIN_RETURN_IF_ERROR(ReadBytes(streams["wal_max_size"], "streams.wal_max_size", file,
                                    config.stream_wal_max_bytes));
    BASIN_RETURN_IF_ERROR(ReadBytes(streams["wal_segment_size"], "streams.wal_segment_size", file,
                                    config.stream_wal_segment_bytes));
    BASIN_RETURN_IF_ERROR(ReadBytes(streams["buffer_max_size"], "streams.buffer_max_size", file,
                                    config.stream_buffer_max_bytes));
    BASIN_RETURN_IF_ERROR(ReadDuration(streams["refuse_when_failing_for"],
                                       "streams.refuse_when_failing_for", file,
                                       config.stream_refuse_when_failing_for));
    BASIN_RETURN_IF_ERROR(Read(streams["delivery_workers"], "streams.delivery_workers", file,
                               config.stream_delivery_workers));
    BASIN_RETURN_IF_ERROR(Read(streams["max_record_depth"], "streams.max_record_depth", file,
                               config.stream_max_record_depth));
    if (config.stream_max_record_depth < 1 || config.stream_max_record_depth > 1000)
      return Status::InvalidArgument(file + ": field 'streams.max_record_depth' must be 1-1000");
    if (config.stream_wal_segment_bytes < 4096 ||
        config.stream_wal_max_bytes < 2 * config.stream_wal_segment_bytes)
      return Status::InvalidArgument(file +
                                     ": field 'streams.wal_max_size' must be at least twice "
                                     "streams.wal_segment_size (at least 4KiB)");
    if (config.stream_delivery_workers < 1 || config.stream_delivery_workers > 64)
      return Status::InvalidArgument(file + ": field 'streams.delivery_workers' must be 1-64");
  }
  BASIN_RETURN_IF_ERROR(ReadAuth(root["auth"], file, config));
  if (YAML::Node s3 = root["s3"]) {
    BASIN_RETURN_IF_ERROR(Read(s3["endpoint"], "s3.endpoint", file, config.s3.endpoint));
    BASIN_RETURN_IF_ERROR(Read(s3["region"], "s3.region", file, config.s3.region));
    BASIN_RETURN_IF_ERROR(Read(s3["path_style"], "s3.path_style", file, config.s3.path_style));
    BASIN_RETURN_IF_ERROR(
        Read(s3["access_key_id"], "s3.access_key_id", file, config.s3.credentials.access_key_id));
    BASIN_RETURN_IF_ERROR(Read(s3["secret_access_key"], "s3.secret_access_key", file,
                               config.s3.credentials.secret_access_key));
  }

  auto env = [&](const char* name) -> const std::string* {
    auto found = environment.find(name);
    return found == environment.end() || found->second.empty() ? nullptr : &found->second;
  };
  if (auto* v = env("BASIN_LAKE"))
    config.lake = *v;
  if (auto* v = env("BASIN_METADATA"))
    config.metadata = *v;
  if (auto* v = env("BASIN_LISTEN"))
    config.listen = *v;
  if (auto* v = env("BASIN_LOG_LEVEL"))
    config.log_level = *v;
  if (auto* v = env("BASIN_DATABASE"))
    config.default_database = *v;
  for (const char* name : {"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "BASIN_S3_ENDPOINT"}) {
    if (auto* v = env(name))
      config.s3.endpoint = *v;  // later names win: most specific last
  }
  for (const char* name : {"AWS_DEFAULT_REGION", "AWS_REGION", "BASIN_S3_REGION"}) {
    if (auto* v = env(name))
      config.s3.region = *v;
  }
  if (auto* v = env("BASIN_S3_PATH_STYLE"))
    config.s3.path_style = *v != "false" && *v != "0";
  if (auto* v = env("AWS_ACCESS_KEY_ID")) {
    config.s3.credentials.access_key_id = *v;
    config.s3.credentials.secret_access_key =
        env("AWS_SECRET_ACCESS_KEY") ? *env("AWS_SECRET_ACCESS_KEY") : "";
    config.s3.credentials.session_token = env("AWS_SESSION_TOKEN") ? *env("AWS_SESSION_TOKEN") : "";
  }
  return config;
}

std::string DefaultConfigText(const std::string& lake, const std::string& metadata,
                              const storage::S3Options& s3) {
  std::string text =
      "# basin configuration. Environment variables override these settings and command-line\n"
      "# flags override both (see docs/configuration.md).\n\n"
      "# Where table data lives: a folder (relative to this home) or s3://bucket/prefix.\n"
      "lake: " +
      lake +
      "\n\n"
      "# The metadata database (users, keys, catalog): a SQLite file relative to this home,\n"
      "# or postgresql://user:password@host:5432/db so several basin nodes share one catalog.\n"
      "metadata: " +
      metadata +
      "\n\n"
      "server:\n"
      "  listen: 127.0.0.1:8080\n"
      "  max_request_size: 64MiB\n"
      "  threads: 512   # connections served at once (a thread each, started on demand)\n"
      "  read_timeout: 10s   # a connection silent this long mid-request is closed\n"
      "  shutdown_timeout: 30s   # after SIGTERM the server exits within this\n\n"
      "log:\n"
      "  level: info   # trace, debug, info, warn, error\n\n"
      "query:\n"
      "  default_database: default   # where unqualified table names are looked up\n"
      "  result_cache_size: 256MiB   # results of read queries kept in memory; 0: no cache\n"
      "  result_cache_entry_size: 16MiB   # larger results are not cached\n"
      "  default_run_time_limit: 30m   # for workgroups that set none; 0: none\n"
      "  sync_max_rows: 100000         # a synchronous answer holds at most this (then truncated)\n"
      "  sync_max_size: 64MiB\n"
      "  # s3:// prefixes SQL may read besides the lake (default: only the lake and catalog "
      "tables)\n"
      "  # allowed_urls: [s3://public-data/]\n\n"
      "engine:\n"
      "  threads: 0    # 0: one per core\n"
      "  # memory_limit: 4GiB\n\n"
      "streams:\n"
      "  wal_max_size: 1GiB          # write-ahead log of acknowledged records; full: 503\n"
      "  buffer_max_size: 256MiB     # undelivered records held in memory; full: 503\n"
      "  refuse_when_failing_for: 60s   # a stream failing to deliver this long answers 503\n"
      "  delivery_workers: 2         # deliveries of different streams at once\n"
      "  max_record_depth: 32        # records nested deeper are refused (error prefix)\n\n"
      "auth:\n"
      "  login_max_failures: 5        # failed logins of a user from one address before 429\n"
      "  login_failure_window: 15m    # failures count this long; then refused this long\n"
      "  password_hashes_at_once: 2   # 64 MiB each; more logins wait up to 10s, then 503\n\n"
      "# S3-compatible storage, for an s3:// lake and for s3:// URLs in commands and queries.\n"
      "# Credentials may also come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.\n"
      "s3:\n";
  text += "  region: " + (s3.region.empty() ? std::string("us-east-1") : s3.region) + "\n";
  text += "  path_style: " + std::string(s3.path_style ? "true" : "false") + "\n";
  text += s3.endpoint.empty() ? "  # endpoint: http://127.0.0.1:9000\n"
                              : "  endpoint: " + s3.endpoint + "\n";
  text += "  # access_key_id: ...\n  # secret_access_key: ...\n";
  return text;
}

}  // namespace basin::app
