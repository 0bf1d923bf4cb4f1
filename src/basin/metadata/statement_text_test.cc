#include "basin/metadata/statement_text.h"

#include <gtest/gtest.h>

namespace basin::metadata {
namespace {

PostgresStatement Translate(std::string_view sql) {
  auto statement = TranslateForPostgres(sql);
  EXPECT_TRUE(statement.ok()) << statement.status().ToString();
  return statement.ValueOr(PostgresStatement{});
}

TEST(TranslateForPostgresTest, NumbersPlaceholdersInOrder) {
  PostgresStatement statement = Translate("UPDATE t SET a = ?, b = ? WHERE id = ?");
  EXPECT_EQ(statement.sql, "UPDATE t SET a = $1, b = $2 WHERE id = $3");
  EXPECT_EQ(statement.parameter_count, 3u);
  EXPECT_FALSE(statement.is_insert);
  EXPECT_EQ(Translate("SELECT ?+?,?").sql, "SELECT $1+$2,$3");
  EXPECT_EQ(Translate("SELECT 1").parameter_count, 0u);
}

TEST(TranslateForPostgresTest, LeavesTextAlone) {
  const char* unchanged[] = {
      "SELECT '?'",
      "SELECT 'it''s ?'",
      "SELECT E'\\'?'",
      "SELECT e'\\\\', '?'",
      "SELECT \"col?\" FROM \"t\"\"?\"",
      "SELECT $$?$$",
      "SELECT $tag$ $$ ? $$ $tag$",
      "SELECT 1 -- ?",
      "SELECT /* ? /* nested ? */ ? */ 1",
      "SELECT U&'d\\0061t?'",
  };
  for (const char* sql : unchanged) {
    PostgresStatement statement = Translate(sql);
    EXPECT_EQ(statement.sql, sql);
    EXPECT_EQ(statement.parameter_count, 0u) << sql;
  }
  // After the literal ends, placeholders count again.
  EXPECT_EQ(Translate("SELECT 'a''?', ?, E'\\'', ?, $x$?$x$, ? -- ?\n, ?").sql,
            "SELECT 'a''?', $1, E'\\'', $2, $x$?$x$, $3 -- ?\n, $4");
  // A backslash ends nothing in a standard string: the literal is '\', then a placeholder.
  EXPECT_EQ(Translate("SELECT '\\', ?").sql, "SELECT '\\', $1");
  // "TABLE'" is no E'' prefix.
  EXPECT_EQ(Translate("SELECT TABLE'\\', ?").sql, "SELECT TABLE'\\', $1");
  // a$b$ is an identifier, no dollar quote.
  EXPECT_EQ(Translate("SELECT a$b$, ?").sql, "SELECT a$b$, $1");
}

TEST(TranslateForPostgresTest, FindsInsertAndReturning) {
  PostgresStatement insert = Translate("  /* c */ insert INTO t (a) VALUES (?) ; -- done\n");
  EXPECT_TRUE(insert.is_insert);
  EXPECT_FALSE(insert.has_returning);
  EXPECT_EQ(insert.sql.substr(0, insert.end_of_code), "  /* c */ insert INTO t (a) VALUES ($1)");
  EXPECT_TRUE(Translate("INSERT INTO t VALUES (1) RETURNING id").has_returning);
  EXPECT_FALSE(Translate("INSERT INTO t VALUES ('RETURNING')").has_returning);
  EXPECT_FALSE(Translate("INSERT INTO t (returning_at) VALUES (1)").has_returning);
  EXPECT_FALSE(Translate("SELECT 'INSERT'").is_insert);
  EXPECT_FALSE(Translate("INSERTED").is_insert);
}

TEST(TranslateForPostgresTest, RefusesNumberedPlaceholders) {
  EXPECT_EQ(TranslateForPostgres("SELECT ?1").status().code(), StatusCode::kInternal);
  EXPECT_EQ(TranslateForPostgres("SELECT $1, ?").status().code(), StatusCode::kInternal);
  EXPECT_EQ(Translate("SELECT '$1', a$1, ?").sql, "SELECT '$1', a$1, $1");
}

TEST(DescribeSqlTest, CollapsesWhitespaceAndTruncates) {
  EXPECT_EQ(DescribeSql("  SELECT\n\t a,\r\n  b  "), "SELECT a, b");
  const std::string longer = DescribeSql(std::string(300, 'x'));
  EXPECT_EQ(longer, std::string(100, 'x') + "...");
}

}  // namespace
}  // namespace basin::metadata
