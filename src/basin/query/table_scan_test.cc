#include "basin/query/table_scan.h"

#include <atomic>

#include <gtest/gtest.h>

#include "basin/query/engine.h"
#include "basin/query/result_cache.h"
#include "basin/storage/local_object_store.h"
#include "basin/storage/test_stores.h"

namespace basin::query {
namespace {

// A partitioned CSV table of 10 days, bound by name as the catalog binds it.
class TableScanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string root = storage::testing::TempFolder();
    lake_ = std::shared_ptr<storage::ObjectStore>(
        std::move(storage::LocalObjectStore::Make(root + "/lake")).value());
    stores_ = std::make_shared<storage::StoreResolver>(lake_, storage::S3Options{});
    table_.database = "shop";
    table_.name = "events";
    table_.location = "lake://events/";
    table_.format = catalog::TableFormat::kCsv;
    table_.format_options = {{"delimiter", ","}, {"header", "true"}};
    table_.columns = {{"id", "BIGINT", ""}, {"keyword", "VARCHAR", ""}};
    table_.partition_keys = {{"dt", "DATE"}};
    for (int day = 10; day < 20; ++day) {
      std::string body = "id,keyword\n";
      for (int i = 0; i < 200; ++i)
        body += std::to_string(day * 1000 + i) + ",keyword-" + std::to_string(i) + "\n";
      std::string folder = "dt=2026-11-" + std::to_string(day) + "/";
      ASSERT_TRUE(lake_->Write("events/" + folder + "part-0.csv", body).ok());
      partitions_.push_back({.values = {"2026-11-" + std::to_string(day)},
                             .location = "lake://events/" + folder,
                             .columns = table_.columns});
    }
    ASSERT_TRUE(lake_->Write("events/_SUCCESS", "x").ok());
  }

  std::unique_ptr<Engine> MakeEngine(std::shared_ptr<ResultCache> cache = nullptr) {
    auto resolver = [this](const std::string&, const std::string& name,
                           const std::string&) -> Result<TableScan> {
      if (name != "events")
        return Status::NotFound("no such table");
      ++resolved_;
      BASIN_ASSIGN_OR_RETURN(TableScan scan, PlanTableScan(table_, partitions_, *stores_));
      scan.catalog_version = catalog_version_;
      return scan;
    };
    auto version = [this](const std::string&, const std::string&) -> Result<std::string> {
      return catalog_version_;
    };
    return std::move(Engine::Make({.work_dir = storage::testing::TempFolder(),
                                   .stores = stores_,
                                   .table_resolver = resolver,
                                   .table_version = version,
                                   .sandboxed = true,
                                   .cache = std::move(cache)}))
        .value();
  }

  std::shared_ptr<storage::ObjectStore> lake_;
  std::shared_ptr<storage::StoreResolver> stores_;
  catalog::Table table_;
  std::vector<catalog::Partition> partitions_;
  std::string catalog_version_ = "v1";
  int resolved_ = 0;
};

TEST_F(TableScanTest, ReadsAllPartitionsWithTypedColumns) {
  auto engine = MakeEngine();
  auto result = engine->Execute(
      "SELECT count(*), min(dt), typeof(min(dt)), typeof(min(id)) FROM shop.events");
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->rows[0][0], "2000") << "the _SUCCESS marker is not data";
  EXPECT_EQ(result->rows[0][1], "2026-11-10");
  EXPECT_EQ(result->rows[0][2], "DATE");
  EXPECT_EQ(result->rows[0][3], "BIGINT");
}

