#include "basin/query/engine.h"

#include <cstdlib>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "basin/storage/local_object_store.h"
#include "basin/storage/test_stores.h"

namespace basin::query {
namespace {

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    lake_root_ = storage::testing::TempFolder();
    std::shared_ptr<storage::ObjectStore> lake(
        std::move(storage::LocalObjectStore::Make(lake_root_)).value());
    s3_ = storage::testing::TestS3Options();
    stores_ = std::make_shared<storage::StoreResolver>(lake, s3_);
    auto engine = Engine::Make({.work_dir = storage::testing::TempFolder(), .stores = stores_});
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = std::move(engine).value();
  }

  QueryResult Run(const std::string& sql) {
    Result<QueryResult> result = engine_->Execute(sql);
    EXPECT_TRUE(result.ok()) << sql << "\n" << result.status().ToString();
    return result.ok() ? std::move(result).value() : QueryResult{};
  }

  std::string lake_root_;
  storage::S3Options s3_;
  std::shared_ptr<storage::StoreResolver> stores_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(EngineTest, LoadedLibraryIsThePinnedBuild) {
  EXPECT_EQ(Engine::LoadedSourceId().substr(0, 10), kDuckDbSourceId);
  EXPECT_EQ(Engine::LoadedVersion(), kDuckDbVersion);
}

TEST_F(EngineTest, RunsSqlAndReportsTypes) {
  QueryResult result = Run("SELECT 42 AS answer, 'basin' AS name, NULL::INTEGER AS nothing");
  ASSERT_EQ(result.rows.size(), 1u);
  EXPECT_EQ(result.column_names, (std::vector<std::string>{"answer", "name", "nothing"}));
  EXPECT_EQ(result.column_types[0], "INTEGER");
  EXPECT_EQ(result.rows[0][0], "42");
  EXPECT_EQ(result.rows[0][1], "basin");
  EXPECT_FALSE(result.rows[0][2].has_value());
}

TEST_F(EngineTest, ErrorsAreStatuses) {
  Result<QueryResult> syntax = engine_->Execute("SELEC 1");
  EXPECT_EQ(syntax.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(syntax.status().message().find("syntax error"), std::string::npos)
      << syntax.status().message();
  Result<QueryResult> missing =
      engine_->Execute("SELECT * FROM read_parquet('lake://nope/x.parquet')");
  EXPECT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("nope/x.parquet"), std::string::npos)
      << missing.status().message();
}

TEST_F(EngineTest, ExtensionsNeverComeFromTheNetwork) {
  QueryResult settings =
      Run("SELECT current_setting('autoinstall_known_extensions'), "
          "current_setting('autoload_known_extensions')");
  EXPECT_EQ(settings.rows[0][0], "false");
  EXPECT_EQ(settings.rows[0][1], "false");
  // httpfs is not built in; with auto-load off, an http URL fails at once instead of downloading.
  Result<QueryResult> remote =
      engine_->Execute("SELECT * FROM read_csv('http://127.0.0.1:1/x.csv')");
  EXPECT_FALSE(remote.ok());
}

TEST_F(EngineTest, WorksWithoutHome) {
  const char* home = std::getenv("HOME");
  std::string saved = home ? home : "";
  unsetenv("HOME");
  auto engine = Engine::Make({.work_dir = storage::testing::TempFolder(), .stores = stores_});
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  Result<QueryResult> result = (*engine)->Execute(
      "COPY (SELECT 1 AS x) TO 'lake://nohome/x.csv' (HEADER); SELECT sum(x) FROM "
      "read_csv('lake://nohome/x.csv')");
  if (home)
    setenv("HOME", saved.c_str(), 1);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->rows[0][0], "1");
}

TEST_F(EngineTest, WritesAndGlobsLocalLake) {
  Run("COPY (SELECT range AS id, range % 7 AS bucket FROM range(1000)) TO "
      "'lake://t/dt=2026-11-24/part-0.parquet'");
  Run("COPY (SELECT range + 1000 AS id, 3 AS bucket FROM range(500)) TO "
      "'lake://t/dt=2026-11-25/part-0.parquet'");
  Run("COPY (SELECT 1 AS id) TO 'lake://other/x.parquet'");
  EXPECT_TRUE(std::filesystem::exists(lake_root_ + "/t/dt=2026-11-24/part-0.parquet"));
  QueryResult result =
      Run("SELECT count(*), count(DISTINCT dt), max(id) FROM read_parquet('lake://t/*/*.parquet', "
          "hive_partitioning=true)");
  EXPECT_EQ(result.rows[0][0], "1500");
  EXPECT_EQ(result.rows[0][1], "2");
  EXPECT_EQ(result.rows[0][2], "1499");
  EXPECT_GT(result.bytes_read, 0u);
  QueryResult recursive = Run("SELECT count(*) FROM read_parquet('lake://**/*.parquet')");
  EXPECT_EQ(recursive.rows[0][0], "1501");
}

