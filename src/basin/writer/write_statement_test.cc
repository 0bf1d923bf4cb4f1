#include "basin/writer/write_statement.h"

#include <gtest/gtest.h>

#include "basin/query/query_history.h"

namespace basin::writer {
namespace {

WriteStatement Parse(const std::string& sql) {
  Result<std::optional<WriteStatement>> parsed = ParseWriteStatement(sql);
  EXPECT_TRUE(parsed.ok()) << sql << "\n" << parsed.status().ToString();
  EXPECT_TRUE(parsed.ok() && parsed->has_value()) << sql;
  return parsed.ok() && parsed->has_value() ? **parsed : WriteStatement{};
}

Status ParseError(const std::string& sql) {
  Result<std::optional<WriteStatement>> parsed = ParseWriteStatement(sql);
  EXPECT_FALSE(parsed.ok()) << sql << " parsed";
  return parsed.ok() ? Status::OK() : parsed.status();
}

TEST(WriteStatementTest, CreateTableAsWithOptions) {
  WriteStatement statement = Parse(
      "create table IF NOT EXISTS Shop.\"daily_totals\"\n"
      "  WITH (FORMAT = 'PARQUET', partitioned_by = ARRAY['dt', 'Region'], location = "
      "'lake://marts/daily')\n"
      "AS SELECT dt, region, sum(amount) AS total FROM shop.orders GROUP BY ALL;\n");
  EXPECT_EQ(statement.kind, WriteStatement::Kind::kCreateTableAs);
  EXPECT_TRUE(statement.if_not_exists);
  EXPECT_EQ(statement.database, "shop");
  EXPECT_EQ(statement.table, "daily_totals");
  EXPECT_EQ(statement.partitioned_by, (std::vector<std::string>{"dt", "Region"}));
  EXPECT_EQ(statement.location, "lake://marts/daily/");
  EXPECT_EQ(statement.query,
            "SELECT dt, region, sum(amount) AS total FROM shop.orders GROUP BY ALL");
}

TEST(WriteStatementTest, CommentsAndPlainForms) {
  WriteStatement plain =
      Parse("/* nightly */ CREATE -- the table\n TABLE t AS (SELECT 1 AS x) -- done\n ;;");
  EXPECT_EQ(plain.database, "");
  EXPECT_EQ(plain.table, "t");
  EXPECT_FALSE(plain.if_not_exists);
  EXPECT_TRUE(plain.partitioned_by.empty());
  EXPECT_EQ(plain.query, "(SELECT 1 AS x)");

  WriteStatement overwrite = Parse(
      "INSERT OVERWRITE TABLE shop.daily\n"
      "WITH d AS (SELECT 'a;b' AS s, ')' AS p) SELECT * FROM d -- ; not the end\n");
  EXPECT_EQ(overwrite.kind, WriteStatement::Kind::kInsertOverwrite);
  EXPECT_EQ(overwrite.database, "shop");
  EXPECT_EQ(overwrite.table, "daily");
  EXPECT_EQ(overwrite.query, "WITH d AS (SELECT 'a;b' AS s, ')' AS p) SELECT * FROM d");
  EXPECT_EQ(Parse("insert overwrite daily FROM other").query, "FROM other");
  EXPECT_EQ(Parse("INSERT OVERWRITE t SELECT $$a)$$, E'\\')' AS x").query,
            "SELECT $$a)$$, E'\\')' AS x");
}

TEST(WriteStatementTest, OtherSqlIsNotAWriteStatement) {
  for (const char* sql :
       {"SELECT 1", "CREATE TABLE t (a INTEGER)", "CREATE TEMP TABLE t AS SELECT 1",
        "INSERT INTO t SELECT 1", "CREATE OR REPLACE TABLE t (a INT)", "COPY t TO 'lake://x'",
        "CREATE VIEW v AS SELECT 1", "", "-- only a comment", "SELECT 'unterminated"}) {
    Result<std::optional<WriteStatement>> parsed = ParseWriteStatement(sql);
    ASSERT_TRUE(parsed.ok()) << sql << ": " << parsed.status().ToString();
    EXPECT_FALSE(parsed->has_value()) << sql;
    EXPECT_FALSE(IsWriteStatement(sql)) << sql;
  }
}

TEST(WriteStatementTest, MalformedWriteStatementsNameTheProblem) {
  struct Case {
    const char* sql;
    const char* message;
  };
  for (const Case& c : {
           Case{"CREATE TABLE t WITH (format = 'csv') AS SELECT 1",
                "format 'csv' is not supported"},
           Case{"CREATE TABLE t WITH (fromat = 'parquet') AS SELECT 1",
                "unknown WITH option 'fromat'"},
           Case{"CREATE TABLE t WITH (format = 'parquet', format = 'parquet') AS SELECT 1",
                "given twice"},
           Case{"CREATE TABLE t WITH (partitioned_by = 'dt') AS SELECT 1", "ARRAY['column', ...]"},
           Case{"CREATE TABLE t WITH (partitioned_by = ARRAY['dt', 'DT']) AS SELECT 1", "twice"},
           Case{"CREATE TABLE t WITH (location = '/tmp/x') AS SELECT 1", "not a lake URL"},
           Case{"CREATE TABLE t WITH format = 'parquet' AS SELECT 1", "expected '(' after WITH"},
           Case{"CREATE TABLE t WITH (format = 'parquet') SELECT 1", "expected AS"},
           Case{"CREATE TABLE t AS", "no query"},
           Case{"CREATE TABLE t AS DROP TABLE x", "expected a query"},
           Case{"CREATE TABLE t AS SELECT 1; DROP TABLE x", "only statement"},
           Case{"CREATE TABLE t AS SELECT 1) TO 'lake://elsewhere/' (FORMAT csv", "unbalanced ')'"},
           Case{"CREATE TABLE t AS SELECT (1", "unbalanced '('"},
           Case{"CREATE TABLE a.b.c AS SELECT 1", "too many parts"},
           Case{"CREATE TABLE \"Bad Name\" AS SELECT 1", "not valid"},
           Case{"CREATE TABLE t WITH (format = 'parquet AS SELECT 1", "unterminated string"},
           Case{"CREATE OR REPLACE TABLE t AS SELECT 1", "INSERT OVERWRITE"},
           Case{"INSERT OVERWRITE TABLE", "expected a table name"},
           Case{"INSERT OVERWRITE t PARTITION (dt = '2026-11-25') SELECT 1",
                "PARTITION (...) is not supported"},
           Case{"INSERT OVERWRITE INTO t SELECT 1", "expected a query"},
       }) {
    Status status = ParseError(c.sql);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << c.sql;
    EXPECT_NE(status.message().find(c.message), std::string::npos) << c.sql << "\n"
                                                                   << status.message();
    EXPECT_TRUE(IsWriteStatement(c.sql)) << c.sql;
  }
}

// Callers that let some users only read rely on IsReadOnlySql never calling these read-only.
TEST(WriteStatementTest, WriteStatementsAreNeverReadOnly) {
  for (const char* sql :
       {"CREATE TABLE shop.t AS SELECT 1 AS x",
        "CREATE TABLE shop.t WITH (partitioned_by = ARRAY['x']) AS SELECT 1 AS x, 2 AS y",
        "INSERT OVERWRITE shop.t SELECT 1 AS x", "INSERT OVERWRITE TABLE shop.t SELECT 1 AS x"}) {
    EXPECT_TRUE(IsWriteStatement(sql)) << sql;
    Result<bool> read_only = query::IsReadOnlySql(sql);
    EXPECT_FALSE(read_only.ok() && *read_only) << sql;
  }
}

}  // namespace
}  // namespace basin::writer
