#include <sys/stat.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "basin/metadata/database.h"
#include "basin/metadata/migrations.h"
#include "basin/metadata/sqlite_database.h"

namespace basin::metadata {
namespace {

namespace fs = std::filesystem;

class MetadataDatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "basin-metadata-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    path_ = (dir_ / "metadata.db").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<Database> OpenOrDie(const std::string& path) {
    auto db = Database::Open(path);
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    return db.ok() ? std::move(db).value() : nullptr;
  }

  std::unique_ptr<Database> OpenWithTable() {
    auto db = OpenOrDie(path_);
    EXPECT_TRUE(db->Execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE, n INTEGER, "
                            "x REAL)")
                    .ok());
    return db;
  }

  static int64_t Count(Database& db, std::string_view table) {
    auto rows = db.Query("SELECT COUNT(*) FROM " + std::string(table));
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    return rows.ok() ? (*rows)[0].Int(0).ValueOr(-1) : -1;
  }

  fs::path dir_;
  std::string path_;
};

constexpr Migration kFirst{1, "create t1",
                           "CREATE TABLE t1 (a INTEGER); INSERT INTO t1 VALUES (1);"};
constexpr Migration kSecond{2, "create t2", "CREATE TABLE t2 (b INTEGER);"};
constexpr Migration kBroken{2, "broken",
                            "CREATE TABLE t2 (b INTEGER); INSERT INTO missing VALUES (1);"};

TEST_F(MetadataDatabaseTest, OpenCreatesPrivateFileAndAppliesEveryMigration) {
  auto db = OpenOrDie(path_);
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(db->SchemaVersion(), SqliteMigrations().back().version);
  struct stat info {};
  ASSERT_EQ(stat(path_.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);

  auto rows =
      db->Query("SELECT version, description, applied_at FROM schema_migrations ORDER BY 1");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), SqliteMigrations().size());
  for (size_t i = 0; i < rows->size(); ++i) {
    EXPECT_EQ((*rows)[i].Int(0).ValueOr(0), SqliteMigrations()[i].version);
    EXPECT_EQ((*rows)[i].Text(1).ValueOr(""), SqliteMigrations()[i].description);
    EXPECT_GT((*rows)[i].Int(2).ValueOr(0), 1600000000);
  }
  for (const char* table : {"users", "sessions", "api_tokens", "access_keys"}) {
    EXPECT_EQ(Count(*db, table), 0) << table;
  }
}

TEST_F(MetadataDatabaseTest, PragmasAreSet) {
  auto db = OpenOrDie(path_);
  EXPECT_EQ((*db->Query("PRAGMA journal_mode"))[0].Text(0).ValueOr(""), "wal");
  EXPECT_EQ((*db->Query("PRAGMA synchronous"))[0].Int(0).ValueOr(0), 2);  // FULL
  EXPECT_EQ((*db->Query("PRAGMA foreign_keys"))[0].Int(0).ValueOr(0), 1);
  EXPECT_GT((*db->Query("PRAGMA busy_timeout"))[0].Int(0).ValueOr(0), 0);
}

TEST_F(MetadataDatabaseTest, ReopenIsIdempotent) {
  std::vector<Row> before;
  {
    auto db = OpenOrDie(path_);
    before = *db->Query("SELECT * FROM schema_migrations ORDER BY version");
  }
  auto db = OpenOrDie(path_);
  EXPECT_EQ(*db->Query("SELECT * FROM schema_migrations ORDER BY version"), before);
  EXPECT_EQ(db->SchemaVersion(), SqliteMigrations().back().version);
}

TEST_F(MetadataDatabaseTest, UpgradeAppliesOnlyTheNewMigrations) {
  {
    const Migration first[] = {kFirst};
    auto db = OpenSqliteDatabase(path_, first);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    EXPECT_EQ((*db)->SchemaVersion(), 1);
  }
  // kFirst has no IF NOT EXISTS: applying it twice would fail or double its row.
  const Migration both[] = {kFirst, kSecond};
  auto db = OpenSqliteDatabase(path_, both);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  EXPECT_EQ((*db)->SchemaVersion(), 2);
  EXPECT_EQ(Count(**db, "t1"), 1);
  EXPECT_EQ(Count(**db, "t2"), 0);
  EXPECT_EQ(Count(**db, "schema_migrations"), 2);
}

