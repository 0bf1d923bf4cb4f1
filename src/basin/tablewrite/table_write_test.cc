#include "basin/tablewrite/table_write.h"

#include <gtest/gtest.h>

#include "basin/query/catalog_lake_testing.h"
#include "basin/storage/local_object_store.h"
#include "basin/tablewrite/write_layout.h"

namespace basin::tablewrite {
namespace {

// The layer below CREATE TABLE ... AS, stream delivery and snapshots, over a local lake and
// a scratch catalog (both metadata backends).
class TableWriteTest : public ::testing::TestWithParam<metadata::Backend>,
                       protected query::testing::CatalogLake {
 protected:
  void SetUp() override {
    root_ = storage::testing::TempFolder();
    SetUpCatalogLake(std::move(storage::LocalObjectStore::Make(root_ + "/lake")).value(),
                     GetParam(), "mart");
  }
  void TearDown() override { TearDownCatalogLake(); }

  const query::ExecuteOptions kBasin{.policy = query::StatementPolicy::kBasin};
};

INSTANTIATE_TEST_SUITE_P(Engines, TableWriteTest,
                         ::testing::Values(metadata::Backend::kSqlite,
                                           metadata::Backend::kPostgres),
                         [](const auto& info) {
                           return info.param == metadata::Backend::kSqlite ? "Sqlite" : "Postgres";
                         });

TEST_P(TableWriteTest, WritesObjectsFromTextOrRowsAndSaysWhatTheyReplaced) {
  ObjectWrite text = WriteObject(*engine_, *stores_, "lake://t/a.json", {.text = "{\"x\":1}\n"},
                                 kBasin, /*check_replaced=*/true);
  ASSERT_TRUE(text.status.ok()) << text.status.ToString();
  EXPECT_EQ(text.size, 8u);
  EXPECT_FALSE(text.replaced_size);

  ObjectWrite rows = WriteObject(*engine_, *stores_, "lake://t/a.json",
                                 {.select = "SELECT 1 AS x UNION ALL SELECT 2",
                                  .copy = {.format = query::ObjectFormat::kNdjson}},
                                 kBasin, /*check_replaced=*/true);
  ASSERT_TRUE(rows.status.ok()) << rows.status.ToString();
  EXPECT_EQ(rows.rows, 2);
  EXPECT_EQ(rows.replaced_size, 8u);
  EXPECT_EQ(Scalar("SELECT sum(x) FROM read_json('lake://t/a.json')"), "3");
}

TEST_P(TableWriteTest, AFailedWriteLeavesNoObject) {
  ObjectWrite failed = WriteObject(*engine_, *stores_, "lake://t/b.parquet",
                                   {.select = "SELECT error('no') AS x"}, kBasin);
  EXPECT_EQ(failed.status.code(), StatusCode::kInvalidArgument) << failed.status.ToString();
  EXPECT_FALSE(failed.left_behind);
  EXPECT_TRUE(Keys("t/").empty());
}

TEST_P(TableWriteTest, FolderWritesCommitAndReplacePartitions) {
  FolderTarget first{.table = "mart.daily",
                     .location = "lake://w/daily/",
                     .keys = {{"dt", "DATE"}},
                     .columns = {{"n", "BIGINT", ""}},
                     .write_folder = WriteFolder(NewWriteId())};
  const std::string rows =
      "SELECT range AS n, DATE '2026-11-24' + CAST(range % 2 AS INTEGER) AS dt FROM range(4)";
  Result<FolderWrite> written = WriteSelectToFolder(*engine_, *stores_, rows, first, kBasin);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  EXPECT_EQ(written->rows, 4);
  ASSERT_EQ(written->partitions.size(), 2u);
  EXPECT_EQ(written->objects, 2);

  catalog::TableUpdate update{.table = {.database = "mart",
                                        .name = "daily",
                                        .location = first.location,
                                        .format = catalog::TableFormat::kParquet,
                                        .columns = first.columns,
                                        .partition_keys = first.keys},
                              .upsert_partitions = written->partitions,
                              .replace_columns = true,
                              .mode = catalog::ApplyMode::kCreateOnly,
                              .create_database = true};
  ASSERT_TRUE(CommitTable(*catalog_, *stores_, update).ok());
  EXPECT_EQ(Scalar("SELECT sum(n) FROM mart.daily"), "6");

  // One day again: its old objects go once the commit swapped them out; the other day stays.
  FolderTarget second = first;
  second.write_folder = WriteFolder(NewWriteId());
  Result<FolderWrite> again = WriteSelectToFolder(
      *engine_, *stores_, "SELECT 10 AS n, DATE '2026-11-24' AS dt", second, kBasin);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  update.upsert_partitions = again->partitions;
  update.mode = catalog::ApplyMode::kUpdateOnly;
  update.replace_same_values = true;
  Result<catalog::ApplyOutcome> applied = CommitTable(*catalog_, *stores_, update);
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  EXPECT_EQ(applied->replaced_partitions.size(), 1u);
  EXPECT_EQ(Scalar("SELECT sum(n) FROM mart.daily"), "14");  // 10 + 1 + 3
  EXPECT_EQ(Keys("w/daily/dt=2026-11-24/").size(), 1u);
}

TEST_P(TableWriteTest, AFailedFolderWriteIsDiscarded) {
  FolderTarget target{.table = "mart.bad",
                      .location = "lake://w/bad/",
                      .keys = {{"k", "VARCHAR"}},
                      .columns = {{"n", "BIGINT", ""}},
                      .write_folder = WriteFolder(NewWriteId())};
  Result<FolderWrite> written = WriteSelectToFolder(
      *engine_, *stores_, "SELECT 1 AS n, CAST(NULL AS VARCHAR) AS k", target, kBasin);
  EXPECT_EQ(written.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(written.status().message().find("partition column 'k' is NULL"), std::string::npos);
  EXPECT_TRUE(Keys("w/bad/").empty());

  Result<ObjectCounts> counts = CountDataObjects(*stores_, "lake://w/bad/");
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->objects, 0);
}

}  // namespace
}  // namespace basin::tablewrite
