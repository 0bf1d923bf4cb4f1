// query_bench: analytic SQL through basin's HTTP API against DuckDB directly on the same files.
//
// Generates an events table (365 daily Hive partitions, dt=YYYY-MM-DD, one Parquet file
// each) and a products dimension table into a lake under bench/data, then drives the
// built basin program as a user would: `basin init` a scratch home over that lake,
// `basin token create`, `basin crawler create/run`, `basin serve` on a loopback port, and
// POST /api/query with libcurl. It prints markdown tables of:
//   suite     ten analytic queries, basin (API, client-side wall time) vs DuckDB in this
//             process (read_parquet with hive_partitioning on the same files), per-query
//             ratio and the median ratio
//   pruning   bytes_read of a one-day query against the full scan
//   S3        the suite from the S3 API server (a home whose lake is a bucket): cold (a
//             fresh server per query) and warm
//   latency   small queries (p50/p99) and repeated queries (result-cache hits, once the
//             server reports "cache_hit")
//   growth    the suite at each --rows value
// The S3 part needs scripts/with-test-servers.sh (BASIN_TEST_S3_*); `make bench-query` runs
// it so. Not a test: numbers are read, not asserted. bench/run-query.sh runs it.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "bench/api_client.h"
#include "bench/basin_process.h"
#include "bench/bench_failure.h"
#include "bench/flag_reader.h"
#include "bench/machine.h"
#include "bench/query_report.h"
#include "bench/query_suite.h"
#include <nlohmann/json.hpp>

#include "basin/common/crypto.h"
#include "basin/query/engine.h"

