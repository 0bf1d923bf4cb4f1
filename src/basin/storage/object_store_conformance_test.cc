// One suite, every backend: the local folder and a real S3 API server that verifies
// signatures (see test_stores.h). A behaviour that differs between them is a bug.
#include <filesystem>
#include <functional>
#include <thread>

#include <gtest/gtest.h>

#include "basin/storage/test_stores.h"

namespace basin::storage {
namespace {

using StoreFactory = std::function<std::unique_ptr<ObjectStore>()>;

struct Backend {
  std::string name;
  StoreFactory make;
};

void PrintTo(const Backend& backend, std::ostream* out) {
  *out << backend.name;
}

std::string Bytes(size_t size, uint32_t seed) {
  std::string data(size, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (char& c : data) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = static_cast<char>(x);
  }
  return data;
}

class ObjectStoreConformanceTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override { store_ = GetParam().make(); }
  std::vector<std::string> Keys(std::string_view prefix, bool recursive = true) {
    Result<std::vector<ObjectInfo>> listed = store_->List(prefix, {.recursive = recursive});
    EXPECT_TRUE(listed.ok()) << listed.status().ToString();
    std::vector<std::string> keys;
    if (listed.ok()) {
      for (const ObjectInfo& info : *listed)
        keys.push_back(info.key);
    }
    return keys;
  }
  std::unique_ptr<ObjectStore> store_;
};

TEST_P(ObjectStoreConformanceTest, WriteReadStatRoundTrip) {
  ASSERT_TRUE(store_->Write("a/b.csv", "id,name\n1,x\n").ok());
  Result<std::string> data = store_->ReadAll("a/b.csv");
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  EXPECT_EQ(*data, "id,name\n1,x\n");
  Result<ObjectInfo> info = store_->Stat("/a//b.csv");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->key, "a/b.csv");
  EXPECT_EQ(info->size, 12u);
  EXPECT_FALSE(info->etag.empty());
  auto age = std::chrono::system_clock::now() - info->modified;
  EXPECT_LT(std::chrono::abs(age), std::chrono::minutes(5));
}

TEST_P(ObjectStoreConformanceTest, EmptyObject) {
  ASSERT_TRUE(store_->Write("empty.json", "").ok());
  EXPECT_EQ(store_->Stat("empty.json")->size, 0u);
  EXPECT_EQ(*store_->ReadAll("empty.json"), "");
}

TEST_P(ObjectStoreConformanceTest, OverwriteReplacesContentAndEtag) {
  ASSERT_TRUE(store_->Write("o.txt", "first version").ok());
  std::string first_etag = store_->Stat("o.txt")->etag;
  ASSERT_TRUE(store_->Write("o.txt", "second").ok());
  EXPECT_EQ(*store_->ReadAll("o.txt"), "second");
  EXPECT_NE(store_->Stat("o.txt")->etag, first_etag);
}

TEST_P(ObjectStoreConformanceTest, RangedReads) {
  std::string data = Bytes(100000, 7);
  ASSERT_TRUE(store_->Write("r.bin", data).ok());
  auto reader = store_->OpenForRead("r.bin");
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ((*reader)->size(), data.size());
  // The reader carries what Stat says, without another request.
  ObjectInfo stat = *store_->Stat("r.bin");
  EXPECT_EQ((*reader)->info().key, "r.bin");
  EXPECT_EQ((*reader)->info().size, stat.size);
  EXPECT_EQ((*reader)->info().etag, stat.etag);
  std::string buffer(1000, '\0');
  ASSERT_EQ(*(*reader)->ReadAt(5000, 1000, buffer.data()), 1000u);
  EXPECT_EQ(buffer, data.substr(5000, 1000));
  // Reading across the end returns what is there; at or after the end returns 0.
  ASSERT_EQ(*(*reader)->ReadAt(99900, 1000, buffer.data()), 100u);
  EXPECT_EQ(buffer.substr(0, 100), data.substr(99900));
  EXPECT_EQ(*(*reader)->ReadAt(100000, 10, buffer.data()), 0u);
  StoreCounters counters = store_->counters();
  EXPECT_GE(counters.bytes_read, 1100u);
  EXPECT_LT(counters.bytes_read, 2000u) << "ranged reads must not fetch whole objects";
}

