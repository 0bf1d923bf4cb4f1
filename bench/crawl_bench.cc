// crawl_bench: how long basin's crawler takes over a lake of many small objects.
//
// Generates a lake of N small objects, N/100 partitions of 100 files, in three tables:
//   events  CSV                      events/dt=YYYY-MM-DD/part-00000.csv
//   clicks  newline-delimited JSON   clicks/dt=YYYY-MM-DD/part-00000.json
//   likes   Parquet                  likes/dt=YYYY-MM-DD/part-00000.parquet
// (each file a few rows; the Parquet file is written once by the engine and copied) on local
// disk, served as lake://, and on the S3 API server of scripts/with-test-servers.sh (bucket
// basin-bench). With a fresh SQLite metadata database and a fresh engine per repetition it
// times three crawls by basin::crawler::Crawler:
//   cold           nothing known yet: every object is read
//   no change      the same lake again: nothing should be read
//   new partition  after 100 new CSV files in one new partition of events: only they are read
// and prints markdown tables: the runs, the goals, growth between scales, and where a cold
// crawl's time goes (phases seen through the progress callback; per-object costs measured
// with the crawler's own building blocks). Not a test: numbers are read, not asserted.
// bench/run.sh runs it after the engine benchmark; bench/run-crawl.sh runs it alone.

#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bench/flag_reader.h"
#include "bench/machine.h"
#include <nlohmann/json.hpp>

#include "basin/catalog/catalog.h"
#include "basin/common/crypto.h"
#include "basin/crawler/crawl.h"
#include "basin/crawler/file_schema.h"
#include "basin/crawler/object_probe.h"
#include "basin/crawler/table_grouping.h"
#include "basin/metadata/database.h"
#include "basin/query/engine.h"
#include "basin/query/lake_sql.h"
#include "basin/storage/local_object_store.h"
#include "basin/storage/s3_object_store.h"
#include "basin/storage/store_resolver.h"

namespace basin::bench {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Bump when the generated objects change, so a lake left in bench/data is regenerated.
constexpr int kGeneratorVersion = 1;
constexpr int kFilesPerPartition = 100;
constexpr int kRowsPerFile = 4;
constexpr std::string_view kS3Bucket = "basin-bench";

struct Flags {
  std::vector<int64_t> scales = {10'000, 100'000};
  int repetitions = 2;
  int threads = 2;              // CrawlOptions::threads
  int64_t s3_objects = 10'000;  // 0: no S3 runs
  int upload_threads = 8;
  int sample = 200;  // objects per format for the per-object costs
  bool keep_s3 = false;
  std::string data_dir = "bench/data";
};

const char kUsage[] =
    "usage: crawl_bench [--scales 10000,100000] [--repetitions N] [--threads N]\n"
    "                   [--s3-objects N] [--upload-threads N] [--sample N] [--keep-s3]\n"
    "                   [--data-dir DIR]\n"
    "  --scales LIST       lake sizes in objects, multiples of 100 (default 10000,100000)\n"
    "  --repetitions N     times each crawl sequence runs, each on a fresh catalog (default 2)\n"
    "  --threads N         the crawler's reading threads (default 2, its default)\n"
    "  --s3-objects N      lake size on the S3 API server; 0 skips S3 (default 10000)\n"
    "  --upload-threads N  threads uploading the S3 lake (default 8)\n"
    "  --sample N          objects per format timed one by one for the breakdown (default 200)\n"
    "  --keep-s3           leave the S3 lake in the bucket (default: deleted at the end)\n"
    "  --data-dir DIR      where the local lake is kept between runs (default bench/data)\n";

[[noreturn]] void Fail(const std::string& message) {
  std::fprintf(stderr, "crawl_bench: %s\n", message.c_str());
  std::exit(1);
}

template <typename T>
T ValueOrFail(Result<T> result, const std::string& what) {
  if (!result.ok())
    Fail(what + ": " + result.status().ToString());
  return std::move(result).value();
}

void OkOrFail(const Status& status, const std::string& what) {
  if (!status.ok())
    Fail(what + ": " + status.ToString());
}

Flags ParseFlags(int argc, char** argv) {
  Flags flags;
  FlagReader args(argc, argv, kUsage, Fail);
  while (args.Next()) {
    const std::string& flag = args.flag();
    if (flag == "--scales")
      flags.scales = args.Counts();
    else if (flag == "--repetitions")
      flags.repetitions = static_cast<int>(args.Count());
    else if (flag == "--threads")
      flags.threads = static_cast<int>(args.Count());
    else if (flag == "--s3-objects")
      flags.s3_objects = args.Count();
    else if (flag == "--upload-threads")
      flags.upload_threads = static_cast<int>(args.Count());
    else if (flag == "--sample")
      flags.sample = static_cast<int>(args.Count());
    else if (flag == "--keep-s3")
      flags.keep_s3 = true;
    else if (flag == "--data-dir")
      flags.data_dir = args.Value();
    else
      args.Unknown();
  }
  auto check_scale = [](int64_t objects) {
    if (objects < 300 || objects % kFilesPerPartition != 0) {
      Fail("lake sizes must be multiples of 100, at least 300, not " + std::to_string(objects));
    }
  };
  if (flags.scales.empty())
    Fail("--scales is empty");
  for (int64_t objects : flags.scales)
    check_scale(objects);
  if (flags.s3_objects > 0)
    check_scale(flags.s3_objects);
  if (flags.repetitions < 1 || flags.threads < 1 || flags.upload_threads < 1 || flags.sample < 1) {
    Fail("--repetitions, --threads, --upload-threads and --sample must be at least 1");
  }
  return flags;
}

// --- the machine -------------------------------------------------------------------------

std::string WithThousands(int64_t value) {
  std::string digits = std::to_string(value);
  for (int at = static_cast<int>(digits.size()) - 3; at > 0; at -= 3)
    digits.insert(at, ",");
  return digits;
}

// User and system CPU seconds of this process so far, all threads.
double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& time) {
    return static_cast<double>(time.tv_sec) + time.tv_usec / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string Seconds(double seconds) {
  return Format(seconds < 10 ? "%.2f" : "%.1f", seconds);
}

// --- the lake ----------------------------------------------------------------------------

struct TableSpec {
  const char* name;
  const char* extension;
};
constexpr TableSpec kTables[] = {{"events", "csv"}, {"clicks", "json"}, {"likes", "parquet"}};
constexpr int kTableCount = 3;

std::string Day(int64_t index) {
  using namespace std::chrono;
  year_month_day day{sys_days{year{2023} / 1 / 1} + days{index}};
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(day.year()),
                static_cast<unsigned>(day.month()), static_cast<unsigned>(day.day()));
  return text;
}

