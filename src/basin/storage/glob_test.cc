#include "basin/storage/glob.h"

#include <gtest/gtest.h>

namespace basin::storage {
namespace {

TEST(GlobTest, SegmentWildcards) {
  EXPECT_TRUE(GlobMatch("t/*.parquet", "t/a.parquet"));
  EXPECT_FALSE(GlobMatch("t/*.parquet", "t/dt=1/a.parquet"));
  EXPECT_TRUE(GlobMatch("t/dt=*/*.csv", "t/dt=2026-11-24/x.csv"));
  EXPECT_TRUE(GlobMatch("t/part-?.csv", "t/part-7.csv"));
  EXPECT_FALSE(GlobMatch("t/part-?.csv", "t/part-17.csv"));
  EXPECT_TRUE(GlobMatch("t/[ab].csv", "t/b.csv"));
  EXPECT_FALSE(GlobMatch("t/[!ab].csv", "t/b.csv"));
  EXPECT_TRUE(GlobMatch("t/[0-9].csv", "t/5.csv"));
  EXPECT_TRUE(GlobMatch("검색어/*.csv", "검색어/키워드.csv"));
}

TEST(GlobTest, DoubleStarCrossesSegments) {
  EXPECT_TRUE(GlobMatch("t/**/*.parquet", "t/a.parquet"));
  EXPECT_TRUE(GlobMatch("t/**/*.parquet", "t/dt=1/h=2/a.parquet"));
  EXPECT_FALSE(GlobMatch("t/**/*.parquet", "u/a.parquet"));
  EXPECT_TRUE(GlobMatch("**", "a/b/c"));
}

TEST(GlobTest, ListingPrefix) {
  EXPECT_EQ(GlobListingPrefix("t/dt=*/x.csv"), "t/");
  EXPECT_EQ(GlobListingPrefix("a/b/c*.csv"), "a/b/");
  EXPECT_EQ(GlobListingPrefix("*.csv"), "");
  EXPECT_TRUE(HasGlob("a/*.csv"));
  EXPECT_FALSE(HasGlob("a/b.csv"));
}

}  // namespace
}  // namespace basin::storage
