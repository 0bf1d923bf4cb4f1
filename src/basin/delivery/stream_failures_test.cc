// StreamService under pressure: full logs and buffers, failing or slow destinations, and
// records the table cannot take (the fixture is in stream_service_testing.h; the suite is
// instantiated in stream_service_test.cc).

#include "basin/delivery/stream_service_testing.h"

namespace basin::delivery {
namespace {

using namespace stream_testing;  // NOLINT(google-build-using-namespace): the fixture's helpers
using std::chrono::system_clock;

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

// The retries of a partition that cannot be written wait for its backoff; records of the
// other partitions do not (the clock is stopped: no retry of b is ever due until it moves).
TEST_P(StreamServiceTest, OtherPartitionsAreNotHeldUpByAFailingPartitionsRetries) {
  CreateStream(Clicks(/*buffer_seconds=*/0));
  faulty_->FailWritesUnder("streams/web/clicks/event=b/");
  auto clock = std::make_shared<std::atomic<std::chrono::steady_clock::duration>>(
      std::chrono::steady_clock::now().time_since_epoch());
  OpenServiceWith({.clock = [clock] {
    return std::chrono::steady_clock::time_point(clock->load());
  }});
  IngestOk("clicks", {R"({"type": "b", "id": 1})"});  // a delivery that writes nothing
  for (int i = 0; i < 400 && service_->Stats("clicks")->last_delivery_error.empty(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_NE(service_->Stats("clicks")->last_delivery_error.find("event=b"), std::string::npos);
  IngestOk("clicks", {R"({"type": "a", "id": 2})"});
  WaitDelivered("clicks", 1);
  StreamStats stats = *service_->Stats("clicks");
  EXPECT_EQ(stats.buffered_records, 1);  // b's, deferred
  EXPECT_FALSE(stats.refusing);
  IngestOk("clicks", {R"({"type": "a", "id": 3})", R"({"type": "b", "id": 4})"});
  WaitDelivered("clicks", 2);  // a with b's record of the same request deferred
  EXPECT_EQ(service_->Stats("clicks")->buffered_records, 2);
  faulty_->FailWritesUnder("");
  clock->store(clock->load() + std::chrono::minutes(1));  // b's next attempt
  WaitDelivered("clicks", 4);
  ASSERT_TRUE(service_->Stop().ok());
  EXPECT_EQ(Scalar("SELECT string_agg(type || id, ',' ORDER BY id) FROM web.clicks"),
            "b1,a2,a3,b4");
  EXPECT_TRUE(service_->Stats("clicks")->last_delivery_error.empty());
}

// A lake that takes no object at all: the stream refuses once it has failed long enough,
// although each partition's records are deferred rather than retried as they are.
TEST_P(StreamServiceTest, AStreamNoneOfWhosePartitionsCanBeWrittenRefuses) {
  CreateStream(Clicks(/*buffer_seconds=*/0));
  faulty_->FailWritesUnder("streams/web/clicks/event=");
  OpenServiceWith({.refuse_when_failing_for = std::chrono::milliseconds(0)});
  IngestOk("clicks", {R"({"type": "a", "id": 1})", R"({"type": "b", "id": 2})"});
  StreamStats stats;
  for (int i = 0; i < 400 && !stats.refusing; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    stats = *service_->Stats("clicks");
  }
  ASSERT_TRUE(stats.refusing) << ToJson(stats).dump();
  EXPECT_EQ(service_->Ingest("clicks", {R"({"type": "a", "id": 3})"}, system_clock::now())
                .status()
                .code(),
            StatusCode::kUnavailable);
  faulty_->FailWritesUnder("");
  WaitDelivered("clicks", 2);
  EXPECT_FALSE(service_->Stats("clicks")->refusing);
  ASSERT_TRUE(service_->Stop().ok());
  EXPECT_EQ(Scalar("SELECT string_agg(type || id, ',' ORDER BY id) FROM web.clicks"), "a1,b2");
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

}  // namespace
}  // namespace basin::delivery