// One generated lake: `objects` objects under `prefix` ("crawl-n10000-v1/").
struct Lake {
  int64_t objects = 0;
  std::string prefix;
  std::string parquet;  // the bytes every Parquet object holds

  // 1,000 partitions are 334 of events, 333 of clicks and 333 of likes.
  int64_t Partitions(int table) const {
    int64_t partitions = objects / kFilesPerPartition;
    return partitions / kTableCount + (table < partitions % kTableCount ? 1 : 0);
  }

  std::string Key(int table, int64_t partition, int file) const {
    char name[32];
    std::snprintf(name, sizeof name, "part-%05d.%s", file, kTables[table].extension);
    return prefix + kTables[table].name + "/dt=" + Day(partition) + "/" + name;
  }

  // The content of one object; `serial` makes rows differ between files.
  std::string Content(int table, int64_t serial) const {
    if (table == 2)
      return parquet;
    std::string out = table == 0 ? "event_id,user_id,keyword,event_type,amount\n" : "";
    for (int row = 0; row < kRowsPerFile; ++row) {
      int64_t id = serial * kRowsPerFile + row;
      char line[200];
      if (table == 0) {
        std::snprintf(line, sizeof line, "%lld,%lld,keyword-%04lld,%s,%lld.%02lld\n",
                      static_cast<long long>(id), static_cast<long long>(1 + id % 9973),
                      static_cast<long long>(id % 5000), id % 10 < 7 ? "search" : "click",
                      static_cast<long long>(id % 500), static_cast<long long>(id % 100));
      } else {
        std::snprintf(line, sizeof line,
                      "{\"click_id\": %lld, \"user_id\": %lld, \"keyword\": \"keyword-%04lld\", "
                      "\"position\": %d, "
                      "\"device\": \"%s\"}\n",
                      static_cast<long long>(id), static_cast<long long>(1 + id % 9973),
                      static_cast<long long>(id % 5000), row + 1,
                      id % 3 == 0 ? "mobile" : "desktop");
      }
      out += line;
    }
    return out;
  }

  // Calls fn(key, table, serial) for every object of the lake.
  void ForEach(const std::function<void(const std::string&, int, int64_t)>& fn) const {
    int64_t serial = 0;
    for (int table = 0; table < kTableCount; ++table) {
      for (int64_t partition = 0; partition < Partitions(table); ++partition) {
        for (int file = 0; file < kFilesPerPartition; ++file)
          fn(Key(table, partition, file), table, serial++);
      }
    }
  }

  // The partition a "new partition" crawl finds: the next day of events, 100 CSV files.
  std::string NewPartitionFolder() const {
    return prefix + "events/dt=" + Day(Partitions(0)) + "/";
  }
  void ForEachNew(const std::function<void(const std::string&, int, int64_t)>& fn) const {
    for (int file = 0; file < kFilesPerPartition; ++file)
      fn(Key(0, Partitions(0), file), 0, objects + file);
  }
};

