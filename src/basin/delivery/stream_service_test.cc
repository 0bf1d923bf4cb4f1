#include "basin/delivery/stream_service.h"

#include <atomic>
#include <filesystem>
#include <mutex>
#include <regex>
#include <thread>

#include <gtest/gtest.h>

#include "basin/query/catalog_lake_testing.h"
#include "basin/storage/local_object_store.h"
#include "basin/storage/test_stores.h"

namespace basin::delivery {
namespace {

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
std::vector<std::string> WithoutTime(std::vector<std::string> keys) {
  static const std::regex kTime("-[0-9]{8}T[0-9]{6}Z-");
  for (std::string& key : keys)
    key = std::regex_replace(key, kTime, "-");
  return keys;
}

// A stream into web.logs (unpartitioned unless given a prefix expression).
stream::StreamDefinition Logs(int buffer_seconds, std::string prefix_expression = "") {
  return {.name = "logs",
          .database = "web",
          .table = "logs",
          .prefix_expression = std::move(prefix_expression),
          .buffer_seconds = buffer_seconds};
}

stream::StreamDefinition Clicks(int buffer_seconds = 1) {
  return {.name = "clicks",
          .database = "web",
          .table = "clicks",
          .prefix_expression = "event=!{field:type}/",
          .buffer_seconds = buffer_seconds};
}

TEST_P(StreamServiceTest, TimeFlushDeliversOnePartitionPerValueAndRefusesBadRecords) {
  CreateStream(Clicks());
  OpenService();
  IngestResult result =
      IngestOk("clicks", {R"({"id": 1, "type": "click"})", R"([1, 2])",
                          R"({"id": 2, "type": "view", "ms": 12.5})", R"({"id": 3})",
                          R"({"id": 4, "type": "click"})", "not json"});
  EXPECT_EQ(result.accepted, 3);
  EXPECT_EQ(result.failed, 3);
  ASSERT_EQ(result.records.size(), 6u);
  EXPECT_TRUE(result.records[0].ok());
  EXPECT_EQ(result.records[1].code(), StatusCode::kInvalidArgument);
  EXPECT_NE(result.records[3].message().find("type"), std::string::npos)
      << result.records[3].message();

  WaitDelivered("clicks", 3);  // buffer_seconds 1, no further records: the timer delivers
  std::vector<std::string> clicks = WithoutTime(Keys("streams/web/clicks/event=click/"));
  ASSERT_EQ(clicks.size(), 1u);
  EXPECT_EQ(
      clicks[0],
      "streams/web/clicks/event=click/clicks-00000000000000000001-00000000000000000001.parquet");
  EXPECT_EQ(Keys("streams/web/clicks/event=view/").size(), 1u);
  EXPECT_TRUE(Keys("streams/web/clicks/_tmp/").empty());
  EXPECT_EQ(Scalar("SELECT count(*) FROM web.clicks"), "3");
  EXPECT_EQ(Scalar("SELECT sum(id) FROM web.clicks WHERE event = 'click'"), "5");
  EXPECT_EQ(Scalar("SELECT ms FROM web.clicks WHERE id = 2"), "12.5");

  std::vector<std::string> errors = Keys("streams/_errors/clicks/");
  ASSERT_EQ(errors.size(), 1u);
  Result<std::string> text = lake_->ReadAll(errors[0]);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(std::count(text->begin(), text->end(), '\n'), 3);
  EXPECT_NE(text->find(R"("raw":"not json")"), std::string::npos) << *text;

  StreamStats stats = *service_->Stats("clicks");
  EXPECT_EQ(stats.incoming_records, 6);
  EXPECT_EQ(stats.failed_records, 3);
  EXPECT_EQ(stats.delivered_objects, 2);
  EXPECT_EQ(stats.buffered_records, 0);
  EXPECT_EQ(stats.last_delivery_error, "");
  EXPECT_TRUE(service_->Stop().ok());
}

// Register names each written partition from the group it was written for: with partitions
// longer than a short string (15 bytes; here "dt=YYYY-MM-DD/src=producer-one/"), removing
// the staged groups before Register made it read freed memory, so every delivery of a
// partitioned stream failed ("partition '<garbage>12-03/producer=p1/' has no folder for key
// dt") and retried for ever (the kill -9 e2e test delivered nothing). Under ASan this is a
// heap-use-after-free.
TEST_P(StreamServiceTest, LongPartitionPathsAreRegistered) {
  CreateStream(Logs(/*buffer_seconds=*/900, "dt=!{timestamp:yyyy-MM-dd}/src=!{field:src}/"));
  OpenService();
  IngestOk("logs", {R"({"id": 1, "src": "producer-one"})", R"({"id": 2, "src": "producer-two"})",
                    R"({"id": 3, "src": "producer-one"})"});
  Status stopped = service_->Stop();  // one delivery attempt per stream: its outcome
  ASSERT_TRUE(stopped.ok()) << stopped.ToString();
  EXPECT_EQ(service_->Stats("logs")->delivered_records, 3);
  EXPECT_EQ(Scalar("SELECT count(*) FROM web.logs"), "3");
  EXPECT_EQ(Scalar("SELECT string_agg(CAST(id AS VARCHAR), ',' ORDER BY id) FROM web.logs "
                   "WHERE src = 'producer-one'"),
            "1,3");
  Result<catalog::Table> table = catalog_->GetTable("web", "logs");
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  Result<std::vector<catalog::Partition>> partitions = catalog_->ListPartitions(table->id);
  ASSERT_TRUE(partitions.ok()) << partitions.status().ToString();
  ASSERT_EQ(partitions->size(), 2u);
  for (const catalog::Partition& partition : *partitions) {
    ASSERT_EQ(partition.values.size(), 2u);
    EXPECT_EQ(partition.values[0].size(), 10u) << partition.values[0];  // YYYY-MM-DD
    EXPECT_TRUE(partition.values[1] == "producer-one" || partition.values[1] == "producer-two")
        << partition.values[1];
  }
  ExpectCountsMatchTheLake("logs");
}

TEST_P(StreamServiceTest, UnknownStreamAndTooLargeRecords) {
  stream::StreamDefinition small = Clicks();
  small.max_record_bytes = 30;
  CreateStream(small);
  OpenService();
  EXPECT_EQ(service_->Ingest("nope", {"{}"}, system_clock::now()).status().code(),
            StatusCode::kNotFound);
  IngestResult result = IngestOk("clicks", {R"({"type": "click", "padding": "xxxxxxxxxxxxxxxx"})"});
  EXPECT_EQ(result.records[0].code(), StatusCode::kPayloadTooLarge);
}

// Opens the service with an NDJSON stream into web.logs (`compression`) holding two records.
void StreamServiceTest::DeliverTwoNdjsonLogs(stream::Compression compression) {
  stream::StreamDefinition definition = Logs(/*buffer_seconds=*/900);
  definition.format = stream::OutputFormat::kNdjson;
  definition.compression = compression;
  CreateStream(definition);
  OpenService();
  IngestOk("logs", {R"({"id": 1, "msg": "a"})", R"({"id": 2, "msg": "b"})"});
}

TEST_P(StreamServiceTest, NdjsonUnpartitionedAndStopFlushes) {
  DeliverTwoNdjsonLogs(stream::Compression::kNone);
  ASSERT_TRUE(service_->Stop().ok());
  EXPECT_EQ(WithoutTime(Keys("streams/web/logs/")),
            std::vector<std::string>{
                "streams/web/logs/logs-00000000000000000001-00000000000000000001.json"});
  EXPECT_EQ(Scalar("SELECT string_agg(msg, ',' ORDER BY id) FROM web.logs"), "a,b");
  EXPECT_EQ(service_->Ingest("logs", {"{}"}, system_clock::now()).status().code(),
            StatusCode::kUnavailable);
}

TEST_P(StreamServiceTest, RestartDeliversEveryAcknowledgedRecordExactlyOnce) {
  CreateStream(Clicks(/*buffer_seconds=*/900));
  OpenService();
  int next_id = 0;
  auto ingest = [&](int records) {
    std::vector<std::string> batch;
    for (int i = 0; i < records; ++i, ++next_id)
      batch.push_back(R"({"type": "t)" + std::to_string(next_id % 3) + R"(", "id": )" +
                      std::to_string(next_id) + "}");
    EXPECT_EQ(IngestOk("clicks", batch).accepted, records);
  };
  ingest(10);
  ASSERT_TRUE(service_->Stop().ok());  // delivered: 10
  service_.reset();
  OpenService();
  ingest(7);
  ingest(5);
  service_.reset();  // a crash: nothing delivered, all acknowledged
  OpenService();
  EXPECT_EQ(service_->Stats("clicks")->buffered_records, 12);
  ingest(3);
  ASSERT_TRUE(service_->Stop().ok());
  EXPECT_EQ(Scalar("SELECT count(*) FROM web.clicks"), "25");
  EXPECT_EQ(Scalar("SELECT count(DISTINCT id) FROM web.clicks"), "25");
}

TEST_P(StreamServiceTest, RepeatedFlushIntentReplacesItsObjects) {
  // Replacing an object needs no copy: with the engine's temp-file-and-move, a failed move
  // left a "tmp_" object in the partition, read as a second copy of its records.
  faulty_->FailCopies();
  CreateStream(Clicks(/*buffer_seconds=*/900));
  Result<stream::StoredStream> stored = streams_->Get("clicks");
  ASSERT_TRUE(stored.ok());
  const uint64_t id = static_cast<uint64_t>(stored->id);
  std::vector<std::string> records = {EncodeRecord({"event=a/", R"({"id":1,"type":"a"})"}),
                                      EncodeRecord({"event=b/", R"({"id":2,"type":"b"})"})};
  std::string batch = stream::EncodeRecordBatch(records);
  // 2025-11-24T16:00:00Z: the repeat names its objects with the intent's time, not its own.
  std::string intent = EncodeFlushIntent({.lsns = {1}, .unix_seconds = 1764000000});
  {
    // As if a delivery had written its objects and crashed before its mark.
    auto wal = stream::WriteAheadLog::Open(root_ + "/wal");
    ASSERT_TRUE(wal.ok());
    ASSERT_EQ(*(*wal)->Append(
                  {.kind = stream::EntryKind::kRecordBatch, .stream_id = id, .payload = batch}),
              1u);
    ASSERT_TRUE(
        (*wal)
            ->Append({.kind = stream::EntryKind::kFlushIntent, .stream_id = id, .payload = intent})
            .ok());
  }
  OpenService();
  WaitDelivered("clicks", 2);  // the intent is repeated at once, whatever buffer_seconds says
  ASSERT_TRUE(service_->Stop().ok());
  service_.reset();
  {
    auto wal = stream::WriteAheadLog::Open(root_ + "/wal");
    ASSERT_TRUE(wal.ok());
    ASSERT_TRUE(
        (*wal)
            ->Append({.kind = stream::EntryKind::kFlushIntent, .stream_id = id, .payload = intent})
            .ok());
  }
  OpenService();
  WaitDelivered("clicks", 2);
  ASSERT_TRUE(service_->Stop().ok());
  EXPECT_EQ(Keys("streams/web/clicks/event=a/"),
            std::vector<std::string>{
                "streams/web/clicks/event=a/"
                "clicks-20251124T160000Z-00000000000000000001-00000000000000000001.parquet"});
  EXPECT_EQ(Scalar("SELECT count(*) FROM web.clicks"), "2");
  ExpectCountsMatchTheLake("clicks");  // the repeat replaced its objects: counted once
}

TEST_P(StreamServiceTest, ARepeatCountsAnUnpartitionedTableFromItsFolder) {
  CreateStream(Logs(/*buffer_seconds=*/900));
  Result<stream::StoredStream> stored = streams_->Get("logs");
  ASSERT_TRUE(stored.ok());
  const uint64_t id = static_cast<uint64_t>(stored->id);
  {
    // As if a delivery had written its object and crashed before registering it.
    auto wal = stream::WriteAheadLog::Open(root_ + "/wal");
    ASSERT_TRUE(wal.ok());
    std::vector<std::string> records = {EncodeRecord({"", R"({"id":1})"})};
    std::string batch = stream::EncodeRecordBatch(records);
    ASSERT_TRUE(
        (*wal)
            ->Append({.kind = stream::EntryKind::kRecordBatch, .stream_id = id, .payload = batch})
            .ok());
    std::string intent = EncodeFlushIntent({.lsns = {1}, .unix_seconds = 1764000000});
    ASSERT_TRUE(
        (*wal)
            ->Append({.kind = stream::EntryKind::kFlushIntent, .stream_id = id, .payload = intent})
            .ok());
  }
  ASSERT_TRUE(lake_
                  ->Write("streams/web/logs/"
                          "logs-20251124T160000Z-00000000000000000001-00000000000000000001.parquet",
                          "the first attempt's object")
                  .ok());
  OpenService();
  WaitDelivered("logs", 1);
  IngestOk("logs", {R"({"id":2})"});
  ASSERT_TRUE(service_->Stop().ok());
  EXPECT_EQ(Scalar("SELECT string_agg(id::VARCHAR, ',' ORDER BY id) FROM web.logs"), "1,2");
  Result<catalog::Table> table = catalog_->GetTable("web", "logs");
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  auto listed = lake_->List("streams/web/logs/", {.recursive = false});
  ASSERT_TRUE(listed.ok());
  int64_t objects = 0, bytes = 0;
  for (const storage::ObjectInfo& object : *listed) {
    if (!object.is_prefix) {
      ++objects;
      bytes += static_cast<int64_t>(object.size);
    }
  }
  EXPECT_EQ(objects, 2);
  EXPECT_EQ(table->stats.objects, objects);
  EXPECT_EQ(table->stats.bytes, bytes);
}

TEST_P(StreamServiceTest, ConcurrentIngestWhileDeliveringIsExactlyOnce) {
  stream::StreamDefinition definition = Clicks(/*buffer_seconds=*/0);
  CreateStream(definition);
  OpenService();
  constexpr int kThreads = 4;
  constexpr int kRequests = 25;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int r = 0; r < kRequests; ++r) {
        int id = t * 1000 + r * 2;
        std::vector<std::string> batch = {R"({"type": "a", "id": )" + std::to_string(id) + "}",
                                          R"({"type": "b", "id": )" + std::to_string(id + 1) + "}"};
        Result<IngestResult> result = service_->Ingest("clicks", batch, system_clock::now());
        EXPECT_TRUE(result.ok() && result->accepted == 2) << result.status().ToString();
      }
    });
  }
  for (std::thread& thread : threads)
    thread.join();
  service_.reset();  // a crash while deliveries may be under way
  OpenService();
  ASSERT_TRUE(service_->Stop().ok());
  EXPECT_EQ(Scalar("SELECT count(*) FROM web.clicks"), std::to_string(kThreads * kRequests * 2));
  EXPECT_EQ(Scalar("SELECT count(DISTINCT id) FROM web.clicks"),
            std::to_string(kThreads * kRequests * 2));
  ExpectCountsMatchTheLake("clicks");
}

