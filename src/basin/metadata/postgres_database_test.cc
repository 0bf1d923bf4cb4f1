// Tests of the PostgreSQL engine alone; the behaviour both engines share is tested in
// metadata_test.cc. They need the test server (scripts/with-test-servers.sh) and fail
// without it, except the URL tests at the top.
#include "basin/metadata/postgres_database.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <future>
#include <limits>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "basin/metadata/database.h"
#include "basin/metadata/scratch_database.h"

namespace basin::metadata {
namespace {

TEST(PostgresUrlTest, RecognisesBothSchemes) {
  EXPECT_TRUE(IsPostgresUrl("postgresql://h/db"));
  EXPECT_TRUE(IsPostgresUrl("postgres://h/db"));
  EXPECT_FALSE(IsPostgresUrl("/var/lib/basin/metadata.db"));
  EXPECT_FALSE(IsPostgresUrl("postgresql:relative.db"));
  EXPECT_FALSE(IsPostgresUrl("POSTGRESQL://h/db"));  // libpq's prefixes are lower case
}

TEST(PostgresUrlTest, RedactsThePassword) {
  EXPECT_EQ(RedactPostgresUrl("postgresql://basin:s3cret@db.example:5432/meta"),
            "postgresql://basin:***@db.example:5432/meta");
  EXPECT_EQ(RedactPostgresUrl("postgres://basin@db/meta?sslmode=require&password=s3cret&x=1"),
            "postgres://basin@db/meta?sslmode=require&password=***&x=1");
  EXPECT_EQ(RedactPostgresUrl("postgresql://u:p%40ss@h/d?password=two"),
            "postgresql://u:***@h/d?password=***");
  // An unencoded '@' or '/' in the password: hidden whole all the same.
  EXPECT_EQ(RedactPostgresUrl("postgresql://u:a/b@c@h/d"), "postgresql://u:***@h/d");
  EXPECT_EQ(RedactPostgresUrl("postgresql://h/d"), "postgresql://h/d");
}

class PostgresDatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto scratch = ScratchDatabase::Make(Backend::kPostgres);
    ASSERT_TRUE(scratch.ok()) << scratch.status().ToString();
    scratch_.emplace(std::move(scratch).value());
    url_ = scratch_->location();
  }

  std::unique_ptr<Database> OpenOrDie(const std::string& url) {
    auto db = Database::Open(url);
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    return db.ok() ? std::move(db).value() : nullptr;
  }

  // The test server's URL with its user info replaced.
  static std::string WithUserInfo(const std::string& url, const std::string& user_info) {
    const size_t start = url.find("://") + 3;
    return url.substr(0, start) + user_info + url.substr(url.find('@', start));
  }

  std::optional<ScratchDatabase> scratch_;
  std::string url_;
};

TEST_F(PostgresDatabaseTest, OpenDispatchesOnTheScheme) {
  for (const std::string& url : {url_, "postgres://" + url_.substr(url_.find("://") + 3)}) {
    auto db = OpenOrDie(url);
    ASSERT_NE(db, nullptr) << url;
    auto version = db->QueryRow("SELECT version()");
    ASSERT_TRUE(version.ok()) << version.status().ToString();
    EXPECT_TRUE((*version)->Text(0).ValueOr("").starts_with("PostgreSQL")) << url;
  }
}

TEST_F(PostgresDatabaseTest, PlaceholdersInsideLiteralsAndCommentsAreText) {
  auto db = OpenOrDie(url_);
  auto row = db->QueryRow(
      "SELECT '?' AS \"col?\", $$ ? $$, $tag$ '?' $tag$, E'it\\'s ?', 'it''s ?', ? /* ? /* ? */ "
      "? */, ?::text -- ?\n",
      {std::string("first"), int64_t{2}});
  ASSERT_TRUE(row.ok()) << row.status().ToString();
  ASSERT_TRUE(row->has_value());
  EXPECT_EQ((*row)->Text(0).ValueOr(""), "?");
  EXPECT_EQ((*row)->Text(1).ValueOr(""), " ? ");
  EXPECT_EQ((*row)->Text(2).ValueOr(""), " '?' ");
  EXPECT_EQ((*row)->Text(3).ValueOr(""), "it's ?");
  EXPECT_EQ((*row)->Text(4).ValueOr(""), "it's ?");
  EXPECT_EQ((*row)->Text(5).ValueOr(""), "first");
  EXPECT_EQ((*row)->Text(6).ValueOr(""), "2");
}

