#include "basin/query/saved_queries.h"

#include <optional>

#include <gtest/gtest.h>

#include "basin/metadata/scratch_database.h"

namespace basin::query {
namespace {

TEST(SavedQueryNameTest, LettersDigitsAndSomePunctuation) {
  for (const char* name : {"daily", "Daily_Orders-2026.v2", "a", "___"}) {
    EXPECT_TRUE(ValidateSavedQueryName(name).ok()) << name;
  }
  EXPECT_TRUE(ValidateSavedQueryName(std::string(128, 'x')).ok());
  for (const char* name : {"", "two words", "a/b", "semi;colon", "quote'", "주문", "a%"}) {
    EXPECT_EQ(ValidateSavedQueryName(name).code(), StatusCode::kInvalidArgument) << name;
  }
  EXPECT_EQ(ValidateSavedQueryName(std::string(129, 'x')).code(), StatusCode::kInvalidArgument);
}

class SavedQueryStoreTest : public ::testing::TestWithParam<metadata::Backend> {
 protected:
  void SetUp() override {
    auto scratch = metadata::ScratchDatabase::Make(GetParam());
    ASSERT_TRUE(scratch.ok()) << scratch.status().ToString();
    scratch_.emplace(std::move(scratch).value());
    auto database = metadata::Database::Open(scratch_->location());
    ASSERT_TRUE(database.ok()) << database.status().ToString();
    database_ = std::move(database).value();
    store_.emplace(*database_);
  }

  std::vector<std::string> NamesMatching(std::string_view search) {
    std::vector<std::string> names;
    auto queries = store_->List(search);
    EXPECT_TRUE(queries.ok()) << queries.status().ToString();
    if (queries.ok()) {
      for (const SavedQuery& query : *queries)
        names.push_back(query.name);
    }
    return names;
  }

