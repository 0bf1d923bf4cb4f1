#include "basin/stream/stream_definition.h"

#include <gtest/gtest.h>

namespace basin::stream {
namespace {

using nlohmann::json;

StreamDefinition Clicks() {
  return {.name = "clicks", .database = "web", .table = "events"};
}

// The error message of validating `definition`, which must fail with InvalidArgument.
std::string ErrorOf(const StreamDefinition& definition) {
  auto validated = ValidateStreamDefinition(definition);
  EXPECT_FALSE(validated.ok());
  EXPECT_EQ(validated.status().code(), StatusCode::kInvalidArgument);
  return validated.status().message();
}

TEST(StreamDefinitionTest, FillsInDefaults) {
  auto validated = ValidateStreamDefinition(Clicks());
  ASSERT_TRUE(validated.ok()) << validated.status().ToString();
  EXPECT_EQ(validated->prefix, "lake://streams/web/events/");
  EXPECT_EQ(validated->prefix_expression, "dt=!{timestamp:yyyy-MM-dd}/");
  EXPECT_EQ(validated->error_prefix, "lake://streams/_errors/clicks/");
  EXPECT_EQ(validated->format, OutputFormat::kParquet);
  EXPECT_EQ(validated->compression, Compression::kNone);
  EXPECT_EQ(validated->buffer_seconds, 60);
  EXPECT_EQ(validated->buffer_mib, 8);
  EXPECT_EQ(validated->unknown_fields, UnknownFieldPolicy::kAddColumn);
  EXPECT_EQ(validated->max_record_bytes, 1000 * 1024);
}

TEST(StreamDefinitionTest, NormalizesPrefixes) {
  StreamDefinition definition = Clicks();
  definition.prefix = "s3://bucket/events";
  definition.error_prefix = "lake://errors/clicks";
  definition.prefix_expression = "event=!{field:type}";
  auto validated = ValidateStreamDefinition(definition);
  ASSERT_TRUE(validated.ok()) << validated.status().ToString();
  EXPECT_EQ(validated->prefix, "s3://bucket/events/");
  EXPECT_EQ(validated->error_prefix, "lake://errors/clicks/");
  EXPECT_EQ(validated->prefix_expression, "event=!{field:type}/");
  definition.prefix_expression = "";
  EXPECT_EQ(ValidateStreamDefinition(definition)->prefix_expression, "") << "no folders per record";
  definition.error_prefix = "s3://bucket/events/_errors/";
  EXPECT_TRUE(ValidateStreamDefinition(definition).ok())
      << "a '_' folder inside the prefix is skipped by scans";
}

TEST(StreamDefinitionTest, ErrorsNameTheField) {
  struct Case {
    void (*change)(StreamDefinition&);
    const char* message;
  };
  for (const Case& bad : {
           Case{[](StreamDefinition& d) { d.name = "no spaces"; }, "stream name"},
           Case{[](StreamDefinition& d) { d.name = std::string(65, 'x'); }, "stream name"},
           Case{[](StreamDefinition& d) { d.database = "Web"; }, "database name 'Web'"},
           Case{[](StreamDefinition& d) { d.table = ""; }, "table name ''"},
           Case{[](StreamDefinition& d) { d.prefix = "/tmp/x/"; }, "prefix must be lake://"},
           Case{[](StreamDefinition& d) { d.prefix = "lake://a/../b/"; }, "prefix must not have"},
           Case{[](StreamDefinition& d) { d.error_prefix = "http://x/"; }, "error_prefix must be"},
           Case{[](StreamDefinition& d) { d.error_prefix = "lake://streams/web/events/errors/"; },
                "error_prefix 'lake://streams/web/events/errors/' is inside prefix"},
           Case{[](StreamDefinition& d) { d.prefix_expression = "x=!{nope:a}/"; },
                "prefix_expression: "},
           Case{[](StreamDefinition& d) { d.compression = Compression::kGzip; },
                "compression 'gzip' applies to format ndjson only"},
           Case{[](StreamDefinition& d) { d.buffer_seconds = 901; },
                "buffer_seconds must be 0 to 900, got 901"},
           Case{[](StreamDefinition& d) { d.buffer_seconds = -1; },
                "buffer_seconds must be 0 to 900"},
           Case{[](StreamDefinition& d) { d.buffer_mib = 0; },
                "buffer_mib must be 1 to 128, got 0"},
           Case{[](StreamDefinition& d) { d.buffer_mib = 129; }, "buffer_mib must be 1 to 128"},
           Case{[](StreamDefinition& d) { d.max_record_bytes = 0; },
                "max_record_bytes must be 1 to 1024000"},
           Case{[](StreamDefinition& d) { d.max_record_bytes = 1024001; }, "max_record_bytes"},
       }) {
    StreamDefinition definition = Clicks();
    bad.change(definition);
    std::string message = ErrorOf(definition);
    EXPECT_NE(message.find(bad.message), std::string::npos) << message;
  }
  StreamDefinition ndjson = Clicks();
  ndjson.format = OutputFormat::kNdjson;
  for (Compression compression : {Compression::kNone, Compression::kGzip, Compression::kZstd}) {
    ndjson.compression = compression;
    EXPECT_TRUE(ValidateStreamDefinition(ndjson).ok());
  }
}

TEST(StreamDefinitionTest, JsonRoundTrip) {
  StreamDefinition definition = {
      .name = "Clicks.v2-eu",
      .database = "web",
      .table = "events",
      .prefix = "s3://bucket/clicks/",
      .prefix_expression = "dt=!{timestamp:yyyy-MM-dd}/event=!{field:type}/",
      .error_prefix = "s3://bucket/_errors/",
      .format = OutputFormat::kNdjson,
      .compression = Compression::kZstd,
      .buffer_seconds = 0,
      .buffer_mib = 128,
      .unknown_fields = UnknownFieldPolicy::kError,
      .max_record_bytes = 4096};
  json written = ToJson(definition);
  EXPECT_EQ(written["format"], "ndjson");
  EXPECT_EQ(written["compression"], "zstd");
  EXPECT_EQ(written["unknown_fields"], "error");
  EXPECT_EQ(written["partition_keys"],
            json::parse(R"([{"name":"dt","type":"DATE"},{"name":"event","type":"VARCHAR"}])"));
  auto read = StreamFromJson(written);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(*read, definition);
  EXPECT_EQ(ToJson(*read), written);
}

TEST(StreamDefinitionTest, FromJsonTakesDefaultsAndDottedTable) {
  auto read = StreamFromJson({{"name", "clicks"}, {"table", "web.events"}, {"buffer_seconds", 5}});
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->database, "web");
  EXPECT_EQ(read->table, "events");
  EXPECT_EQ(read->buffer_seconds, 5);
  EXPECT_EQ(read->prefix, "lake://streams/web/events/");