TEST_F(PostgresDatabaseTest, ColumnsReadBackAsSqliteWouldReturnThem) {
  auto db = OpenOrDie(url_);
  auto row = db->QueryRow(
      "SELECT true, false, 7::smallint, 8::integer, 9::oid, 10::numeric, 1.25::numeric, "
      "123456789012345678901234567890::numeric, 0.5::real, 'NaN'::float8, "
      "'-Infinity'::float8, '\\x00ff41'::bytea, NULL, 'text'::varchar, CAST(? AS float8), "
      "CAST(? AS float8)",
      {std::numeric_limits<double>::infinity(), std::nan("")});
  ASSERT_TRUE(row.ok()) << row.status().ToString();
  ASSERT_TRUE(row->has_value());
  const Row& r = **row;
  EXPECT_EQ(r[0], Value(int64_t{1}));
  EXPECT_EQ(r[1], Value(int64_t{0}));
  EXPECT_EQ(r[2], Value(int64_t{7}));
  EXPECT_EQ(r[3], Value(int64_t{8}));
  EXPECT_EQ(r[4], Value(int64_t{9}));
  EXPECT_EQ(r[5], Value(int64_t{10}));
  EXPECT_EQ(r[6], Value(1.25));
  EXPECT_NEAR(r.Real(7).ValueOr(0), 1.2345678901234568e29, 1e15);
  EXPECT_EQ(r[8], Value(0.5));
  EXPECT_TRUE(std::isnan(r.Real(9).ValueOr(0)));
  EXPECT_EQ(r.Real(10).ValueOr(0), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(r[11], Value(std::string("\0\xff\x41", 3)));
  EXPECT_TRUE(r.IsNull(12));
  EXPECT_EQ(r[13], Value(std::string("text")));
  EXPECT_EQ(r.Real(14).ValueOr(0), std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(r.Real(15).ValueOr(0)));
}

TEST_F(PostgresDatabaseTest, RejectedValuesAreInvalidArgumentWithoutTheValue) {
  auto db = OpenOrDie(url_);
  const std::string secret = "not-a-number-s3cr3t";
  auto cast = db->Query("SELECT CAST(? AS BIGINT)", {secret});
  EXPECT_EQ(cast.status().code(), StatusCode::kInvalidArgument) << cast.status().ToString();
  EXPECT_EQ(cast.status().message().find(secret), std::string::npos) << cast.status().message();
  EXPECT_NE(cast.status().message().find("SQLSTATE 22P02"), std::string::npos);

  ASSERT_TRUE(db->Execute("CREATE TABLE short (code VARCHAR(3), n INTEGER)").ok());
  Status too_long = db->Execute("INSERT INTO short (code) VALUES (?)", {secret});
  EXPECT_EQ(too_long.code(), StatusCode::kInvalidArgument) << too_long.ToString();
  EXPECT_EQ(too_long.message().find(secret), std::string::npos) << too_long.message();
  Status out_of_range = db->Execute("INSERT INTO short (n) VALUES (?)", {int64_t{1} << 40});
  EXPECT_EQ(out_of_range.code(), StatusCode::kInvalidArgument) << out_of_range.ToString();
  EXPECT_EQ(out_of_range.message().find("1099511627776"), std::string::npos);
  Status not_utf8 = db->Execute("INSERT INTO short (code) VALUES (?)", {std::string("\xff")});
  EXPECT_EQ(not_utf8.code(), StatusCode::kInvalidArgument) << not_utf8.ToString();
}

TEST_F(PostgresDatabaseTest, ConnectionFailuresAreUnavailableWithoutThePassword) {
  const std::string password = "wrong-pa55word-xyzzy";
  for (const std::string& url :
       {WithUserInfo(url_, "basin:" + password),
        "postgresql://basin:" + password + "@127.0.0.1:1/basin_test",
        "postgresql://basin@127.0.0.1:1/basin_test?password=" + password}) {
    auto db = Database::Open(url);
    ASSERT_FALSE(db.ok()) << url;
    EXPECT_EQ(db.status().code(), StatusCode::kUnavailable) << db.status().ToString();
    EXPECT_EQ(db.status().message().find(password), std::string::npos) << db.status().message();
    EXPECT_NE(db.status().message().find("***"), std::string::npos) << db.status().message();
  }
  auto malformed = Database::Open("postgresql://basin:" + password + "@h/db?no_such_option=1");
  EXPECT_EQ(malformed.status().code(), StatusCode::kInvalidArgument)
      << malformed.status().ToString();
  EXPECT_EQ(malformed.status().message().find(password), std::string::npos);
}

TEST_F(PostgresDatabaseTest, ExecuteReturningIdRules) {
  auto db = OpenOrDie(url_);
  ASSERT_TRUE(
      db->Execute("CREATE TABLE t (id BIGINT GENERATED ALWAYS AS IDENTITY, name TEXT UNIQUE)")
          .ok());
  ASSERT_TRUE(db->Execute("CREATE TABLE named (name TEXT PRIMARY KEY)").ok());
  EXPECT_EQ(db->ExecuteReturningId("UPDATE t SET name = 'x'").status().code(),
            StatusCode::kInternal);
  EXPECT_EQ(db->ExecuteReturningId("INSERT INTO named VALUES ('a')").status().code(),
            StatusCode::kInternal);
  EXPECT_EQ(db->ExecuteReturningId("INSERT INTO named VALUES ('b') RETURNING name").status().code(),
            StatusCode::kInternal);
  auto id = db->ExecuteReturningId("insert into t (name) values ('a')  ;  /* lower case */");
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  auto nothing = db->ExecuteReturningId("INSERT INTO t (name) VALUES ('a') ON CONFLICT DO NOTHING");
  EXPECT_EQ(nothing.status().code(), StatusCode::kFailedPrecondition)
      << nothing.status().ToString();
  auto cte = db->ExecuteReturningId(
      "WITH n AS (SELECT 'c' AS name) INSERT INTO t (name) SELECT name FROM n RETURNING id");
  ASSERT_TRUE(cte.ok()) << cte.status().ToString();
  EXPECT_GT(*cte, *id);
}

// On PostgreSQL a failed statement aborts the transaction: a body that ignores the
// error cannot commit the rest.
TEST_F(PostgresDatabaseTest, AFailedStatementAbortsTheTransaction) {
  auto db = OpenOrDie(url_);
  ASSERT_TRUE(db->Execute("CREATE TABLE t (name TEXT UNIQUE)").ok());
  ASSERT_TRUE(db->Execute("INSERT INTO t VALUES ('taken')").ok());
  Status status = db->Transaction([&]() -> Status {
    EXPECT_TRUE(db->Execute("INSERT INTO t VALUES ('a')").ok());
    Status duplicate = db->Execute("INSERT INTO t VALUES ('taken')");
    EXPECT_EQ(duplicate.code(), StatusCode::kAlreadyExists) << duplicate.ToString();
    Status after = db->Execute("INSERT INTO t VALUES ('b')");
    EXPECT_EQ(after.code(), StatusCode::kFailedPrecondition) << after.ToString();
    return Status::OK();
  });
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition) << status.ToString();
  auto rows = db->Query("SELECT name FROM t");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(rows->size(), 1u);
  EXPECT_TRUE(db->Execute("INSERT INTO t VALUES ('c')").ok());
}

