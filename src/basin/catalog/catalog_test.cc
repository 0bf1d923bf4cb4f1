#include "basin/catalog/catalog.h"

#include <filesystem>

#include <gtest/gtest.h>

#include "basin/common/crypto.h"
#include "basin/metadata/scratch_database.h"

namespace basin::catalog {
namespace {

// One suite, both metadata engines: SQLite and a real PostgreSQL server.
class CatalogTest : public ::testing::TestWithParam<metadata::Backend> {
 protected:
  void SetUp() override {
    auto scratch = metadata::ScratchDatabase::Make(GetParam());
    ASSERT_TRUE(scratch.ok()) << scratch.status().ToString();
    scratch_.emplace(std::move(scratch).value());
    auto opened = metadata::Database::Open(scratch_->location());
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    database_ = std::move(opened).value();
    catalog_ = std::make_unique<Catalog>(*database_);
    ASSERT_TRUE(catalog_->CreateDatabase("sales").ok());
  }

  TableUpdate Orders(std::vector<Column> columns, std::vector<std::string> days) {
    TableUpdate update;
    update.table.database = "sales";
    update.table.name = "orders";
    update.table.location = "lake://sales/orders/";
    update.table.format = catalog::TableFormat::kCsv;
    update.table.format_options = {{"delimiter", ","}, {"header", "true"}};
    update.table.columns = std::move(columns);
    update.table.partition_keys = {{"dt", "DATE"}};
    update.table.created_by = "crawler:test";
    update.changed_by = "crawler:test";
    for (const std::string& day : days) {
      Partition partition;
      partition.values = {day};
      partition.location = "lake://sales/orders/dt=" + day + "/";
      partition.objects = 2;
      partition.bytes = 100;
      update.upsert_partitions.push_back(partition);
    }
    return update;
  }

