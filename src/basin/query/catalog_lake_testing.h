#pragma once

// For tests of components that write catalog tables into the lake (writer, delivery): a
// lake store, a scratch metadata database with a catalog, and an engine that binds catalog
// tables as the basin home does (registered partitions only). A fixture derives from it,
// calls SetUpCatalogLake in SetUp and TearDownCatalogLake in TearDown.

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "basin/catalog/catalog.h"
#include "basin/metadata/scratch_database.h"
#include "basin/query/engine.h"
#include "basin/query/table_scan.h"
#include "basin/storage/store_resolver.h"
#include "basin/storage/test_stores.h"

namespace basin::query::testing {

class CatalogLake {
 protected:
  /// `lake`: the store lake:// URLs name (made by the caller, e.g. under TempFolder());
  /// unqualified table names are looked up in `default_database`.
  void SetUpCatalogLake(std::shared_ptr<storage::ObjectStore> lake, metadata::Backend backend,
                        std::string default_database) {
    if (root_.empty())
      root_ = storage::testing::TempFolder();
    lake_ = std::move(lake);
    stores_ = std::make_shared<storage::StoreResolver>(lake_, storage::S3Options{});
    auto scratch = metadata::ScratchDatabase::Make(backend);
    ASSERT_TRUE(scratch.ok()) << scratch.status().ToString();
    scratch_.emplace(std::move(scratch).value());
    database_ = std::move(metadata::Database::Open(scratch_->location())).value();
    catalog_ = std::make_unique<catalog::Catalog>(*database_);
    auto resolver = [this, default_database](const std::string& database, const std::string& name,
                                             const std::string&) -> Result<TableScan> {
      BASIN_ASSIGN_OR_RETURN(
          catalog::Table table,
          catalog_->GetTable(database.empty() ? default_database : database, name));
      std::vector<catalog::Partition> partitions;
      if (!table.partition_keys.empty()) {
        BASIN_ASSIGN_OR_RETURN(partitions,
                               catalog_->ListPartitions(table.id, {.limit = int64_t{1} << 40}));
      }
      return PlanTableScan(table, partitions, *stores_);
    };
    auto engine = Engine::Make(
        {.work_dir = root_ + "/engine", .stores = stores_, .table_resolver = resolver});
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = std::move(engine).value();
  }

  /// Call after whatever uses the engine is gone.
  void TearDownCatalogLake() {
    engine_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(root_, ignored);
  }

  /// The first value of the first row ("" after an error, which fails the test).
  std::string Scalar(const std::string& sql) {
    Result<QueryResult> result = engine_->Execute(sql);
    EXPECT_TRUE(result.ok()) << sql << "\n" << result.status().ToString();
    if (!result.ok() || result->rows.empty())
      return "";
    return result->rows[0][0].value_or("NULL");
  }

  /// The keys of the lake's objects under `prefix`, sorted.
  std::vector<std::string> Keys(const std::string& prefix) {
    std::vector<std::string> keys;
    Result<std::vector<storage::ObjectInfo>> listed = lake_->List(prefix);
    EXPECT_TRUE(listed.ok()) << listed.status().ToString();
    if (listed.ok()) {
      for (const storage::ObjectInfo& object : *listed)
        keys.push_back(object.key);
    }
    return keys;
  }

  std::string root_;  // a temp folder for the engine (and a local lake, if the caller wants)
  std::shared_ptr<storage::ObjectStore> lake_;
  std::shared_ptr<storage::StoreResolver> stores_;
  std::optional<metadata::ScratchDatabase> scratch_;
  std::unique_ptr<metadata::Database> database_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<Engine> engine_;
};

}  // namespace basin::query::testing