TEST_F(MetadataDatabaseTest, FailingMigrationRollsBackAlone) {
  const Migration broken[] = {kFirst, kBroken};
  auto failed = OpenSqliteDatabase(path_, broken);
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find("metadata migration 2 (broken) failed"),
            std::string::npos)
      << failed.status().ToString();

  const Migration first[] = {kFirst};
  auto db = OpenSqliteDatabase(path_, first);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  EXPECT_EQ((*db)->SchemaVersion(), 1);
  auto t2 = (*db)->Query("SELECT name FROM sqlite_master WHERE name = 't2'");
  ASSERT_TRUE(t2.ok());
  EXPECT_TRUE(t2->empty()) << "the half-applied migration left table t2 behind";
}

TEST_F(MetadataDatabaseTest, RefusesSchemaNewerThanTheBinary) {
  {
    const Migration both[] = {kFirst, kSecond};
    ASSERT_TRUE(OpenSqliteDatabase(path_, both).ok());
  }
  const Migration first[] = {kFirst};
  auto db = OpenSqliteDatabase(path_, first);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(db.status().message(),
            "metadata schema version 2 is newer than this basin (1); upgrade basin");
}

TEST_F(MetadataDatabaseTest, RefusesSchemaNewerThanTheBinaryThroughOpen) {
  {
    auto db = OpenOrDie(path_);
    ASSERT_TRUE(db->Execute("INSERT INTO schema_migrations VALUES (?, ?, ?)",
                            {int64_t{99}, std::string("from the future"), int64_t{0}})
                    .ok());
  }
  auto db = Database::Open(path_);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(db.status().message(), "metadata schema version 99 is newer than this basin (" +
                                       std::to_string(SqliteMigrations().back().version) +
                                       "); upgrade basin");
}

TEST_F(MetadataDatabaseTest, MisnumberedMigrationsAreABug) {
  const Migration gap[] = {kFirst, Migration{3, "gap", "SELECT 1"}};
  auto db = OpenSqliteDatabase(path_, gap);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), StatusCode::kInternal);
}

TEST_F(MetadataDatabaseTest, OpenFailures) {
  auto missing_dir = Database::Open((dir_ / "no" / "such" / "dir.db").string());
  EXPECT_EQ(missing_dir.status().code(), StatusCode::kIOError) << missing_dir.status().ToString();

  const std::string garbage = (dir_ / "garbage.db").string();
  std::ofstream(garbage) << std::string(8192, 'x');
  auto not_a_database = Database::Open(garbage);
  EXPECT_EQ(not_a_database.status().code(), StatusCode::kIOError)
      << not_a_database.status().ToString();
}

TEST_F(MetadataDatabaseTest, MemoryDatabaseWorks) {
  auto db = OpenOrDie(":memory:");
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(Count(*db, "users"), 0);
}