  std::optional<metadata::ScratchDatabase> scratch_;
  std::unique_ptr<metadata::Database> database_;
  std::unique_ptr<Catalog> catalog_;
};

INSTANTIATE_TEST_SUITE_P(Engines, CatalogTest,
                         ::testing::Values(metadata::Backend::kSqlite,
                                           metadata::Backend::kPostgres),
                         [](const auto& info) {
                           return std::string(metadata::BackendName(info.param));
                         });

TEST_P(CatalogTest, Databases) {
  EXPECT_EQ(catalog_->CreateDatabase("sales").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(catalog_->CreateDatabase("Bad Name").code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(catalog_->EnsureDatabase("sales").ok());
  ASSERT_TRUE(catalog_->CreateDatabase("web").ok());
  EXPECT_EQ(*catalog_->ListDatabases(), (std::vector<std::string>{"sales", "web"}));
  ASSERT_TRUE(catalog_->ApplyTable(Orders({{"id", "BIGINT", ""}}, {"2026-11-24"})).ok());
  EXPECT_EQ(catalog_->DropDatabase("sales", false).code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(catalog_->DropDatabase("sales", true).ok());
  EXPECT_TRUE(catalog_->GetTable("sales", "orders").status().IsNotFound());
}

TEST_P(CatalogTest, TableWithPartitionsAndStatistics) {
  Result<ApplyOutcome> created = catalog_->ApplyTable(
      Orders({{"id", "BIGINT", ""}, {"amount", "DOUBLE", ""}}, {"2026-11-24", "2026-11-25"}));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_TRUE(created->created);
  Table table = *catalog_->GetTable("sales", "orders");
  EXPECT_EQ(table.format_options["delimiter"], ",");
  EXPECT_EQ(table.columns.size(), 2u);
  EXPECT_EQ(table.partition_keys, (std::vector<PartitionKey>{{"dt", "DATE"}}));
  EXPECT_EQ(table.stats.objects, 4);
  EXPECT_EQ(table.stats.bytes, 200);
  EXPECT_EQ(table.schema_version, 1);
  EXPECT_EQ(*catalog_->CountPartitions(table.id), 2);
  auto filtered = catalog_->ListPartitions(table.id, {.equals = {{"dt", "2026-11-25"}}});
  ASSERT_TRUE(filtered.ok());
  ASSERT_EQ(filtered->size(), 1u);
  EXPECT_EQ((*filtered)[0].location, "lake://sales/orders/dt=2026-11-25/");
}

TEST_P(CatalogTest, SchemaVersionsKeepHistoryWithDiff) {
  ASSERT_TRUE(catalog_->ApplyTable(Orders({{"id", "INTEGER", ""}}, {"2026-11-24"})).ok());
  // Same schema again: no new version.
  EXPECT_FALSE(
      catalog_->ApplyTable(Orders({{"id", "INTEGER", ""}}, {"2026-11-24"}))->schema_changed);
  Result<ApplyOutcome> widened =
      catalog_->ApplyTable(Orders({{"id", "BIGINT", ""}, {"coupon", "VARCHAR", ""}}, {}));
  ASSERT_TRUE(widened.ok());
  EXPECT_TRUE(widened->schema_changed);
  EXPECT_EQ(widened->schema_version, 2);
  Table table = *catalog_->GetTable("sales", "orders");
  auto history = *catalog_->SchemaHistory(table.id);
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0].columns, (std::vector<Column>{{"id", "INTEGER", ""}}));
  EXPECT_EQ(history[1].change, "~ changed id INTEGER -> BIGINT\n+ added coupon VARCHAR\n");
}

TEST_P(CatalogTest, TwoWritersNeverLoseEachOthersColumns) {
  ASSERT_TRUE(
      catalog_->ApplyTable(Orders({{"id", "BIGINT", ""}, {"a", "VARCHAR", ""}}, {"2026-11-24"}))
          .ok());
  ASSERT_TRUE(
      catalog_->ApplyTable(Orders({{"id", "BIGINT", ""}, {"b", "VARCHAR", ""}}, {"2026-11-25"}))
          .ok());
  Table table = *catalog_->GetTable("sales", "orders");
  ASSERT_EQ(table.columns.size(), 3u);
  EXPECT_EQ(table.columns[1].name, "a");
  EXPECT_EQ(table.columns[2].name, "b");
  EXPECT_EQ(*catalog_->CountPartitions(table.id), 2);
}

TEST_P(CatalogTest, FailedChangeLeavesPreviousState) {
  ASSERT_TRUE(catalog_->ApplyTable(Orders({{"id", "BIGINT", ""}}, {"2026-11-24"})).ok());
  TableUpdate bad = Orders({{"id", "BIGINT", ""}, {"x", "VARCHAR", ""}}, {"2026-11-25"});
  bad.table.name = "Not Valid";
  EXPECT_FALSE(catalog_->ApplyTable(bad).ok());
  // A failure inside the transaction (unknown database) rolls back every step.
  TableUpdate missing = Orders({{"id", "BIGINT", ""}}, {"2026-11-26"});
  missing.table.database = "nope";
  EXPECT_TRUE(catalog_->ApplyTable(missing).status().IsNotFound());
  Table table = *catalog_->GetTable("sales", "orders");
  EXPECT_EQ(table.columns.size(), 1u);
  EXPECT_EQ(*catalog_->CountPartitions(table.id), 1);
}

TEST_P(CatalogTest, ModesAndPartitionSwapsForWriters) {
  TableUpdate update = Orders({{"id", "BIGINT", ""}}, {"2026-11-24", "2026-11-25"});
  update.mode = ApplyMode::kUpdateOnly;
  EXPECT_TRUE(catalog_->ApplyTable(update).status().IsNotFound());
  update.mode = ApplyMode::kCreateOnly;
  update.table.database = "new_db";
  EXPECT_TRUE(catalog_->ApplyTable(update).status().IsNotFound()) << "no such database";
  update.create_database = true;
  Result<ApplyOutcome> created = catalog_->ApplyTable(update);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_TRUE(created->previous_location.empty());
  EXPECT_EQ(catalog_->ApplyTable(update).status().code(), StatusCode::kAlreadyExists);

  // One day's data moves to a new folder: the old partition goes, the other day stays.
  TableUpdate swap = Orders({{"id", "BIGINT", ""}}, {});
  swap.table.database = "new_db";
  swap.mode = ApplyMode::kUpdateOnly;
  swap.replace_same_values = true;
  swap.upsert_partitions.push_back(
      {.values = {"2026-11-25"}, .location = "lake://sales/orders/dt=2026-11-25/w-1/"});
  Result<ApplyOutcome> swapped = catalog_->ApplyTable(swap);
  ASSERT_TRUE(swapped.ok()) << swapped.status().ToString();
  EXPECT_EQ(swapped->previous_location, "lake://sales/orders/");
  ASSERT_EQ(swapped->replaced_partitions.size(), 1u);
  EXPECT_EQ(swapped->replaced_partitions[0].location, "lake://sales/orders/dt=2026-11-25/");
  Table table = *catalog_->GetTable("new_db", "orders");
  auto partitions = *catalog_->ListPartitions(table.id);
  ASSERT_EQ(partitions.size(), 2u);
  EXPECT_EQ(partitions[0].location, "lake://sales/orders/dt=2026-11-24/");
  EXPECT_EQ(partitions[1].location, "lake://sales/orders/dt=2026-11-25/w-1/");
  // The same swap again replaces nothing: the partition is already at that location.
  EXPECT_TRUE(catalog_->ApplyTable(swap)->replaced_partitions.empty());
}

TEST_P(CatalogTest, ThousandsOfPartitions) {
  std::vector<std::string> days;
  for (int i = 0; i < 3000; ++i)
    days.push_back("d" + std::to_string(100000 + i));
  ASSERT_TRUE(catalog_->ApplyTable(Orders({{"id", "BIGINT", ""}}, days)).ok());
  Table table = *catalog_->GetTable("sales", "orders");
  EXPECT_EQ(*catalog_->CountPartitions(table.id), 3000);
  auto page = catalog_->ListPartitions(table.id, {.limit = 100, .offset = 2950});
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->size(), 50u);
  auto one = catalog_->ListPartitions(table.id, {.equals = {{"dt", "d101234"}}});
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ(table.stats.objects, 6000);
}

TEST(NameTest, SanitizeAndValidate) {
  EXPECT_EQ(SanitizeName("Orders-2026"), "orders_2026");
  EXPECT_EQ(SanitizeName("2026"), "t_2026");
  EXPECT_NE(SanitizeName("주문"), SanitizeName("환불"));
  EXPECT_EQ(SanitizeName("주문"), SanitizeName("주문"));
  EXPECT_TRUE(ValidateName(SanitizeName("주문"), "table").ok()) << SanitizeName("주문");
  EXPECT_TRUE(SanitizeName("sales_매출").rfind("sales_", 0) == 0);
  EXPECT_TRUE(ValidateName("search_events", "table").ok());
  EXPECT_FALSE(ValidateName("a.b", "table").ok());
  EXPECT_FALSE(ValidateName("", "table").ok());
}

}  // namespace
}  // namespace basin::catalog
