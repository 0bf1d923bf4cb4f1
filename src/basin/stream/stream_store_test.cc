#include "basin/stream/stream_store.h"

#include <optional>

#include <gtest/gtest.h>

#include "basin/metadata/scratch_database.h"

namespace basin::stream {
namespace {

class StreamStoreTest : public ::testing::TestWithParam<metadata::Backend> {
 protected:
  void SetUp() override {
    auto scratch = metadata::ScratchDatabase::Make(GetParam());
    if (GetParam() == metadata::Backend::kPostgres && !scratch.ok() &&
        scratch.status().code() == StatusCode::kFailedPrecondition) {
      GTEST_SKIP() << scratch.status().message();
    }
    ASSERT_TRUE(scratch.ok()) << scratch.status().ToString();
    scratch_.emplace(std::move(scratch).value());
    auto database = metadata::Database::Open(scratch_->location());
    ASSERT_TRUE(database.ok()) << database.status().ToString();
    database_ = std::move(database).value();
    store_.emplace(*database_);
  }

  std::vector<std::string> Names() {
    std::vector<std::string> names;
    auto streams = store_->List();
    EXPECT_TRUE(streams.ok()) << streams.status().ToString();
    if (streams.ok()) {
      for (const StoredStream& stream : *streams)
        names.push_back(stream.definition.name);
    }
    return names;
  }

  std::optional<metadata::ScratchDatabase> scratch_;
  std::unique_ptr<metadata::Database> database_;
  std::optional<StreamStore> store_;
};

TEST_P(StreamStoreTest, CreatesAndReadsBackWithDefaults) {
  auto before = std::chrono::system_clock::now() - std::chrono::seconds(1);
  auto created = store_->Create(
      {.name = "clicks", .database = "web", .table = "events", .buffer_seconds = 10});
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_GT(created->id, 0);
  EXPECT_GE(created->created_at, before);
  EXPECT_EQ(created->updated_at, created->created_at);
  EXPECT_EQ(created->definition.prefix, "lake://streams/web/events/");

  auto read = store_->Get("clicks");
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->id, created->id);
  EXPECT_EQ(read->definition, created->definition);
  EXPECT_EQ(read->created_at, created->created_at);
  EXPECT_EQ(read->definition.buffer_seconds, 10);

