#pragma once

// The fixture of the StreamService tests (stream_service_test.cc: delivery, restarts and
// columns; stream_failures_test.cc: full logs and buffers, failing destinations, refusals):
// a lake that can be made to fail, a scratch catalog and an engine over both.

#include <atomic>
#include <filesystem>
#include <mutex>
#include <regex>
#include <thread>

#include <gtest/gtest.h>

#include "basin/delivery/stream_service.h"
#include "basin/query/catalog_lake_testing.h"
#include "basin/storage/local_object_store.h"
#include "basin/storage/test_stores.h"

namespace basin::delivery::stream_testing {

using std::chrono::system_clock;

// An object written whole, then reported failed (as when the answer is lost on the way).
class AnswerLostWriter : public storage::ObjectWriter {
 public:
  explicit AnswerLostWriter(std::unique_ptr<storage::ObjectWriter> inner)
      : inner_(std::move(inner)) {}
  Status Append(std::string_view data) override { return inner_->Append(data); }
  Status Close() override {
    BASIN_RETURN_IF_ERROR(inner_->Close());
    return Status::Unavailable("test: the answer to the write was lost");
  }
  Status Abort() override { return inner_->Abort(); }

 private:
  std::unique_ptr<storage::ObjectWriter> inner_;
};

// A local lake whose writes under one prefix fail, or are slow, while a test says so.
class FaultyStore : public storage::ObjectStore {
 public:
  explicit FaultyStore(std::unique_ptr<storage::ObjectStore> inner) : inner_(std::move(inner)) {}
  void FailWritesUnder(std::string prefix) {
    std::lock_guard<std::mutex> lock(mutex_);
    failing_ = std::move(prefix);
  }
  // The next write under `prefix` is made, and reported failed.
  void LoseAnswerUnder(std::string prefix) {
    std::lock_guard<std::mutex> lock(mutex_);
    answer_lost_ = std::move(prefix);
  }
  int answers_lost() {
    std::lock_guard<std::mutex> lock(mutex_);
    return answers_lost_;
  }
  // A lake without server-side copies (every Copy fails).
  void FailCopies() { fail_copies_ = true; }
  void SlowWritesUnder(std::string prefix, std::chrono::milliseconds delay) {
    std::lock_guard<std::mutex> lock(mutex_);
    slow_ = std::move(prefix);
    delay_ = delay;
  }

  std::string Describe() const override { return inner_->Describe(); }
  Result<std::vector<storage::ObjectInfo>> List(std::string_view prefix,
                                                const storage::ListOptions& options) override {
    return inner_->List(prefix, options);
  }
  Result<storage::ObjectInfo> Stat(std::string_view key) override { return inner_->Stat(key); }
  Result<std::unique_ptr<storage::RandomAccessReader>> OpenForRead(std::string_view key) override {
    return inner_->OpenForRead(key);
  }
  Result<std::unique_ptr<storage::ObjectWriter>> OpenForWrite(std::string_view key) override {
    std::chrono::milliseconds delay{0};
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!failing_.empty() && key.starts_with(failing_))
        return Status::Unavailable("test: the store at " + failing_ + " is unreachable");
      if (!slow_.empty() && key.starts_with(slow_))
        delay = delay_;
    }
    std::this_thread::sleep_for(delay);
    BASIN_ASSIGN_OR_RETURN(std::unique_ptr<storage::ObjectWriter> writer,
                           inner_->OpenForWrite(key));
    std::lock_guard<std::mutex> lock(mutex_);
    if (!answer_lost_.empty() && key.starts_with(answer_lost_)) {
      answer_lost_.clear();
      ++answers_lost_;
      return std::unique_ptr<storage::ObjectWriter>(new AnswerLostWriter(std::move(writer)));
    }
    return writer;
  }
  Status Delete(std::string_view key) override { return inner_->Delete(key); }
  Status Copy(std::string_view source, std::string_view target) override {
    if (fail_copies_)
      return Status::IOError("test: this lake cannot copy " + std::string(source));
    return inner_->Copy(source, target);
  }
  storage::StoreCounters counters() const override { return inner_->counters(); }
  bool is_remote() const override { return false; }

 private:
  std::unique_ptr<storage::ObjectStore> inner_;
  std::mutex mutex_;
  std::string failing_, slow_, answer_lost_;
  int answers_lost_ = 0;
  std::chrono::milliseconds delay_{0};
  std::atomic<bool> fail_copies_{false};
};

