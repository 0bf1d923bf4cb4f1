#include "basin/crawler/file_schema.h"

#include <algorithm>

namespace basin::crawler {
namespace {

// Enough rows to see a file's types without reading a large file whole.
constexpr int kSampleRows = 20480;

std::string CompressionOption(Compression compression) {
  switch (compression) {
    case Compression::kGzip:
      return "gzip";
    case Compression::kZstd:
      return "zstd";
    case Compression::kNone:
      return "none";
  }
  return "none";
}

std::string Cell(const std::optional<std::string>& value) {
  if (!value || *value == "(empty)")
    return "";
  return *value;
}

// Nesting levels of a type's text: "STRUCT(a STRUCT(b INTEGER))" is 2, "INTEGER[][]" 2.
int TypeDepth(std::string_view type) {
  int depth = 0;
  int deepest = 0;
  int lists = 0;
  for (size_t i = 0; i < type.size(); ++i) {
    if (type[i] == '(')
      deepest = std::max(deepest, ++depth);
    else if (type[i] == ')')
      --depth;
    else if (type[i] == '[' && i + 1 < type.size() && type[i + 1] == ']')
      ++lists;
  }
  return deepest + lists;
}

// Deeper than this, a column is typed JSON: a query casts every column to its catalog type,
// and a type nested about a thousand levels deep is past the engine's expression depth, so
// a crawled table of such records could never be read. Its values stay whole, as JSON text.
constexpr int kMaxColumnTypeDepth = 64;

Result<std::vector<catalog::Column>> DescribeColumns(query::Engine& engine,
                                                     const std::string& select) {
  BASIN_ASSIGN_OR_RETURN(query::QueryResult described, engine.Execute("DESCRIBE " + select));
  std::vector<catalog::Column> columns;
  for (const auto& row : described.rows) {
    std::string type = catalog::NormalizeType(Cell(row[1]));
    if (TypeDepth(type) > kMaxColumnTypeDepth)
      type = "JSON";
    columns.push_back({Cell(row[0]), type, ""});
  }
  return columns;
}

}  // namespace

std::string SqlString(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'')
      out += '\'';
    out += c;
  }
  return out + "'";
}

Result<FileSchema> InferFileSchema(query::Engine& engine, const std::string& url,
                                   const Classification& classification) {
  FileSchema schema;
  schema.format = classification.format;
  schema.compression = classification.compression;
  std::string compression =
      "compression=" + SqlString(CompressionOption(classification.compression));
  // read_json spells "no compression" differently from read_csv.
  std::string json_compression =
      classification.compression == Compression::kNone ? "compression='uncompressed'" : compression;
  switch (classification.format) {
    case FileFormat::kCsv: {
      std::string sniff = "sniff_csv(" + SqlString(url) +
                          ", sample_size=" + std::to_string(kSampleRows) + ", " + compression + ")";
      // One query for dialect and columns: the per-query overhead is most of a small file's cost.
      BASIN_ASSIGN_OR_RETURN(
          query::QueryResult sniffed,
          engine.Execute(
              "SELECT Delimiter, Quote, Escape, HasHeader, c.name, c.type FROM (SELECT *, "
              "unnest(Columns) AS c FROM " +
              sniff + ")"));
      if (sniffed.rows.empty())
        return Status::InvalidArgument("the CSV sniffer found no columns");
      schema.options = {{"delimiter", Cell(sniffed.rows[0][0])},
                        {"quote", Cell(sniffed.rows[0][1])},
                        {"escape", Cell(sniffed.rows[0][2])},
                        {"header", Cell(sniffed.rows[0][3])}};
      for (const auto& row : sniffed.rows) {
        schema.columns.push_back({Cell(row[4]), catalog::NormalizeType(Cell(row[5])), ""});
      }
      // When rows disagree on their number of fields, the sniffer falls back to another
      // delimiter and one column named like the whole header line: that is a ragged file.
      std::string expected(1, classification.delimiter);
      if (schema.columns.size() == 1 && schema.options["delimiter"] != expected &&
          schema.columns[0].name.find(classification.delimiter) != std::string::npos) {
        return Status::InvalidArgument("ragged CSV: its rows do not have the same number of '" +
                                       expected + "'-separated fields as its header");
      }
      break;
    }
    case FileFormat::kJson: {
      schema.options = {{"json_format", classification.json_array ? "array" : "newline_delimited"}};
      BASIN_ASSIGN_OR_RETURN(
          schema.columns,
          DescribeColumns(
              engine, "SELECT * FROM read_json(" + SqlString(url) + ", hive_partitioning=false" +
                          ", format='auto', sample_size=" + std::to_string(kSampleRows) + ", " +
                          json_compression + ")"));
      break;
    }
    case FileFormat::kParquet: {
      BASIN_ASSIGN_OR_RETURN(
          schema.columns, DescribeColumns(engine, "SELECT * FROM read_parquet(" + SqlString(url) +
                                                      ", hive_partitioning=false)"));
      BASIN_ASSIGN_OR_RETURN(query::QueryResult rows,
                             engine.Execute("SELECT sum(num_rows) FROM parquet_file_metadata(" +
                                            SqlString(url) + ")"));
      if (!rows.rows.empty() && rows.rows[0][0])
        schema.rows = std::stoll(*rows.rows[0][0]);
      break;
    }
    case FileFormat::kUnsupported:
      return Status::InvalidArgument("unsupported format: " + classification.reason);
  }
  if (classification.compression != Compression::kNone)
    schema.options["compression"] = CompressionOption(classification.compression);
  if (schema.columns.empty())
    return Status::InvalidArgument("no columns found");
  return schema;
}

}  // namespace basin::crawler