TEST_P(StreamServiceTest, FailingDeliveryIsRetriedWithoutHoldingUpOtherStreams) {
  CreateStream(Clicks());
  CreateStream(Logs(/*buffer_seconds=*/1));
  // The destination is a CSV table: the stream (Parquet) cannot deliver to it.
  catalog::TableUpdate blocker;
  blocker.table = {.database = "web",
                   .name = "clicks",
                   .location = "lake://elsewhere/",
                   .format = catalog::TableFormat::kCsv};
  blocker.create_database = true;
  ASSERT_TRUE(catalog_->ApplyTable(blocker).ok());
  OpenService();
  IngestOk("clicks", {R"({"type": "a", "id": 1})"});
  IngestOk("logs", {R"({"id": 1})"});
  WaitDelivered("logs", 1);
  StreamStats stats;
  for (int i = 0; i < 100 && stats.last_delivery_error.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    stats = *service_->Stats("clicks");
  }
  EXPECT_NE(stats.last_delivery_error.find("csv"), std::string::npos) << stats.last_delivery_error;
  EXPECT_EQ(stats.buffered_records, 1);
  ASSERT_TRUE(catalog_->DropTable("web", "clicks").ok());
  WaitDelivered("clicks", 1);
  EXPECT_EQ(service_->Stats("clicks")->last_delivery_error, "");
  EXPECT_EQ(Scalar("SELECT count(*) FROM web.clicks"), "1");
}