TEST_F(MetadataDatabaseTest, BoundValuesRoundTrip) {
  auto db = OpenWithTable();
  const std::vector<std::string> texts = {
      "O'Brien\"; DROP TABLE t; --",        "김철수의 데이터 레이크",
      "emoji 🦆 and tab\t and newline\n", "",
      std::string("nul\0inside", 10),       "?, ?, ? placeholders in a value",
  };
  for (const std::string& text : texts) {
    ASSERT_TRUE(
        db->Execute("INSERT INTO t (name, n, x) VALUES (?, ?, ?)", {text, int64_t{42}, 2.5}).ok())
        << text;
    auto row = db->QueryRow("SELECT name, n, x FROM t WHERE name = ?", {text});
    ASSERT_TRUE(row.ok()) << row.status().ToString();
    ASSERT_TRUE(row->has_value()) << text;
    EXPECT_EQ((*row)->Text(0).ValueOr("<wrong>"), text);
    EXPECT_EQ((*row)->Int(1).ValueOr(0), 42);
    EXPECT_EQ((*row)->Real(2).ValueOr(0), 2.5);
  }
  EXPECT_EQ(Count(*db, "t"), static_cast<int64_t>(texts.size()));

  for (int64_t n :
       {std::numeric_limits<int64_t>::min(), int64_t{0}, std::numeric_limits<int64_t>::max()}) {
    auto id = db->ExecuteReturningId("INSERT INTO t (n, name) VALUES (?, ?)", {n, kNull});
    ASSERT_TRUE(id.ok()) << id.status().ToString();
    auto row = db->QueryRow("SELECT n, name FROM t WHERE id = ?", {*id});
    ASSERT_TRUE(row.ok() && row->has_value());
    EXPECT_EQ((*row)->Int(0).ValueOr(1), n);
    EXPECT_TRUE((*row)->IsNull(1));
    EXPECT_EQ((*row)->OptionalText(1).ValueOr("x"), std::nullopt);
  }
}

TEST_F(MetadataDatabaseTest, TypedGettersReportMismatches) {
  Row row({Value(int64_t{7}), Value(std::string("seven")), Value(kNull), Value(1.5)});
  EXPECT_EQ(row.Int(0).ValueOr(0), 7);
  EXPECT_EQ(row.Real(0).ValueOr(0), 7.0);
  EXPECT_EQ(row.Int(1).status().code(), StatusCode::kInternal);
  EXPECT_EQ(row.Text(0).status().code(), StatusCode::kInternal);
  EXPECT_EQ(row.Int(2).status().code(), StatusCode::kInternal);
  EXPECT_EQ(row.OptionalInt(2).ValueOr(5), std::nullopt);
  EXPECT_EQ(row.OptionalInt(0).ValueOr(std::nullopt), 7);
  EXPECT_EQ(row.OptionalText(0).status().code(), StatusCode::kInternal);
  EXPECT_EQ(row.Real(3).ValueOr(0), 1.5);
  EXPECT_EQ(row.Int(4).status().code(), StatusCode::kInternal);
  EXPECT_FALSE(row.IsNull(4));
  EXPECT_EQ(NullableValue(std::optional<int64_t>()), Value(kNull));
  EXPECT_EQ(NullableValue(std::optional<int64_t>(3)), Value(int64_t{3}));
}

TEST_F(MetadataDatabaseTest, StatementMistakesAreInternal) {
  auto db = OpenWithTable();
  EXPECT_EQ(db->Execute("INSERT INTO t (name) VALUES (?)").code(), StatusCode::kInternal);
  EXPECT_EQ(db->Execute("INSERT INTO t (name) VALUES (?)", {std::string("a"), int64_t{1}}).code(),
            StatusCode::kInternal);
  EXPECT_EQ(db->Execute("SELEKT 1").code(), StatusCode::kInternal);
  EXPECT_EQ(db->Execute("INSERT INTO t (name) VALUES ('a'); DELETE FROM t").code(),
            StatusCode::kInternal);
  EXPECT_EQ(Count(*db, "t"), 0) << "the first of two statements must not run";
  EXPECT_TRUE(db->Execute("SELECT 1; -- a trailing comment is fine").ok());
}

TEST_F(MetadataDatabaseTest, ConstraintViolationsMapToCodesWithoutValues) {
  auto db = OpenWithTable();
  const std::string secret = "s3cr3t-value-that-must-not-leak";
  ASSERT_TRUE(db->Execute("INSERT INTO t (name) VALUES (?)", {secret}).ok());
  Status duplicate = db->Execute("INSERT INTO t (name) VALUES (?)", {secret});
  EXPECT_EQ(duplicate.code(), StatusCode::kAlreadyExists) << duplicate.ToString();
  EXPECT_EQ(duplicate.message().find(secret), std::string::npos) << duplicate.message();

  Status primary_key = db->Execute("INSERT INTO t (id, name) VALUES (?, ?)",
                                   {*(*db->QueryRow("SELECT id FROM t"))->Int(0), kNull});
  EXPECT_EQ(primary_key.code(), StatusCode::kAlreadyExists) << primary_key.ToString();

  Status foreign_key = db->Execute(
      "INSERT INTO sessions (user_id, token_hash, created_at, expires_at) VALUES (?, ?, 0, 0)",
      {int64_t{12345}, std::string("hash")});
  EXPECT_EQ(foreign_key.code(), StatusCode::kFailedPrecondition) << foreign_key.ToString();
}