TEST_P(ObjectStoreConformanceTest, ConcurrentRangedReads) {
  std::string data = Bytes(64 * 1024, 3);
  ASSERT_TRUE(store_->Write("c.bin", data).ok());
  auto reader = std::move(store_->OpenForRead("c.bin")).value();
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      std::string buffer(4096, '\0');
      for (int i = 0; i < 8; ++i) {
        size_t offset = static_cast<size_t>((t * 8 + i) % 16) * 4096;
        Result<size_t> got = reader->ReadAt(offset, 4096, buffer.data());
        if (!got.ok() || *got != 4096 || buffer != data.substr(offset, 4096))
          ++mismatches;
      }
    });
  }
  for (auto& thread : threads)
    thread.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST_P(ObjectStoreConformanceTest, ListRecursiveAndDelimited) {
  for (const char* key : {"t/dt=2026-11-24/a.csv", "t/dt=2026-11-24/b.csv", "t/dt=2026-11-25/a.csv",
                          "t/readme.txt", "tx/other.csv"}) {
    ASSERT_TRUE(store_->Write(key, "x").ok()) << key;
  }
  EXPECT_EQ(Keys("t/"), (std::vector<std::string>{"t/dt=2026-11-24/a.csv", "t/dt=2026-11-24/b.csv",
                                                  "t/dt=2026-11-25/a.csv", "t/readme.txt"}));
  // A prefix is a string prefix, as in S3: "t" also matches "tx/".
  EXPECT_EQ(Keys("t").size(), 5u);
  EXPECT_EQ(Keys("t/dt=2026-11-24/b"), (std::vector<std::string>{"t/dt=2026-11-24/b.csv"}));
  EXPECT_EQ(Keys("t/", false),
            (std::vector<std::string>{"t/dt=2026-11-24/", "t/dt=2026-11-25/", "t/readme.txt"}));
  auto delimited = store_->List("t/", {.recursive = false});
  ASSERT_TRUE(delimited.ok());
  EXPECT_TRUE((*delimited)[0].is_prefix);
  EXPECT_FALSE((*delimited)[2].is_prefix);
  EXPECT_EQ((*delimited)[2].size, 1u);
  EXPECT_TRUE(Keys("nothing/here/").empty());
}

TEST_P(ObjectStoreConformanceTest, ListPaginatesBeyondOneThousandKeys) {
  constexpr int kObjects = 1105;
  std::vector<std::thread> writers;
  std::atomic<int> failures{0};
  for (int t = 0; t < 8; ++t) {
    writers.emplace_back([&, t] {
      for (int i = t; i < kObjects; i += 8) {
        char key[64];
        snprintf(key, sizeof(key), "many/part-%05d.json", i);
        if (!store_->Write(key, "{}").ok())
          ++failures;
      }
    });
  }
  for (auto& writer : writers)
    writer.join();
  ASSERT_EQ(failures.load(), 0);
  std::vector<std::string> keys = Keys("many/");
  ASSERT_EQ(keys.size(), static_cast<size_t>(kObjects));
  EXPECT_EQ(keys.front(), "many/part-00000.json");
  EXPECT_EQ(keys.back(), "many/part-01104.json");
  EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end()));
}

TEST_P(ObjectStoreConformanceTest, LargeObjectInParts) {
  std::string data = Bytes(12 * 1024 * 1024 + 12345, 11);  // 3 parts of 5 MiB (last one short)
  auto writer = store_->OpenForWrite("big/object.bin");
  ASSERT_TRUE(writer.ok());
  for (size_t offset = 0; offset < data.size(); offset += 1 << 20) {
    ASSERT_TRUE((*writer)->Append(std::string_view(data).substr(offset, 1 << 20)).ok());
  }
  EXPECT_FALSE(store_->Stat("big/object.bin").ok()) << "visible before Close";
  Status closed = (*writer)->Close();
  ASSERT_TRUE(closed.ok()) << closed.ToString();
  EXPECT_EQ(store_->Stat("big/object.bin")->size, data.size());
  EXPECT_EQ(*store_->ReadAll("big/object.bin"), data);
}

TEST_P(ObjectStoreConformanceTest, AbortedWriteLeavesNothing) {
  ASSERT_TRUE(store_->Write("keep/old.bin", "old").ok());
  auto writer = store_->OpenForWrite("keep/old.bin");
  ASSERT_TRUE(writer.ok());
  // Enough for two uploaded parts on S3, so a multipart upload is really under way.
  ASSERT_TRUE((*writer)->Append(Bytes(11 * 1024 * 1024, 5)).ok());
  Status aborted = (*writer)->Abort();
  // s3rver answers AbortMultipartUpload with 405; basin reports that clearly and moves on.
  if (!aborted.ok()) {
    EXPECT_EQ(aborted.code(), StatusCode::kNotImplemented) << aborted.ToString();
    EXPECT_NE(aborted.message().find("abort"), std::string::npos) << aborted.message();
  }
  EXPECT_FALSE((*writer)->Close().ok()) << "a closed writer cannot commit";
  EXPECT_EQ(*store_->ReadAll("keep/old.bin"), "old");
  EXPECT_EQ(Keys("keep/"), std::vector<std::string>{"keep/old.bin"});

  // A writer dropped without Close never becomes visible.
  {
    auto dropped = store_->OpenForWrite("keep/never.bin");
    ASSERT_TRUE((*dropped)->Append("x").ok());
  }
  EXPECT_TRUE(store_->Stat("keep/never.bin").status().IsNotFound());
}

