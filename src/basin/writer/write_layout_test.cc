#include "basin/writer/write_layout.h"

#include <gtest/gtest.h>

#include "basin/writer/write_plan.h"

namespace basin::writer {
namespace {

TEST(WriteLayoutTest, WriteIdsAndFolders) {
  auto moment = std::chrono::sys_days(std::chrono::year{2026} / 11 / 25) + std::chrono::hours(10) +
                std::chrono::minutes(15) + std::chrono::seconds(2);
  std::string id = NewWriteId(moment);
  EXPECT_EQ(id.substr(0, 17), "20261125T101502Z-");
  EXPECT_EQ(id.size(), 23u);
  EXPECT_NE(NewWriteId(moment), id) << "random part";
  EXPECT_TRUE(IsWriteFolder(WriteFolder(id)));
  for (const char* name :
       {"w-", "w-20261125T101502Z-ab12c", "w-20261125T101502Z-AB12CD", "x-20261125T101502Z-ab12cd",
        "w-2026112xT101502Z-ab12cd", "dt=2026-11-25"}) {
    EXPECT_FALSE(IsWriteFolder(name)) << name;
  }
  EXPECT_EQ(BaseLocation("lake://warehouse/db/t/w-20261125T101502Z-ab12cd/"),
            "lake://warehouse/db/t/");
  EXPECT_EQ(BaseLocation("lake://raw/events/"), "lake://raw/events/");
}

TEST(WriteLayoutTest, PartitionValuesComeFromTheFoldersOfTheWrite) {
  std::string folder = "w-20261125T101502Z-ab12cd";
  auto values =
      PartitionValuesOf("dt=2026-11-25/region=a%2Fb%3Dc%20%ED%95%9C/" + folder + "/part-0.parquet",
                        folder, {"dt", "region"});
  ASSERT_TRUE(values.ok()) << values.status().ToString();
  ASSERT_TRUE(values->has_value());
  EXPECT_EQ(**values, (std::vector<std::string>{"2026-11-25", "a/b=c 한"}));
  EXPECT_FALSE(
      PartitionValuesOf("dt=2026-11-24/w-20261124T000000Z-000000/part-0.parquet", folder, {"dt"})
          ->has_value());
  EXPECT_FALSE(PartitionValuesOf("dt=2026-11-24/old.parquet", folder, {"dt"})->has_value());
  EXPECT_FALSE(PartitionValuesOf("region=x/" + folder + "/part-0.parquet", folder, {"dt"}).ok());
  EXPECT_FALSE(PartitionValuesOf(folder + "/part-0.parquet", folder, {"dt"}).ok());

  EXPECT_TRUE(IsOutsideTableData("w-20261124T000000Z-000000/part-0.parquet"));
  EXPECT_TRUE(IsOutsideTableData("_SUCCESS"));
  EXPECT_TRUE(IsOutsideTableData(".staging/x.parquet"));
  EXPECT_FALSE(IsOutsideTableData("part-0.parquet"));
  EXPECT_FALSE(IsOutsideTableData("sub/old.csv"));
}

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
  std::string copy = CopySql(*plan, "w-x");
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
                       .format = "parquet",
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
  EXPECT_NE(CopySql(*unpartitioned, "w-y")
                .find("TO 'lake://warehouse/mart/daily/w-y/part-0.parquet' "
                      "(FORMAT parquet, USE_TMP_FILE false)"),
            std::string::npos);
}

}  // namespace
}  // namespace basin::writer