TEST_F(EngineTest, CompressedCopiesReachTheLake) {
  // DuckDB's compressed writer drops the lake handle without closing it: the object must
  // still be written (it once vanished silently).
  Run("COPY (SELECT range AS id FROM range(100)) TO 'lake://gz/ids.csv.gz' (FORMAT csv, "
      "COMPRESSION gzip)");
  ASSERT_TRUE(std::filesystem::exists(lake_root_ + "/gz/ids.csv.gz"));
  QueryResult result = Run("SELECT count(*), max(id) FROM read_csv('lake://gz/ids.csv.gz')");
  EXPECT_EQ(result.rows[0][0], "100");
  EXPECT_EQ(result.rows[0][1], "99");
}

TEST_F(EngineTest, ColumnProjectionOnS3ReadsFewBytes) {
  std::string url = "s3://" + s3_.bucket + "/" + s3_.prefix + "/wide.parquet";
  // Eight columns of incompressible-ish data; the query needs one of them.
  Run("COPY (SELECT range AS a, hash(range) AS b, hash(range + 1) AS c, hash(range + 2) AS d, "
      "md5(range::VARCHAR) AS e, md5((range + 1)::VARCHAR) AS f, hash(range * 3) AS g, hash(range "
      "* 5) AS h "
      "FROM range(300000)) TO '" +
      url + "' (FORMAT parquet, ROW_GROUP_SIZE 100000)");
  auto store = stores_->Resolve(url);
  ASSERT_TRUE(store.ok());
  uint64_t object_size = store->store->Stat(store->key)->size;
  ASSERT_GT(object_size, 5u << 20);

  QueryResult result = Run("SELECT sum(a) FROM read_parquet('" + url + "')");
  EXPECT_EQ(result.rows[0][0], "44999850000");
  EXPECT_GT(result.bytes_read, 0u);
  EXPECT_LT(result.bytes_read, object_size / 4)
      << "read " << result.bytes_read << " of " << object_size;
  QueryResult everything =
      Run("SELECT count(DISTINCT e), sum(h % 2) FROM read_parquet('" + url + "')");
  EXPECT_GT(everything.bytes_read, result.bytes_read * 2);
}

}  // namespace
}  // namespace basin::query