TEST_P(ObjectStoreConformanceTest, DeleteAndCopy) {
  ASSERT_TRUE(store_->Write("d/src.csv", "payload").ok());
  ASSERT_TRUE(store_->Copy("d/src.csv", "d/copy/dst.csv").ok());
  EXPECT_EQ(*store_->ReadAll("d/copy/dst.csv"), "payload");
  ASSERT_TRUE(store_->Delete("d/src.csv").ok());
  EXPECT_TRUE(store_->Stat("d/src.csv").status().IsNotFound());
  EXPECT_TRUE(store_->Delete("d/src.csv").ok()) << "deleting an absent object is OK";
  EXPECT_TRUE(store_->Copy("d/missing.csv", "d/x.csv").IsNotFound());
  EXPECT_EQ(Keys("d/"), std::vector<std::string>{"d/copy/dst.csv"});
}

TEST_P(ObjectStoreConformanceTest, UnicodeAndSpecialKeys) {
  const std::string korean = "검색어/dt=2026-11-24/인기 키워드+순위 (1).csv";
  ASSERT_TRUE(store_->Write(korean, "키워드,점수\n신발,3\n").ok());
  EXPECT_EQ(*store_->ReadAll(korean), "키워드,점수\n신발,3\n");
  EXPECT_EQ(Keys("검색어/"), std::vector<std::string>{korean});
  EXPECT_EQ(Keys("검색어/", false), std::vector<std::string>{"검색어/dt=2026-11-24/"});
  // s3rver decodes x-amz-copy-source with decodeURI, which leaves %2B ('+') encoded, so the
  // copy uses a key without '+'; AWS S3 decodes the full encoding. Hive folders ('=') and
  // the other sub-delimiters are sent unencoded, which both read alike.
  const std::string spaced = "검색어/dt=2026-11-24/인기 키워드 (1) a:b@c,d;e$f&g.csv";
  ASSERT_TRUE(store_->Write(spaced, "신발").ok());
  Status copied = store_->Copy(spaced, "검색어/복사본.csv");
  ASSERT_TRUE(copied.ok()) << copied.ToString();
  EXPECT_EQ(*store_->ReadAll("검색어/복사본.csv"), "신발");
  ASSERT_TRUE(store_->Delete(korean).ok());
  ASSERT_TRUE(store_->Delete(spaced).ok());
  EXPECT_EQ(Keys("검색어/"), std::vector<std::string>{"검색어/복사본.csv"});
}

TEST_P(ObjectStoreConformanceTest, MissingObjectIsNotFound) {
  EXPECT_TRUE(store_->Stat("no/such.csv").status().IsNotFound());
  EXPECT_TRUE(store_->OpenForRead("no/such.csv").status().IsNotFound());
  EXPECT_TRUE(store_->ReadAll("no/such.csv").status().IsNotFound());
}

TEST_P(ObjectStoreConformanceTest, RefusesKeysThatEscapeTheRoot) {
  for (const char* bad : {"../outside.csv", "a/../../outside.csv", "..", "a/./b"}) {
    EXPECT_EQ(store_->Write(bad, "x").code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(store_->Stat(bad).status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(store_->Delete(bad).code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(store_->List(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Backends, ObjectStoreConformanceTest,
    ::testing::Values(
        Backend{"Local",
                [] {
                  return std::unique_ptr<ObjectStore>(
                      std::move(LocalObjectStore::Make(testing::TempFolder())).value());
                }},
        Backend{"S3",
                [] {
                  auto store = S3ObjectStore::Make(testing::TestS3Options());
                  if (!store.ok())
                    throw std::runtime_error(store.status().ToString());
                  return std::unique_ptr<ObjectStore>(std::move(store).value());
                }}),
    [](const ::testing::TestParamInfo<Backend>& info) { return info.param.name; });

}  // namespace
}  // namespace basin::storage