TEST_F(PostgresDatabaseTest, NodesOpeningAtOnceMigrateOnce) {
  constexpr int kNodes = 4;
  std::vector<std::future<Result<std::unique_ptr<Database>>>> opens;
  for (int i = 0; i < kNodes; ++i)
    opens.push_back(std::async(std::launch::async, [&] { return Database::Open(url_); }));
  std::vector<std::unique_ptr<Database>> nodes;
  for (auto& open : opens) {
    auto db = open.get();
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    nodes.push_back(std::move(db).value());
  }
  auto rows = nodes[0]->Query("SELECT version FROM schema_migrations ORDER BY version");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(rows->size(), PostgresMigrations().size());
}

TEST_F(PostgresDatabaseTest, ABrokenConnectionIsReplaced) {
  auto db = OpenOrDie(url_);
  auto other = OpenOrDie(url_);
  auto pid = db->QueryRow("SELECT pg_backend_pid()");
  ASSERT_TRUE(pid.ok()) << pid.status().ToString();
  // The timeout makes it wait until the backend is gone.
  auto killed = other->QueryRow("SELECT pg_terminate_backend(?::integer, 5000)", {*(*pid)->Int(0)});
  ASSERT_TRUE(killed.ok()) << killed.status().ToString();
  ASSERT_EQ((*killed)->Int(0).ValueOr(0), 1);
  // The call that finds the connection closed fails; the next one reconnects.
  auto broken = db->Query("SELECT 1");
  EXPECT_EQ(broken.status().code(), StatusCode::kUnavailable) << broken.status().ToString();
  auto again = db->QueryRow("SELECT pg_backend_pid()");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_NE((*again)->Int(0).ValueOr(0), (*pid)->Int(0).ValueOr(0));
}

