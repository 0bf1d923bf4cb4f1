#include "basin/crawler/file_schema.h"

#include <algorithm>

#include "basin/query/lake_sql.h"

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

// DuckDB's sniffer says "(empty)" for what it did not find.
std::string Cell(const std::string& value) {
  return value == "(empty)" ? "" : value;
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

// The engine's columns of `select`, in the catalog's type spelling.
Result<std::vector<catalog::Column>> DescribeColumns(query::Engine& engine,
                                                     const std::string& select) {
  BASIN_ASSIGN_OR_RETURN(std::vector<catalog::Column> columns,
                         query::DescribeSelect(engine, select));
  for (catalog::Column& column : columns) {
    column.name = Cell(column.name);
    column.type = catalog::NormalizeType(Cell(column.type));
    if (TypeDepth(column.type) > kMaxColumnTypeDepth)
      column.type = "JSON";
  }
  return columns;
}

}  // namespace

Result<FileSchema> InferFileSchema(query::Engine& engine, const std::string& url,
                                   const Classification& classification) {
  FileSchema schema;
  schema.format = classification.format;
  schema.compression = classification.compression;
  switch (classification.format) {
    case FileFormat::kCsv: {
      BASIN_ASSIGN_OR_RETURN(
          query::CsvSniff sniffed,
          query::SniffCsv(engine, url, kSampleRows, CompressionOption(classification.compression)));
      schema.options = {{"delimiter", Cell(sniffed.delimiter)},
                        {"quote", Cell(sniffed.quote)},
                        {"escape", Cell(sniffed.escape)},
                        {"header", Cell(sniffed.header)}};
      for (const catalog::Column& column : sniffed.columns)
        schema.columns.push_back(
            {Cell(column.name), catalog::NormalizeType(Cell(column.type)), ""});
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
          DescribeColumns(engine, query::SelectFromJson(
                                      {.url = url,
                                       .newline_delimited = false,
                                       .compression = CompressionOption(classification.compression),
                                       .sample_rows = kSampleRows,
                                       .hive_partitioning = false})));
      break;
    }
    case FileFormat::kParquet: {
      BASIN_ASSIGN_OR_RETURN(
          schema.columns,
          DescribeColumns(engine, query::SelectFromParquet(url, /*hive_partitioning=*/false)));
      BASIN_ASSIGN_OR_RETURN(schema.rows, query::ParquetRows(engine, url));
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