  nlohmann::json shown = ToJson(*read);
  EXPECT_EQ(shown["name"], "clicks");
  EXPECT_TRUE(shown["created_at"].is_string());
  EXPECT_TRUE(StreamFromJson(shown).ok()) << "the API's JSON reads back";
}

TEST_P(StreamStoreTest, RefusesDuplicatesAndBadDefinitions) {
  ASSERT_TRUE(store_->Create({.name = "clicks", .database = "web", .table = "events"}).ok());
  auto duplicate = store_->Create({.name = "clicks", .database = "web", .table = "other"});
  EXPECT_EQ(duplicate.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(duplicate.status().message(), "stream 'clicks' already exists");
  auto bad =
      store_->Create({.name = "bad", .database = "web", .table = "events", .buffer_mib = 500});
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Names(), std::vector<std::string>{"clicks"});
}

TEST_P(StreamStoreTest, ListsByName) {
  for (const char* name : {"views", "Clicks", "ads"}) {
    ASSERT_TRUE(store_->Create({.name = name, .database = "web", .table = "events"}).ok()) << name;
  }
  EXPECT_EQ(Names(), (std::vector<std::string>{"Clicks", "ads", "views"}))
      << "byte order on both engines";
}

TEST_P(StreamStoreTest, UpdatesSomeFields) {
  auto created = store_->Create({.name = "clicks", .database = "web", .table = "events"});
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  auto updated = store_->Update(
      "clicks",
      {.format = OutputFormat::kNdjson, .compression = Compression::kGzip, .buffer_seconds = 0});
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_EQ(updated->definition.format, OutputFormat::kNdjson);
  EXPECT_EQ(updated->definition.buffer_seconds, 0);
  EXPECT_EQ(updated->definition.buffer_mib, 8);
  EXPECT_GE(updated->updated_at, created->updated_at);
  EXPECT_EQ(store_->Get("clicks")->definition, updated->definition);

  auto invalid = store_->Update("clicks", {.format = OutputFormat::kParquet});
  EXPECT_EQ(invalid.status().code(), StatusCode::kInvalidArgument) << "gzip Parquet";
  EXPECT_EQ(store_->Get("clicks")->definition, updated->definition)
      << "a refused update changes nothing";
  EXPECT_EQ(store_->Update("missing", {.buffer_mib = 2}).status().code(), StatusCode::kNotFound);
}

TEST_P(StreamStoreTest, AStreamMustWriteWhatAnExistingTableReads) {
  catalog::Catalog catalog(*database_);
  catalog::TableUpdate events;
  events.table = {.database = "web",
                  .name = "events",
                  .location = "lake://streams/web/events/",
                  .format = catalog::TableFormat::kParquet,
                  .columns = {{"id", "BIGINT"}},
                  .partition_keys = {{"dt", "DATE"}}};
  events.create_database = true;
  ASSERT_TRUE(catalog.ApplyTable(events).ok());

  auto fits = store_->Create({.name = "clicks", .database = "web", .table = "events"});
  ASSERT_TRUE(fits.ok()) << fits.status().ToString() << " (default prefix and dt DATE)";
  struct Case {
    StreamChanges changes;
    const char* message;
  };
  for (const Case& misfit : {
           Case{{.format = OutputFormat::kNdjson}, "the table is parquet, the stream writes json"},
           Case{{.prefix = "lake://elsewhere/"},
                "prefix lake://elsewhere/ is outside the table's location "
                "lake://streams/web/events/"},
           Case{{.prefix_expression = "dt=!{timestamp:yyyy-MM-dd}/event=!{field:type}/"},
                "partition keys are (dt DATE), the prefix expression's (dt DATE, event VARCHAR)"},
           Case{{.prefix_expression = ""}, "the prefix expression's (none)"},
       }) {
    auto refused = store_->Update("clicks", misfit.changes);
    EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition) << misfit.message;
    EXPECT_NE(refused.status().message().find(misfit.message), std::string::npos)
        << refused.status().message();
    auto created =
        store_->Create({.name = "other",
                        .database = "web",
                        .table = "events",
                        .prefix = misfit.changes.prefix.value_or(""),
                        .prefix_expression = misfit.changes.prefix_expression.value_or(
                            "dt=!{timestamp:yyyy-MM-dd}/"),
                        .format = misfit.changes.format.value_or(OutputFormat::kParquet)});
    EXPECT_EQ(created.status().code(), StatusCode::kFailedPrecondition) << misfit.message;
  }
  EXPECT_EQ(store_->Get("clicks")->definition, fits->definition) << "refused: nothing changed";

  // An NDJSON table's compression is part of what it reads.
  events.table.name = "logs";
  events.table.location = "lake://streams/web/logs/";
  events.table.format = catalog::TableFormat::kJson;
  events.table.format_options = {{"compression", "gzip"}};
  ASSERT_TRUE(catalog.ApplyTable(events).ok());
  StreamDefinition logs{.name = "logs",
                        .database = "web",
                        .table = "logs",
                        .format = OutputFormat::kNdjson,
                        .compression = Compression::kZstd};
  auto zstd = store_->Create(logs);
  EXPECT_EQ(zstd.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(zstd.status().message().find("compressed with gzip, the stream's with zstd"),
            std::string::npos)
      << zstd.status().message();
  logs.compression = Compression::kGzip;
  EXPECT_TRUE(store_->Create(logs).ok());
}

TEST_P(StreamStoreTest, Deletes) {
  ASSERT_TRUE(store_->Create({.name = "clicks", .database = "web", .table = "events"}).ok());
  EXPECT_TRUE(store_->Delete("clicks").ok());
  EXPECT_EQ(store_->Get("clicks").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Delete("clicks").code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Get("clicks").status().message(), "no stream named 'clicks'");
  EXPECT_TRUE(store_->Create({.name = "clicks", .database = "web", .table = "events"}).ok())
      << "the name is free again";
}

INSTANTIATE_TEST_SUITE_P(Backends, StreamStoreTest,
                         ::testing::Values(metadata::Backend::kSqlite,
                                           metadata::Backend::kPostgres),
                         [](const auto& info) {
                           return std::string(metadata::BackendName(info.param));
                         });

}  // namespace
}  // namespace basin::stream
