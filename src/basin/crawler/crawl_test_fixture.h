#pragma once

// The fixture every crawl test uses: a local lake in a temp folder, an engine over it, and
// a fresh metadata database of the engine the test is parameterised with (SQLite or
// PostgreSQL), with a Crawler on top.

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "basin/crawler/crawl.h"
#include "basin/metadata/scratch_database.h"
#include "basin/storage/local_object_store.h"
#include "basin/storage/test_stores.h"

namespace basin::crawler::testing {

class CrawlFixture : public ::testing::TestWithParam<metadata::Backend> {
 protected:
  void SetUp() override {
    root_ = storage::testing::TempFolder();
    lake_ = std::shared_ptr<storage::ObjectStore>(
        std::move(storage::LocalObjectStore::Make(root_ + "/lake")).value());
    stores_ = std::make_shared<storage::StoreResolver>(lake_, storage::S3Options{});
    engine_ =
        std::move(query::Engine::Make({.work_dir = root_ + "/engine", .stores = stores_})).value();
    auto scratch = metadata::ScratchDatabase::Make(GetParam());
    ASSERT_TRUE(scratch.ok()) << scratch.status().ToString();
    scratch_.emplace(std::move(scratch).value());
    auto database = metadata::Database::Open(scratch_->location());
    ASSERT_TRUE(database.ok()) << database.status().ToString();
    database_ = std::move(database).value();
    crawler_ = std::make_unique<Crawler>(*database_, *stores_, *engine_);
  }

  void TearDown() override {
    crawler_.reset();
    database_.reset();
    engine_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(root_, ignored);
  }

  void Put(const std::string& key, const std::string& data) {
    ASSERT_TRUE(lake_->Write(key, data).ok()) << key;
  }

  void Create(const std::string& name, const std::string& target,
              Grouping grouping = Grouping::kAuto,
              SchemaChangePolicy schema = SchemaChangePolicy::kUpdate) {
    CrawlerDefinition definition{.name = name, .targets = {target}, .database = "lake"};
    definition.grouping = grouping;
    definition.schema_change = schema;
    ASSERT_TRUE(crawler_->store().Create(definition).ok());
  }

  /// Runs a crawler and expects it to complete.
  RunReport Run(const std::string& name, const CrawlOptions& options = {}) {
    Result<RunReport> report = crawler_->Run(name, options);
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    if (!report.ok())
      return {};
    EXPECT_EQ(report->status, "completed") << report->ToText();
    return std::move(report).value();
  }

  catalog::Table Table(const std::string& name) {
    Result<catalog::Table> table = crawler_->catalog().GetTable("lake", name);
    EXPECT_TRUE(table.ok()) << table.status().ToString();
    return table.ok() ? *table : catalog::Table{};
  }

  std::string root_;
  std::shared_ptr<storage::ObjectStore> lake_;
  std::shared_ptr<storage::StoreResolver> stores_;
  std::unique_ptr<query::Engine> engine_;
  std::optional<metadata::ScratchDatabase> scratch_;
  std::unique_ptr<metadata::Database> database_;
  std::unique_ptr<Crawler> crawler_;
};

}  // namespace basin::crawler::testing
