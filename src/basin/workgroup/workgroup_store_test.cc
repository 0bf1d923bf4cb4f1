#include "basin/workgroup/workgroup_store.h"

#include <optional>

#include <gtest/gtest.h>

#include "basin/metadata/scratch_database.h"

namespace basin::workgroup {
namespace {

using std::chrono::milliseconds;

class WorkgroupStoreTest : public ::testing::TestWithParam<metadata::Backend> {
 protected:
  void SetUp() override {
    auto scratch = metadata::ScratchDatabase::Make(GetParam());
    ASSERT_TRUE(scratch.ok()) << scratch.status().ToString();
    scratch_.emplace(std::move(scratch).value());
    auto database = metadata::Database::Open(scratch_->location());
    ASSERT_TRUE(database.ok()) << database.status().ToString();
    database_ = std::move(database).value();
    store_.emplace(*database_, [this] { return now_; });
  }

  // A user row as the auth store would write it (this component does not use auth).
  void AddUser(const std::string& name) {
    ASSERT_TRUE(
        database_
            ->Execute("INSERT INTO users (name, password_hash, role, created_at, updated_at) "
                      "VALUES (?, 'x', 'viewer', 0, 0)",
                      {name})
            .ok());
  }

  std::chrono::system_clock::time_point now_ =
      std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000));
  std::optional<metadata::ScratchDatabase> scratch_;
  std::unique_ptr<metadata::Database> database_;
  std::optional<WorkgroupStore> store_;
};

TEST_P(WorkgroupStoreTest, PrimaryExistsWithoutLimits) {
  Result<Workgroup> primary = store_->Get("primary");
  ASSERT_TRUE(primary.ok()) << primary.status().ToString();
  EXPECT_EQ(primary->bytes_scanned_limit, 0);
  EXPECT_EQ(primary->run_time_limit, milliseconds(0));
  EXPECT_EQ(primary->memory_limit_bytes, 0);
  EXPECT_EQ(primary->max_concurrent, 4);
  EXPECT_EQ(primary->max_queued, 100);
  EXPECT_EQ(primary->queue_timeout, milliseconds(60000));
  EXPECT_GT(primary->created_at.time_since_epoch().count(), 0);
  Status deleted = store_->Delete("primary");
  EXPECT_EQ(deleted.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(deleted.message().find("'primary' workgroup cannot be deleted"), std::string::npos);
}

TEST_P(WorkgroupStoreTest, CreatesListsAndUpdatesOnlyTheGivenSettings) {
  WorkgroupSettings settings{.description = "ad-hoc analysis",
                             .bytes_scanned_limit = int64_t{10} << 30,
                             .run_time_limit = milliseconds(300000),
                             .max_concurrent = 2};
  Result<Workgroup> created = store_->Create("analysts", settings);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_GT(created->id, 0);
  EXPECT_EQ(created->max_queued, 100) << "unset settings take the defaults";
  EXPECT_EQ(created->queue_timeout, milliseconds(60000));
  EXPECT_EQ(*store_->Get("analysts"), *created);

  now_ += std::chrono::hours(1);
  Result<Workgroup> updated =
      store_->Update("analysts", {.memory_limit_bytes = int64_t{2} << 30, .max_queued = 0});
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_EQ(updated->description, "ad-hoc analysis");
  EXPECT_EQ(updated->bytes_scanned_limit, int64_t{10} << 30);
  EXPECT_EQ(updated->memory_limit_bytes, int64_t{2} << 30);
  EXPECT_EQ(updated->max_queued, 0);
  EXPECT_EQ(updated->created_at, created->created_at);
  EXPECT_EQ(updated->updated_at - created->updated_at, std::chrono::hours(1));
  EXPECT_EQ(*store_->Get("analysts"), *updated);

  Result<std::vector<Workgroup>> all = store_->List();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].name, "analysts");
  EXPECT_EQ((*all)[1].name, "primary");

  EXPECT_EQ(store_->Update("nobody", {}).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Get("Analysts").status().code(), StatusCode::kNotFound);
}

