#include "basin/storage/object_store.h"

#include <gtest/gtest.h>

#include "basin/storage/location.h"

namespace basin::storage {
namespace {

TEST(NormalizeKeyTest, CleansHarmlessForms) {
  EXPECT_EQ(*NormalizeKey("/a//b/c.csv"), "a/b/c.csv");
  EXPECT_EQ(*NormalizeKey("dt=2026-11-24/part 1.parquet"), "dt=2026-11-24/part 1.parquet");
  EXPECT_EQ(*NormalizeKey("검색어/키워드.csv"), "검색어/키워드.csv");
  EXPECT_EQ(*NormalizePrefix(""), "");
  EXPECT_EQ(*NormalizePrefix("a/b/"), "a/b/");
  EXPECT_EQ(*NormalizePrefix("a/b"), "a/b");
}

TEST(NormalizeKeyTest, RefusesEscapes) {
  for (const char* bad : {"..", "../etc/passwd", "a/../../b", "a/./b", "a\\b", "a\nb", "./a"}) {
    Result<std::string> key = NormalizeKey(bad);
    ASSERT_FALSE(key.ok()) << bad;
    EXPECT_EQ(key.status().code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_FALSE(NormalizeKey("").ok());
  EXPECT_FALSE(NormalizeKey("/").ok());
  EXPECT_FALSE(NormalizePrefix("a/..").ok());
}

TEST(LocationTest, ParsesS3AndLocal) {
  Location s3 = *ParseLocation("s3://bucket/dt=1/x.parquet");
  EXPECT_EQ(s3.kind, Location::Kind::kS3);
  EXPECT_EQ(s3.root, "bucket");
  EXPECT_EQ(s3.key, "dt=1/x.parquet");
  EXPECT_EQ(s3.ToString(), "s3://bucket/dt=1/x.parquet");
  Location bucket_only = *ParseLocation("s3://bucket");
  EXPECT_EQ(bucket_only.key, "");

  Location local = *ParseLocation("/srv/data/a.csv");
  EXPECT_EQ(local.kind, Location::Kind::kLocal);
  EXPECT_EQ(local.root, "/srv/data");
  EXPECT_EQ(local.key, "a.csv");
  EXPECT_EQ(ParseLocation("file:///srv/data/")->key, "data");

  EXPECT_FALSE(ParseLocation("s3://").ok());
  EXPECT_FALSE(ParseLocation("s3://b/../x").ok());
  EXPECT_FALSE(ParseLocation("gs://bucket/x").ok());
}

}  // namespace
}  // namespace basin::storage
