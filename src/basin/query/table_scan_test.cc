#include "basin/query/table_scan.h"

#include <gtest/gtest.h>

#include "basin/query/engine.h"
#include "basin/storage/local_object_store.h"
#include "basin/storage/test_stores.h"

namespace basin::query {
namespace {

// A Hive-partitioned CSV table of 10 days, bound by name as the catalog would bind it.
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
    table_.format = "csv";
    table_.format_options = {{"delimiter", ","}, {"header", "true"}};
    table_.columns = {{"id", "BIGINT", ""}, {"keyword", "VARCHAR", ""}};
    table_.partition_keys = {{"dt", "DATE"}};
    for (int day = 10; day < 20; ++day) {
      std::string body = "id,keyword\n";
      for (int i = 0; i < 200; ++i)
        body += std::to_string(day * 1000 + i) + ",keyword-" + std::to_string(i) + "\n";
      ASSERT_TRUE(
          lake_->Write("events/dt=2026-11-" + std::to_string(day) + "/part-0.csv", body).ok());
    }
    ASSERT_TRUE(lake_->Write("events/_SUCCESS", "x").ok());
  }

  std::unique_ptr<Engine> MakeEngine(bool uniform) {
    auto resolver = [this, uniform](const std::string&,
                                    const std::string& name) -> Result<std::string> {
      if (name != "events")
        return Status::NotFound("no such table");
      return TableScanSql(table_, *stores_, uniform);
    };
    return std::move(Engine::Make({.work_dir = storage::testing::TempFolder(),
                                   .stores = stores_,
                                   .table_resolver = resolver,
                                   .sandboxed = true}))
        .value();
  }

  std::shared_ptr<storage::ObjectStore> lake_;
  std::shared_ptr<storage::StoreResolver> stores_;
  catalog::Table table_;
};

TEST_F(TableScanTest, ReadsAllPartitionsWithTypedColumns) {
  for (bool uniform : {true, false}) {
    auto engine = MakeEngine(uniform);
    auto result = engine->Execute(
        "SELECT count(*), min(dt), typeof(min(dt)), typeof(min(id)) FROM shop.events");
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_EQ(result->rows[0][0], "2000") << "the _SUCCESS marker is not data";
    EXPECT_EQ(result->rows[0][1], "2026-11-10");
    EXPECT_EQ(result->rows[0][2], "DATE");
    EXPECT_EQ(result->rows[0][3], "BIGINT");
  }
}

TEST_F(TableScanTest, UniformSchemaSkipsPartitionsOnFilters) {
  auto engine = MakeEngine(true);
  auto everything = engine->Execute("SELECT count(*) FROM shop.events");
  auto one_day = engine->Execute("SELECT count(*) FROM shop.events WHERE dt = DATE '2026-11-15'");
  ASSERT_TRUE(everything.ok() && one_day.ok()) << one_day.status().ToString();
  EXPECT_EQ(one_day->rows[0][0], "200");
  EXPECT_LT(one_day->bytes_read * 5, everything->bytes_read)
      << "one day read " << one_day->bytes_read << " of " << everything->bytes_read << " bytes";
}

TEST_F(TableScanTest, QuotesNamesAndPaths) {
  table_.columns.push_back({"odd \"name\"", "VARCHAR", ""});
  ASSERT_TRUE(
      lake_->Write("events/dt=2026-11-20/it's.csv", "id,keyword,odd \"name\"\n1,a,b\n").ok());
  auto engine = MakeEngine(false);
  auto result =
      engine->Execute("SELECT count(*) FROM shop.events WHERE \"odd \"\"name\"\"\" = 'b'");
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->rows[0][0], "1");
}

TEST_F(TableScanTest, EmptyTableHasItsColumns) {
  table_.location = "lake://nothing/";
  auto engine = MakeEngine(true);
  auto result = engine->Execute("SELECT count(*), typeof(max(dt)) FROM shop.events");
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->rows[0][0], "0");
  EXPECT_EQ(result->rows[0][1], "DATE");
}

}  // namespace
}  // namespace basin::query
