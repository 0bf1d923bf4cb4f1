#include "basin/delivery/stream_service_testing.h"

namespace basin::delivery {
namespace {

using namespace stream_testing;  // NOLINT(google-build-using-namespace): the fixture's helpers
using std::chrono::system_clock;

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
