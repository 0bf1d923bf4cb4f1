#include "basin/query/query_history.h"

#include <optional>

#include <gtest/gtest.h>

#include "basin/metadata/scratch_database.h"

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
  EXPECT_EQ(history.List("", "%", 10)->size(), 3u) << "wildcards in the search are plain text";
  EXPECT_EQ(history.List("", "", 1)->size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Engines, QueryHistoryTest,
                         ::testing::Values(metadata::Backend::kSqlite,
                                           metadata::Backend::kPostgres),
                         [](const auto& info) {
                           return std::string(metadata::BackendName(info.param));
                         });

}  // namespace
}  // namespace basin::query
