#include "basin/delivery/record_screen.h"

#include <gtest/gtest.h>

namespace basin::delivery {
namespace {

std::string Misfit(const char* json, const char* type, bool* ask_engine = nullptr) {
  bool ask = false;
  std::string problem = ValueMisfit(nlohmann::json::parse(json), type, &ask);
  if (ask_engine != nullptr)
    *ask_engine = ask;
  return problem;
}

TEST(RecordScreenTest, ValuesThatFitTheirColumnType) {
  EXPECT_EQ(Misfit("null", "BIGINT"), "");
  EXPECT_EQ(Misfit("42", "BIGINT"), "");
  EXPECT_EQ(Misfit("42.0", "INTEGER"), "");
  EXPECT_EQ(Misfit("1.5", "DOUBLE"), "");
  EXPECT_EQ(Misfit("true", "BOOLEAN"), "");
  EXPECT_EQ(Misfit("{\"a\": 1}", "VARCHAR"), "");  // kept as JSON text
  EXPECT_EQ(Misfit("[1, 2]", "BIGINT[]"), "");
  EXPECT_EQ(Misfit("{\"a\": 1}", "STRUCT(a BIGINT)"), "");
  EXPECT_EQ(Misfit("18446744073709551615", "UBIGINT"), "");
  bool ask = false;
  EXPECT_EQ(Misfit("\"2026-11-25\"", "DATE", &ask), "");
  EXPECT_TRUE(ask);  // only DuckDB's cast knows every format it reads
  EXPECT_EQ(Misfit("\"42\"", "BIGINT", &ask), "");
  EXPECT_TRUE(ask);
  EXPECT_EQ(Misfit("\"x\"", "VARCHAR", &ask), "");
  EXPECT_FALSE(ask);
}

TEST(RecordScreenTest, ValuesThatDoNotFitSayWhy) {
  EXPECT_EQ(Misfit("1.5", "BIGINT"), "1.5 is not a whole number");
  EXPECT_EQ(Misfit("300", "TINYINT"), "300 is out of range");
  EXPECT_EQ(Misfit("-1", "UINTEGER"), "-1 is out of range");
  EXPECT_EQ(Misfit("true", "BIGINT"), "true is not a number");
  EXPECT_EQ(Misfit("{\"a\": 1}", "BIGINT"), "{\"a\":1} is not a single value");
  EXPECT_EQ(Misfit("1", "BOOLEAN"), "1 is not true or false");
  EXPECT_EQ(Misfit("20261125", "DATE"), "20261125 is not a string");
  EXPECT_EQ(Misfit("7", "STRUCT(a BIGINT)"), "7 is not an object or array");
}

TEST(RecordScreenTest, ScreensAgainstTheTable) {
  catalog::Table table{.database = "web", .name = "clicks"};
  table.columns = {{.name = "id", .type = "BIGINT"}, {.name = "day", .type = "DATE"}};
  table.partition_keys = {{.name = "type", .type = "VARCHAR"}};
  std::vector<PartitionedRecord> records = {
      {"type=a/", R"({"id": 1, "type": "a", "day": "2026-11-25"})"},
      {"type=a/", R"({"id": 2.5})"},
      {"type=b/", R"({"id": 3, "extra": true})"},
  };
  std::vector<const PartitionedRecord*> pointers;
  for (const PartitionedRecord& record : records)
    pointers.push_back(&record);

  ScreenedRecords open = ScreenRecords(pointers, table, /*refuse_unknown_fields=*/false);
  ASSERT_EQ(open.refused.size(), 1u);
  EXPECT_EQ(open.refused[0]["reason"],
            "field 'id': 2.5 is not a whole number, so it cannot be stored in column id BIGINT "
            "of web.clicks");
  EXPECT_EQ(open.refused[0]["raw"], R"({"id": 2.5})");
  ASSERT_EQ(open.by_partition["type=a/"].size(), 1u);
  EXPECT_EQ(open.by_partition["type=a/"][0].engine_checks,
            (std::vector<std::pair<std::string, std::string>>{{"day", "2026-11-25"}}));
  EXPECT_EQ(open.by_partition["type=b/"].size(), 1u);  // "extra" becomes a column

  ScreenedRecords strict = ScreenRecords(pointers, table, /*refuse_unknown_fields=*/true);
  ASSERT_EQ(strict.refused.size(), 2u);
  EXPECT_NE(strict.refused[1]["reason"].get<std::string>().find("'extra' is not a column"),
            std::string::npos);
  EXPECT_EQ(strict.by_partition["type=a/"].size(), 1u);  // the partition key is known

  ScreenedRecords first = ScreenRecords(pointers, std::nullopt, true);
  EXPECT_TRUE(first.refused.empty());  // no table yet: the records decide the columns
}

}  // namespace
}  // namespace basin::delivery