TEST_P(WorkgroupStoreTest, RefusesBadSettingsNamingTheField) {
  Result<Workgroup> zero = store_->Create("etl", {.max_concurrent = 0});
  EXPECT_EQ(zero.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(zero.status().message(), "max_concurrent must be at least 1, got 0");
  EXPECT_EQ(store_->Create("etl", {.max_queued = -1}).status().message(),
            "max_queued must be at least 0, got -1");
  EXPECT_EQ(store_->Create("etl", {.run_time_limit = milliseconds(-5)}).status().message(),
            "run_time_limit_ms must be at least 0, got -5");
  EXPECT_EQ(store_->Create("etl", {.bytes_scanned_limit = -1}).status().code(),
            StatusCode::kInvalidArgument);
  for (const char* bad : {"", "-etl", "etl team", "etl/x", "ä"}) {
    EXPECT_EQ(store_->Create(bad, {}).status().code(), StatusCode::kInvalidArgument) << bad;
  }
  Result<Workgroup> too_many = store_->Create("etl", {.max_concurrent = kMaxConcurrentLimit + 1});
  EXPECT_EQ(too_many.status().code(), StatusCode::kInvalidArgument);

  ASSERT_TRUE(store_->Create("etl", {}).ok());
  EXPECT_EQ(store_->Create("etl", {}).status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->Create("ETL", {}).status().code(), StatusCode::kAlreadyExists)
      << "names are unique ignoring case";
  Result<Workgroup> bad_update = store_->Update("etl", {.max_concurrent = 0});
  EXPECT_EQ(bad_update.status().message(), "max_concurrent must be at least 1, got 0");
  EXPECT_EQ(store_->Get("etl")->max_concurrent, 4) << "a refused update changes nothing";
}

TEST_P(WorkgroupStoreTest, UsersStartInPrimaryAndMove) {
  AddUser("ana");
  AddUser("ben");
  Result<Workgroup> ana = store_->UserWorkgroup("ana");
  ASSERT_TRUE(ana.ok()) << ana.status().ToString();
  EXPECT_EQ(ana->name, "primary");

  ASSERT_TRUE(store_->Create("analysts", {.max_concurrent = 1}).ok());
  ASSERT_TRUE(store_->AssignUser("ana", "analysts").ok());
  EXPECT_EQ(store_->UserWorkgroup("ana")->name, "analysts");
  EXPECT_EQ(store_->UserWorkgroup("ana")->max_concurrent, 1);
  EXPECT_EQ(*store_->Members("analysts"), std::vector<std::string>{"ana"});
  EXPECT_EQ(*store_->Members("primary"), std::vector<std::string>{"ben"});
  auto counts = store_->MemberCounts();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(*counts,
            (std::vector<std::pair<std::string, int64_t>>{{"analysts", 1}, {"primary", 1}}));

  EXPECT_EQ(store_->AssignUser("nobody", "analysts").code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->AssignUser("ana", "nowhere").code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->UserWorkgroup("nobody").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Members("nowhere").status().code(), StatusCode::kNotFound);
}

TEST_P(WorkgroupStoreTest, DeletesOnlyEmptyWorkgroups) {
  AddUser("ana");
  AddUser("ben");
  ASSERT_TRUE(store_->Create("analysts", {}).ok());
  ASSERT_TRUE(store_->AssignUser("ana", "analysts").ok());
  ASSERT_TRUE(store_->AssignUser("ben", "analysts").ok());
  Status refused = store_->Delete("analysts");
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(refused.message(),
            "workgroup 'analysts' still has 2 users; move them to another workgroup first (basin "
            "user set-workgroup USER WORKGROUP)");
  ASSERT_TRUE(store_->AssignUser("ana", "primary").ok());
  EXPECT_NE(store_->Delete("analysts").message().find("still has 1 user;"), std::string::npos);
  ASSERT_TRUE(store_->AssignUser("ben", "primary").ok());
  EXPECT_TRUE(store_->Delete("analysts").ok());
  EXPECT_EQ(store_->Get("analysts").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Delete("analysts").code(), StatusCode::kNotFound);
}

TEST_P(WorkgroupStoreTest, AUserInAMissingWorkgroupIsAClearError) {
  AddUser("ana");
  ASSERT_TRUE(database_->Execute("UPDATE users SET workgroup = 'gone' WHERE name = 'ana'").ok());
  Result<Workgroup> workgroup = store_->UserWorkgroup("ana");
  EXPECT_EQ(workgroup.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(workgroup.status().message().find("workgroup 'gone', which does not exist"),
            std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Engines, WorkgroupStoreTest,
                         ::testing::Values(metadata::Backend::kSqlite,
                                           metadata::Backend::kPostgres),
                         [](const auto& info) {
                           return std::string(metadata::BackendName(info.param));
                         });

}  // namespace
}  // namespace basin::workgroup