TEST_F(TableScanTest, PrunesPartitionsOnFilters) {
  auto engine = MakeEngine();
  auto everything = engine->Execute("SELECT count(*) FROM shop.events");
  ASSERT_TRUE(everything.ok()) << everything.status().ToString();
  struct Case {
    std::string where;
    std::string count;
    int partitions;
  };
  for (const Case& c :
       std::vector<Case>{{"dt = DATE '2026-11-15'", "200", 1},
                         {"dt IN ('2026-11-12', '2026-11-14')", "400", 2},
                         {"dt >= '2026-11-18'", "400", 2},
                         {"dt BETWEEN DATE '2026-11-10' AND DATE '2026-11-12'", "600", 3},
                         {"dt > DATE '2026-11-20' - INTERVAL 3 DAY", "400", 2},
                         {"dt = strptime('2026-11-11', '%Y-%m-%d')::DATE", "200", 1}}) {
    auto result = engine->Execute("SELECT count(*) FROM shop.events WHERE " + c.where);
    ASSERT_TRUE(result.ok()) << c.where << ": " << result.status().ToString();
    EXPECT_EQ(result->rows[0][0], c.count) << c.where;
    ASSERT_EQ(result->stats.scans.size(), 1u);
    EXPECT_EQ(result->stats.scans[0].partitions_kept.size(), static_cast<size_t>(c.partitions))
        << c.where;
    EXPECT_EQ(result->stats.scans[0].partitions_total, 10);
    EXPECT_EQ(result->stats.objects_opened, c.partitions)
        << c.where << ": only kept partitions' objects are opened";
    EXPECT_LT(result->bytes_read * 3, everything->bytes_read) << c.where;
  }
}

TEST_F(TableScanTest, PlainFolderLayoutsPruneToo) {
  table_.location = "lake://plain/";
  table_.partition_keys = {{"partition_0", "BIGINT"}, {"partition_1", "VARCHAR"}};
  partitions_.clear();
  for (int month = 1; month <= 4; ++month) {
    std::string folder = "2026/" + std::to_string(month) + "/";
    ASSERT_TRUE(
        lake_->Write("plain/" + folder + "f.csv", "id,keyword\n" + std::to_string(month) + ",k\n")
            .ok());
    partitions_.push_back({.values = {"2026", std::to_string(month)},
                           .location = "lake://plain/" + folder,
                           .columns = table_.columns});
  }
  auto engine = MakeEngine();
  auto result = engine->Execute(
      "SELECT id, partition_0, partition_1 FROM shop.events WHERE partition_1 = '3'");
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ASSERT_EQ(result->rows.size(), 1u);
  EXPECT_EQ(result->rows[0][0], "3");
  EXPECT_EQ(result->rows[0][1], "2026");
  EXPECT_EQ(result->stats.objects_opened, 1);
  EXPECT_EQ(result->stats.scans[0].partitions_pruned.size(), 3u);
}

TEST_F(TableScanTest, PartitionsWithOtherSchemasReadMissingColumnsAsNullAndStillPrune) {
  table_.columns.push_back({"price", "DOUBLE", ""});
  ASSERT_TRUE(lake_->Write("events/dt=2026-11-20/p.csv", "id,keyword,price\n1,a,2.5\n").ok());
  partitions_.push_back({.values = {"2026-11-20"},
                         .location = "lake://events/dt=2026-11-20/",
                         .columns = table_.columns});
  auto engine = MakeEngine();
  auto result = engine->Execute("SELECT count(*), count(price), sum(price) FROM shop.events");
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->rows[0][0], "2001");
  EXPECT_EQ(result->rows[0][1], "1");
  auto one_day = engine->Execute("SELECT price FROM shop.events WHERE dt = '2026-11-20'");
  ASSERT_TRUE(one_day.ok()) << one_day.status().ToString();
  EXPECT_EQ(one_day->rows.size(), 1u);
  EXPECT_EQ(one_day->stats.objects_opened, 1);
}

TEST_F(TableScanTest, UnregisteredPartitionsAreNotRead) {
  ASSERT_TRUE(lake_->Write("events/dt=2026-12-01/part-0.csv", "id,keyword\n1,late\n").ok());
  auto engine = MakeEngine();
  auto result = engine->Execute("SELECT count(*) FROM shop.events WHERE keyword = 'late'");
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->rows[0][0], "0") << "visible only once the catalog has the partition";
}

TEST_F(TableScanTest, QuotesNamesAndPaths) {
  table_.columns.push_back({"odd \"name\"", "VARCHAR", ""});
  ASSERT_TRUE(
      lake_->Write("events/dt=2026-11-20/it's.csv", "id,keyword,odd \"name\"\n1,a,b\n").ok());
  partitions_.push_back({.values = {"2026-11-20"},
                         .location = "lake://events/dt=2026-11-20/",
                         .columns = table_.columns});
  auto engine = MakeEngine();
  auto result =
      engine->Execute("SELECT count(*) FROM shop.events WHERE \"odd \"\"name\"\"\" = 'b'");
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->rows[0][0], "1");
}

