// engine_bench: the cost of reading Parquet through basin's lake file system.
//
// Times the same aggregation queries over the same Parquet file read three ways, all
// through basin::query::Engine:
//   direct      DuckDB's own local file system: read_parquet('/abs/path/events.parquet')
//   lake-local  basin's LakeFileSystem over a LocalObjectStore: 'lake://bench/events.parquet'
//   lake-s3     LakeFileSystem over S3ObjectStore: 's3://basin-bench/<prefix>/events.parquet'
// and prints a markdown table of median times, bytes read from storage and ratios to
// direct. The S3 path needs the S3 API server of scripts/with-test-servers.sh
// (BASIN_TEST_S3_* variables); without it that column is skipped. `make bench` runs this.

#include <fcntl.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "bench/flag_reader.h"
#include "bench/machine.h"

#include "basin/common/crypto.h"
#include "basin/query/engine.h"
#include "basin/storage/local_object_store.h"
#include "basin/storage/s3_object_store.h"
#include "basin/storage/store_resolver.h"

namespace basin::bench {
namespace {

namespace fs = std::filesystem;

// Bump when the generator's SQL changes, so data left in bench/data is regenerated.
constexpr int kGeneratorVersion = 2;
constexpr std::string_view kS3Bucket = "basin-bench";
constexpr int kMaxRounds = 50;

struct Flags {
  uint64_t rows = 2'000'000;  // rows at scale 1
  std::vector<int> scales = {1, 10};
  int repetitions = 5;  // at least this many timed runs per query and path
  int min_seconds = 2;  // short queries repeat (up to kMaxRounds) until a round takes this
  int warmups = 1;
  int threads = 0;        // 0: DuckDB's default (one per core)
  int s3_max_scale = 10;  // larger scales skip lake-s3
  bool external_file_cache = false;
  std::string data_dir = "bench/data";
  std::vector<int> queries;  // 1-based numbers of the queries to run; empty: all
};

const char kUsage[] =
    "usage: engine_bench [--rows N] [--scales 1,10] [--repetitions N] [--min-seconds S]\n"
    "                    [--warmups N]\n"
    "                    [--threads N] [--s3-max-scale N] [--external-file-cache]\n"
    "                    [--queries 1,3] [--data-dir DIR]\n"
    "  --rows N               rows at scale 1 (default 2000000)\n"
    "  --scales LIST          scale factors to run (default 1,10)\n"
    "  --repetitions N        timed runs per query and path at least; the median is reported\n"
    "                         (default 5)\n"
    "  --min-seconds S        repeat short queries (up to 50 runs) until their runs on all\n"
    "                         paths take about S seconds (default 2)\n"
    "  --warmups N            untimed runs first (default 1)\n"
    "  --threads N            DuckDB threads (default: one per core)\n"
    "  --s3-max-scale N       run lake-s3 only at scales <= N (default 10)\n"
    "  --external-file-cache  keep DuckDB's in-memory cache of file ranges on (default off:\n"
    "                         with it, repeated queries on S3 read nothing from storage)\n"
    "  --queries LIST         run only these queries, by number (default all)\n"
    "  --data-dir DIR         where generated Parquet files are kept (default bench/data)\n";

[[noreturn]] void Fail(const std::string& message) {
  std::fprintf(stderr, "engine_bench: %s\n", message.c_str());
  std::exit(1);
}

Flags ParseFlags(int argc, char** argv) {
  Flags flags;
  FlagReader args(argc, argv, kUsage, Fail);
  while (args.Next()) {
    const std::string& flag = args.flag();
    if (flag == "--rows") {
      flags.rows = static_cast<uint64_t>(args.Count());
    } else if (flag == "--scales") {
      flags.scales = args.Counts<int>();
    } else if (flag == "--queries") {
      for (int query : args.Counts<int>())
        flags.queries.push_back(query);
    } else if (flag == "--repetitions") {
      flags.repetitions = static_cast<int>(args.Count());
    } else if (flag == "--min-seconds") {
      flags.min_seconds = static_cast<int>(args.Count());
    } else if (flag == "--warmups") {
      flags.warmups = static_cast<int>(args.Count());
    } else if (flag == "--threads") {
      flags.threads = static_cast<int>(args.Count());
    } else if (flag == "--s3-max-scale") {
      flags.s3_max_scale = static_cast<int>(args.Count());
    } else if (flag == "--external-file-cache") {
      flags.external_file_cache = true;
    } else if (flag == "--data-dir") {
      flags.data_dir = args.Value();
    } else {
      args.Unknown();
    }
  }
  if (flags.rows < 1000) {
    Fail("--rows must be at least 1000");
  }
  if (flags.repetitions < 1) {
    Fail("--repetitions must be at least 1");
  }
  if (flags.scales.empty()) {
    Fail("--scales is empty");
  }
  for (int scale : flags.scales) {
    if (scale < 1) {
      Fail("scales must be at least 1");
    }
  }
  return flags;
}

// --- the machine -------------------------------------------------------------------------

// Bytes and read calls of this process so far (read(2), pread(2)): DuckDB's own file system
// does not count its reads, so this is how the direct path's I/O is measured.
struct ProcessReads {
  uint64_t bytes = 0;
  uint64_t calls = 0;
};

// One read(2) of /proc/self/io, so that taking the count adds exactly one call to it.
ProcessReads CurrentProcessReads() {
  ProcessReads reads;
  int fd = ::open("/proc/self/io", O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return reads;
  }
  char text[1024];
  ssize_t size = ::read(fd, text, sizeof text - 1);
  ::close(fd);
  if (size <= 0) {
    return reads;
  }
  text[size] = '\0';
  std::stringstream in(text);
  for (std::string key, value; in >> key >> value;) {
    if (key == "rchar:") {
      reads.bytes = std::strtoull(value.c_str(), nullptr, 10);
    }
    if (key == "syscr:") {
      reads.calls = std::strtoull(value.c_str(), nullptr, 10);
    }
  }
  return reads;
}

// --- formatting --------------------------------------------------------------------------

std::string Megabytes(uint64_t bytes) {
  return Format("%.1f MB", static_cast<double>(bytes) / 1e6);
}

std::string Millis(double micros) {
  return Format(micros < 100'000 ? "%.1f" : "%.0f", micros / 1000);
}

std::string Ratio(double value, double baseline) {
  return baseline > 0 ? Format("%.2fx", value / baseline) : "-";
}

std::string WithThousands(uint64_t value) {
  std::string digits = std::to_string(value);
  for (int at = static_cast<int>(digits.size()) - 3; at > 0; at -= 3) {
    digits.insert(at, ",");
  }
  return digits;
}

// --- data --------------------------------------------------------------------------------

// A search-keyword event stream like the product's reference workload: 30 days of events,
// keywords skewed toward a head of popular ones (5,000 in all), 70% searches, 20% clicks,
// 10% likes, one user per ten events. session_id, page_url and user_agent are there to be
// skipped: with them a query that reads four columns reads a fraction of the file.
// Replaces every "{name}" in `text` with its value.
std::string Substitute(std::string text, const std::map<std::string, std::string>& values) {
  for (const auto& [name, value] : values) {
    std::string placeholder = "{" + name + "}";
    for (size_t at = text.find(placeholder); at != std::string::npos;
         at = text.find(placeholder, at + value.size())) {
      text.replace(at, placeholder.size(), value);
    }
  }
  return text;
}

std::string GeneratorSql(uint64_t rows, const std::string& target) {
  static constexpr std::string_view kSql = R"sql(
COPY (
  SELECT
    TIMESTAMP '2025-11-01' + to_microseconds(i * {step_micros}) AS event_time,
    (1 + hash(i, 'user') % {users})::BIGINT AS user_id,
    md5((i // 12)::VARCHAR) AS session_id,
    'keyword-' || lpad(k::VARCHAR, 4, '0') AS keyword,
    CASE WHEN t < 70 THEN 'search' WHEN t < 90 THEN 'click' ELSE 'like' END AS event_type,
    (1 + hash(i, 'product') % 50000)::BIGINT AS product_id,
    round((hash(i, 'price') % 50000)::DOUBLE / 100 + 0.99, 2) AS price,
    (1 + hash(i, 'quantity') % 4)::INTEGER AS quantity,
    (['US', 'DE', 'FR', 'GB', 'JP', 'BR', 'IN', 'CA', 'ES', 'IT', 'NL', 'SE'])
        [(1 + hash(i, 'country') % 12)::BIGINT] AS country,
    (['mobile', 'desktop', 'tablet'])[(1 + hash(i, 'device') % 3)::BIGINT] AS device,
    'https://shop.example.com/search?q=keyword-' || lpad(k::VARCHAR, 4, '0')
        || '&page=' || (1 + hash(i, 'page') % 5) AS page_url,
    ([
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36',
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 Version/18.1 Safari/605',
      'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148',
      'Mozilla/5.0 (Linux; Android 15; Pixel 9) AppleWebKit/537.36 Chrome/131.0 Mobile Safari',
      'Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0'
    ])[(1 + hash(i, 'agent') % 5)::BIGINT] AS user_agent
  FROM (
    SELECT range AS i,
           floor(pow((hash(range, 'keyword') % 1000000)::DOUBLE / 1000000, 2) * 5000)::INTEGER AS k,
           hash(range, 'type') % 100 AS t
    FROM range({rows})
  )
) TO '{target}' (FORMAT parquet)
)sql";
  uint64_t step_micros = 30ULL * 24 * 3600 * 1'000'000 / rows;
  uint64_t users = std::max<uint64_t>(rows / 10, 1);
  return Substitute(std::string(kSql), {{"step_micros", std::to_string(step_micros)},
                                        {"users", std::to_string(users)},
                                        {"rows", std::to_string(rows)},
                                        {"target", target}});
}

struct Dataset {
  int scale = 1;
  uint64_t rows = 0;
  std::string lake_root;  // a LocalObjectStore over this folder serves lake://bench/events.parquet
  std::string path;       // lake_root + "/bench/events.parquet"
  uint64_t size_bytes = 0;
};

// Generates the file unless an earlier run left one for the same rows and generator.
Dataset PrepareDataset(query::Engine& engine, const Flags& flags, int scale) {
  Dataset data;
  data.scale = scale;
  data.rows = flags.rows * static_cast<uint64_t>(scale);
  data.lake_root = fs::absolute(flags.data_dir).lexically_normal().string() + "/events-" +
                   std::to_string(data.rows) + "-v" + std::to_string(kGeneratorVersion);
  data.path = data.lake_root + "/bench/events.parquet";
  if (!fs::exists(data.path)) {
    fs::create_directories(data.lake_root + "/bench");
    std::string partial = data.path + ".partial";
    std::fprintf(stderr, "engine_bench: generating %s rows into %s\n",
                 WithThousands(data.rows).c_str(), data.path.c_str());
    auto started = std::chrono::steady_clock::now();
    Result<query::QueryResult> copied = engine.Execute(GeneratorSql(data.rows, partial));
    if (!copied.ok()) {
      Fail("generating the data failed: " + copied.status().ToString());
    }
    fs::rename(partial, data.path);  // only a complete file is ever reused
    std::fprintf(stderr, "engine_bench: generated in %.1f s\n",
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  }
  data.size_bytes = fs::file_size(data.path);
  return data;
}

// Copies the file into the S3 store with a multipart upload; returns the object's key.
std::string Upload(storage::ObjectStore& store, const std::string& key, const std::string& path) {
  auto started = std::chrono::steady_clock::now();
  Result<std::unique_ptr<storage::ObjectWriter>> writer = store.OpenForWrite(key);
  if (!writer.ok()) {
    Fail("uploading failed: " + writer.status().ToString());
  }
  std::ifstream in(path, std::ios::binary);
  std::vector<char> buffer(8 << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    if (in.gcount() == 0) {
      break;
    }
    Status appended =
        (*writer)->Append(std::string_view(buffer.data(), static_cast<size_t>(in.gcount())));
    if (!appended.ok()) {
      Fail("uploading failed: " + appended.ToString());
    }
  }
  Status closed = (*writer)->Close();
  if (!closed.ok()) {
    Fail("uploading failed: " + closed.ToString());
  }
  std::fprintf(stderr, "engine_bench: uploaded %s to %s/%s in %.1f s\n",
               Megabytes(fs::file_size(path)).c_str(), store.Describe().c_str(), key.c_str(),
               std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  return key;
}

// --- queries and paths -------------------------------------------------------------------

struct Query {
  std::string name;
  std::string sql;  // "{events}" stands for the read_parquet(...) call
};

std::vector<Query> Queries(const std::vector<int>& numbers) {
  std::vector<Query> all = {
      {"top keywords (clicks, likes)",
       "SELECT keyword, count(*) FILTER (WHERE event_type = 'click') AS clicks,"
       " count(*) FILTER (WHERE event_type = 'like') AS likes FROM {events}"
       " WHERE event_type IN ('click', 'like') GROUP BY keyword"
       " ORDER BY clicks DESC, likes DESC, keyword LIMIT 10"},
      {"sum(price) of likes",
       "SELECT round(sum(price), 2) AS revenue, count(*) AS likes FROM {events}"
       " WHERE event_type = 'like'"},
      {"count(DISTINCT user_id)", "SELECT count(DISTINCT user_id) AS users FROM {events}"},
      {"one day of 30 (row-group skipping)",
       "SELECT count(*) AS events, round(avg(price), 4) AS average_price FROM {events}"
       " WHERE event_time >= TIMESTAMP '2025-11-10' AND event_time < TIMESTAMP '2025-11-11'"},
  };
  if (numbers.empty()) {
    return all;
  }
  std::vector<Query> chosen;
  for (int number : numbers) {
    if (number < 1 || number > static_cast<int>(all.size())) {
      Fail("--queries: there are queries 1 to " + std::to_string(all.size()) + ", not " +
           std::to_string(number));
    }
    chosen.push_back(all[number - 1]);
  }
  return chosen;
}

std::string Bind(const std::string& sql, const std::string& url) {
  return Substitute(sql, {{"events", "read_parquet('" + url + "')"}});
}

struct Path {
  std::string name;
  query::Engine* engine;
  std::string url;
};

struct Measurement {
  bool ran = false;
  double median_micros = 0;
  int runs = 0;
  uint64_t bytes_read = 0;     // QueryResult.bytes_read (lake paths)
  uint64_t read_requests = 0;  // QueryResult.read_requests (lake paths)
  ProcessReads process;        // read(2)/pread(2) of this process during the query
};

struct Run {
  query::QueryResult result;
  ProcessReads process;
};

Run Execute(const Path& path, const std::string& sql) {
  Run run;
  ProcessReads before = CurrentProcessReads();
  Result<query::QueryResult> result = path.engine->Execute(sql);
  ProcessReads after = CurrentProcessReads();
  // Reading /proc/self/io is itself one read call of a few hundred bytes.
  run.process = {after.bytes - before.bytes, after.calls - before.calls - 1};
  if (!result.ok()) {
    Fail(path.name + " query failed: " + result.status().ToString() + "\n" + sql);
  }
  run.result = std::move(result).value();
  return run;
}

// Warm-up, then rounds of one run per path, the rounds going through every order of the
// paths (direct, lake-local, lake-s3; direct, lake-s3, lake-local; ...), so that load from
// other processes on a shared machine and the order of runs hit every path alike: the S3
// API server's own work after a lake-s3 run, on the same cores, delays whichever path
// runs next. Short queries get more rounds (see Flags::min_seconds): a few milliseconds of
// noise would otherwise decide their ratios. Every path must return direct's answer.
std::vector<Measurement> Measure(const Query& query, const std::vector<Path>& paths,
                                 const Flags& flags) {
  std::vector<std::vector<Run>> runs(paths.size());
  std::optional<decltype(query::QueryResult::rows)> expected;
  double round_seconds = 0;  // one warm-up run of every path
  for (size_t p = 0; p < paths.size(); ++p) {
    for (int i = 0; i < flags.warmups; ++i) {
      Run run = Execute(paths[p], Bind(query.sql, paths[p].url));
      if (i == 0) {
        round_seconds += static_cast<double>(run.result.elapsed.count()) / 1e6;
      }
      if (!expected) {
        expected = run.result.rows;
      }
      if (run.result.rows != *expected) {
        Fail(paths[p].name + " returned another answer to: " + query.name);
      }
    }
  }
  int rounds = flags.repetitions;
  if (round_seconds > 0 && rounds < kMaxRounds) {
    double wanted = std::ceil(flags.min_seconds / round_seconds);
    rounds = static_cast<int>(std::clamp(wanted, static_cast<double>(rounds), double{kMaxRounds}));
  }
  std::vector<size_t> order(paths.size());
  std::iota(order.begin(), order.end(), 0);
  for (int i = 0; i < rounds; ++i, std::next_permutation(order.begin(), order.end())) {
    for (size_t p : order) {
      runs[p].push_back(Execute(paths[p], Bind(query.sql, paths[p].url)));
      if (!expected) {
        expected = runs[p].back().result.rows;
      }
      if (runs[p].back().result.rows != *expected) {
        Fail(paths[p].name + " returned another answer to: " + query.name);
      }
    }
  }
  std::vector<Measurement> measured(paths.size());
  for (size_t p = 0; p < paths.size(); ++p) {
    std::vector<Run>& path_runs = runs[p];
    std::sort(path_runs.begin(), path_runs.end(),
              [](const Run& a, const Run& b) { return a.result.elapsed < b.result.elapsed; });
    const Run& median = path_runs[path_runs.size() / 2];
    Measurement& m = measured[p];
    m.ran = true;
    m.median_micros = static_cast<double>(median.result.elapsed.count());
    if (path_runs.size() % 2 == 0) {
      m.median_micros =
          (m.median_micros + path_runs[path_runs.size() / 2 - 1].result.elapsed.count()) / 2;
    }
    m.runs = static_cast<int>(path_runs.size());
    m.bytes_read = median.result.bytes_read;
    m.read_requests = median.result.read_requests;
    m.process = median.process;
  }
  return measured;
}

std::unique_ptr<query::Engine> MakeEngine(const std::string& work_dir,
                                          std::shared_ptr<storage::StoreResolver> stores,
                                          const Flags& flags) {
  Result<std::unique_ptr<query::Engine>> engine = query::Engine::Make(
      {.work_dir = work_dir, .stores = std::move(stores), .threads = flags.threads});
  if (!engine.ok()) {
    Fail("starting the engine failed: " + engine.status().ToString());
  }
  if (!flags.external_file_cache) {
    Result<query::QueryResult> set =
        (*engine)->Execute("SET GLOBAL enable_external_file_cache = false");
    if (!set.ok()) {
      Fail("turning off the external file cache failed: " + set.status().ToString());
    }
  }
  return std::move(engine).value();
}

std::optional<storage::S3Options> S3FromEnvironment() {
  const char* endpoint = std::getenv("BASIN_TEST_S3_ENDPOINT");
  const char* access_key = std::getenv("BASIN_TEST_S3_ACCESS_KEY");
  const char* secret_key = std::getenv("BASIN_TEST_S3_SECRET_KEY");
  if (!endpoint || !*endpoint || !access_key || !secret_key) {
    return std::nullopt;
  }
  storage::S3Options options;
  options.endpoint = endpoint;
  options.credentials.access_key_id = access_key;
  options.credentials.secret_access_key = secret_key;
  return options;
}

// Deletes what the benchmark uploaded, also when it stops early through Fail (exit).
class S3Cleanup {
 public:
  static S3Cleanup& Get() {
    static S3Cleanup cleanup;
    return cleanup;
  }
  void Add(storage::ObjectStore* store, std::string key) {
    objects_.emplace_back(store, std::move(key));
  }
  void Run() {
    for (auto& [store, key] : objects_) {
      Status deleted = store->Delete(key);
      if (!deleted.ok()) {
        std::fprintf(stderr, "engine_bench: %s\n", deleted.ToString().c_str());
      }
    }
    objects_.clear();
  }

 private:
  std::vector<std::pair<storage::ObjectStore*, std::string>> objects_;
};

struct ScaleResult {
  Dataset data;
  bool s3_ran = false;
  std::vector<std::vector<Measurement>> by_query;  // [query][path]: direct, lake-local, lake-s3
};

void PrintTable(const std::vector<ScaleResult>& results, const std::vector<Query>& queries) {
  std::printf(
      "| query | scale | runs | direct ms | lake-local ms | lake-local / direct | lake-s3 ms | "
      "lake-s3 / "
      "direct |"
      " bytes read: direct (OS) | lake-local | lake-s3 | reads: direct (OS) | lake-local | lake-s3 "
      "|\n");
  std::printf("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n");
  for (size_t q = 0; q < queries.size(); ++q) {
    for (const ScaleResult& scale : results) {
      const std::vector<Measurement>& m = scale.by_query[q];
      const Measurement& direct = m[0];
      const Measurement& local = m[1];
      const Measurement& s3 = m[2];
      std::printf("| %s | %dx | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
                  queries[q].name.c_str(), scale.data.scale, direct.runs,
                  Millis(direct.median_micros).c_str(), Millis(local.median_micros).c_str(),
                  Ratio(local.median_micros, direct.median_micros).c_str(),
                  s3.ran ? Millis(s3.median_micros).c_str() : "-",
                  s3.ran ? Ratio(s3.median_micros, direct.median_micros).c_str() : "-",
                  Megabytes(direct.process.bytes).c_str(), Megabytes(local.bytes_read).c_str(),
                  s3.ran ? Megabytes(s3.bytes_read).c_str() : "-",
                  WithThousands(direct.process.calls).c_str(),
                  WithThousands(local.read_requests).c_str(),
                  s3.ran ? WithThousands(s3.read_requests).c_str() : "-");
    }
  }
}

// The geometric mean over the queries of one path's time relative to direct.
std::string MeanRatio(const ScaleResult& scale, size_t path) {
  double log_sum = 0;
  int count = 0;
  for (const std::vector<Measurement>& m : scale.by_query) {
    if (!m[path].ran || m[0].median_micros <= 0) {
      return "-";
    }
    log_sum += std::log(m[path].median_micros / m[0].median_micros);
    ++count;
  }
  return count == 0 ? "-" : Format("%.2fx", std::exp(log_sum / count));
}

void PrintMeanRatios(const std::vector<ScaleResult>& results) {
  std::printf("\nGeometric mean over the queries of the time relative to direct:\n\n");
  std::printf("| scale | lake-local / direct | lake-s3 / direct |\n|---|--:|--:|\n");
  for (const ScaleResult& scale : results) {
    std::printf("| %dx | %s | %s |\n", scale.data.scale, MeanRatio(scale, 1).c_str(),
                MeanRatio(scale, 2).c_str());
  }
}

void PrintGrowth(const std::vector<ScaleResult>& results, const std::vector<Query>& queries) {
  if (results.size() < 2) {
    return;
  }
  const ScaleResult& low = results.front();
  const ScaleResult& high = results.back();
  std::printf("\nGrowth from %dx to %dx (%.0fx the rows), median time ratio:\n\n", low.data.scale,
              high.data.scale, static_cast<double>(high.data.rows) / low.data.rows);
  std::printf("| query | direct | lake-local | lake-s3 |\n|---|--:|--:|--:|\n");
  for (size_t q = 0; q < queries.size(); ++q) {
    const auto& a = low.by_query[q];
    const auto& b = high.by_query[q];
    std::printf("| %s | %s | %s | %s |\n", queries[q].name.c_str(),
                Ratio(b[0].median_micros, a[0].median_micros).c_str(),
                Ratio(b[1].median_micros, a[1].median_micros).c_str(),
                a[2].ran && b[2].ran ? Ratio(b[2].median_micros, a[2].median_micros).c_str() : "-");
  }
}

int Main(int argc, char** argv) {
  Flags flags = ParseFlags(argc, argv);
  std::optional<storage::S3Options> s3 = S3FromEnvironment();
  if (!s3) {
    std::fprintf(stderr,
                 "engine_bench: BASIN_TEST_S3_ENDPOINT is not set, skipping lake-s3 "
                 "(run under scripts/with-test-servers.sh, as make bench does)\n");
  }
  std::string load_at_start = LoadAverage();
  fs::path work = fs::temp_directory_path() / ("basin-engine-bench-" + RandomAlphanumeric(8));
  std::string s3_prefix = "engine-bench-" + RandomAlphanumeric(8);
  S3Cleanup::Get();  // constructed before the handler is registered, so it outlives it
  std::atexit([] { S3Cleanup::Get().Run(); });

  std::vector<Query> queries = Queries(flags.queries);
  std::vector<ScaleResult> results;
  std::string threads_setting;
  for (int scale : flags.scales) {
    ScaleResult result;
    {
      // Its own engine, so the memory that writing the file took stays with none of the timed ones.
      std::unique_ptr<query::Engine> generator =
          MakeEngine((work / "generator").string(), nullptr, flags);
      result.data = PrepareDataset(*generator, flags, scale);
    }
    // A fresh engine per path and scale: nothing cached in one is seen by another.
    std::unique_ptr<query::Engine> direct = MakeEngine((work / "direct").string(), nullptr, flags);

    Result<std::unique_ptr<storage::LocalObjectStore>> lake =
        storage::LocalObjectStore::Make(result.data.lake_root);
    if (!lake.ok()) {
      Fail(lake.status().ToString());
    }
    auto stores = std::make_shared<storage::StoreResolver>(
        std::shared_ptr<storage::ObjectStore>(std::move(*lake)), s3.value_or(storage::S3Options{}));
    std::unique_ptr<query::Engine> lake_local =
        MakeEngine((work / "lake-local").string(), stores, flags);
    std::unique_ptr<query::Engine> lake_s3 = MakeEngine((work / "lake-s3").string(), stores, flags);
    std::vector<Path> paths = {{"direct", direct.get(), result.data.path},
                               {"lake-local", lake_local.get(), "lake://bench/events.parquet"}};
    result.s3_ran = s3 && scale <= flags.s3_max_scale;
    if (result.s3_ran) {
      std::string url = "s3://" + std::string(kS3Bucket) + "/" + s3_prefix + "/" +
                        std::to_string(scale) + "x/events.parquet";
      Result<storage::StoreResolver::Resolved> resolved = stores->Resolve(url);
      if (!resolved.ok()) {
        Fail(resolved.status().ToString());
      }
      S3Cleanup::Get().Add(resolved->store,
                           Upload(*resolved->store, resolved->key, result.data.path));
      paths.push_back({"lake-s3", lake_s3.get(), url});
    }
    if (threads_setting.empty()) {
      Result<query::QueryResult> setting = direct->Execute("SELECT current_setting('threads')");
      if (setting.ok() && !setting->rows.empty()) {
        threads_setting = setting->rows[0][0].value_or("?");
      }
    }

    for (const Query& query : queries) {
      auto started = std::chrono::steady_clock::now();
      std::vector<Measurement> measured = Measure(query, paths, flags);
      measured.resize(3);
      result.by_query.push_back(measured);
      std::fprintf(
          stderr,
          "engine_bench: %dx %-36s direct %8s ms, lake-local %8s ms, lake-s3 %8s ms (%.0f s)\n",
          scale, query.name.c_str(), Millis(measured[0].median_micros).c_str(),
          Millis(measured[1].median_micros).c_str(),
          measured[2].ran ? Millis(measured[2].median_micros).c_str() : "-",
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    }
    S3Cleanup::Get().Run();  // the uploaded copy is no longer needed
    results.push_back(std::move(result));
  }
  std::error_code ignored;
  fs::remove_all(work, ignored);

  std::printf("## Engine: Parquet aggregation, direct DuckDB vs basin lake file system\n\n");
  std::printf("- Machine: %s\n", Machine().c_str());
  std::printf("- Load average (1 min): %s at the start, %s at the end\n", load_at_start.c_str(),
              LoadAverage().c_str());
  std::printf("- DuckDB %s (%s), threads %s, external file cache %s\n",
              query::Engine::LoadedVersion().c_str(),
              query::Engine::LoadedSourceId().substr(0, 10).c_str(), threads_setting.c_str(),
              flags.external_file_cache ? "on" : "off");
  for (const ScaleResult& result : results) {
    std::printf("- %dx: %s rows, %s Parquet file (12 columns)%s\n", result.data.scale,
                WithThousands(result.data.rows).c_str(), Megabytes(result.data.size_bytes).c_str(),
                result.s3_ran ? ""
                : s3          ? "; lake-s3 not run at this scale (--s3-max-scale)"
                              : "; lake-s3 not run (no S3 API server)");
  }
  std::printf(
      "- Time: median of the runs (runs column: at least %d, more for short queries, so that\n"
      "  each takes about %d s on all paths) after %d warm-up run(s), with the paths taking\n"
      "  turns; Engine::Execute wall time. Bytes and reads: lake paths from\n"
      "  QueryResult.bytes_read and read_requests (an S3 read is one ranged GET), direct\n"
      "  from the process's read calls (/proc/self/io rchar, syscr) during the query.\n\n",
      flags.repetitions, flags.min_seconds, flags.warmups);
  PrintTable(results, queries);
  PrintMeanRatios(results);
  PrintGrowth(results, queries);
  return 0;
}

}  // namespace
}  // namespace basin::bench

int main(int argc, char** argv) {
  return basin::bench::Main(argc, argv);
}