namespace basin::query {
namespace {

// The engine as `basin query` and the server run it: catalog tables resolved by name,
// and no file access outside the lake.
class SandboxedEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    lake_root_ = storage::testing::TempFolder();
    std::shared_ptr<storage::ObjectStore> lake(
        std::move(storage::LocalObjectStore::Make(lake_root_)).value());
    stores_ = std::make_shared<storage::StoreResolver>(lake, storage::S3Options{});
    auto resolver = [](const std::string& database, const std::string& table,
                       const std::string&) -> Result<TableScan> {
      if ((database.empty() || database == "shop") && table == "orders") {
        return TableScan{.table = "shop.orders",
                         .sql = "SELECT * FROM read_csv('lake://orders/*.csv')"};
      }
      if (table == "broken")
        return Status::Unavailable("catalog unreachable: test");
      return Status::NotFound("no such table");
    };
    work_dir_ = storage::testing::TempFolder();
    auto engine = Engine::Make({.work_dir = work_dir_,
                                .stores = stores_,
                                .table_resolver = resolver,
                                .sandboxed = true,
                                .memory_limit_bytes = 64 << 20});
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = std::move(engine).value();
    ASSERT_TRUE(lake->Write("orders/a.csv", "id,amount\n1,2.5\n2,4\n").ok());
  }
  std::string lake_root_;
  std::string work_dir_;
  std::shared_ptr<storage::StoreResolver> stores_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(SandboxedEngineTest, LargeQueriesStillSpillToDisk) {
  // Over the 64 MiB memory limit: the sort spills to the engine's own folder.
  auto sorted = engine_->Execute(
      "SELECT count(*) FROM (SELECT md5(range::VARCHAR) AS v FROM range(3000000) ORDER BY v)");
  ASSERT_TRUE(sorted.ok()) << sorted.status().ToString();
  EXPECT_EQ(sorted->rows[0][0], "3000000");
}

TEST_F(SandboxedEngineTest, CatalogTablesResolveByName) {
  auto qualified = engine_->Execute("SELECT sum(amount) FROM shop.orders");
  ASSERT_TRUE(qualified.ok()) << qualified.status().ToString();
  EXPECT_EQ(qualified->rows[0][0], "6.5");
  auto bare = engine_->Execute("SELECT count(*) FROM orders");
  ASSERT_TRUE(bare.ok()) << bare.status().ToString();
  EXPECT_EQ(bare->rows[0][0], "2");
  auto missing = engine_->Execute("SELECT * FROM shop.nothing");
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(missing.status().message().find("nothing"), std::string::npos)
      << missing.status().message();
  auto broken = engine_->Execute("SELECT * FROM broken");
  EXPECT_FALSE(broken.ok());
  EXPECT_NE(broken.status().message().find("catalog unreachable"), std::string::npos)
      << broken.status().message();
}

TEST_F(SandboxedEngineTest, RefusesEverythingOutsideTheLake) {
  std::string outside = storage::testing::TempFolder() + "/secret.csv";
  std::ofstream(outside) << "password\nhunter2\n";
  for (const std::string& sql : std::vector<std::string>{
           "SELECT * FROM read_csv('" + outside + "')", "SELECT * FROM read_text('/etc/passwd')",
           "SELECT * FROM read_text('file:///etc/passwd')", "ATTACH '" + outside + ".db' AS other",
           "COPY (SELECT 1) TO '" + outside + ".out'", "INSTALL httpfs", "SET threads = 1",
           "SET disabled_filesystems = ''", "SET enable_external_access = true"}) {
    Result<QueryResult> result = engine_->Execute(sql);
    EXPECT_FALSE(result.ok()) << sql;
  }
  EXPECT_FALSE(std::filesystem::exists(outside + ".out"));
  // Spilled data of other queries is not readable either.
  EXPECT_FALSE(engine_->Execute("SELECT * FROM read_text('" + work_dir_ + "/tmp/*')").ok());
  EXPECT_FALSE(engine_->Execute("COPY (SELECT 1) TO '" + work_dir_ + "/tmp/x.csv'").ok());
  // The lake itself stays readable and writable.
  EXPECT_TRUE(engine_->Execute("COPY (SELECT 1 AS x) TO 'lake://out/x.csv'").ok());
  EXPECT_TRUE(std::filesystem::exists(lake_root_ + "/out/x.csv"));
}

TEST_F(SandboxedEngineTest, CancelInterruptsARunningQuery) {
  std::atomic<bool> cancel{false};
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    cancel = true;
  });
  auto started = std::chrono::steady_clock::now();
  Result<QueryResult> result = engine_->Execute(
      "SELECT count(*) FROM range(1000000000) a, range(1000) b WHERE a.range % 1000 = b.range",
      &cancel);
  canceller.join();
  EXPECT_EQ(result.status().code(), StatusCode::kCancelled) << result.status().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
}

// The cancel watcher polls every 20 ms; a finished query must not wait for its next poll
// (the HTTP API passes a cancel flag with every query, so this was 20 ms per request).
TEST_F(SandboxedEngineTest, QueryWithCancelFlagDoesNotWaitForThePoll) {
  std::atomic<bool> cancel{false};
  auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 20; ++i)
    ASSERT_TRUE(engine_->Execute("SELECT " + std::to_string(i), &cancel).ok());
  // 20 polls would be 400 ms; 20 trivial queries take a few ms even on a busy machine.
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(200));
}

