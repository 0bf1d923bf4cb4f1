#include "basin/catalog/schema.h"

#include <gtest/gtest.h>

namespace basin::catalog {
namespace {

TEST(WidenTypeTest, Scalars) {
  EXPECT_EQ(WidenType("INTEGER", "INTEGER"), "INTEGER");
  EXPECT_EQ(WidenType("INTEGER", "BIGINT"), "BIGINT");
  EXPECT_EQ(WidenType("BIGINT", "DOUBLE"), "DOUBLE");
  EXPECT_EQ(WidenType("BIGINT", "DECIMAL(10,2)"), "DECIMAL(38,9)");
  EXPECT_EQ(WidenType("DATE", "TIMESTAMP"), "TIMESTAMP");
  EXPECT_EQ(WidenType("BOOLEAN", "BIGINT"), "VARCHAR");
  EXPECT_EQ(WidenType("VARCHAR", "BIGINT"), "VARCHAR");
  EXPECT_EQ(WidenType("NULL", "BIGINT"), "BIGINT");
  EXPECT_EQ(WidenType("bigint", "BIGINT"), "BIGINT");
}

TEST(WidenTypeTest, NestedTypesMergeByField) {
  EXPECT_EQ(WidenType("STRUCT(id BIGINT, tags VARCHAR[])", "STRUCT(id INTEGER, score DOUBLE)"),
            "STRUCT(id BIGINT, tags VARCHAR[], score DOUBLE)");
  EXPECT_EQ(WidenType("INTEGER[]", "BIGINT[]"), "BIGINT[]");
  EXPECT_EQ(WidenType("STRUCT(\"my key\" INTEGER)", "STRUCT(\"my key\" DOUBLE)"),
            "STRUCT(\"my key\" DOUBLE)");
  EXPECT_EQ(WidenType("INTEGER[]", "STRUCT(a INTEGER)"), "VARCHAR");
  EXPECT_EQ(NormalizeType("struct(a integer, b varchar[])"), "STRUCT(a INTEGER, b VARCHAR[])");
}

TEST(MergeColumnsTest, UnionByNameInStableOrder) {
  std::vector<Column> base = {{"id", "INTEGER", ""}, {"keyword", "VARCHAR", ""}};
  std::vector<Column> addition = {{"score", "DOUBLE", ""}, {"ID", "BIGINT", ""}};
  std::vector<Column> merged = MergeColumns(base, addition);
  ASSERT_EQ(merged.size(), 3u);
  EXPECT_EQ(merged[0], (Column{"id", "BIGINT", ""}));
  EXPECT_EQ(merged[1].name, "keyword");
  EXPECT_EQ(merged[2], (Column{"score", "DOUBLE", ""}));
}

TEST(DescribeSchemaChangeTest, ReadableDiff) {
  std::vector<Column> before = {{"id", "INTEGER", ""}, {"legacy", "VARCHAR", ""}};
  std::vector<Column> after = {{"id", "BIGINT", ""}, {"score", "DOUBLE", ""}};
  EXPECT_EQ(DescribeSchemaChange(before, after),
            "~ changed id INTEGER -> BIGINT\n+ added score DOUBLE\n- removed legacy VARCHAR\n");
  EXPECT_EQ(DescribeSchemaChange(after, after), "");
}

TEST(CompareColumnsTest, Overlap) {
  SchemaOverlap overlap =
      CompareColumns({{"a", "", ""}, {"b", "", ""}, {"c", "", ""}}, {{"A", "", ""}, {"x", "", ""}});
  EXPECT_EQ(overlap.shared, 1u);
  EXPECT_EQ(overlap.total, 4u);
  EXPECT_DOUBLE_EQ(overlap.Similarity(), 0.25);
}

TEST(QuoteIdentifierTest, EscapesQuotes) {
  EXPECT_EQ(QuoteIdentifier("plain"), "\"plain\"");
  EXPECT_EQ(QuoteIdentifier("a\"b; DROP TABLE x"), "\"a\"\"b; DROP TABLE x\"");
}

}  // namespace
}  // namespace basin::catalog