// A few rows of Parquet written by the engine, as the lake's Parquet objects are.
std::string MakeParquet(query::Engine& engine, const fs::path& work) {
  std::string path = (work / "likes.parquet").string();
  OkOrFail(
      engine
          .Execute(
              "COPY (SELECT range AS like_id, 1 + range * 7 % 9973 AS user_id, 'keyword-' || "
              "lpad((range * 13 % 5000)::VARCHAR, 4, '0') AS keyword, TIMESTAMP '2025-11-01' + "
              "to_minutes(range) AS liked_at FROM range(" +
              std::to_string(kRowsPerFile) + ")) TO " + query::QuoteLiteral(path) +
              " (FORMAT parquet)")
          .status(),
      "writing the Parquet template");
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void WriteFile(const fs::path& path, const std::string& data) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr || std::fwrite(data.data(), 1, data.size(), file) != data.size() ||
      std::fclose(file) != 0) {
    Fail("cannot write " + path.string());
  }
}

// Writes the lake's files under `root` with plain file writes (no fsync: generation speed
// matters, durability does not), unless a complete copy from an earlier run is there.
void GenerateLocal(const Lake& lake, const fs::path& root, const fs::path& marker) {
  if (fs::exists(marker))
    return;
  fs::remove_all(root / lake.prefix);
  auto started = Clock::now();
  std::fprintf(stderr, "crawl_bench: writing %s objects under %s\n",
               WithThousands(lake.objects).c_str(), (root / lake.prefix).c_str());
  lake.ForEach([&](const std::string& key, int table, int64_t serial) {
    fs::path path = root / key;
    if (key.ends_with("part-00000." + std::string(kTables[table].extension))) {
      fs::create_directories(path.parent_path());
    }
    WriteFile(path, lake.Content(table, serial));
  });
  WriteFile(marker, "");
  std::fprintf(stderr, "crawl_bench: written in %.1f s\n", SecondsSince(started));
}