TEST_F(TableScanTest, PartitionValuesWithSlashesAndPercentSurvive) {
  table_.location = "lake://odd/";
  table_.partition_keys = {{"tag", "VARCHAR"}};
  partitions_ = {{.values = {"a/b %2F=c"}, .location = "lake://odd/x/", .columns = table_.columns}};
  ASSERT_TRUE(lake_->Write("odd/x/f.csv", "id,keyword\n1,k\n").ok());
  auto engine = MakeEngine();
  auto result = engine->Execute("SELECT tag FROM shop.events WHERE tag = 'a/b %2F=c'");
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ASSERT_EQ(result->rows.size(), 1u);
  EXPECT_EQ(result->rows[0][0], "a/b %2F=c");
}

TEST_F(TableScanTest, EmptyTableHasItsColumns) {
  partitions_.clear();
  auto engine = MakeEngine();
  auto result = engine->Execute("SELECT count(*), typeof(max(dt)) FROM shop.events");
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->rows[0][0], "0");
  EXPECT_EQ(result->rows[0][1], "DATE");
}

TEST_F(TableScanTest, CacheHitsUntilAPartitionItReadChanges) {
  auto cache = std::make_shared<ResultCache>(64 << 20, 8 << 20);
  auto engine = MakeEngine(cache);
  const std::string day15 = "SELECT count(*) FROM shop.events WHERE dt = '2026-11-15'";
  const std::string day16 = "SELECT count(*) FROM shop.events WHERE dt = '2026-11-16'";
  auto run = [&](const std::string& sql) {
    auto result = engine->Execute(sql, ExecuteOptions{});
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return result.ok() ? *result : QueryResult{};
  };
  EXPECT_FALSE(run(day15).stats.cache_hit);
  EXPECT_FALSE(run(day16).stats.cache_hit);
  QueryResult hit = run(day15);
  EXPECT_TRUE(hit.stats.cache_hit);
  EXPECT_EQ(hit.rows[0][0], "200");
  EXPECT_EQ(hit.bytes_read, 0u) << "a hit reads nothing";

  // New data in day 16 invalidates the entries that read day 16, and only those.
  ASSERT_TRUE(lake_->Write("events/dt=2026-11-16/part-1.csv", "id,keyword\n1,new\n").ok());
  EXPECT_TRUE(run(day15).stats.cache_hit);
  QueryResult fresh = run(day16);
  EXPECT_FALSE(fresh.stats.cache_hit);
  EXPECT_EQ(fresh.rows[0][0], "201");
  EXPECT_TRUE(run(day16).stats.cache_hit);

  // Not cached: writes, volatile functions, callers that opt out.
  EXPECT_FALSE(run("SELECT count(*), random() < 2 FROM shop.events").stats.cacheable);
  auto opted_out = engine->Execute(day15, ExecuteOptions{.use_cache = false});
  ASSERT_TRUE(opted_out.ok());
  EXPECT_FALSE(opted_out->stats.cache_hit);
}

TEST_F(TableScanTest, CacheHitsAreConfirmedWithoutPlanningByListingOnlyTheFoldersRead) {
  auto cache = std::make_shared<ResultCache>(64 << 20, 8 << 20);
  auto engine = MakeEngine(cache);
  const std::string day15 = "SELECT count(*) FROM shop.events WHERE dt = '2026-11-15'";
  auto run = [&](const std::string& sql) {
    auto result = engine->Execute(sql, ExecuteOptions{});
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return result.ok() ? *result : QueryResult{};
  };
  EXPECT_FALSE(run(day15).stats.cache_hit);
  int planned = resolved_;
  QueryResult hit = run(day15);
  EXPECT_TRUE(hit.stats.cache_hit);
  EXPECT_EQ(resolved_, planned) << "a confirmed hit does not bind the table";
  ASSERT_EQ(hit.stats.scans.size(), 1u);
  EXPECT_EQ(hit.stats.scans[0].partitions_kept, std::vector<std::string>{"dt=2026-11-15"});

  // Another partition's new object does not matter; the read partition's does.
  ASSERT_TRUE(lake_->Write("events/dt=2026-11-16/more.csv", "id,keyword\n1,x\n").ok());
  EXPECT_TRUE(run(day15).stats.cache_hit);
  ASSERT_TRUE(lake_->Write("events/dt=2026-11-15/more.csv", "id,keyword\n1,x\n").ok());
  QueryResult fresh = run(day15);
  EXPECT_FALSE(fresh.stats.cache_hit);
  EXPECT_EQ(fresh.rows[0][0], "201");
  EXPECT_TRUE(run(day15).stats.cache_hit);

  // After a catalog change (say, a new partition that a range would include) the query is
  // planned again; its inputs are the same objects, so the planned lookup still hits.
  catalog_version_ = "v2";
  planned = resolved_;
  EXPECT_TRUE(run(day15).stats.cache_hit);
  EXPECT_EQ(resolved_, planned + 1) << "the catalog changed: the hit is confirmed by planning";
}