TEST_F(MetadataDatabaseTest, ChangeCountsAndQueryRow) {
  auto db = OpenWithTable();
  for (const char* name : {"a", "b", "c"}) {
    ASSERT_TRUE(db->Execute("INSERT INTO t (name, n) VALUES (?, 1)", {std::string(name)}).ok());
  }
  EXPECT_EQ(
      db->ExecuteReturningChangeCount("UPDATE t SET n = 2 WHERE name <> ?", {std::string("a")})
          .ValueOr(-1),
      2);
  EXPECT_EQ(db->ExecuteReturningChangeCount("DELETE FROM t WHERE name = 'zzz'").ValueOr(-1), 0);
  auto none = db->QueryRow("SELECT id FROM t WHERE name = 'zzz'");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  EXPECT_EQ(db->QueryRow("SELECT id FROM t").status().code(), StatusCode::kInternal);
}

TEST_F(MetadataDatabaseTest, TransactionCommitsOnOk) {
  auto db = OpenWithTable();
  ASSERT_TRUE(db->Transaction([&] {
                  BASIN_RETURN_IF_ERROR(db->Execute("INSERT INTO t (name) VALUES ('a')"));
                  return db->Execute("INSERT INTO t (name) VALUES ('b')");
                }).ok());
  EXPECT_EQ(Count(*db, "t"), 2);
}

TEST_F(MetadataDatabaseTest, TransactionRollsBackOnError) {
  auto db = OpenWithTable();
  Status status = db->Transaction([&]() -> Status {
    BASIN_RETURN_IF_ERROR(db->Execute("INSERT INTO t (name) VALUES ('a')"));
    return Status::InvalidArgument("changed my mind");
  });
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "changed my mind");
  EXPECT_EQ(Count(*db, "t"), 0);

  // A failing statement inside the body rolls back the earlier ones too.
  status = db->Transaction([&]() -> Status {
    BASIN_RETURN_IF_ERROR(db->Execute("INSERT INTO t (name) VALUES ('a')"));
    return db->Execute("INSERT INTO t (name) VALUES ('a')");
  });
  EXPECT_EQ(status.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(Count(*db, "t"), 0);
}

TEST_F(MetadataDatabaseTest, TransactionRollsBackOnException) {
  auto db = OpenWithTable();
  EXPECT_THROW((void)db->Transaction([&]() -> Status {
    EXPECT_TRUE(db->Execute("INSERT INTO t (name) VALUES ('a')").ok());
    throw std::runtime_error("boom");
  }),
               std::runtime_error);
  EXPECT_EQ(Count(*db, "t"), 0);
  // The connection is usable again: no transaction was left open.
  EXPECT_TRUE(
      db->Transaction([&] { return db->Execute("INSERT INTO t (name) VALUES ('b')"); }).ok());
  EXPECT_EQ(Count(*db, "t"), 1);
}

TEST_F(MetadataDatabaseTest, NestedTransactionRollsBackAlone) {
  auto db = OpenWithTable();
  Status status = db->Transaction([&]() -> Status {
    BASIN_RETURN_IF_ERROR(db->Execute("INSERT INTO t (name) VALUES ('outer')"));
    Status inner = db->Transaction([&]() -> Status {
      BASIN_RETURN_IF_ERROR(db->Execute("INSERT INTO t (name) VALUES ('inner')"));
      return Status::Cancelled("inner gives up");
    });
    EXPECT_EQ(inner.code(), StatusCode::kCancelled);
    return db->Transaction([&] { return db->Execute("INSERT INTO t (name) VALUES ('second')"); });
  });
  ASSERT_TRUE(status.ok()) << status.ToString();
  auto names = db->Query("SELECT name FROM t ORDER BY name");
  ASSERT_TRUE(names.ok());
  ASSERT_EQ(names->size(), 2u);
  EXPECT_EQ((*names)[0].Text(0).ValueOr(""), "outer");
  EXPECT_EQ((*names)[1].Text(0).ValueOr(""), "second");
}