TEST_P(StreamServiceTest, UnknownFieldsErrorSendsRecordsToTheErrorPrefix) {
  stream::StreamDefinition strict = Clicks();
  strict.unknown_fields = stream::UnknownFieldPolicy::kError;
  CreateStream(strict);
  OpenService();
  IngestOk("clicks", {R"({"type": "a", "id": 1})"});
  WaitDelivered("clicks", 1);  // the table is created with the first delivery's columns
  IngestOk("clicks", {R"({"type": "a", "id": 2})", R"({"type": "a", "id": 3, "extra": true})"});
  WaitDelivered("clicks", 2);
  ASSERT_TRUE(service_->Stop().ok());
  EXPECT_EQ(Scalar("SELECT count(*) FROM web.clicks"), "2");
  EXPECT_EQ(service_->Stats("clicks")->failed_records, 1);
  std::vector<std::string> errors = Keys("streams/_errors/clicks/");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("delivery-clicks-"), std::string::npos);
  EXPECT_NE(lake_->ReadAll(errors[0])->find("extra"), std::string::npos);
}

TEST_P(StreamServiceTest, CompressedNdjson) {
  DeliverTwoNdjsonLogs(stream::Compression::kGzip);
  ASSERT_TRUE(service_->Stop().ok());

  EXPECT_EQ(WithoutTime(Keys("streams/web/logs/")),
            std::vector<std::string>{
                "streams/web/logs/logs-00000000000000000001-00000000000000000001.json.gz"});
  EXPECT_EQ(Scalar("SELECT string_agg(msg, ',' ORDER BY id) FROM web.logs"), "a,b");
}

