#include "basin/crawler/partition_path.h"

#include <gtest/gtest.h>

namespace basin::crawler {
namespace {

TEST(PartitionPathTest, HiveAndPlainLevels) {
  auto hive = ParsePartitionPath("dt=2026-11-24/event=click");
  ASSERT_EQ(hive.size(), 2u);
  EXPECT_EQ(hive[0].name, "dt");
  EXPECT_EQ(hive[0].value, "2026-11-24");
  EXPECT_EQ(hive[1].name, "event");
  auto plain = ParsePartitionPath("2026/11/24");
  ASSERT_EQ(plain.size(), 3u);
  EXPECT_EQ(plain[0].name, "");
  EXPECT_EQ(plain[2].value, "24");
  EXPECT_TRUE(ParsePartitionPath("").empty());
  auto escaped = ParsePartitionPath("path=a%2Fb/k%3Dx=1");
  EXPECT_EQ(escaped[0].value, "a/b");
  EXPECT_EQ(escaped[1].name, "k=x");
  EXPECT_EQ(ParsePartitionPath("키워드=신발")[0].value, "신발");
}

TEST(PartitionPathTest, Types) {
  EXPECT_EQ(InferPartitionType({"2026-11-24", "2026-11-25"}), "DATE");
  EXPECT_EQ(InferPartitionType({"2026", "2025"}), "BIGINT");
  EXPECT_EQ(InferPartitionType({"11", "__HIVE_DEFAULT_PARTITION__"}), "BIGINT");
  EXPECT_EQ(InferPartitionType({"2026-13-01"}), "VARCHAR");
  EXPECT_EQ(InferPartitionType({"click", "1"}), "VARCHAR");
  EXPECT_EQ(InferPartitionType({"99999999999999999999"}), "VARCHAR");
}

}  // namespace
}  // namespace basin::crawler
