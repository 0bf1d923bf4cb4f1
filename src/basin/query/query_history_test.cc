#include "basin/query/query_history.h"

#include <optional>

#include <gtest/gtest.h>

#include "basin/metadata/migrations.h"
#include "basin/metadata/postgres_database.h"
#include "basin/metadata/scratch_database.h"
#include "basin/metadata/sqlite_database.h"

namespace basin::query {
namespace {

TEST(ReadOnlySqlTest, OnlySelectsAreReadOnly) {
  for (const char* sql : {"SELECT 1", "select * from shop.orders where dt = '2026-11-24'",
                          "WITH t AS (SELECT 1 AS x) SELECT x FROM t", "SELECT 1; SELECT 2"}) {
    EXPECT_TRUE(*IsReadOnlySql(sql)) << sql;
  }
  for (const char* sql : {"COPY (SELECT 1) TO 'lake://x.csv'", "CREATE TABLE t AS SELECT 1",
                          "INSERT INTO t VALUES (1)", "SET threads = 1", "ATTACH 'x.db'",
                          "INSTALL httpfs", "SELECT 1; DROP TABLE t",
                          "EXPLAIN ANALYZE COPY (SELECT 1) TO 'lake://x.csv'", "PRAGMA version"}) {
    EXPECT_FALSE(*IsReadOnlySql(sql)) << sql;
  }
  EXPECT_EQ(IsReadOnlySql("SELEC 1").status().code(), StatusCode::kInvalidArgument);
}

class QueryHistoryTest : public ::testing::TestWithParam<metadata::Backend> {
 protected:
  void SetUp() override {
    auto scratch = metadata::ScratchDatabase::Make(GetParam());
    ASSERT_TRUE(scratch.ok()) << scratch.status().ToString();
    scratch_.emplace(std::move(scratch).value());
    database_ = std::move(metadata::Database::Open(scratch_->location())).value();
  }
  std::optional<metadata::ScratchDatabase> scratch_;
  std::unique_ptr<metadata::Database> database_;
};

TEST_P(QueryHistoryTest, RecordsAndSearches) {
  QueryHistory history(*database_);
  auto now = std::chrono::system_clock::now();
  ASSERT_TRUE(history
                  .Record({.user = "ana",
                           .sql = "SELECT * FROM shop.Orders",
                           .status = "succeeded",
                           .started_at = now,
                           .duration = std::chrono::milliseconds(12),
                           .rows_returned = 3,
                           .bytes_read = 4096})
                  .ok());
  ASSERT_TRUE(history
                  .Record({.user = "ben",
                           .sql = "SELECT 1",
                           .status = "failed",
                           .started_at = now,
                           .error = "boom"})
                  .ok());
  ASSERT_TRUE(
      history
          .Record({.user = "ana", .sql = "SELECT 100%", .status = "succeeded", .started_at = now})
          .ok());
  auto everyone = *history.List("", "", 10);
  ASSERT_EQ(everyone.size(), 3u);
  EXPECT_EQ(everyone[0].sql, "SELECT 100%") << "newest first";
  auto ana = *history.List("ana", "", 10);
  EXPECT_EQ(ana.size(), 2u);
  auto orders = *history.List("", "orders", 10);
  ASSERT_EQ(orders.size(), 1u);
  EXPECT_EQ(orders[0].rows_returned, 3);
  EXPECT_EQ(orders[0].bytes_read, 4096);
  EXPECT_EQ(orders[0].duration.count(), 12);
  EXPECT_EQ(history.List("", "%", 10)->size(), 1u) << "wildcards in the search are plain text";
  EXPECT_EQ(history.List("", "", 1)->size(), 1u);
}

TEST_P(QueryHistoryTest, KeepsEveryField) {
  QueryHistory history(*database_);
  auto started = std::chrono::system_clock::time_point(std::chrono::milliseconds(1764000000123));
  QueryRecord record{.user = "ana",
                     .sql = "SELECT * FROM shop.orders",
                     .status = "succeeded",
                     .started_at = started,
                     .duration = std::chrono::milliseconds(250),
                     .rows_returned = 7,
                     .bytes_read = 1 << 20,
                     .error = "",
                     .database = "shop",
                     .workgroup = "analysts",
                     .ended_at = started + std::chrono::milliseconds(251),
                     .partitions_scanned = 2,
                     .partitions_total = 30,
                     .objects_scanned = 5,
                     .cache_hit = true,
                     .statement_kind = "select"};
  auto id = history.Record(record);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  auto stored = history.Get(*id);
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  EXPECT_EQ(stored->id, *id);
  EXPECT_EQ(stored->user, "ana");
  EXPECT_EQ(stored->started_at, started);
  EXPECT_EQ(stored->ended_at, record.ended_at);
  EXPECT_EQ(stored->duration.count(), 250);
  EXPECT_EQ(stored->database, "shop");
  EXPECT_EQ(stored->workgroup, "analysts");
  EXPECT_EQ(stored->partitions_scanned, 2);
  EXPECT_EQ(stored->partitions_total, 30);
  EXPECT_EQ(stored->objects_scanned, 5);
  EXPECT_TRUE(stored->cache_hit);
  EXPECT_EQ(stored->statement_kind, "select");
  EXPECT_EQ(history.Get(*id + 1000).status().code(), StatusCode::kNotFound);
}

TEST_P(QueryHistoryTest, AsynchronousQueriesAreRecordedThenUpdated) {
  QueryHistory history(*database_);
  auto started = std::chrono::system_clock::time_point(std::chrono::seconds(1764000000));
  QueryRecord record{.user = "ben", .sql = "SELECT 1", .status = "running", .started_at = started};
  auto id = history.Record(record);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(history.Get(*id)->ended_at, std::chrono::system_clock::time_point{})
      << "no end while running";

  record.id = *id;
  record.status = "succeeded";
  record.duration = std::chrono::milliseconds(40);
  record.rows_returned = 1;
  record.objects_scanned = 3;
  ASSERT_TRUE(history.Update(record).ok());
  auto finished = *history.Get(*id);
  EXPECT_EQ(finished.status, "succeeded");
  EXPECT_EQ(finished.ended_at, started + std::chrono::milliseconds(40))
      << "an unset end of a finished query is start + duration";
  EXPECT_EQ(finished.rows_returned, 1);
  EXPECT_EQ(finished.objects_scanned, 3);

  record.id = *id + 1000;
  EXPECT_EQ(history.Update(record).code(), StatusCode::kNotFound);
}

TEST_P(QueryHistoryTest, FiltersAndPages) {
  QueryHistory history(*database_);
  auto day = [](int d) {
    return std::chrono::system_clock::time_point(std::chrono::hours(24 * (20000 + d)));
  };
  ASSERT_TRUE(
      history
          .Record({.user = "ana", .sql = "SELECT a", .status = "succeeded", .started_at = day(1)})
          .ok());
  ASSERT_TRUE(history
                  .Record({.user = "ana",
                           .sql = "SELECT b",
                           .status = "failed",
                           .started_at = day(2),
                           .error = "Catalog Error: Table Missing_Thing"})
                  .ok());
  ASSERT_TRUE(
      history
          .Record({.user = "ben", .sql = "SELECT c", .status = "succeeded", .started_at = day(3)})
          .ok());
  ASSERT_TRUE(
      history
          .Record({.user = "ana", .sql = "SELECT d_e", .status = "succeeded", .started_at = day(4)})
          .ok());

  auto sqls = [&](const HistoryFilter& filter) {
    std::vector<std::string> out;
    auto records = history.List(filter);
    EXPECT_TRUE(records.ok()) << records.status().ToString();
    if (records.ok()) {
      for (const auto& record : *records)
        out.push_back(record.sql);
    }
    return out;
  };
  using Sqls = std::vector<std::string>;
  EXPECT_EQ(sqls({}), (Sqls{"SELECT d_e", "SELECT c", "SELECT b", "SELECT a"}));
  EXPECT_EQ(sqls({.user = "ana"}), (Sqls{"SELECT d_e", "SELECT b", "SELECT a"}));
  EXPECT_EQ(sqls({.search = "missing_thing"}), (Sqls{"SELECT b"})) << "the error is searched too";
  EXPECT_EQ(sqls({.search = "d_"}), (Sqls{"SELECT d_e"})) << "'_' is not a wildcard";
  EXPECT_EQ(sqls({.status = "succeeded"}), (Sqls{"SELECT d_e", "SELECT c", "SELECT a"}));
  EXPECT_EQ(sqls({.since = day(2), .until = day(4)}), (Sqls{"SELECT c", "SELECT b"}));
  EXPECT_EQ(sqls({.user = "ana", .status = "succeeded", .since = day(2)}), (Sqls{"SELECT d_e"}));
  EXPECT_EQ(sqls({.limit = 2}), (Sqls{"SELECT d_e", "SELECT c"}));
  EXPECT_EQ(sqls({.limit = 2, .offset = 2}), (Sqls{"SELECT b", "SELECT a"}));
  EXPECT_EQ(sqls({.limit = 2, .offset = 4}), Sqls{});
  EXPECT_EQ(history.List({.limit = -1}).status().code(), StatusCode::kInvalidArgument);
}

// Rows recorded before migration 4 read back with neutral values and an end time.
TEST_P(QueryHistoryTest, MigrationKeepsOlderRecords) {
  auto scratch = metadata::ScratchDatabase::Make(GetParam());
  ASSERT_TRUE(scratch.ok()) << scratch.status().ToString();
  bool postgres = GetParam() == metadata::Backend::kPostgres;
  auto all = postgres ? metadata::PostgresMigrations() : metadata::SqliteMigrations();
  auto before = all.first(3);
  ASSERT_EQ(before.back().version, 3);
  {
    auto old = postgres ? metadata::OpenPostgresDatabase(scratch->location(), before)
                        : metadata::OpenSqliteDatabase(scratch->location(), before);
    ASSERT_TRUE(old.ok()) << old.status().ToString();
    ASSERT_TRUE(
        (*old)
            ->Execute("INSERT INTO query_history (user_name, sql_text, status, started_at_ms, "
                      "duration_ms, rows_returned, bytes_read, error) "
                      "VALUES ('ana', 'SELECT 1', 'succeeded', 1000, 20, 1, 0, '')")
            .ok());
  }
  auto upgraded = metadata::Database::Open(scratch->location());
  ASSERT_TRUE(upgraded.ok()) << upgraded.status().ToString();
  auto records = QueryHistory(**upgraded).List(HistoryFilter{});
  ASSERT_TRUE(records.ok()) << records.status().ToString();
  ASSERT_EQ(records->size(), 1u);
  const QueryRecord& record = records->front();
  EXPECT_EQ(record.sql, "SELECT 1");
  EXPECT_EQ(record.ended_at,
            std::chrono::system_clock::time_point(std::chrono::milliseconds(1020)));
  EXPECT_EQ(record.database, "");
  EXPECT_EQ(record.statement_kind, "");
  EXPECT_FALSE(record.cache_hit);
  EXPECT_EQ(record.partitions_total, 0);
}

INSTANTIATE_TEST_SUITE_P(Engines, QueryHistoryTest,
                         ::testing::Values(metadata::Backend::kSqlite,
                                           metadata::Backend::kPostgres),
                         [](const auto& info) {
                           return std::string(metadata::BackendName(info.param));
                         });

}  // namespace
}  // namespace basin::query