  std::optional<metadata::ScratchDatabase> scratch_;
  std::unique_ptr<metadata::Database> database_;
  std::optional<SavedQueryStore> store_;
};

TEST_P(SavedQueryStoreTest, CreatesAndReadsBack) {
  auto before = std::chrono::system_clock::now() - std::chrono::seconds(1);
  auto created = store_->Create({.name = "daily_orders",
                                 .description = "Orders per day",
                                 .sql = "SELECT dt, count(*) FROM orders GROUP BY 1",
                                 .database = "shop",
                                 .owner = "ana"});
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_GT(created->id, 0);
  EXPECT_GE(created->created_at, before);
  EXPECT_EQ(created->updated_at, created->created_at);

  auto read = store_->Get("daily_orders");
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->id, created->id);
  EXPECT_EQ(read->description, "Orders per day");
  EXPECT_EQ(read->sql, "SELECT dt, count(*) FROM orders GROUP BY 1");
  EXPECT_EQ(read->database, "shop");
  EXPECT_EQ(read->owner, "ana");
  EXPECT_EQ(read->created_at, created->created_at);
  EXPECT_EQ(store_->Get("Daily_Orders")->id, created->id) << "names are looked up in any case";
  EXPECT_EQ(store_->Get("weekly").status().code(), StatusCode::kNotFound);
}

TEST_P(SavedQueryStoreTest, RefusesBadInputAndDuplicates) {
  ASSERT_TRUE(store_->Create({.name = "daily", .sql = "SELECT 1", .owner = "ana"}).ok());
  auto duplicate = store_->Create({.name = "daily", .sql = "SELECT 2", .owner = "ben"});
  EXPECT_EQ(duplicate.status().code(), StatusCode::kAlreadyExists);
  EXPECT_NE(duplicate.status().message().find("'daily'"), std::string::npos)
      << duplicate.status().message();
  EXPECT_EQ(store_->Create({.name = "DAILY", .sql = "SELECT 2"}).status().code(),
            StatusCode::kAlreadyExists)
      << "names differing only in case are one name";
  EXPECT_EQ(store_->Create({.name = "bad name", .sql = "SELECT 1"}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Create({.name = "empty", .sql = " ;\n"}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(NamesMatching(""), std::vector<std::string>{"daily"});
}

TEST_P(SavedQueryStoreTest, ListsByNameAndSearches) {
  ASSERT_TRUE(
      store_->Create({.name = "b_weekly", .description = "Revenue 100%", .sql = "SELECT 2"}).ok());
  ASSERT_TRUE(store_->Create({.name = "a_daily", .sql = "SELECT * FROM shop.Orders"}).ok());
  ASSERT_TRUE(
      store_->Create({.name = "C_top", .description = "Top keywords", .sql = "SELECT 3"}).ok());
  using Names = std::vector<std::string>;
  EXPECT_EQ(NamesMatching(""), (Names{"C_top", "a_daily", "b_weekly"})) << "byte order, like users";
  EXPECT_EQ(NamesMatching("orders"), (Names{"a_daily"})) << "searches the SQL";
  EXPECT_EQ(NamesMatching("TOP"), (Names{"C_top"})) << "the name and description, in any case";
  EXPECT_EQ(NamesMatching("100%"), (Names{"b_weekly"}));
  EXPECT_EQ(NamesMatching("%"), (Names{"b_weekly"})) << "wildcards are plain text";
  EXPECT_EQ(NamesMatching("_d"), (Names{"a_daily"}));
  EXPECT_EQ(NamesMatching("nothing"), Names{});
}

TEST_P(SavedQueryStoreTest, UpdatesChosenFieldsAndRenames) {
  auto created = store_->Create({.name = "daily",
                                 .description = "old",
                                 .sql = "SELECT 1",
                                 .database = "shop",
                                 .owner = "ana"});
  ASSERT_TRUE(created.ok());
  auto updated = store_->Update("DAILY", {.sql = "SELECT 2"});
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_EQ(updated->sql, "SELECT 2");
  EXPECT_EQ(updated->description, "old") << "fields left out stay";
  EXPECT_EQ(updated->database, "shop");
  EXPECT_EQ(updated->owner, "ana");
  EXPECT_EQ(updated->created_at, created->created_at);
  EXPECT_GE(updated->updated_at, created->updated_at);
  EXPECT_EQ(store_->Get("daily")->sql, "SELECT 2");

  auto renamed =
      store_->Update("daily", {.name = "daily_v2", .description = "new", .database = ""});
  ASSERT_TRUE(renamed.ok()) << renamed.status().ToString();
  EXPECT_EQ(store_->Get("daily").status().code(), StatusCode::kNotFound);
  auto read = store_->Get("daily_v2");
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->id, created->id);
  EXPECT_EQ(read->description, "new");
  EXPECT_EQ(read->database, "");

  ASSERT_TRUE(store_->Create({.name = "other", .sql = "SELECT 3"}).ok());
  EXPECT_EQ(store_->Update("other", {.name = "Daily_V2"}).status().code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->Get("other")->sql, "SELECT 3") << "a failed update changes nothing";
  EXPECT_EQ(store_->Update("other", {.sql = ""}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Update("other", {.name = "no good"}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Update("missing", {.sql = "SELECT 1"}).status().code(), StatusCode::kNotFound);
}

TEST_P(SavedQueryStoreTest, Deletes) {
  ASSERT_TRUE(store_->Create({.name = "daily", .sql = "SELECT 1"}).ok());
  EXPECT_TRUE(store_->Delete("Daily").ok());
  EXPECT_EQ(store_->Get("daily").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Delete("daily").code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->Create({.name = "daily", .sql = "SELECT 1"}).ok())
      << "the name is free again";
}

INSTANTIATE_TEST_SUITE_P(Engines, SavedQueryStoreTest,
                         ::testing::Values(metadata::Backend::kSqlite,
                                           metadata::Backend::kPostgres),
                         [](const auto& info) {
                           return std::string(metadata::BackendName(info.param));
                         });

}  // namespace
}  // namespace basin::query
