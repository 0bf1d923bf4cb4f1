#include "basin/crawler/classifier.h"

#include <gtest/gtest.h>

#include "basin/crawler/object_probe.h"

namespace basin::crawler {
namespace {

TEST(ClassifierTest, ByContentNotName) {
  EXPECT_EQ(ClassifyContent("PAR1\x15\x04", "PAR1", "data.csv").format, FileFormat::kParquet);
  EXPECT_EQ(ClassifyContent("{\"a\":1}\n{\"a\":2}\n", "", "data.txt").format, FileFormat::kJson);
  Classification array = ClassifyContent("  [{\"a\":1}]", "", "x");
  EXPECT_EQ(array.format, FileFormat::kJson);
  EXPECT_TRUE(array.json_array);
  EXPECT_EQ(ClassifyContent("id,name\n1,a\n", "", "data.json").format, FileFormat::kCsv);
}

TEST(ClassifierTest, CsvDelimiters) {
  EXPECT_EQ(ClassifyContent("a\tb\tc\n1\t2\t3\n", "", "x").delimiter, '\t');
  EXPECT_EQ(ClassifyContent("a|b|c\n1|2|3\n", "", "x").delimiter, '|');
  EXPECT_EQ(ClassifyContent("a;b\n", "", "x").delimiter, ';');
  EXPECT_EQ(ClassifyContent("\xEF\xBB\xBFid,키워드\n1,신발\n", "", "x").format, FileFormat::kCsv);
}

TEST(ClassifierTest, UnsupportedFormatsSayWhy) {
  Classification orc = ClassifyContent("ORC\x0a\x05", "", "x.orc");
  EXPECT_EQ(orc.format, FileFormat::kUnsupported);
  EXPECT_NE(orc.reason.find("ORC"), std::string::npos);
  EXPECT_NE(ClassifyContent("Obj\x01\x04", "", "x.avro").reason.find("Avro"), std::string::npos);
  EXPECT_NE(ClassifyContent("<?xml version=\"1.0\"?><a/>", "", "x.xml").reason.find("XML"),
            std::string::npos);
  EXPECT_NE(ClassifyContent(std::string("\x01\x02\x00\x03", 4), "", "x.bin").reason.find("binary"),
            std::string::npos);
  Classification truncated = ClassifyContent("PAR1\x15\x04", "\x01\x02\x03\x04", "x.parquet");
  EXPECT_EQ(truncated.format, FileFormat::kUnsupported);
  EXPECT_NE(truncated.reason.find("truncated"), std::string::npos);
}

TEST(ClassifierTest, Compression) {
  EXPECT_EQ(DetectCompression("\x1f\x8b\x08"), Compression::kGzip);
  EXPECT_EQ(DetectCompression("\x28\xb5\x2f\xfd"), Compression::kZstd);
  EXPECT_EQ(DetectCompression("id,name"), Compression::kNone);
  // A gzip stream of "id,name\n1,a\n" (gzip -n), cut short: still classifiable.
  const unsigned char gz[] = {0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00,
                              0x00, 0x03, 0xcb, 0x4c, 0xd1, 0xc9, 0x4b, 0xcc,
                              0x4d, 0xe5, 0x32, 0xd4, 0x49, 0xe4, 0x02, 0x00};
  std::string inflated = InflatePrefix(
      std::string_view(reinterpret_cast<const char*>(gz), sizeof(gz)), Compression::kGzip, 4096);
  EXPECT_EQ(inflated.substr(0, 8), "id,name\n");
}

}  // namespace
}  // namespace basin::crawler

namespace basin::crawler {
namespace {

TEST(Utf8Test, FindsFirstInvalidByte) {
  EXPECT_EQ(FindInvalidUtf8("plain ascii"), std::string_view::npos);
  EXPECT_EQ(FindInvalidUtf8("신발, 모자"), std::string_view::npos);
  EXPECT_EQ(FindInvalidUtf8("ok\xff rest"), 2u);
  EXPECT_EQ(FindInvalidUtf8("ab\xc3("), 2u);   // bad continuation byte
  EXPECT_EQ(FindInvalidUtf8("\xc0\xaf"), 0u);  // overlong encoding
  EXPECT_EQ(FindInvalidUtf8("cut \xea\xb0", true),
            std::string_view::npos);                      // may continue in the next chunk
  EXPECT_EQ(FindInvalidUtf8("cut \xea\xb0", false), 4u);  // the text really ends there
}

}  // namespace
}  // namespace basin::crawler

namespace basin::crawler {
namespace {

TEST(CsvShapeTest, RaggedRowsFound) {
  EXPECT_EQ(CheckCsvShape("id,name\n1,a\n2,b\n", ',', true), "");
  EXPECT_EQ(CheckCsvShape("id,name\n1,\"a, b\"\n2,\"multi\nline\"\n", ',', true), "");
  EXPECT_EQ(CheckCsvShape("id,name\n1,b\n2,b,3,extra\n", ',', true),
            "line 3 has 4 fields, line 1 has 2");
  EXPECT_EQ(CheckCsvShape("id,name,amount\n1,a,2\n4,d", ',', true),
            "line 3 has 2 fields, line 1 has 3");
  EXPECT_EQ(CheckCsvShape("id,name,amount\n1,a,2\n4,d", ',', false), "")
      << "a cut-off last line is not judged";
  EXPECT_EQ(CheckCsvShape("a\tb\n1\t2\n\n", '\t', true), "") << "blank lines are fine";
  EXPECT_EQ(CheckCsvShape("single\nx\ny\n", ',', true), "");
}

}  // namespace
}  // namespace basin::crawler