// People's SQL (StatementPolicy::kUser) cannot leave anything behind for the next query, or
// shadow a function basin or other users rely on.
TEST_F(EngineTest, UserStatementsCannotChangeTheEngineForOthers) {
  auto user = [&](const std::string& sql) {
    return engine_->Execute(sql, ExecuteOptions{});
  };
  for (const std::string& sql : std::vector<std::string>{
           "CREATE MACRO lower(x) AS 42", "CREATE MACRO count_star() AS 0",
           "CREATE MACRO read_parquet(x) AS TABLE SELECT 1 AS a", "CREATE SCHEMA shop",
           "CREATE VIEW events AS SELECT 1 AS a", "CREATE TABLE t AS SELECT 1 AS a",
           "ATTACH ':memory:' AS other", "SET threads = 1", "CREATE TEMP MACRO lower(x) AS 42",
           "CREATE TEMP MACRO read_json(x) AS TABLE SELECT 1",
           "SELECT 1; CREATE MACRO sneaky() AS 1"}) {
    Result<QueryResult> refused = user(sql);
    EXPECT_EQ(refused.status().code(), StatusCode::kPermissionDenied) << sql;
  }
  EXPECT_EQ(Run("SELECT lower('ABC')").rows[0][0], "abc");
  // Temporary objects work within the query and are gone after it.
  Result<QueryResult> temporary = user(
      "CREATE TEMP MACRO twice(x) AS x * 2; CREATE TEMP TABLE t AS SELECT 21 AS a; "
      "SELECT twice(a) FROM t");
  ASSERT_TRUE(temporary.ok()) << temporary.status().ToString();
  EXPECT_EQ(temporary->rows[0][0], "42");
  EXPECT_FALSE(user("SELECT twice(1)").ok());
  EXPECT_FALSE(user("SELECT * FROM t").ok());
  // basin's own statements are not confined.
  EXPECT_TRUE(engine_->Execute("COPY (SELECT 1 AS x) TO 'lake://own/x.csv'").ok());
}

// An engine for people's SQL reaches the lake outside `_basin/` and allowed prefixes only: the
// server's own S3 credentials read no other bucket, and no one reads others' query results.
TEST_F(EngineTest, ConfinedEngineReachesOnlyTheLakeAndAllowedPrefixes) {
  std::string elsewhere = "s3://" + s3_.bucket + "/" + s3_.prefix + "/private/x.csv";
  std::string allowed = "s3://" + s3_.bucket + "/" + s3_.prefix + "/public/";
  ASSERT_TRUE(engine_->Execute("COPY (SELECT 1 AS x) TO '" + elsewhere + "'").ok());
  ASSERT_TRUE(engine_->Execute("COPY (SELECT 2 AS x) TO '" + allowed + "y.csv'").ok());
  ASSERT_TRUE(engine_->Execute("COPY (SELECT 3 AS x) TO 'lake://_basin/query-results/1.csv'").ok());
  ASSERT_TRUE(engine_->Execute("COPY (SELECT 4 AS x) TO 'lake://data/z.csv'").ok());
  auto confined = Engine::Make({.work_dir = storage::testing::TempFolder(),
                                .stores = stores_,
                                .confine_urls = true,
                                .allowed_urls = {allowed}});
  ASSERT_TRUE(confined.ok()) << confined.status().ToString();
  auto user = [&](const std::string& sql, std::vector<std::string> own = {}) {
    return (*confined)->Execute(sql, ExecuteOptions{.own_urls = std::move(own)});
  };
  for (const std::string& sql :
       std::vector<std::string>{"SELECT * FROM read_csv('" + elsewhere + "')",
                                "SELECT * FROM read_text('" + elsewhere + "')",
                                "COPY (SELECT 1) TO '" + elsewhere + ".out'",
                                "SELECT * FROM read_csv('lake://_basin/query-results/1.csv')",
                                "SELECT * FROM read_text('lake://_basin/query-results/*')",
                                "COPY (SELECT 1) TO 'lake://_basin/query-results/2.csv'"}) {
    Result<QueryResult> refused = user(sql);
    EXPECT_EQ(refused.status().code(), StatusCode::kPermissionDenied)
        << sql << ": " << refused.status().ToString();
  }
  // A glob over the whole lake skips basin's own area instead of failing.
  Result<QueryResult> all = user("SELECT count(*) FROM read_text('lake://**')");
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(all->rows[0][0], "1");
  EXPECT_TRUE(user("SELECT * FROM read_csv('" + allowed + "y.csv')").ok());
  EXPECT_TRUE(user("SELECT * FROM read_csv('lake://data/z.csv')").ok());
  // A basin-made statement reaches its own result object.
  EXPECT_TRUE(user("SELECT * FROM read_csv('lake://_basin/query-results/1.csv')",
                   {"lake://_basin/query-results/1.csv"})
                  .ok());
  // A named object that is not there is an error, not an empty result.
  Result<QueryResult> missing = user("SELECT * FROM read_text('lake://data/missing.txt')");
  EXPECT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("lake://data/missing.txt"), std::string::npos)
      << missing.status().ToString();
}

}  // namespace
}  // namespace basin::query