TEST_P(StreamServiceTest, DefaultPrefixExpressionPartitionsByArrivalDate) {
  CreateStream({.name = "daily", .database = "web", .table = "daily", .buffer_seconds = 900});
  OpenService();
  auto arrival = std::chrono::sys_days(std::chrono::year_month_day(
                     std::chrono::year(2026), std::chrono::month(3), std::chrono::day(7))) +
                 std::chrono::hours(13);
  Result<IngestResult> result =
      service_->Ingest("daily", {R"({"id": 1})", R"({"id": 2})"}, arrival);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ASSERT_TRUE(service_->Stop().ok());
  EXPECT_EQ(WithoutTime(Keys("streams/web/daily/dt=2026-03-07/")),
            std::vector<std::string>{"streams/web/daily/dt=2026-03-07/"
                                     "daily-00000000000000000001-00000000000000000001.parquet"});
  EXPECT_EQ(Scalar("SELECT count(*) FROM web.daily WHERE dt = DATE '2026-03-07'"), "2");
  Result<catalog::Table> table = catalog_->GetTable("web", "daily");
  ASSERT_TRUE(table.ok());
  EXPECT_EQ(table->created_by, "stream:daily");
  EXPECT_EQ(table->partition_keys, (std::vector<catalog::PartitionKey>{{"dt", "DATE"}}));
}

TEST_P(StreamServiceTest, AColumnAddedLaterRewritesTheOlderObjectsOfThePartition) {
  CreateStream(Logs(/*buffer_seconds=*/900, "k=!{field:k}/"));
  OpenService();
  IngestOk("logs", {R"({"k": "a", "id": 1})"});
  ASSERT_TRUE(service_->Stop().ok());
  service_.reset();
  OpenService();
  IngestOk("logs", {R"({"k": "a", "id": 2, "extra": 5})"});
  ASSERT_TRUE(service_->Stop().ok());
  EXPECT_EQ(Keys("streams/web/logs/k=a/").size(), 2u);
  EXPECT_TRUE(Keys("streams/web/logs/_tmp/").empty());
  EXPECT_EQ(Scalar("SELECT count(*) FROM web.logs"), "2");
  EXPECT_EQ(Scalar("SELECT sum(extra) FROM web.logs"), "5");
  ExpectCountsMatchTheLake("logs");  // the rewritten older object counted at its new size
}

// The rewrite of older objects when a column is added can take minutes on big objects; a
// bounded Stop interrupts it, and the records are delivered after the next Open.
TEST_P(StreamServiceTest, ABoundedStopInterruptsTheRewriteOfOlderObjects) {
  CreateStream(Logs(/*buffer_seconds=*/900));
  for (int id = 1; id <= 6; ++id) {
    OpenService();
    IngestOk("logs", {R"({"id": )" + std::to_string(id) + "}"});
    ASSERT_TRUE(service_->Stop().ok());
    service_.reset();
  }
  OpenService();
  IngestOk("logs", {R"({"id": 7, "extra": 5})"});
  faulty_->SlowWritesUnder("streams/web/logs/_tmp/rewrite-", std::chrono::milliseconds(400));
  auto started = std::chrono::steady_clock::now();
  Status stopped = service_->Stop(std::chrono::milliseconds(100));
  auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(stopped.code(), StatusCode::kCancelled) << stopped.ToString();
  EXPECT_LT(took, std::chrono::milliseconds(1500));  // six rewrites would take 2.4 s
  service_.reset();

  faulty_->SlowWritesUnder("nothing/", std::chrono::milliseconds(0));
  OpenService();
  ASSERT_TRUE(service_->Stop().ok());
  EXPECT_EQ(Scalar("SELECT count(*) FROM web.logs"), "7");
  EXPECT_EQ(Scalar("SELECT count(DISTINCT id) FROM web.logs"), "7");
  EXPECT_EQ(Scalar("SELECT sum(extra) FROM web.logs"), "5");
  EXPECT_TRUE(Keys("streams/web/logs/_tmp/").empty());
}

TEST_P(StreamServiceTest, APartitionNotWrittenWhenAColumnWasAddedIsRewrittenWhenNextWritten) {
  CreateStream(Logs(/*buffer_seconds=*/900, "k=!{field:k}/"));
  auto deliver = [&](const std::vector<std::string>& records) {
    OpenService();
    IngestOk("logs", records);
    ASSERT_TRUE(service_->Stop().ok());
    service_.reset();
  };
  deliver({R"({"k": "click", "id": 1})", R"({"k": "view", "id": 2})"});
  deliver({R"({"k": "click", "id": 3, "extra": 5})"});  // the table gains 'extra'
  // 'view' recorded the old columns: its older object is rewritten with the table's now.
  deliver({R"({"k": "view", "id": 4, "extra": 7})"});
  OpenService();
  EXPECT_EQ(Keys("streams/web/logs/k=view/").size(), 2u);
  EXPECT_EQ(Scalar("SELECT count(*) FROM web.logs WHERE k = 'view'"), "2");
  EXPECT_EQ(Scalar("SELECT sum(extra) FROM web.logs WHERE k = 'view'"), "7");
  EXPECT_EQ(Scalar("SELECT sum(id) FROM web.logs"), "10");
  ExpectCountsMatchTheLake("logs");
}