TEST_F(TableScanTest, ExplainSaysWhichPartitionsAreKeptAndPruned) {
  auto engine = MakeEngine();
  auto result = engine->Execute("EXPLAIN SELECT count(*) FROM shop.events WHERE dt = '2026-11-12'");
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ASSERT_FALSE(result->rows.empty());
  const Row& last = result->rows.back();
  EXPECT_EQ(last[0], "basin scan of shop.events");
  ASSERT_TRUE(last[1].has_value());
  EXPECT_NE(last[1]->find("1 of 10 partitions kept, 9 pruned"), std::string::npos) << *last[1];
  EXPECT_NE(last[1]->find("kept: dt=2026-11-12"), std::string::npos) << *last[1];
  EXPECT_EQ(result->bytes_read, 0u) << "EXPLAIN reads no data";

  auto plan = engine->Plan("SELECT * FROM shop.events WHERE dt IN ('2026-11-12', '2026-11-13')");
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ASSERT_EQ(plan->scans.size(), 1u);
  EXPECT_EQ(plan->scans[0].partitions_kept,
            (std::vector<std::string>{"dt=2026-11-12", "dt=2026-11-13"}));
  EXPECT_EQ(plan->scans[0].objects_kept, 2);
}

TEST_F(TableScanTest, BytesScannedLimitStopsTheQuery) {
  auto engine = MakeEngine();
  auto result = engine->Execute(
      "SELECT count(*) FROM shop.events",
      ExecuteOptions{.max_bytes_scanned = 5000, .limits_owner = "workgroup 'small'"});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kResourceExhausted) << result.status().ToString();
  EXPECT_NE(result.status().message().find("bytes-scanned limit (workgroup 'small')"),
            std::string::npos)
      << result.status().message();
  auto small = engine->Execute("SELECT count(*) FROM shop.events WHERE dt = '2026-11-12'",
                               ExecuteOptions{.max_bytes_scanned = 5000});
  EXPECT_TRUE(small.ok()) << small.status().ToString();
}

TEST_F(TableScanTest, RunTimeLimitStopsTheQuery) {
  auto engine = MakeEngine();
  auto result = engine->Execute("SELECT count(*) FROM range(10000000000) a",
                                ExecuteOptions{.max_run_time = std::chrono::milliseconds(200)});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kDeadlineExceeded) << result.status().ToString();
  EXPECT_TRUE(engine->Execute("SELECT 1").ok()) << "the engine goes on";
}

TEST_F(TableScanTest, LongQueriesReportProgress) {
  auto engine = MakeEngine();
  std::atomic<int> reports{0};
  std::atomic<double> best{-2};
  auto result = engine->Execute("SELECT count(*) FROM range(100000000000) a",
                                ExecuteOptions{.max_run_time = std::chrono::milliseconds(1500),
                                               .on_progress = [&](double percent) {
                                                 ++reports;
                                                 if (percent > best)
                                                   best = percent;
                                               }});
  EXPECT_FALSE(result.ok()) << "stopped by the run-time limit";
  EXPECT_GE(reports.load(), 2) << "about twice a second";
  // DuckDB's estimate: a percentage, or -1 while it has none (on a loaded machine it may
  // not have one within the time limit).
  EXPECT_GE(best.load(), -1.0);
  EXPECT_LE(best.load(), 100.0);
}