// Runs fn(i) for i in [0, count) on `threads` threads.
void Parallel(int64_t count, int threads, const std::function<void(int64_t)>& fn) {
  std::atomic<int64_t> next{0};
  auto work = [&] {
    for (int64_t i = next++; i < count; i = next++)
      fn(i);
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back(work);
  for (std::thread& thread : pool)
    thread.join();
}

struct KeyedObject {
  std::string key;
  int table;
  int64_t serial;
};

// Uploads objects with `threads` parallel PUTs; returns the seconds it took.
double Upload(storage::ObjectStore& store, const Lake& lake,
              const std::vector<KeyedObject>& objects, int threads) {
  auto started = Clock::now();
  std::mutex mutex;
  std::optional<Status> failure;
  Parallel(static_cast<int64_t>(objects.size()), threads, [&](int64_t i) {
    const KeyedObject& object = objects[i];
    Status written = store.Write(object.key, lake.Content(object.table, object.serial));
    if (!written.ok()) {
      std::lock_guard<std::mutex> lock(mutex);
      failure = written;
    }
  });
  if (failure)
    Fail("uploading to " + store.Describe() + " failed: " + failure->ToString());
  return SecondsSince(started);
}

void DeleteAll(storage::ObjectStore& store, const std::vector<std::string>& keys, int threads) {
  std::atomic<int64_t> failed{0};
  Parallel(static_cast<int64_t>(keys.size()), threads, [&](int64_t i) {
    if (!store.Delete(keys[i]).ok())
      ++failed;
  });
  if (failed > 0)
    std::fprintf(stderr, "crawl_bench: %lld deletes failed\n",
                 static_cast<long long>(failed.load()));
}

std::vector<KeyedObject> Collect(const Lake& lake, bool new_partition) {
  std::vector<KeyedObject> out;
  auto add = [&](const std::string& key, int table, int64_t serial) {
    out.push_back({key, table, serial});
  };
  new_partition ? lake.ForEachNew(add) : lake.ForEach(add);
  return out;
}

// --- crawls ------------------------------------------------------------------------------

struct CrawlRun {
  std::string storage;  // "local disk", "S3 API server"
  int64_t objects = 0;
  int repetition = 0;
  std::string crawl;  // cold, no change, new partition
  double wall = 0;    // seconds around Crawler::Run
  double cpu = 0;     // CPU seconds of the process meanwhile (2 x wall: both cores busy)
  // Phases as the progress callback shows them: listing (with loading the previous states
  // and comparing) ends at its first call; reading (probe and sniff) at its last; the rest
  // is grouping, the catalog transaction, saving object states and the run report.
  double listing = 0, reading = 0, applying = 0;
  storage::StoreCounters reads;  // by the crawl and its queries, from the target's store
  crawler::RunReport report;
  bool as_expected = true;
};

std::string Tables(const crawler::RunReport& report) {
  return std::to_string(report.tables_created.size()) + " / " +
         std::to_string(report.tables_updated.size()) + " / " +
         std::to_string(report.tables_unchanged.size());
}

// Everything a crawl needs, fresh for each repetition so nothing is cached from the last.
struct CrawlSetup {
  fs::path work;
  std::unique_ptr<metadata::Database> database;
  std::unique_ptr<query::Engine> engine;
  std::unique_ptr<crawler::Crawler> crawler;
  storage::ObjectStore* store = nullptr;  // the target's

  CrawlSetup(const fs::path& folder, std::shared_ptr<storage::StoreResolver> stores,
             const std::string& target)
      : work(folder) {
    fs::create_directories(work);
    database = ValueOrFail(metadata::Database::Open((work / "metadata.db").string()),
                           "opening the metadata database");
    engine =
        ValueOrFail(query::Engine::Make({.work_dir = (work / "engine").string(), .stores = stores}),
                    "starting the engine");
    crawler = std::make_unique<crawler::Crawler>(*database, *stores, *engine);
    crawler::CrawlerDefinition definition{.name = "bench", .targets = {target}, .database = "lake"};
    OkOrFail(crawler->store().Create(definition), "creating the crawler");
    store = ValueOrFail(stores->Resolve(target), "resolving " + target).store;
  }
  ~CrawlSetup() {
    crawler.reset();
    engine.reset();
    database.reset();
    std::error_code ignored;
    fs::remove_all(work, ignored);
  }
};

CrawlRun Crawl(CrawlSetup& setup, int threads) {
  std::optional<Clock::time_point> first, last;
  crawler::CrawlOptions options;
  options.threads = threads;
  options.on_progress = [&](const crawler::CrawlProgress&) {
    Clock::time_point now = Clock::now();
    if (!first)
      first = now;
    last = now;
  };
  double cpu_at_start = CpuSeconds();
  storage::StoreCounters reads_at_start = setup.store->counters();
  auto started = Clock::now();
  crawler::RunReport report = ValueOrFail(setup.crawler->Run("bench", options), "crawling");
  auto ended = Clock::now();
  CrawlRun run;
  run.cpu = CpuSeconds() - cpu_at_start;
  storage::StoreCounters reads = setup.store->counters();
  run.reads = {reads.bytes_read - reads_at_start.bytes_read,
               reads.read_requests - reads_at_start.read_requests};
  auto seconds = [](Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
  };
  run.wall = seconds(started, ended);
  run.listing = seconds(started, first.value_or(ended));
  run.reading = seconds(first.value_or(ended), last.value_or(ended));
  run.applying = seconds(last.value_or(ended), ended);
  if (report.status != "completed")
    Fail("the crawl did not complete:\n" + report.ToText());
  for (size_t i = 0; i < std::min<size_t>(report.errors.size(), 5); ++i) {
    std::fprintf(stderr, "crawl_bench: file error: %s: %s\n", report.errors[i].path.c_str(),
                 report.errors[i].reason.c_str());
  }
  run.report = std::move(report);
  return run;
}

// Cold, no-change and new-partition crawls, `repetitions` times.
std::vector<CrawlRun> CrawlSequences(const std::string& storage, const Lake& lake,
                                     std::shared_ptr<storage::StoreResolver> stores,
                                     const std::string& target,
                                     const std::function<void()>& add_partition,
                                     const std::function<void()>& remove_partition,
                                     const Flags& flags, const fs::path& work) {
  std::vector<CrawlRun> runs;
  for (int repetition = 1; repetition <= flags.repetitions; ++repetition) {
    remove_partition();
    CrawlSetup setup(work / ("crawl-" + RandomAlphanumeric(8)), stores, target);
    std::fprintf(stderr, "crawl_bench: %s, %s objects, repetition %d: cold crawl\n",
                 storage.c_str(), WithThousands(lake.objects).c_str(), repetition);
    CrawlRun cold = Crawl(setup, flags.threads);
    cold.crawl = "cold";
    cold.as_expected = cold.report.objects_read == lake.objects && cold.report.errors.empty() &&
                       cold.report.tables_created.size() == kTableCount &&
                       cold.report.partitions_added == lake.objects / kFilesPerPartition;
    CrawlRun unchanged = Crawl(setup, flags.threads);
    unchanged.crawl = "no change";
    unchanged.as_expected = unchanged.report.objects_read == 0 &&
                            unchanged.report.partitions_added == 0 &&
                            unchanged.report.tables_unchanged.size() == kTableCount;
    add_partition();
    CrawlRun added = Crawl(setup, flags.threads);
    added.crawl = "new partition";
    added.as_expected = added.report.objects_read == kFilesPerPartition &&
                        added.report.partitions_added == 1 && added.report.errors.empty() &&
                        added.report.tables_updated.size() == 1;
    remove_partition();
    for (CrawlRun* run : {&cold, &unchanged, &added}) {
      run->storage = storage;
      run->objects = lake.objects;
      run->repetition = repetition;
      std::fprintf(stderr, "crawl_bench:   %s: %.2f s, %lld read%s\n", run->crawl.c_str(),
                   run->wall, static_cast<long long>(run->report.objects_read),
                   run->as_expected ? "" : " (NOT AS EXPECTED)");
      runs.push_back(std::move(*run));
    }
  }
  return runs;
}

// --- where the time goes -----------------------------------------------------------------

// Costs measured with the crawler's building blocks, one at a time on one thread.
struct Breakdown {
  int64_t objects = 0;
  double list = 0;                 // seconds: listing the whole lake
  double probe[kTableCount] = {};  // ms per object: ProbeObject (open, head, tail, classify)
  double sniff[kTableCount] = {};  // ms per object: InferFileSchema through lake://
  double sniff_direct[kTableCount] =
      {};                 // ms per object: the same on DuckDB's own local file system
  double round_trip = 0;  // ms: Engine::Execute("SELECT 1")
  double plan = 0, apply = 0, save_states = 0, load_states = 0;  // seconds for the whole lake
};

nlohmann::json SchemaJson(const crawler::FileSchema& schema) {
  nlohmann::json columns = nlohmann::json::array();
  for (const catalog::Column& column : schema.columns)
    columns.push_back({column.name, column.type});
  nlohmann::json out = {{"format", crawler::FormatName(schema.format)},
                        {"options", schema.options},
                        {"compression", "none"},
                        {"columns", columns}};
  if (schema.rows)
    out["rows"] = *schema.rows;
  return out;
}

Breakdown MeasureBreakdown(const Lake& lake, const fs::path& lake_root,
                           std::shared_ptr<storage::StoreResolver> stores, const Flags& flags,
                           const fs::path& work) {
  Breakdown out;
  out.objects = lake.objects;
  CrawlSetup setup(work / ("breakdown-" + RandomAlphanumeric(8)), stores, "lake://" + lake.prefix);
  storage::ObjectStore& store = stores->lake();

  auto started = Clock::now();
  std::vector<storage::ObjectInfo> listed = ValueOrFail(store.List(lake.prefix), "listing");
  out.list = SecondsSince(started);

  // Per-object costs over a sample spread evenly over each table's objects.
  std::optional<crawler::FileSchema> schemas[kTableCount];
  for (int table = 0; table < kTableCount; ++table) {
    int64_t count = lake.Partitions(table) * kFilesPerPartition;
    int sample = static_cast<int>(std::min<int64_t>(flags.sample, count));
    double probe = 0, sniff = 0, direct = 0;
    for (int i = 0; i < sample; ++i) {
      int64_t index = i * count / sample;
      std::string key =
          lake.Key(table, index / kFilesPerPartition, static_cast<int>(index % kFilesPerPartition));
      uint64_t size = fs::file_size(lake_root / key);
      auto at = Clock::now();
      crawler::Classification classification =
          ValueOrFail(crawler::ProbeObject(store, key, size), "probing " + key);
      probe += SecondsSince(at);
      at = Clock::now();
      crawler::FileSchema schema =
          ValueOrFail(crawler::InferFileSchema(*setup.engine, "lake://" + key, classification),
                      "sniffing " + key);
      sniff += SecondsSince(at);
      at = Clock::now();
      ValueOrFail(
          crawler::InferFileSchema(*setup.engine, (lake_root / key).string(), classification),
          "sniffing " + key + " directly");
      direct += SecondsSince(at);
      if (!schemas[table])
        schemas[table] = schema;
    }
    out.probe[table] = probe * 1000 / sample;
    out.sniff[table] = sniff * 1000 / sample;
    out.sniff_direct[table] = direct * 1000 / sample;
  }
  constexpr int kRoundTrips = 200;
  started = Clock::now();
  for (int i = 0; i < kRoundTrips; ++i)
    ValueOrFail(setup.engine->Execute("SELECT 1"), "SELECT 1");
  out.round_trip = SecondsSince(started) * 1000 / kRoundTrips;

  // What a cold crawl does after reading, each step alone, with every object's schema
  // taken from its table's sample.
  std::string target = "lake://" + lake.prefix;
  std::vector<crawler::CrawlEntry> entries;
  std::vector<crawler::ObjectState> states;
  std::string schema_text[kTableCount];
  for (int table = 0; table < kTableCount; ++table)
    schema_text[table] = SchemaJson(*schemas[table]).dump();
  for (storage::ObjectInfo& info : listed) {
    std::string relative = info.key.substr(lake.prefix.size());
    int table = relative.starts_with("events/") ? 0 : relative.starts_with("clicks/") ? 1 : 2;
    states.push_back(
        {target, relative, static_cast<int64_t>(info.size), info.etag,
         std::chrono::duration_cast<std::chrono::seconds>(info.modified.time_since_epoch()).count(),
         schema_text[table], ""});
    entries.push_back({target, relative, std::move(info), schemas[table], "", true});
  }
  crawler::CrawlerDefinition definition =
      ValueOrFail(setup.crawler->store().Get("bench"), "reading the crawler definition");
  crawler::RunReport report;
  started = Clock::now();
  std::vector<crawler::TablePlan> plans = crawler::PlanTables(definition, entries, {}, report);
  out.plan = SecondsSince(started);
  OkOrFail(setup.crawler->catalog().EnsureDatabase("lake"), "creating the catalog database");
  started = Clock::now();
  OkOrFail(setup.database->Transaction([&] {
    return crawler::ApplyPlans(setup.crawler->catalog(), definition, plans, report);
  }),
           "applying the plans");
  out.apply = SecondsSince(started);
  started = Clock::now();
  OkOrFail(setup.database->Transaction(
               [&] { return setup.crawler->store().SaveObjects("bench", states, {}); }),
           "saving object states");
  out.save_states = SecondsSince(started);
  started = Clock::now();
  ValueOrFail(setup.crawler->store().LoadObjects("bench"), "loading object states");
  out.load_states = SecondsSince(started);
  return out;
}

// --- output ------------------------------------------------------------------------------

void PrintRuns(const std::vector<CrawlRun>& runs) {
  std::printf(
      "| storage | objects | crawl | run | wall s | CPU s | listing s | reading s | catalog + "
      "states s | listed | "
      "read | "
      "unchanged | read requests | MB read | tables created / updated / unchanged | partitions "
      "added | file errors | "
      "as expected |\n");
  std::printf("|---|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|--:|--:|---|\n");
  for (const CrawlRun& run : runs) {
    std::printf(
        "| %s | %s | %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %zu | "
        "%s |\n",
        run.storage.c_str(), WithThousands(run.objects).c_str(), run.crawl.c_str(), run.repetition,
        Seconds(run.wall).c_str(), Seconds(run.cpu).c_str(), Seconds(run.listing).c_str(),
        Seconds(run.reading).c_str(), Seconds(run.applying).c_str(),
        WithThousands(run.report.objects_listed).c_str(),
        WithThousands(run.report.objects_read).c_str(),
        WithThousands(run.report.objects_unchanged).c_str(),
        WithThousands(static_cast<int64_t>(run.reads.read_requests)).c_str(),
        Format("%.1f", static_cast<double>(run.reads.bytes_read) / 1e6).c_str(),
        Tables(run.report).c_str(), WithThousands(run.report.partitions_added).c_str(),
        run.report.errors.size(), run.as_expected ? "yes" : "**no**");
  }
}

// The slowest of the repetitions of one crawl: goals hold for every run or not at all.
const CrawlRun* Slowest(const std::vector<CrawlRun>& runs, const std::string& storage,
                        int64_t objects, const std::string& crawl) {
  const CrawlRun* slowest = nullptr;
  for (const CrawlRun& run : runs) {
    bool same = run.storage == storage && run.objects == objects && run.crawl == crawl;
    if (same && (!slowest || run.wall > slowest->wall)) {
      slowest = &run;
    }
  }
  return slowest;
}

void PrintGoals(const std::vector<CrawlRun>& runs, int64_t objects) {
  std::printf("\nGoals (local disk, %s objects, slowest repetition):\n\n",
              WithThousands(objects).c_str());
  std::printf("| crawl | goal | measured | met |\n|---|---|--:|---|\n");
  struct Goal {
    const char* crawl;
    double seconds;
    const char* extra;
  };
  for (const Goal& goal : {Goal{"cold", 60, ""}, Goal{"no change", 3, ""},
                           Goal{"new partition", 3, " and reads only the 100 new objects"}}) {
    const CrawlRun* run = Slowest(runs, "local disk", objects, goal.crawl);
    if (!run)
      continue;
    bool only_new = std::string(goal.crawl) != "new partition" ||
                    run->report.objects_read == kFilesPerPartition;
    std::printf("| %s | under %.0f s%s | %s s, %s read | %s |\n", goal.crawl, goal.seconds,
                goal.extra, Seconds(run->wall).c_str(),
                WithThousands(run->report.objects_read).c_str(),
                run->wall < goal.seconds && only_new ? "yes" : "**no**");
  }
}

void PrintGrowth(const std::vector<CrawlRun>& runs, int64_t low, int64_t high) {
  std::printf("\nGrowth from %s to %s objects (%.0fx), local disk, fastest repetition:\n\n",
              WithThousands(low).c_str(), WithThousands(high).c_str(),
              static_cast<double>(high) / static_cast<double>(low));
  std::printf(
      "| crawl | %s objects s | %s objects s | ratio | µs per lake object at %s "
      "|\n|---|--:|--:|--:|--:|\n",
      WithThousands(low).c_str(), WithThousands(high).c_str(), WithThousands(high).c_str());
  for (const char* crawl : {"cold", "no change", "new partition"}) {
    auto fastest = [&](int64_t objects) {
      double best = -1;
      for (const CrawlRun& run : runs) {
        bool same = run.storage == "local disk" && run.objects == objects && run.crawl == crawl;
        if (same && (best < 0 || run.wall < best)) {
          best = run.wall;
        }
      }
      return best;
    };
    double a = fastest(low), b = fastest(high);
    if (a <= 0 || b <= 0)
      continue;
    std::printf("| %s | %s | %s | %.1fx | %s µs |\n", crawl, Seconds(a).c_str(), Seconds(b).c_str(),
                b / a, Format("%.0f", b * 1e6 / static_cast<double>(high)).c_str());
  }
}

void PrintBreakdown(const std::vector<Breakdown>& breakdowns, int threads) {
  if (breakdowns.empty())
    return;
  std::printf(
      "\nWhere a cold crawl's time goes (local disk; per-object costs are the mean over a sample "
      "timed one\n"
      "by one on one thread; the other rows are each step alone over the whole lake):\n\n|  |");
  for (const Breakdown& b : breakdowns)
    std::printf(" %s objects |", WithThousands(b.objects).c_str());
  std::printf("\n|---|");
  for (size_t i = 0; i < breakdowns.size(); ++i)
    std::printf("--:|");
  std::printf("\n");
  auto row = [&](const std::string& label,
                 const std::function<std::string(const Breakdown&)>& cell) {
    std::printf("| %s |", label.c_str());
    for (const Breakdown& b : breakdowns)
      std::printf(" %s |", cell(b).c_str());
    std::printf("\n");
  };
  row("list the lake (s)", [](const Breakdown& b) { return Seconds(b.list); });
  for (int table = 0; table < kTableCount; ++table) {
    std::string format = kTables[table].extension;
    row("probe one " + format + " object (ms)",
        [&](const Breakdown& b) { return Format("%.3f", b.probe[table]); });
    row("sniff one " + format + " object via lake:// (ms)",
        [&](const Breakdown& b) { return Format("%.2f", b.sniff[table]); });
    row("sniff one " + format + " object, DuckDB's own file system (ms)",
        [&](const Breakdown& b) { return Format("%.2f", b.sniff_direct[table]); });
  }
  row("engine round trip, SELECT 1 (ms)",
      [](const Breakdown& b) { return Format("%.2f", b.round_trip); });
  row("reading, estimated: objects x (probe + sniff) / " + std::to_string(threads) + " threads (s)",
      [&](const Breakdown& b) {
        double per_object = 0;
        for (int table = 0; table < kTableCount; ++table)
          per_object += (b.probe[table] + b.sniff[table]) / kTableCount;
        return Seconds(static_cast<double>(b.objects) * per_object / 1000 / threads);
      });
  row("group into tables, PlanTables (s)", [](const Breakdown& b) { return Seconds(b.plan); });
  row("write the catalog, ApplyPlans (s)", [](const Breakdown& b) { return Seconds(b.apply); });
  row("save object states, SaveObjects (s)",
      [](const Breakdown& b) { return Seconds(b.save_states); });
  row("load object states, LoadObjects (s)",
      [](const Breakdown& b) { return Seconds(b.load_states); });
}

int Main(int argc, char** argv) {
  Flags flags = ParseFlags(argc, argv);
  std::string load_at_start = LoadAverage();
  auto started = Clock::now();
  fs::path data = fs::absolute(flags.data_dir).lexically_normal();
  fs::path lake_root = data / "crawl-lake";
  fs::path work = fs::temp_directory_path() / ("basin-crawl-bench-" + RandomAlphanumeric(8));
  fs::create_directories(lake_root);
  fs::create_directories(work);

  const char* endpoint = std::getenv("BASIN_TEST_S3_ENDPOINT");
  storage::S3Options s3;
  bool s3_available = endpoint != nullptr && *endpoint != '\0';
  if (s3_available) {
    s3.endpoint = endpoint;
    const char* access_key = std::getenv("BASIN_TEST_S3_ACCESS_KEY");
    const char* secret_key = std::getenv("BASIN_TEST_S3_SECRET_KEY");
    s3.credentials.access_key_id = access_key ? access_key : "";
    s3.credentials.secret_access_key = secret_key ? secret_key : "";
  } else if (flags.s3_objects > 0) {
    std::fprintf(stderr,
                 "crawl_bench: BASIN_TEST_S3_ENDPOINT is not set, skipping S3 "
                 "(run under scripts/with-test-servers.sh, as make bench does)\n");
  }
  auto stores = std::make_shared<storage::StoreResolver>(
      std::shared_ptr<storage::ObjectStore>(
          ValueOrFail(storage::LocalObjectStore::Make(lake_root.string()), "lake")),
      s3);

  std::string parquet;
  {
    std::unique_ptr<query::Engine> generator = ValueOrFail(
        query::Engine::Make({.work_dir = (work / "generator").string()}), "starting the engine");
    parquet = MakeParquet(*generator, work);
  }

  std::vector<CrawlRun> runs;
  std::vector<Breakdown> breakdowns;
  for (int64_t objects : flags.scales) {
    Lake lake{objects,
              "crawl-n" + std::to_string(objects) + "-v" + std::to_string(kGeneratorVersion) + "/",
              parquet};
    GenerateLocal(lake, lake_root,
                  data / ("crawl-lake-n" + std::to_string(objects) + "-v" +
                          std::to_string(kGeneratorVersion) + ".complete"));
    fs::path new_folder = lake_root / lake.NewPartitionFolder();
    auto add = [&] {
      fs::create_directories(new_folder);
      lake.ForEachNew([&](const std::string& key, int table, int64_t serial) {
        WriteFile(lake_root / key, lake.Content(table, serial));
      });
    };
    auto remove = [&] {
      fs::remove_all(new_folder);
    };
    std::vector<CrawlRun> local = CrawlSequences("local disk", lake, stores,
                                                 "lake://" + lake.prefix, add, remove, flags, work);
    runs.insert(runs.end(), local.begin(), local.end());
    std::fprintf(stderr, "crawl_bench: breakdown at %s objects\n", WithThousands(objects).c_str());
    breakdowns.push_back(MeasureBreakdown(lake, lake_root, stores, flags, work));
  }

  std::string upload_note;
  if (s3_available && flags.s3_objects > 0) {
    Lake lake{flags.s3_objects,
              "crawl-n" + std::to_string(flags.s3_objects) + "-v" +
                  std::to_string(kGeneratorVersion) + "/",
              parquet};
    std::string target = "s3://" + std::string(kS3Bucket) + "/" + lake.prefix;
    storage::StoreResolver::Resolved resolved =
        ValueOrFail(stores->Resolve(target), "resolving " + target);
    storage::ObjectStore& store = *resolved.store;
    std::vector<storage::ObjectInfo> present =
        ValueOrFail(store.List(lake.prefix), "listing " + target);
    if (static_cast<int64_t>(present.size()) != lake.objects) {
      std::fprintf(stderr, "crawl_bench: uploading %s objects to %s with %d threads\n",
                   WithThousands(lake.objects).c_str(), target.c_str(), flags.upload_threads);
      double seconds = Upload(store, lake, Collect(lake, false), flags.upload_threads);
      upload_note = "Uploading the " + WithThousands(lake.objects) + " objects with " +
                    std::to_string(flags.upload_threads) + " threads took " + Seconds(seconds) +
                    " s (" + Format("%.0f", static_cast<double>(lake.objects) / seconds) +
                    " objects/s).";
      std::fprintf(stderr, "crawl_bench: %s\n", upload_note.c_str());
    }
    std::vector<KeyedObject> fresh = Collect(lake, true);
    std::vector<std::string> fresh_keys;
    for (const KeyedObject& object : fresh)
      fresh_keys.push_back(object.key);
    auto add = [&] {
      Upload(store, lake, fresh, flags.upload_threads);
    };
    auto remove = [&] {
      DeleteAll(store, fresh_keys, flags.upload_threads);
    };
    std::vector<CrawlRun> remote =
        CrawlSequences("S3 API server", lake, stores, target, add, remove, flags, work);
    runs.insert(runs.end(), remote.begin(), remote.end());
    if (!flags.keep_s3) {
      std::vector<std::string> keys;
      for (const KeyedObject& object : Collect(lake, false))
        keys.push_back(object.key);
      DeleteAll(store, keys, flags.upload_threads);
    }
  }
  std::error_code ignored;
  fs::remove_all(work, ignored);

  std::printf(
      "## Crawler\n\nMachine: %s. Load average (1 min) %s at the start, %s at the end; %.0f s in "
      "all.\n",
      Machine().c_str(), load_at_start.c_str(), LoadAverage().c_str(), SecondsSince(started));
  std::printf("Crawler threads: %d. Metadata database: SQLite, fresh for each repetition.\n",
              flags.threads);
  if (!upload_note.empty())
    std::printf("%s\n", upload_note.c_str());
  std::printf("\n");
  PrintRuns(runs);
  PrintGoals(runs, *std::max_element(flags.scales.begin(), flags.scales.end()));
  if (flags.scales.size() > 1) {
    PrintGrowth(runs, *std::min_element(flags.scales.begin(), flags.scales.end()),
                *std::max_element(flags.scales.begin(), flags.scales.end()));
  }
  PrintBreakdown(breakdowns, flags.threads);
  return 0;
}

}  // namespace
}  // namespace basin::bench

int main(int argc, char** argv) {
  return basin::bench::Main(argc, argv);
}