TEST_P(StreamServiceTest, FolderValuesThatLookHiddenAreStillRead) {
  // Table scans skip folders starting with '_' or '.'; glob characters would be expanded.
  CreateStream(Logs(/*buffer_seconds=*/900, "!{field:source}/"));
  OpenService();
  IngestOk("logs", {R"({"source": "_acme", "id": 1})", R"({"source": ".hidden", "id": 2})",
                    R"({"source": "", "id": 3})", R"({"source": "a*b[c]?", "id": 4})",
                    R"({"source": "plain", "id": 5})"});
  ASSERT_TRUE(service_->Stop().ok());
  EXPECT_EQ(Scalar("SELECT count(*) FROM web.logs"), "5");
  EXPECT_EQ(Scalar("SELECT sum(id) FROM web.logs"), "15");
  EXPECT_EQ(Keys("streams/web/logs/%5Facme/").size(), 1u);
  EXPECT_EQ(Keys("streams/web/logs/a_b_c__/").size(), 1u);
}

TEST_P(StreamServiceTest, FullLogRefusesWithUnavailableUntilDeliveryCatchesUp) {
  CreateStream(Clicks(/*buffer_seconds=*/900));
  OpenService({.segment_bytes = 4096, .max_bytes = 8192});
  // Deliveries fail, so the log cannot shrink (a fuller log would deliver early).
  faulty_->FailWritesUnder("streams/web/clicks/");
  std::string padding(1000, 'x');
  Status refused;
  int accepted = 0;
  for (int i = 0; i < 20 && refused.ok(); ++i) {
    Result<IngestResult> result = service_->Ingest(
        "clicks",
        {R"({"type": "a", "id": )" + std::to_string(i) + R"(, "pad": ")" + padding + R"("})"},
        system_clock::now());
    if (result.ok())
      ++accepted;
    else
      refused = result.status();
  }
  EXPECT_EQ(refused.code(), StatusCode::kUnavailable) << refused.ToString();
  EXPECT_NE(refused.message().find("write-ahead log is full"), std::string::npos)
      << refused.message();
  faulty_->FailWritesUnder("");
  ASSERT_TRUE(service_->Stop().ok());  // delivers, and the log shrinks
  service_.reset();
  OpenService({.segment_bytes = 4096, .max_bytes = 8192});
  EXPECT_TRUE(
      service_->Ingest("clicks", {R"({"type": "a", "id": 100})"}, system_clock::now()).ok());
  ASSERT_TRUE(service_->Stop().ok());
  EXPECT_EQ(Scalar("SELECT count(*) FROM web.clicks"), std::to_string(accepted + 1));
}

TEST_P(StreamServiceTest, AQuietStreamIsDeliveredEarlyWhenTheLogFillsUp) {
  // Both streams would wait 15 minutes; the log holds 16 KiB and 100 KB arrive.
  CreateStream(Clicks(/*buffer_seconds=*/900));
  CreateStream(Logs(/*buffer_seconds=*/900));
  OpenService({.segment_bytes = 4096, .max_bytes = 16384});
  IngestOk("logs", {R"({"id": 1})"});  // the oldest entry in the log
  std::string padding(1000, 'x');
  int accepted = 0;
  for (int attempt = 0; attempt < 600 && accepted < 100; ++attempt) {
    Result<IngestResult> result =
        service_->Ingest("clicks",
                         {R"({"type": "a", "id": )" + std::to_string(accepted) + R"(, "pad": ")" +
                          padding + R"("})"},
                         system_clock::now());
    if (result.ok()) {
      ++accepted;
    } else {
      ASSERT_EQ(result.status().code(), StatusCode::kUnavailable) << result.status().ToString();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));  // a full log: wait
    }
  }
  EXPECT_EQ(accepted, 100) << "the log stayed full";
  EXPECT_EQ(service_->Stats("logs")->delivered_records, 1) << "delivered before its hint";
  ASSERT_TRUE(service_->Stop().ok());
  EXPECT_EQ(Scalar("SELECT count(*) FROM web.clicks"), std::to_string(accepted));
}

