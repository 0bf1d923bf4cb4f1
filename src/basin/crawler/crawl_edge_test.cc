// Crawler edge cases: a 5 GiB object sampled, not read whole; crawls of one table running at
// once; a metadata transaction that fails midway; one broken line among many JSON lines.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "basin/crawler/crawl.h"
#include "basin/crawler/crawl_test_fixture.h"
#include "basin/metadata/scratch_database.h"
#include "basin/storage/local_object_store.h"
#include "basin/storage/test_stores.h"

namespace basin::crawler {
namespace {

bool Contains(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

std::vector<std::string> ColumnNames(const catalog::Table& table) {
  std::vector<std::string> names;
  for (const catalog::Column& column : table.columns)
    names.push_back(column.name);
  return names;
}

const RunReport::FileError* ErrorFor(const RunReport& report, const std::string& suffix) {
  for (const RunReport::FileError& error : report.errors) {
    if (error.path.ends_with(suffix))
      return &error;
  }
  return nullptr;
}

// Every test runs with the catalog in SQLite and in PostgreSQL.
class CrawlEdgeTest : public testing::CrawlFixture {
 protected:
  int64_t PartitionCount(const std::string& name) {
    Result<catalog::Table> table = crawler_->catalog().GetTable("lake", name);
    if (!table.ok())
      return -1;
    Result<int64_t> count = crawler_->catalog().CountPartitions(table->id);
    return count.ok() ? *count : -1;
  }

  std::set<std::string> PartitionLocations(const std::string& name) {
    std::set<std::string> out;
    Result<catalog::Table> table = crawler_->catalog().GetTable("lake", name);
    if (!table.ok())
      return out;
    auto partitions = crawler_->catalog().ListPartitions(table->id, {.limit = 100000});
    if (!partitions.ok())
      return out;
    for (const catalog::Partition& partition : *partitions)
      out.insert(partition.location);
    return out;
  }
};

INSTANTIATE_TEST_SUITE_P(Engines, CrawlEdgeTest,
                         ::testing::Values(metadata::Backend::kSqlite,
                                           metadata::Backend::kPostgres),
                         [](const auto& info) {
                           return std::string(metadata::BackendName(info.param));
                         });

// A sparse local file of 5 GiB: `rows` CSV rows at its start, zero bytes after them.
void WriteSparseCsv(const std::string& path, int rows) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::string head = "event_id,keyword,amount\n";
  for (int i = 0; i < rows; ++i)
    head +=
        std::to_string(i) + ",kw" + std::to_string(i % 97) + "," + std::to_string(i % 13) + ".5\n";
  int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0644);
  ASSERT_GE(fd, 0) << path;
  ASSERT_EQ(::write(fd, head.data(), head.size()), static_cast<ssize_t>(head.size()));
  ASSERT_EQ(::ftruncate(fd, off_t{5} << 30), 0);
  ::close(fd);
}

TEST_P(CrawlEdgeTest, AFiveGibObjectIsSampledNotReadWhole) {
  // More rows than the sniffer's sample (20480), as a real 5 GiB CSV file has.
  WriteSparseCsv(root_ + "/lake/big/data.csv", 30000);
  Create("big", "lake://big/");
  uint64_t before = lake_->counters().bytes_read;
  RunReport report = Run("big");
  uint64_t read = lake_->counters().bytes_read - before;
  RecordProperty("bytes_read", std::to_string(read));
  std::cout << "[ info     ] 5 GiB object with 30000 rows: " << read << " bytes read\n"
            << report.ToText();
  EXPECT_LT(read, uint64_t{100} << 20) << "bytes read from the 5 GiB object: " << read;
  EXPECT_TRUE(report.errors.empty()) << report.ToText();
  catalog::Table table = Table("big");
  EXPECT_EQ(ColumnNames(table), (std::vector<std::string>{"event_id", "keyword", "amount"}))
      << report.ToText();
  EXPECT_EQ(table.stats.bytes, int64_t{5} << 30);
}

// Disabled: it passes, but takes about 40 s per backend (run it with
// --gtest_also_run_disabled_tests). Fewer rows than the sample (but more than the 4 KiB
// the classifier looks at) before the zero bytes: DuckDB's sniffer reads two 32 MB
// buffers, fails with "CSV Error on Line: 1" and spends ~33 s building an error message
// that quotes the 32 MB "line" of \0 bytes (the same in plain DuckDB 1.4.4). It may report
// the file or accept it; it must not read gigabytes to find out.
TEST_P(CrawlEdgeTest, DISABLED_AFiveGibObjectWithFewRowsIsNotReadWholeEither) {
  WriteSparseCsv(root_ + "/lake/few/data.csv", 1000);
  Create("few", "lake://few/");
  uint64_t before = lake_->counters().bytes_read;
  Result<RunReport> report = crawler_->Run("few");
  uint64_t read = lake_->counters().bytes_read - before;
  RecordProperty("bytes_read", std::to_string(read));
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->status, "completed") << report->ToText();
  EXPECT_LT(read, uint64_t{100} << 20) << "bytes read from the 5 GiB object: " << read;
  std::cout << "[ info     ] 5 GiB object with 1000 rows: " << read << " bytes read\n"
            << report->ToText();
  if (report->errors.empty()) {
    EXPECT_EQ(ColumnNames(Table("few")),
              (std::vector<std::string>{"event_id", "keyword", "amount"}));
  } else {
    EXPECT_NE(ErrorFor(*report, "few/data.csv"), nullptr) << report->ToText();
  }
}