// A service over a temp-folder lake, a scratch SQLite catalog and an engine that reads
// catalog tables as `basin query` does.
class StreamServiceTest : public ::testing::TestWithParam<metadata::Backend>,
                          protected query::testing::CatalogLake {
 protected:
  void SetUp() override {
    root_ = storage::testing::TempFolder();
    faulty_ = std::make_shared<FaultyStore>(
        std::move(storage::LocalObjectStore::Make(root_ + "/lake")).value());
    SetUpCatalogLake(faulty_, GetParam(), "web");
    if (HasFatalFailure())
      return;
    streams_ = std::make_unique<stream::StreamStore>(*database_);
  }

  void TearDown() override {
    service_.reset();
    TearDownCatalogLake();
  }

  void CreateStream(stream::StreamDefinition definition) {
    ASSERT_TRUE(streams_->Create(definition).ok());
  }

  void OpenService(stream::WalOptions wal = {}) { OpenServiceWith({.wal = wal}); }

  // `options` with the test's log folder and quick timers.
  void OpenServiceWith(StreamServiceOptions options) {
    options.wal_folder = root_ + "/wal";
    options.tick = std::chrono::milliseconds(20);
    options.first_retry = std::chrono::milliseconds(50);
    options.min_move_interval = std::chrono::milliseconds(100);
    auto opened = StreamService::Open(std::move(options), *streams_, *catalog_, *stores_, *engine_);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    service_ = std::move(opened).value();
  }

  IngestResult IngestOk(const std::string& stream, const std::vector<std::string>& records) {
    Result<IngestResult> result = service_->Ingest(stream, records, system_clock::now());
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return result.ok() ? *result : IngestResult{};
  }

  // Waits until `delivered` records of the stream are delivered (at most 20 s).
  void WaitDelivered(const std::string& stream, int64_t delivered) {
    for (int i = 0; i < 400; ++i) {
      Result<StreamStats> stats = service_->Stats(stream);
      ASSERT_TRUE(stats.ok()) << stats.status().ToString();
      if (stats->delivered_records >= delivered)
        return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    FAIL() << "not delivered: " << ToJson(*service_->Stats(stream)).dump();
  }

  // The catalog's object and byte counts of web.`table` and of each of its partitions are
  // those of the objects in the lake (deliveries count them without listing the lake).
  void ExpectCountsMatchTheLake(const std::string& table_name) {
    Result<catalog::Table> table = catalog_->GetTable("web", table_name);
    ASSERT_TRUE(table.ok()) << table.status().ToString();
    Result<std::vector<catalog::Partition>> partitions = catalog_->ListPartitions(table->id);
    ASSERT_TRUE(partitions.ok()) << partitions.status().ToString();
    ASSERT_FALSE(partitions->empty());
    int64_t objects = 0, bytes = 0;
    for (const catalog::Partition& partition : *partitions) {
      ASSERT_TRUE(partition.location.starts_with("lake://")) << partition.location;
      auto listed = lake_->List(partition.location.substr(std::string("lake://").size()));
      ASSERT_TRUE(listed.ok()) << listed.status().ToString();
      int64_t listed_bytes = 0;
      for (const storage::ObjectInfo& object : *listed)
        listed_bytes += static_cast<int64_t>(object.size);
      EXPECT_EQ(partition.objects, static_cast<int64_t>(listed->size())) << partition.location;
      EXPECT_EQ(partition.bytes, listed_bytes) << partition.location;
      objects += static_cast<int64_t>(listed->size());
      bytes += listed_bytes;
    }
    EXPECT_EQ(table->stats.objects, objects);
    EXPECT_EQ(table->stats.bytes, bytes);
  }

  void DeliverTwoNdjsonLogs(stream::Compression compression);

  std::shared_ptr<FaultyStore> faulty_;
  std::unique_ptr<stream::StreamStore> streams_;
  std::unique_ptr<StreamService> service_;
};

// Object keys with the delivery time taken out of their names ("-20261125T062533Z").
inline std::vector<std::string> WithoutTime(std::vector<std::string> keys) {
  static const std::regex kTime("-[0-9]{8}T[0-9]{6}Z-");
  for (std::string& key : keys)
    key = std::regex_replace(key, kTime, "-");
  return keys;
}

// A stream into web.logs (unpartitioned unless given a prefix expression).
inline stream::StreamDefinition Logs(int buffer_seconds, std::string prefix_expression = "") {
  return {.name = "logs",
          .database = "web",
          .table = "logs",
          .prefix_expression = std::move(prefix_expression),
          .buffer_seconds = buffer_seconds};
}

inline stream::StreamDefinition Clicks(int buffer_seconds = 1) {
  return {.name = "clicks",
          .database = "web",
          .table = "clicks",
          .prefix_expression = "event=!{field:type}/",
          .buffer_seconds = buffer_seconds};
}

// Opens the service with an NDJSON stream into web.logs (`compression`) holding two records.
inline void StreamServiceTest::DeliverTwoNdjsonLogs(stream::Compression compression) {
  stream::StreamDefinition definition = Logs(/*buffer_seconds=*/900);
  definition.format = stream::OutputFormat::kNdjson;
  definition.compression = compression;
  CreateStream(definition);
  OpenService();
  IngestOk("logs", {R"({"id": 1, "msg": "a"})", R"({"id": 2, "msg": "b"})"});
}

}  // namespace basin::delivery::stream_testing