TEST_F(TableScanTest, ResultsStreamToTheSinkInBatches) {
  struct CountingSink : RowSink {
    Status Begin(const std::vector<std::string>& names, const std::vector<std::string>&) override {
      columns = names.size();
      return Status();
    }
    Status Rows(std::vector<Row>&& rows) override {
      ++batches;
      total += rows.size();
      return total > 5000 ? Status::Cancelled("enough") : Status();
    }
    size_t columns = 0, batches = 0, total = 0;
  } sink;
  auto engine = MakeEngine();
  auto stats = engine->Execute("SELECT * FROM range(100000000)", ExecuteOptions{}, sink);
  ASSERT_FALSE(stats.ok()) << "the sink stopped it";
  EXPECT_EQ(stats.status().code(), StatusCode::kCancelled);
  EXPECT_EQ(sink.columns, 1u);
  EXPECT_GT(sink.batches, 1u);
  EXPECT_LT(sink.total, 20000u) << "rows were not all produced before the sink saw them";
}

// Counts the ways objects are opened (a remote store pays a HEAD for OpenForRead).
class OpenCountingStore final : public storage::ObjectStore {
 public:
  explicit OpenCountingStore(std::shared_ptr<storage::ObjectStore> inner)
      : inner_(std::move(inner)) {}
  std::string Describe() const override { return inner_->Describe(); }
  Result<std::vector<storage::ObjectInfo>> List(std::string_view prefix,
                                                const storage::ListOptions& options) override {
    return inner_->List(prefix, options);
  }
  Result<storage::ObjectInfo> Stat(std::string_view key) override {
    ++stats;
    return inner_->Stat(key);
  }
  Result<std::unique_ptr<storage::RandomAccessReader>> OpenForRead(std::string_view key) override {
    ++unlisted_opens;
    return inner_->OpenForRead(key);
  }
  Result<std::unique_ptr<storage::RandomAccessReader>> OpenListedForRead(
      const storage::ObjectInfo& listed) override {
    ++listed_opens;
    return inner_->OpenListedForRead(listed);
  }
  Result<std::unique_ptr<storage::ObjectWriter>> OpenForWrite(std::string_view key) override {
    return inner_->OpenForWrite(key);
  }
  Status Delete(std::string_view key) override { return inner_->Delete(key); }
  Status Copy(std::string_view from, std::string_view to) override {
    return inner_->Copy(from, to);
  }
  storage::StoreCounters counters() const override { return inner_->counters(); }
  bool is_remote() const override { return true; }

  std::atomic<int> stats{0}, unlisted_opens{0}, listed_opens{0};

 private:
  std::shared_ptr<storage::ObjectStore> inner_;
};

TEST_F(TableScanTest, ListedObjectsOpenWithoutAnotherRequest) {
  auto counting = std::make_shared<OpenCountingStore>(lake_);
  stores_ = std::make_shared<storage::StoreResolver>(counting, storage::S3Options{});
  auto engine = MakeEngine();
  auto result =
      engine->Execute("SELECT count(*), sum(id) FROM shop.events WHERE dt >= '2026-11-15'");
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->rows[0][0], "1000");
  EXPECT_GT(counting->listed_opens.load(), 0);
  EXPECT_EQ(counting->unlisted_opens.load(), 0) << "every object came from the scan's listing";
  EXPECT_EQ(counting->stats.load(), 0) << "no HEAD per object to glob or open it";
}

TEST(ScanPathTest, RoundTripsToTheObject) {
  std::string path =
      ScanPath("s3://bucket/t/2026/11/f.parquet", {{"partition_0", "2026"}, {"k", "a/b"}});
  EXPECT_EQ(path, "s3://bucket/t/2026/11/~basin/partition_0=2026/k=a%2Fb/f.parquet");
  EXPECT_TRUE(IsScanPath(path));
  EXPECT_EQ(ObjectUrlOfScanPath(path), "s3://bucket/t/2026/11/f.parquet");
  EXPECT_EQ(ObjectUrlOfScanPath("lake://plain/x.csv"), "lake://plain/x.csv");
}

}  // namespace
}  // namespace basin::query