// Files dt=2026-01-01 .. dt=2026-01-NN; every third one has an extra column of its own.
void PutDays(int days, std::set<std::string>* extra_columns,
             const std::function<void(const std::string&, const std::string&)>& put) {
  for (int day = 1; day <= days; ++day) {
    char date[32];
    std::snprintf(date, sizeof date, "2026-01-%02d", day);
    std::string header = "id,keyword";
    std::string row = std::to_string(day) + ",kw";
    if (day % 3 == 0) {
      std::string column = "extra_" + std::to_string(day);
      header += "," + column;
      row += ",1.5";
      extra_columns->insert(column);
    }
    put(std::string("same/dt=") + date + "/part.csv", header + "\n" + row + "\n");
  }
}

TEST_P(CrawlEdgeTest, TwoRunsOfOneCrawlerAtOnceBothCompleteWithTheUnionOfColumns) {
  std::set<std::string> extras;
  PutDays(24, &extras, [&](const std::string& key, const std::string& data) { Put(key, data); });
  Create("same", "lake://same/");
  std::vector<Result<RunReport>> results(2, Status::Internal("not run"));
  std::vector<std::thread> threads;
  for (int i = 0; i < 2; ++i) {
    threads.emplace_back([&, i] { results[i] = crawler_->Run("same"); });
  }
  for (std::thread& thread : threads)
    thread.join();
  int completed = 0;
  for (const Result<RunReport>& result : results) {
    if (!result.ok()) {
      // A clean refusal is allowed: a status that says why, no crash, no half-written table.
      EXPECT_FALSE(result.status().message().empty());
      continue;
    }
    if (result->status == "completed") {
      ++completed;
      EXPECT_TRUE(result->errors.empty()) << result->ToText();
    } else {
      EXPECT_EQ(result->status, "failed") << result->ToText();
      EXPECT_FALSE(result->failure.empty()) << result->ToText();
    }
  }
  EXPECT_GE(completed, 1);
  catalog::Table table = Table("same");
  std::vector<std::string> names = ColumnNames(table);
  EXPECT_EQ(names.size(), 2 + extras.size());
  for (const std::string& column : extras)
    EXPECT_TRUE(Contains(names, column)) << column;
  EXPECT_EQ(PartitionCount("same"), 24);
  EXPECT_EQ(table.stats.objects, 24);

  // The states both runs saved are consistent: a third run finds nothing to read.
  RunReport third = Run("same");
  EXPECT_EQ(third.objects_read, 0) << third.ToText();
  EXPECT_EQ(PartitionCount("same"), 24);
}