namespace basin::bench {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kS3Bucket = "basin-bench";

struct Flags {
  std::vector<uint64_t> rows = {10'000'000};
  int repetitions = 5;
  int warmups = 1;
  int latency_queries = 300;
  int cache_queries = 200;
  uint64_t s3_max_rows = 10'000'000;
  bool s3 = true;
  std::string basin;  // default: the basin program beside this one
  std::string data_dir = "bench/data";
  std::vector<int> queries;  // 1-based; empty: all
};

const char kUsage[] =
    "usage: query_bench [--quick] [--rows 10000000[,100000000]] [--repetitions N] [--warmups N]\n"
    "                   [--latency-queries N] [--cache-queries N] [--s3-max-rows N] [--no-s3]\n"
    "                   [--queries 1,3] [--basin PATH] [--data-dir DIR]\n"
    "  --quick              a smoke run: 1,000,000 rows, 3 repetitions, 100 latency queries\n"
    "  --rows LIST          event rows per dataset; several give the growth table\n"
    "                       (default 10000000)\n"
    "  --repetitions N      timed runs per query and side; the median is reported (default 5)\n"
    "  --warmups N          untimed runs of each query first (default 1)\n"
    "  --latency-queries N  small queries for the latency percentiles (default 300)\n"
    "  --cache-queries N    repetitions of one query for cache-hit latency (default 200)\n"
    "  --s3-max-rows N      run the S3 suite only on datasets up to N rows (default 10000000)\n"
    "  --no-s3              skip the S3 suite\n"
    "  --queries LIST       run only these suite queries, by number (default all)\n"
    "  --basin PATH         the basin program (default: basin beside query_bench)\n"
    "  --data-dir DIR       where the generated lake is kept between runs (default bench/data)\n";

void Note(const std::string& message) {
  NoteAs("query_bench", message);
}

Flags ParseFlags(int argc, char** argv) {
  Flags flags;
  fs::path self = fs::canonical("/proc/self/exe");
  flags.basin = (self.parent_path() / "basin").string();
  FlagReader args(argc, argv, kUsage, Fail);
  while (args.Next()) {
    const std::string& flag = args.flag();
    if (flag == "--quick") {
      flags.rows = {1'000'000};
      flags.repetitions = 3;
      flags.latency_queries = 100;
      flags.cache_queries = 50;
    } else if (flag == "--rows") {
      flags.rows = args.Counts<uint64_t>();
    } else if (flag == "--repetitions") {
      flags.repetitions = static_cast<int>(args.Count());
    } else if (flag == "--warmups") {
      flags.warmups = static_cast<int>(args.Count());
    } else if (flag == "--latency-queries") {
      flags.latency_queries = static_cast<int>(args.Count());
    } else if (flag == "--cache-queries") {
      flags.cache_queries = static_cast<int>(args.Count());
    } else if (flag == "--s3-max-rows") {
      flags.s3_max_rows = static_cast<uint64_t>(args.Count());
    } else if (flag == "--no-s3") {
      flags.s3 = false;
    } else if (flag == "--queries") {
      for (int query : args.Counts<int>())
        flags.queries.push_back(query);
    } else if (flag == "--basin") {
      flags.basin = args.Value();
    } else if (flag == "--data-dir") {
      flags.data_dir = args.Value();
    } else {
      args.Unknown();
    }
  }
  if (flags.rows.empty())
    Fail("--rows is empty");
  for (uint64_t rows : flags.rows) {
    if (rows < 100'000)
      Fail("--rows: at least 100000 rows per dataset (365 partitions need some rows each)");
  }
  if (flags.repetitions < 1 || flags.latency_queries < 1 || flags.cache_queries < 1)
    Fail("--repetitions, --latency-queries and --cache-queries must be at least 1");
  if (!fs::exists(flags.basin))
    Fail(flags.basin + " is missing: build basin first (make build) or pass --basin");
  return flags;
}

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// --- the basin program -------------------------------------------------------------------

// One basin home driven through the CLI, with the environment its commands need.
struct BasinHome {
  std::string basin;
  std::string dir;
  std::vector<std::string> env;  // ChildEnvironment(...) for every command and the server
  std::string token;

  // `basin --json --home DIR ARGS...`, parsed; fails on a non-zero exit.
  nlohmann::json Json(const std::vector<std::string>& args) const {
    std::vector<std::string> command = {basin, "--json", "--home", dir};
    command.insert(command.end(), args.begin(), args.end());
    CommandOutput output = RunCommand(command, env);
    std::string shown;
    for (const std::string& arg : args)
      shown += " " + arg;
    if (output.exit_code != 0) {
      Fail("basin" + shown + " failed (exit " + std::to_string(output.exit_code) +
           "): " + output.err + output.out);
    }
    nlohmann::json json = nlohmann::json::parse(output.out, nullptr, false);
    if (json.is_discarded())
      Fail("basin" + shown + " printed no JSON: " + output.out);
    return json;
  }
};

// `basin init DIR --lake LAKE` and an API token for its admin.
BasinHome InitHome(const std::string& basin, const fs::path& dir, const std::string& lake,
                   const std::vector<std::string>& extra_env) {
  BasinHome home{basin, dir.string(), ChildEnvironment(extra_env), ""};
  CommandOutput init =
      RunCommand({basin, "--json", "init", dir.string(), "--lake", lake}, home.env);
  if (init.exit_code != 0)
    Fail("basin init " + dir.string() + " --lake " + lake + " failed: " + init.err + init.out);
  home.token = home.Json({"token", "create", "--name", "query-bench"}).value("token", "");
  if (home.token.empty())
    Fail("basin token create printed no token");
  return home;
}

// Creates and runs a crawler over `prefix` into `database`; returns the seconds the run took.
double Crawl(const BasinHome& home, const std::string& name, const std::string& prefix,
             const std::string& database) {
  home.Json({"crawler", "create", name, "--target", "lake://" + prefix, "--database", database});
  auto started = Clock::now();
  nlohmann::json report = home.Json({"crawler", "run", name});
  double seconds = SecondsSince(started);
  size_t created = report["tables"]["created"].size();
  if (report.value("status", "") != "completed" || created != 2 || !report["errors"].empty()) {
    Fail("crawling " + prefix + " did not create the two tables: " + report.dump());
  }
  return seconds;
}

ServerProcess StartServer(const BasinHome& home, const std::string& log) {
  std::string error;
  std::optional<ServerProcess> server =
      ServerProcess::Start(home.basin, home.dir, home.env, log, error);
  if (!server)
    Fail(error);
  return std::move(*server);
}

ApiAnswer Ask(ApiClient& api, const std::string& sql) {
  std::string error;
  std::optional<ApiAnswer> answer = api.Query(sql, error);
  if (!answer)
    Fail("POST /api/query failed: " + error + "\n" + sql);
  return std::move(*answer);
}

// --- the suite ---------------------------------------------------------------------------

// Every run gets its own text (a leading comment with a run number), so that a result cache
// keyed on the SQL cannot answer it; the engine's work is what is timed.
std::string Unique(const std::string& sql) {
  static uint64_t run = 0;
  return "/* query_bench run " + std::to_string(++run) + " */ " + sql;
}

std::unique_ptr<query::Engine> DirectEngine(const fs::path& work_dir) {
  Result<std::unique_ptr<query::Engine>> engine =
      query::Engine::Make({.work_dir = work_dir.string()});
  if (!engine.ok())
    Fail("starting DuckDB failed: " + engine.status().ToString());
  return std::move(engine).value();
}

query::QueryResult RunDirect(query::Engine& engine, const std::string& sql, double& micros) {
  auto started = Clock::now();
  Result<query::QueryResult> result = engine.Execute(sql);
  micros = std::chrono::duration<double, std::micro>(Clock::now() - started).count();
  if (!result.ok())
    Fail("DuckDB failed: " + result.status().ToString() + "\n" + sql);
  return std::move(result).value();
}

// Warm-up runs, then rounds of one run per side, the side that goes first alternating, so
// that load from other processes and the order of runs hit both sides alike.
Timing MeasureSuiteQuery(const SuiteQuery& query, const Dataset& data, ApiClient& api,
                         query::Engine& direct, const Flags& flags) {
  std::string basin_sql = Bind(query.sql, BasinTables(data));
  std::string direct_sql = Bind(query.sql, DirectTables(data));
  Timing timing;
  std::vector<double> basin, server, local;
  auto run_basin = [&](bool timed) {
    ApiAnswer answer = Ask(api, Unique(basin_sql));
    timing.cache_answers += answer.cache_hit ? 1 : 0;
    if (timed) {
      basin.push_back(answer.micros);
      server.push_back(answer.server_ms);
      timing.bytes_read = answer.bytes_read;
    }
    return answer.rows;
  };
  auto run_direct = [&](bool timed) {
    double micros = 0;
    query::QueryResult result = RunDirect(direct, Unique(direct_sql), micros);
    if (timed)
      local.push_back(micros);
    return result.rows;
  };
  for (int i = 0; i < flags.warmups; ++i) {
    if (run_basin(false) != run_direct(false))
      timing.same_answer = false;
  }
  for (int i = 0; i < flags.repetitions; ++i) {
    if (i % 2 == 0) {
      run_basin(true);
      run_direct(true);
    } else {
      run_direct(true);
      run_basin(true);
    }
  }
  timing.basin_micros = Median(basin);
  timing.server_ms = Median(server);
  timing.direct_micros = Median(local);
  timing.runs = flags.repetitions;
  return timing;
}

// --- pruning -----------------------------------------------------------------------------

Pruning MeasurePruning(const Dataset& data, ApiClient& api, int repetitions) {
  Pruning pruning;
  auto measure = [&](const std::string& sql, uint64_t& first, uint64_t& warm, double& micros) {
    std::vector<double> times;
    for (int i = 0; i <= repetitions; ++i) {
      ApiAnswer answer = Ask(api, Unique(Bind(sql, BasinTables(data))));
      (i == 0 ? first : warm) = answer.bytes_read;
      if (i > 0)
        times.push_back(answer.micros);
    }
    micros = Median(times);
  };
  measure(kFullScanSql, pruning.full_first, pruning.full_warm, pruning.full_micros);
  measure(kOneDaySql, pruning.day_first, pruning.day_warm, pruning.day_micros);
  return pruning;
}

// --- latency -----------------------------------------------------------------------------

// `count` queries made by `sql_for(i)`, after a few untimed ones.
Latency MeasureLatency(const std::string& what, ApiClient& api, int count,
                       const std::function<std::string(int)>& sql_for, bool only_cache_hits) {
  Latency latency{what};
  for (int i = 0; i < 10; ++i)
    Ask(api, sql_for(count + i));
  for (int i = 0; i < count; ++i) {
    ApiAnswer answer = Ask(api, sql_for(i));
    latency.cache_field_seen = latency.cache_field_seen || answer.has_cache_field;
    latency.cache_hits += answer.cache_hit ? 1 : 0;
    if (only_cache_hits && !answer.cache_hit)
      continue;
    latency.micros.push_back(answer.micros);
    latency.server_ms.push_back(answer.server_ms);
  }
  return latency;
}

// --- S3 ----------------------------------------------------------------------------------

std::vector<std::string> S3Environment() {
  const char* endpoint = std::getenv("BASIN_TEST_S3_ENDPOINT");
  if (endpoint == nullptr || *endpoint == '\0')
    return {};
  auto get = [](const char* name, const char* fallback) {
    const char* value = std::getenv(name);
    return std::string(value != nullptr && *value != '\0' ? value : fallback);
  };
  return {"AWS_ENDPOINT_URL=" + std::string(endpoint),
          "AWS_ACCESS_KEY_ID=" + get("BASIN_TEST_S3_ACCESS_KEY", "S3RVER"),
          "AWS_SECRET_ACCESS_KEY=" + get("BASIN_TEST_S3_SECRET_KEY", "S3RVER"),
          "AWS_REGION=us-east-1"};
}

// Uploads the dataset with `basin cp -r`, crawls it, and runs the suite cold and warm.
S3Run RunS3Suite(const BasinHome& home, const Dataset& data, const std::vector<SuiteQuery>& queries,
                 const fs::path& work, const Flags& flags) {
  S3Run run;
  run.ran = true;
  auto started = Clock::now();
  home.Json({"cp", "-r", data.root.string() + "/", "lake://" + data.prefix});
  run.upload_seconds = SecondsSince(started);
  Note("uploaded " + Megabytes(data.bytes) + " to the S3 lake in " +
       Format("%.1f", run.upload_seconds) + " s");
  run.crawl_seconds = Crawl(home, "s3_" + data.database, data.prefix, data.database);
  {
    // The S3 API server (Node.js) answers its first requests slowly; one untimed query on a
    // server stopped afterwards keeps that out of the first cold run.
    ServerProcess server = StartServer(home, (work / "s3-cold-server.log").string());
    ApiClient api(server.url(), home.token);
    Ask(api, Unique(Bind(kFullScanSql, BasinTables(data))));
  }
  for (const SuiteQuery& query : queries) {
    ServerProcess server = StartServer(home, (work / "s3-cold-server.log").string());
    ApiClient api(server.url(), home.token);
    ApiAnswer answer = Ask(api, Unique(Bind(query.sql, BasinTables(data))));
    run.cold_micros.push_back(answer.micros);
    run.cold_bytes.push_back(answer.bytes_read);
    Note("S3 cold " + query.name + ": " + Millis(answer.micros) + " ms");
  }
  ServerProcess server = StartServer(home, (work / "s3-warm-server.log").string());
  ApiClient api(server.url(), home.token);
  for (const SuiteQuery& query : queries) {
    std::string sql = Bind(query.sql, BasinTables(data));
    for (int i = 0; i < flags.warmups; ++i)
      Ask(api, Unique(sql));
    Timing timing;
    std::vector<double> times, server_ms;
    for (int i = 0; i < flags.repetitions; ++i) {
      ApiAnswer answer = Ask(api, Unique(sql));
      times.push_back(answer.micros);
      server_ms.push_back(answer.server_ms);
      timing.bytes_read = answer.bytes_read;
      timing.cache_answers += answer.cache_hit ? 1 : 0;
    }
    timing.basin_micros = Median(times);
    timing.server_ms = Median(server_ms);
    timing.runs = flags.repetitions;
    run.warm.push_back(timing);
    Note("S3 warm " + query.name + ": " + Millis(timing.basin_micros) + " ms");
  }
  return run;
}

// --- main --------------------------------------------------------------------------------

// Runs `fn` when the scope ends, also when a failure unwinds it.
class AtScopeEnd {
 public:
  explicit AtScopeEnd(std::function<void()> fn) : fn_(std::move(fn)) {}
  ~AtScopeEnd() { fn_(); }

 private:
  std::function<void()> fn_;
};

// The string the server and the direct engine give for current_setting('threads').
std::string ThreadSettings(ApiClient& api, query::Engine& direct) {
  std::string server = "?", local = "?";
  std::string error;
  if (std::optional<ApiAnswer> answer = api.Query("SELECT current_setting('threads')", error);
      answer && !answer->rows.empty() && answer->rows[0][0]) {
    server = *answer->rows[0][0];
  }
  if (Result<query::QueryResult> setting = direct.Execute("SELECT current_setting('threads')");
      setting.ok() && !setting->rows.empty() && setting->rows[0][0]) {
    local = *setting->rows[0][0];
  }
  return server + " in the server, " + local + " in the direct engine";
}

// Small queries on the first dataset: one partition each, a different day and literal each
// time so no cache can answer; a query without a table (the API's own cost); then one query
// over and over for the result cache.
// For reference, DuckDB directly on the same small queries.
std::vector<Latency> MeasureLatencies(const Dataset& data, ApiClient& api, query::Engine& direct,
                                      const Flags& flags) {
  Tables tables = BasinTables(data);
  std::vector<Latency> latencies;
  latencies.push_back(MeasureLatency(
      "count over one partition, literal varies", api, flags.latency_queries,
      [&](int i) { return Bind(SmallQuerySql(i), tables); }, false));
  Latency local{"the same counts, DuckDB directly"};
  for (int i = 0; i < flags.latency_queries; ++i) {
    double micros = 0;
    RunDirect(direct, Bind(SmallQuerySql(i), DirectTables(data)), micros);
    local.micros.push_back(micros);
  }
  latencies.push_back(local);
  latencies.push_back(MeasureLatency(
      "SELECT literal (no table), varies", api, flags.latency_queries,
      [](int i) { return "SELECT " + std::to_string(i) + " AS n"; }, false));
  std::string repeated = Bind(SmallQuerySql(7), tables);
  latencies.push_back(MeasureLatency(
      "the same count repeated (cache hits)", api, flags.cache_queries,
      [&](int) { return repeated; }, true));
  latencies.push_back(MeasureLatency(
      "the same count repeated (every answer)", api, flags.cache_queries,
      [&](int) { return repeated; }, false));
  return latencies;
}

// The local-disk part: suite and pruning on every dataset, latency on the first, all through
// one server.
std::vector<Latency> RunLocal(const BasinHome& home, std::vector<DatasetResult>& results,
                              const std::vector<SuiteQuery>& queries, const fs::path& work,
                              const Flags& flags, RunInfo& info) {
  ServerProcess server = StartServer(home, (work / "local-server.log").string());
  ApiClient api(server.url(), home.token);
  std::unique_ptr<query::Engine> direct = DirectEngine(work / "direct");
  info.threads = ThreadSettings(api, *direct);
  for (DatasetResult& result : results) {
    for (const SuiteQuery& query : queries) {
      auto started = Clock::now();
      result.suite.push_back(MeasureSuiteQuery(query, result.data, api, *direct, flags));
      const Timing& t = result.suite.back();
      Note(result.data.label + " " + query.name + ": DuckDB " + Millis(t.direct_micros) +
           " ms, basin " + Millis(t.basin_micros) + " ms (" +
           Format("%.0f", SecondsSince(started)) + " s)");
    }
    result.pruning = MeasurePruning(result.data, api, flags.repetitions);
  }
  return MeasureLatencies(results.front().data, api, *direct, flags);
}

// The S3 part, on the datasets small enough, in a home whose lake is a prefix of the S3 API
// server's bucket; what it uploaded is removed on the way out.
void RunS3(std::vector<DatasetResult>& results, const std::vector<SuiteQuery>& queries,
           const fs::path& work, const Flags& flags) {
  std::vector<std::string> env = S3Environment();
  std::optional<BasinHome> home;
  std::vector<std::string> uploaded;
  AtScopeEnd remove_uploads([&] {
    for (const std::string& prefix : uploaded)
      RunCommand({flags.basin, "--home", home->dir, "rm", "-r", "lake://" + prefix}, home->env);
  });
  for (DatasetResult& result : results) {
    S3Run& s3 = result.s3;
    if (!flags.s3) {
      s3.why_not = "--no-s3";
    } else if (env.empty()) {
      s3.why_not = "no S3 API server: run under scripts/with-test-servers.sh";
    } else if (result.data.rows > flags.s3_max_rows) {
      s3.why_not = "more rows than --s3-max-rows";
    } else {
      if (!home) {
        std::string lake =
            "s3://" + std::string(kS3Bucket) + "/query-bench-" + RandomAlphanumeric(8) + "/";
        home = InitHome(flags.basin, work / "s3-home", lake, env);
      }
      uploaded.push_back(result.data.prefix);
      s3 = RunS3Suite(*home, result.data, queries, work, flags);
    }
  }
}

int Main(int argc, char** argv) {
  Flags flags = ParseFlags(argc, argv);
  RunInfo info{
      .load_at_start = LoadAverage(), .repetitions = flags.repetitions, .warmups = flags.warmups};
  auto started = Clock::now();
  fs::path data_dir = fs::absolute(flags.data_dir).lexically_normal();
  fs::path lake_root = data_dir / "query-lake";
  fs::path work = fs::temp_directory_path() / ("basin-query-bench-" + RandomAlphanumeric(8));
  fs::create_directories(lake_root);
  fs::create_directories(work);
  AtScopeEnd remove_work([&] {
    std::error_code ignored;
    fs::remove_all(work, ignored);
  });
  std::vector<SuiteQuery> queries = SelectQueries(flags.queries);

  std::vector<DatasetResult> results;
  {
    std::unique_ptr<query::Engine> generator = DirectEngine(work / "generator");
    for (uint64_t rows : flags.rows)
      results.push_back({PrepareDataset(*generator, rows, data_dir, lake_root)});
  }
  BasinHome local = InitHome(flags.basin, work / "local-home", lake_root.string(), {});
  for (DatasetResult& result : results) {
    Dataset& data = result.data;
    data.crawl_seconds = Crawl(local, "local_" + data.database, data.prefix, data.database);
    Note("crawled " + data.label + " rows in " + Format("%.1f", data.crawl_seconds) + " s");
  }
  std::vector<Latency> latencies = RunLocal(local, results, queries, work, flags, info);
  RunS3(results, queries, work, flags);
  info.seconds = SecondsSince(started);
  PrintReport(info, results, queries, latencies);
  return 0;
}

}  // namespace
}  // namespace basin::bench

int main(int argc, char** argv) {
  try {
    return basin::bench::Main(argc, argv);
  } catch (const std::exception& failure) {  // BenchFailure, or the generator's
    std::fprintf(stderr, "query_bench: %s\n", failure.what());
    return 1;
  }
}