TEST_P(StreamServiceTest, AFailingStreamDoesNotFillTheLogForTheOthers) {
  // clicks cannot be written; logs receives 100 KB through a log of 16 KiB. Without moving
  // clicks' records forward, the log could not be truncated past them.
  CreateStream(Clicks(/*buffer_seconds=*/0));
  CreateStream(Logs(/*buffer_seconds=*/0));
  faulty_->FailWritesUnder("streams/web/clicks/");
  const stream::WalOptions small_log{.segment_bytes = 4096, .max_bytes = 16384};
  OpenServiceWith({.wal = small_log, .refuse_when_failing_for = std::chrono::hours(1)});
  IngestOk("clicks", {R"({"type": "a", "id": 1})", R"({"type": "b", "id": 2})"});
  for (int i = 0; i < 200 && service_->Stats("clicks")->last_delivery_error.empty(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_FALSE(service_->Stats("clicks")->last_delivery_error.empty());
  IngestOk("clicks", {R"({"type": "a", "id": 3})"});  // buffered behind the failing delivery
  std::string padding(1000, 'x');
  int accepted = 0;
  for (int attempt = 0; attempt < 600 && accepted < 100; ++attempt) {
    Result<IngestResult> result = service_->Ingest(
        "logs", {R"({"id": )" + std::to_string(accepted) + R"(, "pad": ")" + padding + R"("})"},
        system_clock::now());
    if (result.ok()) {
      ++accepted;
    } else {
      ASSERT_EQ(result.status().code(), StatusCode::kUnavailable) << result.status().ToString();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  EXPECT_EQ(accepted, 100) << "the failing stream kept the log full";
  EXPECT_EQ(service_->Stats("clicks")->buffered_records, 3);
  service_.reset();  // a crash, with clicks' records moved forward in the log
  faulty_->FailWritesUnder("");
  OpenServiceWith({.wal = small_log});
  WaitDelivered("clicks", 3);
  ASSERT_TRUE(service_->Stop().ok());
  EXPECT_EQ(Scalar("SELECT string_agg(type || id, ',' ORDER BY id) FROM web.clicks"), "a1,b2,a3");
  EXPECT_EQ(Scalar("SELECT count(DISTINCT id) FROM web.logs"), std::to_string(accepted));
  EXPECT_EQ(Scalar("SELECT count(*) FROM web.logs"), std::to_string(accepted));
  // The moved delivery kept the names of its first attempt (LSN 1: clicks' first batch).
  std::vector<std::string> keys = Keys("streams/web/clicks/event=b/");
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_NE(keys[0].find("-00000000000000000001-00000000000000000001."), std::string::npos)
      << keys[0];
}

TEST_P(StreamServiceTest, DeliveryUsesTheDefinitionAsChangedSinceTheLastIngest) {
  CreateStream(Clicks(/*buffer_seconds=*/900));
  OpenService();
  IngestOk("clicks", {R"({"type": "a", "id": 1})"});
  stream::StreamChanges changes;
  changes.prefix = "lake://moved/clicks/";
  ASSERT_TRUE(streams_->Update("clicks", changes).ok());
  ASSERT_TRUE(service_->Stop().ok());
  EXPECT_EQ(Keys("moved/clicks/event=a/").size(), 1u);
  EXPECT_TRUE(Keys("streams/web/clicks/").empty());
  EXPECT_EQ(Scalar("SELECT count(*) FROM web.clicks"), "1");
}

TEST_P(StreamServiceTest, AFieldNamedLikeItsPartitionKeyIsOneColumn) {
  CreateStream({.name = "clicks",
                .database = "web",
                .table = "clicks",
                .prefix_expression = "type=!{field:type}/",
                .buffer_seconds = 0});
  OpenService();
  IngestOk("clicks", {R"({"type": "a", "id": 1})", R"({"type": "b", "id": 2})"});
  WaitDelivered("clicks", 2);
  IngestOk("clicks", {R"({"type": "a", "id": 3})"});
  WaitDelivered("clicks", 3);
  ASSERT_TRUE(service_->Stop().ok());
  Result<catalog::Table> table = catalog_->GetTable("web", "clicks");
  ASSERT_TRUE(table.ok());
  for (const catalog::Column& column : table->columns)
    EXPECT_NE(column.name, "type");
  ASSERT_EQ(table->partition_keys.size(), 1u);
  Result<query::QueryResult> all = engine_->Execute("SELECT * FROM web.clicks ORDER BY id");
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(all->column_names, (std::vector<std::string>{"id", "type"}));
  EXPECT_EQ(Scalar("SELECT string_agg(type || id, ',' ORDER BY id) FROM web.clicks"), "a1,b2,a3");
  // The older object of partition type=a was not rewritten: the columns did not change.
  EXPECT_EQ(Keys("streams/web/clicks/type=a/").size(), 2u);
}

TEST_P(StreamServiceTest, ValuesTheColumnTypesCannotHoldGoToTheErrorPrefix) {
  CreateStream(Clicks(/*buffer_seconds=*/0));
  OpenService();
  IngestOk("clicks", {R"({"type": "a", "id": 1, "day": "2026-11-25"})"});
  WaitDelivered("clicks", 1);  // the table: id BIGINT, day DATE
  IngestOk("clicks", {
                         R"({"type": "a", "id": "42", "day": "2026-11-26"})",  // DuckDB casts it
                         R"({"type": "a", "id": "abc"})",
                         R"({"type": "a", "id": 1.5})",
                         R"({"type": "b", "id": 7, "day": "not a date"})",
                         R"({"type": "b", "id": 8, "day": null})",
                     });
  WaitDelivered("clicks", 3);
  ASSERT_TRUE(service_->Stop().ok());
  EXPECT_EQ(service_->Stats("clicks")->failed_records, 3);
  EXPECT_EQ(Scalar("SELECT string_agg(id::VARCHAR, ',' ORDER BY id) FROM web.clicks"), "1,8,42");
  Result<catalog::Table> table = catalog_->GetTable("web", "clicks");
  ASSERT_TRUE(table.ok());
  for (const catalog::Column& column : table->columns) {  // types are kept, never widened
    if (column.name == "id") {
      EXPECT_EQ(column.type, "BIGINT");
    } else if (column.name == "day") {
      EXPECT_EQ(column.type, "DATE");
    }
  }
  std::vector<std::string> errors = Keys("streams/_errors/clicks/");
  ASSERT_EQ(errors.size(), 1u);
  std::string text = *lake_->ReadAll(errors[0]);
  EXPECT_NE(text.find("field 'id': value 'abc' cannot be converted to BIGINT"), std::string::npos)
      << text;
  EXPECT_NE(text.find("field 'id': value '1.5' cannot be converted to BIGINT"), std::string::npos)
      << text;
  EXPECT_NE(text.find("field 'day': value 'not a date' cannot be converted to DATE"),
            std::string::npos)
      << text;
}

TEST_P(StreamServiceTest, RecordsRefusedAtIngestReachTheErrorPrefixOnceThroughTheLog) {
  CreateStream(Clicks(/*buffer_seconds=*/900));
  faulty_->FailWritesUnder("streams/");  // the lake is down: ingest does not touch it
  OpenService();
  IngestResult result = IngestOk("clicks", {R"({"type": "a", "id": 1})", "not json"});
  EXPECT_EQ(result.accepted, 1);
  EXPECT_EQ(result.failed, 1);
  EXPECT_EQ(service_->Stats("clicks")->failed_records, 1);
  EXPECT_TRUE(Keys("streams/_errors/clicks/").empty());
  service_.reset();  // a crash: nothing delivered
  faulty_->FailWritesUnder("");
  OpenService();
  ASSERT_TRUE(service_->Stop().ok());
  std::vector<std::string> errors = Keys("streams/_errors/clicks/");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("/delivery-clicks-"), std::string::npos) << errors[0];
  std::string text = *lake_->ReadAll(errors[0]);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
  EXPECT_NE(text.find(R"("index":1)"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("raw":"not json")"), std::string::npos) << text;
  EXPECT_EQ(Scalar("SELECT count(*) FROM web.clicks"), "1");
  EXPECT_EQ(service_->Stats("clicks")->failed_records, 0);  // counted when it arrived, before
}

TEST_P(StreamServiceTest, AFailingPartitionDoesNotHoldUpTheOthersAndIsDeliveredOnce) {
  CreateStream(Clicks(/*buffer_seconds=*/0));
  faulty_->FailWritesUnder("streams/web/clicks/event=b/");
  OpenService();
  IngestOk("clicks",
           {R"({"type": "a", "id": 1})", R"({"type": "b", "id": 2})", R"({"type": "a", "id": 3})"});
  WaitDelivered("clicks", 2);  // partition a, while b cannot be written
  StreamStats stats = *service_->Stats("clicks");
  EXPECT_NE(stats.last_delivery_error.find("event=b"), std::string::npos)
      << stats.last_delivery_error;
  EXPECT_EQ(stats.buffered_records, 1);
  EXPECT_FALSE(stats.refusing);
  IngestOk("clicks", {R"({"type": "a", "id": 4})"});
  WaitDelivered("clicks", 3);  // a keeps going
  service_.reset();            // a crash, with b's record deferred in the log
  OpenService();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(service_->Stats("clicks")->delivered_records, 0);  // a is not delivered again
  faulty_->FailWritesUnder("");
  WaitDelivered("clicks", 1);
  ASSERT_TRUE(service_->Stop().ok());
  EXPECT_EQ(Scalar("SELECT string_agg(type || id, ',' ORDER BY id) FROM web.clicks"),
            "a1,b2,a3,a4");
}

TEST_P(StreamServiceTest, AWriteReportedFailedButMadeIsNotDeliveredTwice) {
  for (stream::OutputFormat format :
       {stream::OutputFormat::kParquet, stream::OutputFormat::kNdjson}) {
    SCOPED_TRACE(format == stream::OutputFormat::kParquet ? "parquet" : "ndjson");
    stream::StreamDefinition definition = Clicks(/*buffer_seconds=*/0);
    if (format == stream::OutputFormat::kNdjson) {
      definition.name = "clicks_json";
      definition.table = "clicks_json";
      definition.format = format;
    }
    CreateStream(definition);
    const std::string folder = "streams/web/" + definition.table + "/";
    faulty_->LoseAnswerUnder(folder + "event=b/");
    OpenService();
    IngestOk(definition.name, {R"({"type": "a", "id": 1})", R"({"type": "b", "id": 2})",
                               R"({"type": "a", "id": 3})"});
    WaitDelivered(definition.name, 3);  // b deferred once, then delivered under another name
    EXPECT_EQ(faulty_->answers_lost(), format == stream::OutputFormat::kParquet ? 1 : 2);
    ASSERT_TRUE(service_->Stop().ok());
    service_.reset();
    EXPECT_EQ(Scalar("SELECT string_agg(type || id, ',' ORDER BY id) FROM web." + definition.table),
              "a1,b2,a3");
    EXPECT_EQ(Keys(folder + "event=b/").size(), 1u);
    ExpectCountsMatchTheLake(definition.table);
  }
}

TEST_P(StreamServiceTest, FullBuffersRefuseWithUnavailableUntilDelivered) {
  CreateStream(Clicks(/*buffer_seconds=*/1));
  OpenServiceWith({.max_buffered_bytes = 2000});
  std::string padding(600, 'x');
  auto record = [&](int id) {
    return R"({"type": "a", "id": )" + std::to_string(id) + R"(, "pad": ")" + padding + R"("})";
  };
  IngestOk("clicks", {record(1)});
  IngestOk("clicks", {record(2)});
  IngestOk("clicks", {record(3)});
  EXPECT_GT(service_->BufferedBytes(), 1800u);
  Result<IngestResult> refused = service_->Ingest("clicks", {record(4)}, system_clock::now());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(refused.status().message().find("streams.buffer_max_size"), std::string::npos)
      << refused.status().ToString();
  EXPECT_EQ(service_->Stats("clicks")->incoming_records, 3);  // a refused request leaves no trace
  WaitDelivered("clicks", 3);
  EXPECT_EQ(service_->BufferedBytes(), 0u);
  IngestOk("clicks", {record(4)});
  ASSERT_TRUE(service_->Stop().ok());
  EXPECT_EQ(Scalar("SELECT count(*) FROM web.clicks"), "4");
}

TEST_P(StreamServiceTest, AFailingLakeRefusesRecordsUntilADeliverySucceeds) {
  CreateStream(Clicks(/*buffer_seconds=*/0));
  CreateStream(Logs(/*buffer_seconds=*/0));
  faulty_->FailWritesUnder("streams/web/clicks/");
  OpenServiceWith({.refuse_when_failing_for = std::chrono::milliseconds(0)});
  IngestOk("clicks", {R"({"type": "a", "id": 1})"});  // acknowledged: it is in the log
  StreamStats stats;
  for (int i = 0; i < 200 && !stats.refusing; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    stats = *service_->Stats("clicks");
  }
  ASSERT_TRUE(stats.refusing) << ToJson(stats).dump();
  EXPECT_NE(stats.last_delivery_error.find("unreachable"), std::string::npos);
  Result<IngestResult> refused =
      service_->Ingest("clicks", {R"({"type": "a", "id": 2})"}, system_clock::now());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(refused.status().message().find("unreachable"), std::string::npos);
  EXPECT_GE(service_->RetryAfter("clicks").count(), 1);
  // Another stream is not affected.
  IngestOk("logs", {R"({"id": 1})"});
  WaitDelivered("logs", 1);
  // The lake is back: the next retry delivers, and records are accepted again.
  faulty_->FailWritesUnder("");
  WaitDelivered("clicks", 1);
  EXPECT_FALSE(service_->Stats("clicks")->refusing);
  IngestOk("clicks", {R"({"type": "a", "id": 3})"});
  ASSERT_TRUE(service_->Stop().ok());
  EXPECT_EQ(Scalar("SELECT string_agg(id::VARCHAR, ',' ORDER BY id) FROM web.clicks"), "1,3");
}

TEST_P(StreamServiceTest, ASlowDestinationDoesNotHoldUpOtherStreams) {
  CreateStream(Clicks(/*buffer_seconds=*/0));
  CreateStream(Logs(/*buffer_seconds=*/0));
  faulty_->SlowWritesUnder("streams/web/clicks/", std::chrono::milliseconds(3000));
  OpenServiceWith({.delivery_workers = 2});
  IngestOk("clicks", {R"({"type": "a", "id": 1})"});
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // clicks' delivery is under way
  auto sent = std::chrono::steady_clock::now();
  IngestOk("logs", {R"({"id": 1})"});
  while (service_->Stats("logs")->delivered_records < 1 &&
         std::chrono::steady_clock::now() - sent < std::chrono::seconds(10))
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(service_->Stats("logs")->delivered_records, 1);
  // clicks writes two objects (staged records, then Parquet), 3 s each: logs went first.
  EXPECT_EQ(service_->Stats("clicks")->delivered_records, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - sent, std::chrono::milliseconds(5000));
  faulty_->SlowWritesUnder("", std::chrono::milliseconds(0));
  WaitDelivered("clicks", 1);
}

TEST_P(StreamServiceTest, AFailingErrorPrefixDoesNotHoldUpGoodRecordsForever) {
  stream::StreamDefinition strict = Clicks();
  strict.unknown_fields = stream::UnknownFieldPolicy::kError;
  strict.error_prefix = "lake://broken/errors/";
  CreateStream(strict);
  OpenService();
  IngestOk("clicks", {R"({"type": "a", "id": 1})"});
  WaitDelivered("clicks", 1);  // the table is created with the first delivery's columns
  faulty_->FailWritesUnder("broken/");
  IngestOk("clicks", {R"({"type": "a", "id": 2})", R"({"type": "a", "id": 3, "extra": true})"});
  WaitDelivered("clicks", 2);  // after a few attempts to write the refused record
  StreamStats stats = *service_->Stats("clicks");
  EXPECT_EQ(stats.failed_records, 1);
  EXPECT_EQ(stats.last_delivery_error, "");
  ASSERT_TRUE(service_->Stop().ok());
  EXPECT_EQ(Scalar("SELECT count(*) FROM web.clicks"), "2");
}

INSTANTIATE_TEST_SUITE_P(Engines, StreamServiceTest,
                         ::testing::Values(metadata::Backend::kSqlite,
                                           metadata::Backend::kPostgres),
                         [](const auto& info) {
                           return std::string(metadata::BackendName(info.param));
                         });

TEST(DeliveryFormatTest, RoundTripsAndNames) {
  EXPECT_EQ(ObjectName("s", 1764000000, 3, 42, "parquet"),
            "s-20251124T160000Z-00000000000000000003-00000000000000000042.parquet");
  EXPECT_EQ(ObjectName("s", 0, 3, 42, "parquet"),  // an intent from before times were kept
            "s-00000000000000000003-00000000000000000042.parquet");
  Result<PartitionedRecord> record = DecodeRecord(EncodeRecord({"dt=x/", "{\"a\":\"1\\n2\"}"}));
  ASSERT_TRUE(record.ok());
  EXPECT_EQ(record->partition, "dt=x/");
  FlushIntent intent{.lsns = {4, 9}, .unix_seconds = 1764000000};
  EXPECT_EQ(*DecodeFlushIntent(EncodeFlushIntent(intent)), intent);
  EXPECT_EQ(DecodeFlushIntent(R"({"lsns": [4]})")->unix_seconds, 0);
  EXPECT_EQ(DecodeDeliveredMark(EncodeDeliveredMark({.intent = 7}))->intent, 7u);
  Result<DeliveredMark> mark =
      DecodeDeliveredMark(EncodeDeliveredMark({.intent = 8, .deferred = {{"k=b/", "{\"a\":1}"}}}));
  ASSERT_TRUE(mark.ok());
  ASSERT_EQ(mark->deferred.size(), 1u);
  EXPECT_EQ(mark->deferred[0].partition, "k=b/");
  EXPECT_EQ(mark->deferred[0].json, "{\"a\":1}");
  EXPECT_TRUE(mark->retired.empty());
  EXPECT_FALSE(mark->moved);
  mark = DecodeDeliveredMark(EncodeDeliveredMark(
      {.intent = 9,
       .deferred = {{"", "{}"}},
       .retired = {2, 5},
       .moved = DeliveryName{.unix_seconds = 1764000000, .first = 3, .last = 6}}));
  ASSERT_TRUE(mark.ok());
  EXPECT_EQ(mark->retired, (std::vector<stream::Lsn>{2, 5}));
  EXPECT_EQ(mark->moved, (DeliveryName{.unix_seconds = 1764000000, .first = 3, .last = 6}));
  EXPECT_FALSE(DecodeDeliveredMark(R"({"intent": 1, "moved": {"time": 1}})").ok());
  EXPECT_FALSE(DecodeFlushIntent("{}").ok());
  std::vector<catalog::PartitionKey> keys = {{"dt", "DATE"}, {"event", "VARCHAR"}};
  EXPECT_EQ(*PartitionValues("dt=2026-11-25/x/event=click/", keys),
            (std::vector<std::string>{"2026-11-25", "click"}));
  EXPECT_FALSE(PartitionValues("dt=2026-11-25/", keys).ok());
}

}  // namespace
}  // namespace basin::delivery
