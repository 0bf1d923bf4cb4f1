#include "basin/delivery/record_screen.h"

#include <gtest/gtest.h>

namespace basin::delivery {
namespace {

TEST(RecordScreenTest, StagedLinesCarryTheirPosition) {
  EXPECT_EQ(StagedLine(R"({"id":1})", 7), R"({"__basin_row":7,"id":1})");
  EXPECT_EQ(StagedLine("{}", 0), R"({"__basin_row":0})");
}

TEST(RecordScreenTest, UnknownFieldsAreRefusedOnlyWhenTheStreamSaysSo) {
  catalog::Table table{.database = "web", .name = "clicks"};
  table.columns = {{.name = "id", .type = "BIGINT"}, {.name = "day", .type = "DATE"}};
  table.partition_keys = {{.name = "type", .type = "VARCHAR"}};
  std::vector<PartitionedRecord> records = {
      {"type=a/", R"({"id":1,"type":"a","Day":"2026-11-25"})"},
      {"type=b/", R"({"id":3,"extra":true})"},
  };
  std::vector<const PartitionedRecord*> pointers = {&records[0], &records[1]};

  ScreenedRecords open = ScreenRecords(pointers, table, /*refuse_unknown_fields=*/false);
  EXPECT_TRUE(open.refused.empty());
  EXPECT_EQ(open.by_partition["type=b/"].size(), 1u);  // "extra" becomes a column

  ScreenedRecords strict = ScreenRecords(pointers, table, /*refuse_unknown_fields=*/true);
  ASSERT_EQ(strict.refused.size(), 1u);
  EXPECT_EQ(strict.refused[0]["reason"],
            "field 'extra' is not a column of web.clicks (the stream's unknown_fields is error)");
  EXPECT_EQ(strict.refused[0]["raw"], records[1].json);
  // Names match case-insensitively, and the partition key is known.
  EXPECT_EQ(strict.by_partition["type=a/"].size(), 1u);

  ScreenedRecords first = ScreenRecords(pointers, std::nullopt, true);
  EXPECT_TRUE(first.refused.empty());  // no table yet: the records decide the columns
}

TEST(RecordScreenTest, OnlyColumnsThatCanRefuseAValueAreChecked) {
  catalog::Table text{.database = "web", .name = "t"};
  text.columns = {{.name = "s", .type = "VARCHAR"},
                  {.name = "j", .type = "JSON"},
                  {.name = "n", .type = "STRUCT(a BIGINT)"},
                  {.name = "l", .type = "BIGINT[]"}};
  EXPECT_EQ(CastCheckSql("lake://x.json", text), "");
  catalog::Table typed = text;
  typed.columns.push_back({.name = "id", .type = "BIGINT"});
  std::string sql = CastCheckSql("lake://x.json", typed);
  EXPECT_NE(sql.find(R"(TRY_CAST("id" AS BIGINT) IS NULL)"), std::string::npos) << sql;
  EXPECT_NE(sql.find("floor("), std::string::npos) << sql;  // fractions refused for integers
  EXPECT_EQ(sql.find(R"("s")"), std::string::npos) << sql;
}

}  // namespace
}  // namespace basin::delivery
