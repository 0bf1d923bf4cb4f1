#include "basin/query/lake_sql.h"

#include <fstream>

#include <gtest/gtest.h>

#include "basin/storage/local_object_store.h"
#include "basin/storage/test_stores.h"

namespace basin::query {
namespace {

TEST(LakeSqlTest, QuotesValuesAndNames) {
  EXPECT_EQ(QuoteLiteral("it's"), "'it''s'");
  EXPECT_EQ(SelectFromParquet("lake://a'b.parquet", false),
            "SELECT * FROM read_parquet('lake://a''b.parquet', hive_partitioning = false)");
  EXPECT_EQ(SelectFromJson({.url = "lake://x.json",
                            .columns = {{.name = "i'd", .type = "BIGINT"}},
                            .compression = "none"}),
            "SELECT * FROM read_json('lake://x.json', format = 'newline_delimited', columns = "
            "{'i''d': 'BIGINT'}, compression = 'uncompressed')");
  EXPECT_EQ(SelectProjected("SELECT 1", {{"a", "A", ""}, {"", "b\"", "DATE"}}),
            "SELECT q.\"a\" AS \"A\", CAST(NULL AS DATE) AS \"b\"\"\" FROM (\nSELECT 1\n) AS q");
}

TEST(LakeSqlTest, CopiesInPlaceOrIntoHiveFolders) {
  EXPECT_EQ(CopySql("SELECT 1", "lake://t/x.parquet", {}),
            "COPY (\nSELECT 1\n) TO 'lake://t/x.parquet' (FORMAT parquet, USE_TMP_FILE false)");
  EXPECT_EQ(
      CopySql("SELECT 1", "lake://t/x.json", {.format = ObjectFormat::kNdjson, .in_place = false}),
      "COPY (\nSELECT 1\n) TO 'lake://t/x.json' (FORMAT json)");
  EXPECT_EQ(
      CopySql("SELECT 1", "lake://t/", {.partition_by = {"dt"}, .filename_pattern = "w-1/p-{i}"}),
      "COPY (\nSELECT 1\n) TO 'lake://t/' (FORMAT parquet, PARTITION_BY (\"dt\"), "
      "FILENAME_PATTERN 'w-1/p-{i}', OVERWRITE_OR_IGNORE true)");
}

class LakeSqlEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    lake_root_ = storage::testing::TempFolder();
    std::shared_ptr<storage::ObjectStore> lake(
        std::move(storage::LocalObjectStore::Make(lake_root_)).value());
    stores_ = std::make_shared<storage::StoreResolver>(lake, storage::S3Options{});
    auto engine = Engine::Make({.work_dir = storage::testing::TempFolder(), .stores = stores_});
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = std::move(engine).value();
  }

  void Write(const std::string& key, const std::string& text) {
    std::ofstream(lake_root_ + "/" + key) << text;
  }

  std::string lake_root_;
  std::shared_ptr<storage::StoreResolver> stores_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(LakeSqlEngineTest, DescribesCopiesAndCountsRows) {
  Result<int64_t> copied =
      CopySelect(*engine_, "SELECT range AS id, 'x' AS s FROM range(5)", "lake://five.parquet", {},
                 {.policy = StatementPolicy::kBasin});
  ASSERT_TRUE(copied.ok()) << copied.status().ToString();
  EXPECT_EQ(*copied, 5);
  Result<std::vector<catalog::Column>> columns =
      DescribeSelect(*engine_, SelectFromParquet("lake://five.parquet"));
  ASSERT_TRUE(columns.ok()) << columns.status().ToString();
  EXPECT_EQ(*columns, (std::vector<catalog::Column>{{"id", "BIGINT", ""}, {"s", "VARCHAR", ""}}));
  Result<std::optional<int64_t>> rows = ParquetRows(*engine_, "lake://five.parquet");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(*rows, 5);
}

TEST_F(LakeSqlEngineTest, SniffsCsv) {
  Write("a.csv", "x;y\n1;b\n2;c\n");
  Result<CsvSniff> sniffed = SniffCsv(*engine_, "lake://a.csv", 100, "none");
  ASSERT_TRUE(sniffed.ok()) << sniffed.status().ToString();
  EXPECT_EQ(sniffed->delimiter, ";");
  EXPECT_EQ(sniffed->header, "true");
  ASSERT_EQ(sniffed->columns.size(), 2u);
  EXPECT_EQ(sniffed->columns[0].name, "x");
  EXPECT_EQ(sniffed->columns[0].type, "BIGINT");
}

TEST_F(LakeSqlEngineTest, FindsTheValuesAColumnTypeCannotHold) {
  Write("staged.json",
        "{\"row\":0,\"id\":1,\"n\":{\"a\":1},\"s\":\"x\"}\n"
        "{\"row\":1,\"id\":\"abc\",\"s\":2}\n"
        "{\"row\":2,\"id\":1.5}\n"
        "{\"row\":3,\"id\":null,\"day\":\"soon\"}\n");
  std::vector<catalog::Column> text_only = {{.name = "s", .type = "VARCHAR"},
                                            {.name = "n", .type = "STRUCT(a BIGINT)"},
                                            {.name = "l", .type = "BIGINT[]"}};
  Result<std::vector<UncastableValue>> none =
      FindUncastable(*engine_, "lake://staged.json", "row", text_only);
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_TRUE(none->empty());

  std::vector<catalog::Column> typed = text_only;
  typed.push_back({.name = "id", .type = "BIGINT"});
  typed.push_back({.name = "day", .type = "DATE"});
  Result<std::vector<UncastableValue>> bad =
      FindUncastable(*engine_, "lake://staged.json", "row", typed);
  ASSERT_TRUE(bad.ok()) << bad.status().ToString();
  std::vector<std::string> found;
  for (const UncastableValue& value : *bad)
    found.push_back(std::to_string(value.row) + ":" + value.column + "=" + value.value);
  std::sort(found.begin(), found.end());
  // A fraction is refused for an integer column, not rounded.
  EXPECT_EQ(found, (std::vector<std::string>{"1:id=abc", "2:id=1.5", "3:day=soon"}));
}

}  // namespace
}  // namespace basin::query
