#include "basin/crawler/crawl.h"

#include <zlib.h>

#include <algorithm>

#include <gtest/gtest.h>

#include "basin/crawler/crawl_test_fixture.h"
#include "basin/metadata/scratch_database.h"
#include "basin/storage/local_object_store.h"
#include "basin/storage/test_stores.h"

namespace basin::crawler {
namespace {

bool Contains(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

std::string Gzip(const std::string& text) {
  std::string out(compressBound(text.size()) + 32, '\0');
  z_stream stream{};
  deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  stream.avail_in = static_cast<uInt>(text.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

// Every crawl test runs with the catalog in SQLite and in PostgreSQL.
class CrawlTest : public testing::CrawlFixture {};

INSTANTIATE_TEST_SUITE_P(
    Engines, CrawlTest, ::testing::Values(metadata::Backend::kSqlite, metadata::Backend::kPostgres),
    [](const auto& info) { return std::string(metadata::BackendName(info.param)); });

TEST_P(CrawlTest, FoldersBecomeTablesWithPartitionsAndExplainedDecisions) {
  Put("sales/orders/dt=2026-11-24/part-0.csv",
      "order_id,keyword,amount\n1,신발,3.5\n2,\"bag, red\",4\n");
  Put("sales/orders/dt=2026-11-25/part-0.csv", "order_id,keyword,amount\n3,모자,1.25\n");
  Put("sales/refunds/dt=2026-11-24/r.json",
      "{\"refund_id\": 9, \"reason\": \"late\", \"items\": [1, 2]}\n");
  Put("sales/orders/_SUCCESS", "");
  Put("sales/orders/.hidden.csv", "x\n1\n");
  Create("sales", "lake://sales/");
  RunReport report = Run("sales");
  EXPECT_TRUE(Contains(report.tables_created, "orders")) << report.ToText();
  EXPECT_TRUE(Contains(report.tables_created, "refunds")) << report.ToText();
  EXPECT_EQ(report.objects_skipped["_SUCCESS marker"], 1);
  EXPECT_EQ(report.objects_skipped["hidden (. or _ prefix)"], 1);
  bool explained =
      std::any_of(report.decisions.begin(), report.decisions.end(), [](const std::string& text) {
        return text.find("orders/ and refunds/ became separate tables") != std::string::npos;
      });
  EXPECT_TRUE(explained) << report.ToText();

  catalog::Table orders = Table("orders");
  EXPECT_EQ(catalog::TableFormatName(orders.format), "csv");
  EXPECT_EQ(orders.location, "lake://sales/orders/");
  EXPECT_EQ(orders.format_options["header"], "true");
  ASSERT_EQ(orders.columns.size(), 3u);
  EXPECT_EQ(orders.columns[0], (catalog::Column{"order_id", "BIGINT", ""}));
  EXPECT_EQ(orders.columns[2].type, "DOUBLE");
  EXPECT_EQ(orders.partition_keys, (std::vector<catalog::PartitionKey>{{"dt", "DATE"}}));
  EXPECT_EQ(orders.stats.objects, 2);
  EXPECT_EQ(*crawler_->catalog().CountPartitions(orders.id), 2);

  catalog::Table refunds = Table("refunds");
  EXPECT_EQ(catalog::TableFormatName(refunds.format), "json");
  ASSERT_EQ(refunds.columns.size(), 3u);
  EXPECT_EQ(refunds.columns[2].type, "BIGINT[]");
}

TEST_P(CrawlTest, PlainFolderLevelsArePartitionColumns) {
  Put("events/2026/11/24/a.json", "{\"user\": 1, \"kind\": \"click\"}\n");
  Put("events/2026/11/25/a.json", "{\"user\": 2, \"kind\": \"like\", \"extra\": {\"x\": 1}}\n");
  Create("events", "lake://events/");
  Run("events");
  catalog::Table events = Table("events");
  ASSERT_EQ(events.partition_keys.size(), 3u);
  EXPECT_EQ(events.partition_keys[0], (catalog::PartitionKey{"partition_0", "BIGINT"}));
  EXPECT_EQ(events.partition_keys[2].name, "partition_2");
  EXPECT_EQ(events.columns.size(), 3u) << "columns merge across files";
  auto partitions = *crawler_->catalog().ListPartitions(events.id);
  ASSERT_EQ(partitions.size(), 2u);
  EXPECT_EQ(partitions[1].values, (std::vector<std::string>{"2026", "11", "25"}));
  EXPECT_EQ(partitions[0].columns.size(), 2u) << "a partition keeps its own observed schema";
}

TEST_P(CrawlTest, ParquetCompressedAndTextOnlyCsv) {
  ASSERT_TRUE(engine_
                  ->Execute("COPY (SELECT range AS id, 'k' || range AS keyword FROM range(100)) "
                            "TO 'lake://mix/pq/data.parquet'")
                  .ok());
  Put("mix/gz/part.csv.gz", Gzip("shop,city\nalpha,seoul\nbeta,busan\n"));
  Put("mix/text/names.csv", "first_name,last_name\nKim,Minji\nLee,Jun\n");
  Put("mix/bom/k.csv", "\xEF\xBB\xBFkeyword,score\n신발,3\n");
  Create("mix", "lake://mix/");
  RunReport report = Run("mix");
  EXPECT_TRUE(report.errors.empty()) << report.ToText();
  catalog::Table parquet = Table("pq");
  EXPECT_EQ(catalog::TableFormatName(parquet.format), "parquet");
  EXPECT_EQ(parquet.stats.rows, 100);
  catalog::Table gz = Table("gz");
  EXPECT_EQ(gz.format_options["compression"], "gzip");
  EXPECT_EQ(gz.columns[0].name, "shop");
  catalog::Table text = Table("text");
  ASSERT_EQ(text.columns.size(), 2u);
  EXPECT_EQ(text.columns[0].name, "first_name") << "header of an all-text CSV detected";
  catalog::Table bom = Table("bom");
  EXPECT_EQ(bom.columns[0].name, "keyword") << "BOM stripped from the first column name";
}

TEST_P(CrawlTest, BadFilesAreReportedAndSkipped) {
  Put("t/dt=1/good.csv", "a,b\n1,2\n");
  Put("t/dt=2/ragged.csv", "a,b\n1,2,3,4\n5\n");
  Put("t/dt=3/broken.parquet", "PAR1 this is not really parquet");
  Put("t/dt=4/empty.csv", "");
  Put("t/dt=5/data.orc", "ORC\x01\x02");
  Put("u/broken.json", "{\"a\": 1}\n{\"a\": \n");
  Put("t/dt=6/latin1.csv",
      "a,b\n1,caf\xe9 cr\xe8me\n");  // Latin-1, not UTF-8: byte 9 is the first bad one
  Create("bad", "lake://t/");
  RunReport report = Run("bad");
  bool offset_reported = std::any_of(
      report.errors.begin(), report.errors.end(), [](const RunReport::FileError& error) {
        return error.path.ends_with("latin1.csv") &&
               error.reason.find("invalid UTF-8 at byte offset 9") != std::string::npos;
      });
  EXPECT_TRUE(offset_reported) << report.ToText();
  EXPECT_EQ(report.objects_skipped["empty (0 bytes)"], 1);
  auto reported = [&](const std::string& file) {
    return std::any_of(report.errors.begin(), report.errors.end(),
                       [&](const RunReport::FileError& error) {
                         return error.path.find(file) != std::string::npos;
                       });
  };
  EXPECT_TRUE(reported("broken.parquet")) << report.ToText();
  EXPECT_TRUE(reported("data.orc")) << report.ToText();
  catalog::Table t = Table("t");
  EXPECT_EQ(t.columns.size(), 2u) << report.ToText();
}

TEST_P(CrawlTest, IncrementalRecrawlReadsOnlyWhatChanged) {
  for (int day = 1; day <= 5; ++day) {
    Put("inc/dt=2026-11-0" + std::to_string(day) + "/a.csv", "id,kw\n1,x\n");
  }
  Create("inc", "lake://inc/");
  RunReport first = Run("inc");
  EXPECT_EQ(first.objects_read, 5);
  RunReport second = Run("inc");
  EXPECT_EQ(second.objects_read, 0);
  EXPECT_EQ(second.objects_unchanged, 5);
  EXPECT_TRUE(Contains(second.tables_unchanged, "inc")) << second.ToText();
  EXPECT_EQ(Table("inc").schema_version, 1);

  Put("inc/dt=2026-11-06/a.csv", "id,kw,score\n2,y,0.5\n");
  RunReport third = Run("inc");
  EXPECT_EQ(third.objects_read, 1);
  EXPECT_EQ(third.partitions_added, 1);
  ASSERT_EQ(third.schema_changes.size(), 1u) << third.ToText();
  EXPECT_EQ(third.schema_changes[0].change, "+ added score DOUBLE\n");
  catalog::Table table = Table("inc");
  EXPECT_EQ(table.schema_version, 2);
  EXPECT_EQ(*crawler_->catalog().CountPartitions(table.id), 6);

  ASSERT_TRUE(lake_->Delete("inc/dt=2026-11-01/a.csv").ok());
  RunReport fourth = Run("inc");
  EXPECT_EQ(fourth.partitions_removed, 1);
  EXPECT_EQ(*crawler_->catalog().CountPartitions(table.id), 5);
}

TEST_P(CrawlTest, SchemaChangePolicyFailLeavesTable) {
  Put("p/a.csv", "id\n1\n");
  Create("strict", "lake://p/", Grouping::kAuto, SchemaChangePolicy::kFail);
  Run("strict");
  Put("p/b.csv", "id,extra\n1,2\n");
  RunReport report = Run("strict");
  ASSERT_EQ(report.schema_changes.size(), 1u);
  EXPECT_EQ(report.schema_changes[0].applied, "refused (policy fail)");
  EXPECT_EQ(Table("p").columns.size(), 1u);
}

TEST_P(CrawlTest, OneTablePerTargetAndDeprecation) {
  Put("all/a/x.csv", "id,name\n1,a\n");
  Put("all/b/y.csv", "code,value,other\nq,1,2\n");
  Create("all", "lake://all/", Grouping::kOneTablePerTarget);
  Run("all");
  catalog::Table table = Table("all");
  EXPECT_EQ(table.columns.size(), 5u);
  EXPECT_EQ(table.partition_keys.size(), 1u);
  ASSERT_TRUE(lake_->Delete("all/a/x.csv").ok());
  ASSERT_TRUE(lake_->Delete("all/b/y.csv").ok());
  RunReport report = Run("all");
  EXPECT_TRUE(Contains(report.tables_deprecated, "all")) << report.ToText();
  EXPECT_EQ(catalog::TableStatusName(Table("all").status), "deprecated");
}

TEST(IgnoreReasonTest, Rules) {
  EXPECT_EQ(IgnoreReason("a/_SUCCESS", 0, {}), "_SUCCESS marker");
  EXPECT_EQ(IgnoreReason("a/_temporary/0/x.csv", 5, {}), "_temporary folder");
  EXPECT_EQ(IgnoreReason(".git/config", 5, {}), "hidden (. or _ prefix)");
  EXPECT_EQ(IgnoreReason("a/b.csv", 0, {}), "empty (0 bytes)");
  EXPECT_EQ(IgnoreReason("a/b.tmp", 5, {"**/*.tmp"}), "excluded by **/*.tmp");
  EXPECT_EQ(IgnoreReason("a/b.csv", 5, {"**/*.tmp"}), "");
}

}  // namespace
}  // namespace basin::crawler