TEST_F(PostgresDatabaseTest, ATransactionThatCannotGetTheWriteLockIsUnavailable) {
  auto holder = OpenOrDie(url_);
  // A URL setting overrides basin's 5 s lock timeout; 200 ms keeps the test short.
  auto waiter = OpenOrDie(url_ + "%20-clock_timeout%3D200");
  ASSERT_NE(waiter, nullptr);
  std::promise<void> locked;
  std::promise<void> done;
  std::thread holding([&] {
    Status status = holder->Transaction([&] {
      locked.set_value();
      done.get_future().wait();
      return Status::OK();
    });
    EXPECT_TRUE(status.ok()) << status.ToString();
  });
  locked.get_future().wait();
  Status status = waiter->Transaction([] { return Status::OK(); });
  done.set_value();
  holding.join();
  EXPECT_EQ(status.code(), StatusCode::kUnavailable) << status.ToString();
  EXPECT_NE(status.message().find("lock timeout"), std::string::npos) << status.ToString();
  EXPECT_TRUE(waiter->Transaction([] { return Status::OK(); }).ok());
}

TEST_F(PostgresDatabaseTest, MigrationsCreateWhatSqliteCreates) {
  auto postgres = OpenOrDie(url_);
  auto sqlite_scratch = ScratchDatabase::Make(Backend::kSqlite);
  ASSERT_TRUE(sqlite_scratch.ok());
  auto sqlite = OpenOrDie(sqlite_scratch->location());
  ASSERT_NE(postgres, nullptr);
  ASSERT_NE(sqlite, nullptr);
  auto texts = [](Result<std::vector<Row>> rows) {
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    std::vector<std::string> out;
    for (const Row& row : rows.ValueOr({})) {
      std::string line;
      for (size_t i = 0; i < row.size(); ++i)
        line += (i ? " " : "") + (row.Text(i).ok() ? *row.Text(i) : std::to_string(*row.Int(i)));
      out.push_back(line);
    }
    std::sort(out.begin(), out.end());
    return out;
  };
  const auto tables = texts(postgres->Query(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"));
  EXPECT_EQ(tables, texts(sqlite->Query("SELECT name FROM sqlite_master WHERE type = 'table' "
                                        "AND name NOT LIKE 'sqlite%'")));
  for (const std::string& table : tables) {
    // Name and whether it may hold NULL (an SQLite primary key never does).
    EXPECT_EQ(texts(postgres->Query("SELECT column_name, is_nullable = 'NO' "
                                    "FROM information_schema.columns "
                                    "WHERE table_schema = current_schema() AND table_name = ?",
                                    {table})),
              texts(sqlite->Query("SELECT name, \"notnull\" OR pk > 0 FROM pragma_table_info(?)",
                                  {table})))
        << table;
  }
  EXPECT_EQ(texts(postgres->Query("SELECT indexname FROM pg_indexes "
                                  "WHERE schemaname = current_schema() AND indexname NOT IN "
                                  "(SELECT conname FROM pg_constraint)")),
            texts(sqlite->Query("SELECT name FROM sqlite_master WHERE type = 'index' "
                                "AND name NOT LIKE 'sqlite_autoindex%'")));
}

}  // namespace
}  // namespace basin::metadata
