#include "basin/delivery/record_screen.h"

#include <set>

#include <gtest/gtest.h>

namespace basin::delivery {
namespace {

TEST(RecordScreenTest, StagedLinesCarryTheirPosition) {
  EXPECT_EQ(StagedLine(R"({"id":1})", 7), R"({"__basin_row":7,"id":1})");
  EXPECT_EQ(StagedLine("{}", 0), R"({"__basin_row":0})");
}

TEST(RecordScreenTest, UnknownFieldsAreRefusedOnlyWhenTheStreamSaysSo) {
  catalog::Table table{.database = "web", .name = "clicks"};
  table.columns = {{.name = "id", .type = "BIGINT"}, {.name = "day", .type = "DATE"}};
  table.partition_keys = {{.name = "type", .type = "VARCHAR"}};
  std::vector<PartitionedRecord> records = {
      {"type=a/", R"({"id":1,"type":"a","Day":"2026-11-25"})"},
      {"type=b/", R"({"id":3,"extra":true})"},
  };
  std::vector<const PartitionedRecord*> pointers = {&records[0], &records[1]};

  ScreenedRecords open = ScreenRecords(pointers, table, /*refuse_unknown_fields=*/false);
  EXPECT_TRUE(open.refused.empty());
  EXPECT_EQ(open.by_partition["type=b/"].size(), 1u);  // "extra" becomes a column

  ScreenedRecords strict = ScreenRecords(pointers, table, /*refuse_unknown_fields=*/true);
  ASSERT_EQ(strict.refused.size(), 1u);
  EXPECT_EQ(strict.refused[0]["reason"],
            "field 'extra' is not a column of web.clicks (the stream's unknown_fields is error)");
  EXPECT_EQ(strict.refused[0]["raw"], records[1].json);
  // Names match case-insensitively, and the partition key is known.
  EXPECT_EQ(strict.by_partition["type=a/"].size(), 1u);

  ScreenedRecords first = ScreenRecords(pointers, std::nullopt, true);
  EXPECT_TRUE(first.refused.empty());  // no table yet: the records decide the columns
}

// A reader that cannot read record `bad` at all, nor `left` together with `right`.
ReadsTogether FakeReads(std::set<size_t> bad, size_t left, size_t right, int* calls) {
  return [=](const std::vector<size_t>& indices) {
    ++*calls;
    std::set<size_t> in(indices.begin(), indices.end());
    for (size_t index : bad) {
      if (in.contains(index))
        return Status::InvalidArgument("record " + std::to_string(index) + " is unreadable");
    }
    if (in.contains(left) && in.contains(right))
      return Status::InvalidArgument("duplicate name");
    return Status::OK();
  };
}

TEST(RecordScreenTest, FindUnreadableNarrowsDownToTheBadRecords) {
  int calls = 0;
  ReadsTogether reads = FakeReads({37, 700}, 5000, 5000, &calls);
  Result<std::vector<UnreadableRecord>> found =
      FindUnreadable(1000, Status::InvalidArgument("whole"), reads);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  ASSERT_EQ(found->size(), 2u);
  EXPECT_EQ((*found)[0].index, 37u);
  EXPECT_EQ((*found)[0].reason, "record 37 is unreadable");
  EXPECT_EQ((*found)[1].index, 700u);
  EXPECT_LE(calls, 2 * 2 * 10 + 2);  // about log2(1000) reads per bad record
}

TEST(RecordScreenTest, FindUnreadableRefusesTheLaterOfTwoConflictingRecords) {
  int calls = 0;
  Result<std::vector<UnreadableRecord>> found =
      FindUnreadable(10, Status::InvalidArgument("whole"), FakeReads({}, 2, 8, &calls));
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ((*found)[0].index, 8u);
  EXPECT_EQ((*found)[0].reason, "duplicate name");
}

TEST(RecordScreenTest, FindUnreadableNeverRefusesRecordsForAStoreFailure) {
  int calls = 0;
  ReadsTogether unreachable = [&](const std::vector<size_t>&) {
    ++calls;
    return Status::IOError("s3://lake/_tmp/x.json: connection refused");
  };
  EXPECT_EQ(FindUnreadable(8, Status::IOError("down"), unreachable).status().code(),
            StatusCode::kIOError);
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(FindUnreadable(8, Status::InvalidArgument("bad"), unreachable).status().code(),
            StatusCode::kIOError);
  EXPECT_EQ(calls, 1);
  // A lone record is refused with the engine's reason, without another read.
  Result<std::vector<UnreadableRecord>> lone =
      FindUnreadable(1, Status::InvalidArgument("bad"), unreachable);
  ASSERT_TRUE(lone.ok());
  EXPECT_EQ(lone->at(0).reason, "bad");
  EXPECT_EQ(
      UnreadableRefusal("{}", std::string(5000, 'x'))["reason"].get<std::string>().size() < 1100,
      true);
}

}  // namespace
}  // namespace basin::delivery
