#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "basin/catalog/schema.h"
#include "basin/common/result.h"
#include "basin/crawler/classifier.h"
#include "basin/query/engine.h"

namespace basin::crawler {

/// What one file holds, as DuckDB's own detection sees it.
struct FileSchema {
  FileFormat format = FileFormat::kUnsupported;
  Compression compression = Compression::kNone;
  std::map<std::string, std::string> options;  // csv: delimiter, quote, escape, header
  std::vector<catalog::Column> columns;
  std::optional<int64_t> rows;  // known for Parquet (footer)
};

/// Infers the schema of the object at `url` ("lake://k" or "s3://b/k") with DuckDB: the
/// CSV sniffer (dialect, header, types), JSON auto-detection (nested structs and lists) or
/// the Parquet footer. Reads only a sample of a large file. InvalidArgument with DuckDB's
/// reason (ragged rows, broken JSON, invalid UTF-8 with its position) when the file
/// cannot be read as `classification` says.
Result<FileSchema> InferFileSchema(query::Engine& engine, const std::string& url,
                                   const Classification& classification);

}  // namespace basin::crawler