TEST_P(CrawlEdgeTest, TwoCrawlersOfOneTargetAtOnceBothCompleteWithTheUnionOfColumns) {
  std::set<std::string> extras;
  PutDays(24, &extras, [&](const std::string& key, const std::string& data) { Put(key, data); });
  Create("left", "lake://same/");
  Create("right", "lake://same/");
  std::vector<Result<RunReport>> results(2, Status::Internal("not run"));
  std::thread left([&] { results[0] = crawler_->Run("left"); });
  std::thread right([&] { results[1] = crawler_->Run("right"); });
  left.join();
  right.join();
  for (const Result<RunReport>& result : results) {
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_EQ(result->status, "completed") << result->ToText();
  }
  EXPECT_EQ(
      Contains(results[0]->tables_created, "same") + Contains(results[1]->tables_created, "same"),
      1)
      << "exactly one of them created the table\n"
      << results[0]->ToText() << results[1]->ToText();
  catalog::Table table = Table("same");
  EXPECT_EQ(ColumnNames(table).size(), 2 + extras.size());
  EXPECT_EQ(PartitionCount("same"), 24);
  EXPECT_EQ(table.stats.objects, 24);
  Result<std::vector<catalog::SchemaVersion>> history = crawler_->catalog().SchemaHistory(table.id);
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->size(), 1u) << "the second writer brought nothing new";
}

// Crawl A lists the lake; before it reads anything, a file with a new partition and column
// lands and crawl B (of `second`) completes. A then commits what it saw. The catalog must
// keep B's partition and column: two crawls never lose each other's changes.
void InterleaveCrawls(Crawler& crawler, storage::ObjectStore& lake, const std::string& first,
                      const std::string& second, RunReport& report_a, RunReport& report_b) {
  bool done = false;
  CrawlOptions options;
  options.threads = 1;
  options.on_progress = [&](const CrawlProgress&) {
    if (done)
      return;
    done = true;
    ASSERT_TRUE(lake.Write("race/dt=2026-02-09/part.csv", "id,keyword,coupon\n9,kw,X9\n").ok());
    std::thread other([&] {
      Result<RunReport> b = crawler.Run(second);
      // A second run of the same crawler is refused while the first is under way.
      if (!b.ok() && b.status().message().find("already running") != std::string::npos) {
        report_b.status = "refused: " + b.status().message();
        return;
      }
      ASSERT_TRUE(b.ok()) << b.status().ToString();
      report_b = *b;
    });
    other.join();
  };
  Result<RunReport> a = crawler.Run(first, options);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  report_a = *a;
}

TEST_P(CrawlEdgeTest,
       ACrawlThatListedEarlierKeepsTheChangesOfAnotherCrawlerThatCommittedMeanwhile) {
  for (int day = 1; day <= 3; ++day)
    Put("race/dt=2026-02-0" + std::to_string(day) + "/part.csv", "id,keyword\n1,kw\n");
  Create("early", "lake://race/");
  Create("late", "lake://race/");
  Run("early");
  ASSERT_EQ(PartitionCount("race"), 3);
  RunReport a, b;
  // Touch one file so the early crawl has something to write.
  Put("race/dt=2026-02-01/part.csv", "id,keyword\n2,kw\n");
  InterleaveCrawls(*crawler_, *lake_, "early", "late", a, b);
  EXPECT_EQ(a.status, "completed") << a.ToText();
  EXPECT_EQ(b.status, "completed") << b.ToText();
  catalog::Table table = Table("race");
  EXPECT_TRUE(Contains(ColumnNames(table), "coupon")) << "columns are merged";
  EXPECT_TRUE(PartitionLocations("race").count("lake://race/dt=2026-02-09/"))
      << "the partition the late crawler added survives the early crawl's commit\n"
      << "early: " << a.ToText() << "late: " << b.ToText();
  EXPECT_EQ(PartitionCount("race"), 4);
}

