#include "basin/writer/table_writer.h"

#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include "basin/query/catalog_lake_testing.h"
#include "basin/storage/local_object_store.h"
#include "basin/storage/test_stores.h"

namespace basin::writer {
namespace {

struct Setup {
  metadata::Backend backend;
  bool s3_lake;
};

std::string SetupName(const Setup& setup) {
  return std::string(metadata::BackendName(setup.backend)) + (setup.s3_lake ? "S3" : "Local");
}

void PrintTo(const Setup& setup, std::ostream* out) {
  *out << SetupName(setup);
}

// 30 orders over three days (2026-11-24 .. 26), ten a day: day = 24 + id % 3.
constexpr const char* kOrders =
    "SELECT range AS id, 'k' || (range % 5) AS keyword, CAST(range AS DECIMAL(10, 2)) / 2 AS "
    "amount, "
    "DATE '2026-11-24' + CAST(range % 3 AS INTEGER) AS dt FROM range(30)";

// A writer over a fresh lake (a temp folder or a prefix of the S3 test server), a fresh
// metadata database, and an engine that reads catalog tables as `basin query` does.
class TableWriterTest : public ::testing::TestWithParam<Setup>,
                        protected query::testing::CatalogLake {
 protected:
  void SetUp() override {
    root_ = storage::testing::TempFolder();
    std::shared_ptr<storage::ObjectStore> lake;
    if (GetParam().s3_lake) {
      auto store = storage::S3ObjectStore::Make(storage::testing::TestS3Options());
      ASSERT_TRUE(store.ok()) << store.status().ToString();
      lake = std::shared_ptr<storage::ObjectStore>(std::move(store).value());
    } else {
      lake = std::shared_ptr<storage::ObjectStore>(
          std::move(storage::LocalObjectStore::Make(root_ + "/lake")).value());
    }
    SetUpCatalogLake(std::move(lake), GetParam().backend, "mart");
    if (HasFatalFailure())
      return;
    writer_ = std::make_unique<TableWriter>(*catalog_, *stores_, *engine_);
  }

  void TearDown() override {
    writer_.reset();
    TearDownCatalogLake();
  }

  Result<WriteResult> Write(const std::string& sql, const std::atomic<bool>* cancel = nullptr) {
    WriteContext context{.default_database = "mart", .user = "ana", .cancel = cancel};
    BASIN_ASSIGN_OR_RETURN(std::optional<WriteResult> result,
                           writer_->RunIfWriteStatement(sql, context));
    if (!result)
      return Status::Internal("not a write statement: " + sql);
    return *result;
  }

  WriteResult WriteOk(const std::string& sql) {
    Result<WriteResult> result = Write(sql);
    EXPECT_TRUE(result.ok()) << sql << "\n" << result.status().ToString();
    return result.ok() ? *result : WriteResult{};
  }

  std::vector<catalog::Partition> Partitions(const std::string& table) {
    Result<catalog::Table> found = catalog_->GetTable("mart", table);
    EXPECT_TRUE(found.ok()) << found.status().ToString();
    return found.ok() ? *catalog_->ListPartitions(found->id) : std::vector<catalog::Partition>{};
  }

  std::string CreateOrders() {
    WriteResult created = WriteOk(
        "CREATE TABLE mart.orders WITH (format = 'parquet', partitioned_by = ARRAY['dt']) AS " +
        std::string(kOrders));
    return created.location;
  }

  std::unique_ptr<TableWriter> writer_;
};

INSTANTIATE_TEST_SUITE_P(Backends, TableWriterTest,
                         ::testing::Values(Setup{metadata::Backend::kSqlite, false},
                                           Setup{metadata::Backend::kPostgres, false},
                                           Setup{metadata::Backend::kSqlite, true}),
                         [](const auto& info) { return SetupName(info.param); });

TEST_P(TableWriterTest, CreatePartitionedTableRegistersPartitionsAndReadsBack) {
  WriteResult created = WriteOk(
      "CREATE TABLE mart.orders WITH (format = 'parquet', partitioned_by = ARRAY['dt']) AS " +
      std::string(kOrders));
  EXPECT_EQ(created.table, "mart.orders");
  EXPECT_TRUE(created.created);
  EXPECT_EQ(created.partitions_written, 3);
  EXPECT_EQ(created.partitions_replaced, 0);
  EXPECT_EQ(created.rows, 30);
  EXPECT_EQ(created.objects, 3);
  EXPECT_GT(created.bytes, 0);
  EXPECT_EQ(created.location, "lake://warehouse/mart/orders/");
  EXPECT_EQ(Summary(created).rfind(
                "created mart.orders: 3 partition(s) written, 30 row(s) in 3 object(s)", 0),
            0u)
      << Summary(created);

  catalog::Table table = *catalog_->GetTable("mart", "orders");
  EXPECT_EQ(catalog::TableFormatName(table.format), "parquet");
  EXPECT_EQ(table.created_by, "user:ana");
  EXPECT_EQ(table.columns,
            (std::vector<catalog::Column>{
                {"id", "BIGINT", ""}, {"keyword", "VARCHAR", ""}, {"amount", "DOUBLE", ""}}));
  EXPECT_EQ(table.partition_keys, (std::vector<catalog::PartitionKey>{{"dt", "DATE"}}));
  EXPECT_EQ(table.stats.rows, 30);
  EXPECT_EQ(table.stats.objects, 3);
  std::vector<catalog::Partition> partitions = Partitions("orders");
  ASSERT_EQ(partitions.size(), 3u);
  EXPECT_EQ(partitions[0].values, (std::vector<std::string>{"2026-11-24"}));
  EXPECT_EQ(partitions[0].location.rfind("lake://warehouse/mart/orders/dt=2026-11-24/w-", 0), 0u)
      << partitions[0].location;
  EXPECT_EQ(partitions[0].objects, 1);
  EXPECT_EQ(partitions[0].columns, table.columns);

  EXPECT_EQ(Scalar("SELECT count(*) || ' ' || sum(id) || ' ' || sum(amount) FROM mart.orders"),
            "30 435 217.5");
  EXPECT_EQ(Scalar("SELECT count(*) FROM mart.orders WHERE dt = DATE '2026-11-25'"), "10");
  EXPECT_EQ(Keys("warehouse/").size(), 3u) << "nothing but the table's objects";
}

TEST_P(TableWriterTest, UnpartitionedTableSwitchesToEachWritesFolder) {
  WriteResult created =
      WriteOk("CREATE TABLE totals AS SELECT 'a' AS k, 1 AS v UNION ALL SELECT 'b', 2");
  EXPECT_EQ(created.table, "mart.totals") << "the default database";
  EXPECT_EQ(created.partitions_written, 0);
  EXPECT_EQ(created.rows, 2);
  EXPECT_EQ(created.location.rfind("lake://warehouse/mart/totals/w-", 0), 0u) << created.location;
  EXPECT_EQ(catalog_->GetTable("mart", "totals")->location, created.location);
  EXPECT_EQ(Scalar("SELECT sum(v) FROM mart.totals"), "3");

  Result<WriteResult> again = Write("CREATE TABLE mart.totals AS SELECT 1 AS v");
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  EXPECT_NE(again.status().message().find("INSERT OVERWRITE mart.totals"), std::string::npos);
  WriteResult skipped = WriteOk("CREATE TABLE IF NOT EXISTS mart.totals AS SELECT 1 AS v");
  EXPECT_TRUE(skipped.skipped);
  EXPECT_FALSE(skipped.created);
  EXPECT_EQ(skipped.location, created.location);
  EXPECT_EQ(Summary(skipped), "mart.totals already exists; nothing written");
  EXPECT_EQ(Keys("warehouse/").size(), 1u);

  WriteResult overwritten = WriteOk("INSERT OVERWRITE mart.totals SELECT 10 AS v, 'c' AS k");
  EXPECT_FALSE(overwritten.created);
  EXPECT_EQ(overwritten.rows, 1);
  EXPECT_NE(overwritten.location, created.location);
  EXPECT_EQ(overwritten.location.rfind("lake://warehouse/mart/totals/w-", 0), 0u);
  EXPECT_EQ(Scalar("SELECT k || v FROM mart.totals"), "c10");
  std::vector<std::string> keys = Keys("warehouse/");
  ASSERT_EQ(keys.size(), 1u) << "the replaced folder is deleted";
  EXPECT_EQ("lake://" + keys[0], overwritten.location + "part-0.parquet");
  EXPECT_EQ(catalog_->GetTable("mart", "totals")->stats.rows, 1);
}

TEST_P(TableWriterTest, OverwriteReplacesExactlyTheDaysTheQueryProduces) {
  CreateOrders();
  std::vector<catalog::Partition> before = Partitions("orders");
  // Day 25 again, with five of its ten orders (ids 1, 4, 7, 10, 13), columns in another order.
  std::string day =
      "INSERT OVERWRITE TABLE mart.orders SELECT dt, CAST(amount AS VARCHAR) AS amount, keyword, "
      "CAST(id + 1000 AS INTEGER) AS id FROM (" +
      std::string(kOrders) + ") WHERE dt = DATE '2026-11-25' AND id < 15";
  for (int run = 0; run < 2; ++run) {
    WriteResult overwritten = WriteOk(day);
    EXPECT_EQ(overwritten.partitions_written, 1);
    EXPECT_EQ(overwritten.partitions_replaced, 1);
    EXPECT_EQ(overwritten.rows, 5);
    EXPECT_EQ(Scalar("SELECT count(*) FROM mart.orders"), "25") << "run " << run;
    EXPECT_EQ(
        Scalar("SELECT count(*) || ' ' || min(id) FROM mart.orders WHERE dt = DATE '2026-11-25'"),
        "5 1001");
    std::vector<catalog::Partition> after = Partitions("orders");
    ASSERT_EQ(after.size(), 3u);
    EXPECT_EQ(after[0].location, before[0].location) << "other days untouched";
    EXPECT_EQ(after[2].location, before[2].location);
    EXPECT_NE(after[1].location, before[1].location);
    EXPECT_EQ(Keys("warehouse/mart/orders/dt=2026-11-25/").size(), 1u)
        << "the replaced objects are deleted";
  }
  EXPECT_EQ(Scalar("SELECT count(*) FROM mart.orders WHERE dt = DATE '2026-11-24'"), "10");
  EXPECT_FALSE(catalog_->GetTable("mart", "orders")->stats.rows.has_value())
      << "kept partitions' rows are unknown";

  // A day the table did not have is added; a query reading the table it overwrites works.
  WriteResult added = WriteOk(
      "INSERT OVERWRITE mart.orders SELECT id, keyword, amount, DATE '2026-11-27' AS dt "
      "FROM mart.orders WHERE dt = DATE '2026-11-24'");
  EXPECT_EQ(added.partitions_written, 1);
  EXPECT_EQ(added.partitions_replaced, 0);
  EXPECT_EQ(Partitions("orders").size(), 4u);
  EXPECT_EQ(Scalar("SELECT count(*) FROM mart.orders"), "35");
  // Rows of several days replace each of them; a query with no rows replaces nothing.
  WriteResult all = WriteOk("INSERT OVERWRITE mart.orders " + std::string(kOrders));
  EXPECT_EQ(all.partitions_replaced, 3);
  EXPECT_EQ(Scalar("SELECT count(*) FROM mart.orders"), "40");
  WriteResult none = WriteOk("INSERT OVERWRITE mart.orders SELECT * FROM mart.orders WHERE false");
  EXPECT_EQ(none.partitions_written + none.partitions_replaced, 0);
  EXPECT_EQ(Scalar("SELECT count(*) FROM mart.orders"), "40");
}

TEST_P(TableWriterTest, FailuresLeaveCatalogAndLakeUnchanged) {
  CreateOrders();
  std::vector<std::string> keys = Keys("");
  std::vector<catalog::Partition> partitions = Partitions("orders");
  auto unchanged = [&](const std::string& what) {
    EXPECT_EQ(Keys(""), keys) << what;
    std::vector<catalog::Partition> now = Partitions("orders");
    ASSERT_EQ(now.size(), partitions.size()) << what;
    for (size_t i = 0; i < now.size(); ++i)
      EXPECT_EQ(now[i].location, partitions[i].location) << what;
    EXPECT_EQ(Scalar("SELECT count(*) FROM mart.orders"), "30") << what;
  };

  // Fails while DuckDB runs the query.
  Result<WriteResult> runtime = Write(
      "INSERT OVERWRITE mart.orders SELECT CAST(CASE WHEN id = 25 THEN 'x' ELSE id::VARCHAR END AS "
      "INT) AS id, "
      "keyword, amount, dt FROM (" +
      std::string(kOrders) + ")");
  EXPECT_EQ(runtime.status().code(), StatusCode::kInvalidArgument) << runtime.status().ToString();
  EXPECT_NE(runtime.status().message().find("writing mart.orders"), std::string::npos)
      << runtime.status().message();
  unchanged("runtime error");
  EXPECT_FALSE(Write("CREATE TABLE mart.broken AS SELECT CAST('x' AS INT) AS v").ok());
  EXPECT_TRUE(catalog_->GetTable("mart", "broken").status().IsNotFound());
  unchanged("failed create");

  // Fails after the objects are written (a NULL partition value): they are deleted again.
  Result<WriteResult> null_day = Write(
      "INSERT OVERWRITE mart.orders SELECT id, keyword, amount, "
      "CASE WHEN id = 3 THEN NULL ELSE dt END AS dt FROM (" +
      std::string(kOrders) + ")");
  EXPECT_EQ(null_day.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(null_day.status().message().find("partition column 'dt' is NULL"), std::string::npos)
      << null_day.status().message();
  unchanged("NULL partition");

  std::atomic<bool> cancel{true};
  EXPECT_EQ(Write("INSERT OVERWRITE mart.orders " + std::string(kOrders), &cancel).status().code(),
            StatusCode::kCancelled);
  unchanged("cancelled");
}

TEST_P(TableWriterTest, StatementsThatDoNotFitAreRefusedBeforeWriting) {
  CreateOrders();
  std::vector<std::string> keys = Keys("");
  struct Case {
    std::string sql;
    StatusCode code;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {"CREATE TABLE mart.t WITH (partitioned_by = ARRAY['day']) AS SELECT 1 AS x, DATE "
            "'2026-11-25' AS dt",
            StatusCode::kInvalidArgument,
            "partition column 'day' is not a column of the query (its columns: x, dt)"},
           {"INSERT OVERWRITE mart.orders SELECT id, keyword, dt FROM mart.orders",
            StatusCode::kInvalidArgument, "has column 'amount', which the query does not produce"},
           {"INSERT OVERWRITE mart.orders SELECT *, 1 AS extra FROM mart.orders",
            StatusCode::kInvalidArgument, "column 'extra' is not a column of table mart.orders"},
           {"INSERT OVERWRITE mart.nothing SELECT 1 AS x", StatusCode::kNotFound,
            "no such table: mart.nothing"},
           {"CREATE TABLE mart.t WITH (format = 'csv') AS SELECT 1 AS x",
            StatusCode::kInvalidArgument, "format 'csv' is not supported"},
           {"CREATE TABLE mart.t AS SELEC 1", StatusCode::kInvalidArgument, "expected a query"},
           {"CREATE TABLE mart.t AS SELECT * FROM mart.nothing", StatusCode::kInvalidArgument,
            "mart.nothing"},
           {"CREATE TABLE mart.t WITH (location = 'lake://') AS SELECT 1 AS x",
            StatusCode::kInvalidArgument, "the lake's root"},
       }) {
    Result<WriteResult> result = Write(c.sql);
    EXPECT_EQ(result.status().code(), c.code) << c.sql << "\n" << result.status().ToString();
    EXPECT_NE(result.status().message().find(c.message), std::string::npos)
        << c.sql << "\n"
        << result.status().message();
  }
  EXPECT_TRUE(catalog_->GetTable("mart", "t").status().IsNotFound());
  EXPECT_EQ(Keys(""), keys);
  Result<std::optional<WriteResult>> select =
      writer_->RunIfWriteStatement("SELECT 1", {.default_database = "mart"});
  ASSERT_TRUE(select.ok());
  EXPECT_FALSE(select->has_value()) << "other SQL is the engine's";
}

TEST_P(TableWriterTest, ZeroRowsMakeATableWithoutPartitionsAndOwnLocation) {
  WriteResult empty = WriteOk(
      "CREATE TABLE mart.empty WITH (partitioned_by = ARRAY['dt'], "
      "location = 'lake://marts/empty') AS " +
      std::string(kOrders) + " WHERE false");
  EXPECT_TRUE(empty.created);
  EXPECT_EQ(empty.rows, 0);
  EXPECT_EQ(empty.partitions_written, 0);
  EXPECT_EQ(empty.location, "lake://marts/empty/");
  EXPECT_TRUE(Partitions("empty").empty());
  EXPECT_EQ(catalog_->GetTable("mart", "empty")->partition_keys.size(), 1u);
  EXPECT_EQ(Scalar("SELECT count(*) FROM mart.empty"), "0");
  WriteResult filled = WriteOk("INSERT OVERWRITE mart.empty " + std::string(kOrders));
  EXPECT_EQ(filled.partitions_written, 3);
  EXPECT_EQ(Scalar("SELECT count(*) FROM mart.empty"), "30");
  EXPECT_EQ(Keys("marts/empty/").size(), 3u);
}

TEST_P(TableWriterTest, ConcurrentOverwritesOfOneDayEndWithOneCopy) {
  CreateOrders();
  std::string day = "INSERT OVERWRITE mart.orders SELECT * FROM (" + std::string(kOrders) +
                    ") WHERE dt = DATE '2026-11-26'";
  std::vector<std::thread> threads;
  std::atomic<int> succeeded{0};
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([&] {
      if (Write(day).ok())
        succeeded.fetch_add(1);
    });
  }
  for (std::thread& thread : threads)
    thread.join();
  EXPECT_EQ(succeeded.load(), 3);
  EXPECT_EQ(Partitions("orders").size(), 3u);
  EXPECT_EQ(Scalar("SELECT count(*) FROM mart.orders"), "30");
  EXPECT_EQ(Keys("warehouse/mart/orders/dt=2026-11-26/").size(), 1u);
}

// The person's SELECT runs on basin's engine but reaches only what their own SQL may, and
// reads unqualified tables in their default database.
TEST_P(TableWriterTest, PersonsSelectIsConfinedAndUsesTheDefaultDatabase) {
  CreateOrders();
  WriteResult copied = WriteOk("CREATE TABLE mart.copy AS SELECT count(*) AS n FROM orders");
  EXPECT_EQ(copied.rows, 1);
  ASSERT_TRUE(stores_->lake().Write("_basin/query-results/1.csv", "x\n1\n").ok());
  Result<WriteResult> refused = Write(
      "CREATE TABLE mart.stolen AS SELECT * FROM read_csv('lake://_basin/query-results/1.csv')");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("_basin"), std::string::npos)
      << refused.status().ToString();
  EXPECT_TRUE(catalog_->GetTable("mart", "stolen").status().IsNotFound());
}

}  // namespace
}  // namespace basin::writer