  struct Case {
    const char* json;
    const char* message;
  };
  for (const Case& bad : {
           Case{R"([1])", "must be a JSON object"},
           Case{R"({"table": "web.events"})", "field 'name' is required"},
           Case{R"({"name": "c"})", "field 'table' is required"},
           Case{R"({"name": "c", "table": "events"})", "field 'database' is required"},
           Case{R"({"name": 5, "table": "web.events"})", "field 'name' must be a string"},
           Case{R"({"name": "c", "table": "web.events", "buffer_mib": "8"})",
                "field 'buffer_mib' must be an integer"},
           Case{R"({"name": "c", "table": "web.events", "buffer_mib": 8.5})",
                "field 'buffer_mib' must be an integer"},
           Case{R"({"name": "c", "table": "web.events", "buffer_mib": 99999999999})",
                "buffer_mib must be 1 to 128"},
           Case{R"({"name": "c", "table": "web.events", "format": "csv"})",
                "format 'csv' is not one of: parquet, ndjson"},
           Case{R"({"name": "c", "table": "web.events", "unknown_fields": "drop"})",
                "unknown_fields policy 'drop'"},
           Case{R"({"name": "c", "table": "web.events", "buffer_second": 1})",
                "unknown field 'buffer_second'"},
       }) {
    auto parsed = StreamFromJson(json::parse(bad.json));
    ASSERT_FALSE(parsed.ok()) << bad.json;
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(parsed.status().message().find(bad.message), std::string::npos)
        << parsed.status().message();
  }
}

TEST(StreamDefinitionTest, ChangesApplyAndDefaultPrefixFollowsTheTable) {
  StreamDefinition base = ValidateStreamDefinition(Clicks()).value();
  auto changes = StreamChangesFromJson({{"table", "shop.orders"}, {"buffer_mib", 16}});
  ASSERT_TRUE(changes.ok()) << changes.status().ToString();
  auto changed = ApplyChanges(base, *changes);
  ASSERT_TRUE(changed.ok()) << changed.status().ToString();
  EXPECT_EQ(changed->database, "shop");
  EXPECT_EQ(changed->table, "orders");
  EXPECT_EQ(changed->prefix, "lake://streams/shop/orders/") << "the default prefix follows";
  EXPECT_EQ(changed->buffer_mib, 16);
  EXPECT_EQ(changed->buffer_seconds, 60) << "fields left out stay";

  StreamDefinition custom = base;
  custom.prefix = "lake://mine/";
  EXPECT_EQ(ApplyChanges(custom, *changes)->prefix, "lake://mine/")
      << "a prefix the user chose stays";

  EXPECT_EQ(StreamChangesFromJson({{"name", "other"}}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ApplyChanges(base, {.compression = Compression::kGzip}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(
      ApplyChanges(base, {.format = OutputFormat::kNdjson, .compression = Compression::kGzip})
          .ok());
}

}  // namespace
}  // namespace basin::stream