TEST_P(CrawlEdgeTest, TwoRunsOfOneCrawlerInterleavedKeepEachOthersPartitions) {
  for (int day = 1; day <= 3; ++day)
    Put("race/dt=2026-02-0" + std::to_string(day) + "/part.csv", "id,keyword\n1,kw\n");
  Create("race", "lake://race/");
  Run("race");
  Put("race/dt=2026-02-01/part.csv", "id,keyword\n2,kw\n");
  RunReport a, b;
  InterleaveCrawls(*crawler_, *lake_, "race", "race", a, b);
  EXPECT_EQ(a.status, "completed") << a.ToText();
  EXPECT_NE(b.status.find("already running"), std::string::npos) << b.ToText();
  // And a later run must not leave it out for good.
  RunReport later = Run("race");
  EXPECT_TRUE(PartitionLocations("race").count("lake://race/dt=2026-02-09/"))
      << "a later run restores the partition\n"
      << later.ToText();
  EXPECT_EQ(PartitionCount("race"), 4);
}

// A trigger makes inserting a partition whose location contains "boom" fail: the crawl's
// transaction then fails after it already changed other tables.
Status InstallFailingTrigger(metadata::Database& database, metadata::Backend backend) {
  if (backend == metadata::Backend::kSqlite) {
    return database.Execute(
        "CREATE TRIGGER boom BEFORE INSERT ON catalog_partitions WHEN NEW.location LIKE '%boom%' "
        "BEGIN SELECT RAISE(ABORT, 'injected failure'); END");
  }
  BASIN_RETURN_IF_ERROR(
      database.Execute("CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                       "IF NEW.location LIKE '%boom%' THEN RAISE EXCEPTION 'injected failure'; END "
                       "IF; RETURN NEW; END $$"));
  return database.Execute(
      "CREATE TRIGGER boom BEFORE INSERT ON catalog_partitions FOR EACH ROW EXECUTE FUNCTION "
      "boom()");
}

Status DropFailingTrigger(metadata::Database& database, metadata::Backend backend) {
  if (backend == metadata::Backend::kSqlite)
    return database.Execute("DROP TRIGGER boom");
  return database.Execute("DROP TRIGGER boom ON catalog_partitions");
}

// Two tables crawled; then alpha (applied first) gains a partition and a column while
// zulu's new partition makes the crawl's transaction fail. Returns the failed run's report.
RunReport CrawlThatFailsMidway(Crawler& crawler, storage::ObjectStore& lake,
                               metadata::Database& database, metadata::Backend backend) {
  EXPECT_TRUE(lake.Write("tx/alpha/dt=1/a.csv", "id,name\n1,a\n").ok());
  EXPECT_TRUE(lake.Write("tx/zulu/dt=1/z.json", "{\"code\": \"q\", \"value\": 1}\n").ok());
  EXPECT_TRUE(
      crawler.store().Create({.name = "tx", .targets = {"lake://tx/"}, .database = "lake"}).ok());
  Result<RunReport> first = crawler.Run("tx");
  EXPECT_TRUE(first.ok() && first->status == "completed");
  EXPECT_TRUE(lake.Write("tx/alpha/dt=2/a.csv", "id,name,score\n2,b,0.5\n").ok());
  EXPECT_TRUE(lake.Write("tx/zulu/dt=boom/z.json", "{\"code\": \"r\", \"value\": 2}\n").ok());
  Status installed = InstallFailingTrigger(database, backend);
  EXPECT_TRUE(installed.ok()) << installed.ToString();
  Result<RunReport> failed = crawler.Run("tx");
  EXPECT_TRUE(failed.ok()) << failed.status().ToString();
  return failed.ok() ? *failed : RunReport{};
}

