#include "basin/writer/write_plan.h"

#include <gtest/gtest.h>

#include "basin/tablewrite/table_write.h"

namespace basin::writer {
namespace {

TEST(WritePlanTest, CreateSplitsPartitionKeysAndTypesThem) {
  WriteStatement statement{
      .table = "daily", .partitioned_by = {"DT", "shop_id"}, .query = "SELECT 1"};
  auto plan = PlanCreate(
      statement, "mart",
      {{"dt", "DATE"}, {"Total", "DECIMAL(18,2)"}, {"shop_id", "INTEGER"}, {"n", "BIGINT"}});
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->location, "lake://warehouse/mart/daily/");
  EXPECT_EQ(plan->columns,
            (std::vector<catalog::Column>{{"Total", "DECIMAL(18,2)", ""}, {"n", "BIGINT", ""}}));
  EXPECT_EQ(plan->keys,
            (std::vector<catalog::PartitionKey>{{"dt", "DATE"}, {"shop_id", "BIGINT"}}));
  EXPECT_EQ(plan->select,
            "SELECT q.\"Total\" AS \"Total\", q.\"n\" AS \"n\", CAST(q.\"dt\" AS DATE) AS \"dt\", "
            "CAST(q.\"shop_id\" AS BIGINT) AS \"shop_id\" FROM (\nSELECT 1\n) AS q");
  std::string copy = tablewrite::FolderCopySql(
      plan->select, {.location = plan->location, .keys = plan->keys, .write_folder = "w-x"});
  EXPECT_NE(
      copy.find(
          "TO 'lake://warehouse/mart/daily/' (FORMAT parquet, PARTITION_BY (\"dt\", \"shop_id\"), "
          "FILENAME_PATTERN 'w-x/part-{i}', OVERWRITE_OR_IGNORE true)"),
      std::string::npos)
      << copy;

  auto missing = PlanCreate({.table = "t", .partitioned_by = {"day"}}, "mart",
                            {{"dt", "DATE"}, {"n", "BIGINT"}});
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(missing.status().message().find(
                "partition column 'day' is not a column of the query (its columns: dt, n)"),
            std::string::npos)
      << missing.status().message();
  auto timestamp = PlanCreate({.table = "t", .partitioned_by = {"ts"}}, "mart",
                              {{"ts", "TIMESTAMP"}, {"n", "BIGINT"}});
  EXPECT_NE(timestamp.status().message().find("'ts' is TIMESTAMP"), std::string::npos);
  auto only_keys = PlanCreate({.table = "t", .partitioned_by = {"dt"}}, "mart", {{"dt", "DATE"}});
  EXPECT_FALSE(only_keys.ok());
  auto twice = PlanCreate({.table = "t"}, "mart", {{"a", "DATE"}, {"A", "DATE"}});
  EXPECT_NE(twice.status().message().find("two columns named 'A'"), std::string::npos);
}

TEST(WritePlanTest, OverwriteNeedsTheTablesColumnsAndCastsToThem) {
  catalog::Table table{.database = "mart",
                       .name = "daily",
                       .location = "lake://warehouse/mart/daily/",
                       .format = catalog::TableFormat::kParquet,
                       .columns = {{"total", "DOUBLE", ""}, {"n", "BIGINT", ""}},
                       .partition_keys = {{"dt", "DATE"}}};
  WriteStatement statement{
      .kind = WriteStatement::Kind::kInsertOverwrite, .table = "daily", .query = "SELECT 1"};
  auto plan = PlanOverwrite(statement, table,
                            {{"N", "INTEGER"}, {"dt", "VARCHAR"}, {"total", "DECIMAL(18,2)"}});
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->select,
            "SELECT CAST(q.\"total\" AS DOUBLE) AS \"total\", CAST(q.\"N\" AS BIGINT) AS \"n\", "
            "CAST(q.\"dt\" AS DATE) AS \"dt\" FROM (\nSELECT 1\n) AS q");
  EXPECT_EQ(plan->location, "lake://warehouse/mart/daily/");

  auto missing = PlanOverwrite(statement, table, {{"total", "DOUBLE"}, {"n", "BIGINT"}});
  EXPECT_NE(missing.status().message().find(
                "has partition column 'dt', which the query does not produce"),
            std::string::npos)
      << missing.status().message();
  auto extra = PlanOverwrite(statement, table,
                             {{"total", "DOUBLE"}, {"n", "BIGINT"}, {"dt", "DATE"}, {"x", "INT"}});
  EXPECT_NE(extra.status().message().find("column 'x' is not a column of table mart.daily"),
            std::string::npos);

  table.partition_keys.clear();
  table.location = "lake://warehouse/mart/daily/w-20261125T101502Z-ab12cd/";
  auto unpartitioned = PlanOverwrite(statement, table, {{"total", "DOUBLE"}, {"n", "BIGINT"}});
  ASSERT_TRUE(unpartitioned.ok());
  EXPECT_EQ(unpartitioned->location, "lake://warehouse/mart/daily/");
  EXPECT_NE(tablewrite::FolderCopySql(unpartitioned->select,
                                      {.location = unpartitioned->location, .write_folder = "w-y"})
                .find("TO 'lake://warehouse/mart/daily/w-y/part-0.parquet' "
                      "(FORMAT parquet, USE_TMP_FILE false)"),
            std::string::npos);
}

}  // namespace
}  // namespace basin::writer
