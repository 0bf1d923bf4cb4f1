#include "basin/query/result_cache.h"

#include <gtest/gtest.h>

namespace basin::query {
namespace {

std::shared_ptr<const CachedResult> Entry(uint64_t bytes) {
  auto entry = std::make_shared<CachedResult>();
  entry->column_names = {"n"};
  entry->rows = {{std::string("1")}};
  entry->bytes = bytes;
  return entry;
}

TEST(ResultCacheTest, FindsWhatWasInsertedAndCountsHitsAndMisses) {
  ResultCache cache(1000, 500);
  EXPECT_EQ(cache.Find("a"), nullptr);
  cache.Insert("a", Entry(100));
  auto found = cache.Find("a");
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->rows[0][0], "1");
  EXPECT_EQ(cache.counters().hits, 1u);
  EXPECT_EQ(cache.counters().misses, 1u);
  EXPECT_EQ(cache.counters().bytes, 100u);
}

TEST(ResultCacheTest, EvictsTheLeastRecentlyUsedBeyondCapacity) {
  ResultCache cache(300, 300);
  cache.Insert("a", Entry(100));
  cache.Insert("b", Entry(100));
  cache.Insert("c", Entry(100));
  ASSERT_NE(cache.Find("a"), nullptr);  // a is now the most recently used
  cache.Insert("d", Entry(100));        // evicts b
  EXPECT_EQ(cache.Find("b"), nullptr);
  EXPECT_NE(cache.Find("a"), nullptr);
  EXPECT_NE(cache.Find("c"), nullptr);
  EXPECT_NE(cache.Find("d"), nullptr);
  EXPECT_EQ(cache.counters().evictions, 1u);
  EXPECT_LE(cache.counters().bytes, 300u);
}

TEST(ResultCacheTest, DoesNotKeepResultsOverTheEntryLimit) {
  ResultCache cache(1000, 50);
  cache.Insert("big", Entry(51));
  EXPECT_EQ(cache.Find("big"), nullptr);
  cache.Insert("a", Entry(10));
  cache.Insert("a", Entry(20));  // replaces, does not double count
  EXPECT_EQ(cache.counters().bytes, 20u);
  EXPECT_EQ(cache.counters().entries, 1u);
}

}  // namespace
}  // namespace basin::query