TEST_P(CrawlEdgeTest, ATransactionThatFailsMidwayLeavesThePreviousState) {
  RunReport failed = CrawlThatFailsMidway(*crawler_, *lake_, *database_, GetParam());
  EXPECT_EQ(failed.status, "failed") << failed.ToText();
  // SQLite names the trigger's message; PostgreSQL's errors name only the SQLSTATE (P0001).
  EXPECT_TRUE(failed.failure.find("injected failure") != std::string::npos ||
              failed.failure.find("P0001") != std::string::npos)
      << failed.ToText();

  catalog::Table alpha = Table("alpha");
  EXPECT_EQ(alpha.schema_version, 1) << "alpha's change was rolled back";
  EXPECT_EQ(ColumnNames(alpha), (std::vector<std::string>{"id", "name"}));
  EXPECT_EQ(PartitionCount("alpha"), 1);
  EXPECT_EQ(PartitionCount("zulu"), 1);
  Result<std::vector<catalog::SchemaVersion>> history = crawler_->catalog().SchemaHistory(alpha.id);
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->size(), 1u);
  // The failed run is on record.
  Result<std::vector<nlohmann::json>> runs = crawler_->store().ListRuns("tx", 5);
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->size(), 2u);
  EXPECT_EQ((*runs)[0]["status"], "failed");

  // No object state was saved: once the fault is gone, the next run reads both new files.
  ASSERT_TRUE(DropFailingTrigger(*database_, GetParam()).ok());
  RunReport retry = Run("tx");
  EXPECT_EQ(retry.objects_read, 2) << retry.ToText();
  EXPECT_EQ(Table("alpha").schema_version, 2);
  EXPECT_EQ(PartitionCount("alpha"), 2);
  EXPECT_EQ(PartitionCount("zulu"), 2);
}

TEST_P(CrawlEdgeTest, AFailedRunsReportDoesNotClaimTheChangesThatWereRolledBack) {
  RunReport failed = CrawlThatFailsMidway(*crawler_, *lake_, *database_, GetParam());
  ASSERT_EQ(failed.status, "failed");
  // Nothing of this run reached the catalog, so its report must not say that alpha was
  // updated to schema version 2 with a new partition.
  EXPECT_TRUE(failed.tables_created.empty() && failed.tables_updated.empty()) << failed.ToText();
  EXPECT_TRUE(failed.schema_changes.empty()) << failed.ToText();
  EXPECT_EQ(failed.partitions_added, 0) << failed.ToText();
}

TEST_P(CrawlEdgeTest, OneBrokenJsonLineAmongManyIsReportedWithThePath) {
  std::string good, broken;
  for (int i = 0; i < 5000; ++i) {
    std::string line =
        "{\"user\": " + std::to_string(i) + ", \"kind\": \"click\", \"tags\": [\"a\"]}\n";
    good += line;
    broken += i == 2500 ? std::string("{\"user\": 2500, \"kind\": \"cli\n") : line;
  }
  Put("logs/dt=2026-03-01/good.json", good);
  Put("logs/dt=2026-03-02/broken.json", broken);
  Create("logs", "lake://logs/");
  RunReport report = Run("logs");
  const RunReport::FileError* error = ErrorFor(report, "logs/dt=2026-03-02/broken.json");
  ASSERT_NE(error, nullptr) << report.ToText();
  EXPECT_EQ(error->path, "lake://logs/dt=2026-03-02/broken.json");
  EXPECT_NE(error->reason.find("cannot read as json"), std::string::npos) << error->reason;
  std::cout << "[ info     ] broken JSON line reported as: " << error->reason << "\n";
  EXPECT_EQ(report.errors.size(), 1u) << report.ToText();
  catalog::Table logs = Table("logs");
  EXPECT_EQ(ColumnNames(logs), (std::vector<std::string>{"user", "kind", "tags"}));
  EXPECT_EQ(PartitionCount("logs"), 1) << "the good file's partition only";
}

}  // namespace
}  // namespace basin::crawler