TEST_F(MetadataDatabaseTest, StatementsAfterAnAutomaticRollbackDoNotRun) {
  auto db = OpenWithTable();
  ASSERT_TRUE(db->Execute("PRAGMA max_page_count = 1").ok());  // no room to grow
  Status status = db->Transaction([&]() -> Status {
    BASIN_RETURN_IF_ERROR(db->Execute("INSERT INTO t (name) VALUES ('a')"));
    // SQLITE_FULL rolls the whole transaction back. A careless body carries on...
    Status full = db->Execute("INSERT INTO t (name) VALUES (randomblob(100000))");
    EXPECT_EQ(full.code(), StatusCode::kIOError) << full.ToString();
    // ...but nothing more runs outside the transaction it thinks it is in.
    Status after = db->Execute("INSERT INTO t (name) VALUES ('b')");
    EXPECT_EQ(after.code(), StatusCode::kFailedPrecondition) << after.ToString();
    return Status::OK();
  });
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(Count(*db, "t"), 0);
  EXPECT_TRUE(db->Execute("INSERT INTO t (name) VALUES ('c')").ok());
}

TEST_F(MetadataDatabaseTest, ConcurrentWritersFromSeveralThreads) {
  auto db = OpenWithTable();
  constexpr int kThreads = 6;
  constexpr int kWritesPerThread = 40;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kWritesPerThread; ++i) {
        const std::string name = std::to_string(t) + "-" + std::to_string(i);
        Status status;
        if (i % 2 == 0) {
          status = db->Execute("INSERT INTO t (name, n) VALUES (?, ?)", {name, int64_t{t}});
        } else {
          // Read-modify-write: without the transaction holding the connection, two
          // threads could read the same count.
          status = db->Transaction([&]() -> Status {
            BASIN_ASSIGN_OR_RETURN(std::vector<Row> rows, db->Query("SELECT COUNT(*) FROM t"));
            BASIN_ASSIGN_OR_RETURN(int64_t count, rows[0].Int(0));
            return db->Execute("INSERT INTO t (name, n) VALUES (?, ?)", {name, count});
          });
        }
        if (!status.ok())
          failures++;
        if (!db->Query("SELECT COUNT(*) FROM t").ok())
          failures++;
      }
    });
  }
  for (std::thread& thread : threads)
    thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(Count(*db, "t"), kThreads * kWritesPerThread);
}

TEST_F(MetadataDatabaseTest, TwoConnectionsToOneFileWaitForEachOther) {
  auto first = OpenWithTable();
  auto second = OpenOrDie(path_);
  constexpr int kWrites = 25;
  std::atomic<int> failures{0};
  auto writer = [&](Database& db, const std::string& prefix) {
    for (int i = 0; i < kWrites; ++i) {
      Status status = db.Transaction([&]() -> Status {
        BASIN_ASSIGN_OR_RETURN(std::vector<Row> rows, db.Query("SELECT COUNT(*) FROM t"));
        BASIN_ASSIGN_OR_RETURN(int64_t count, rows[0].Int(0));
        return db.Execute("INSERT INTO t (name, n) VALUES (?, ?)",
                          {prefix + std::to_string(i), count});
      });
      if (!status.ok())
        failures++;
    }
  };
  std::thread a(writer, std::ref(*first), "a");
  std::thread b(writer, std::ref(*second), "b");
  a.join();
  b.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(Count(*first, "t"), 2 * kWrites);
  // Every transaction saw every earlier commit: the counts are 0..2*kWrites-1, each once.
  EXPECT_EQ(Count(*first, "(SELECT DISTINCT n FROM t)"), 2 * kWrites);
}

}  // namespace
}  // namespace basin::metadata
