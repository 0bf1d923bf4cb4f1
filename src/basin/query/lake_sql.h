#pragma once

// The DuckDB statements basin's own components need (the crawler, stream delivery, table
// writes, asynchronous results), as typed calls and, where the caller runs the statement
// itself (admission, a row sink), as SQL text. Only query/ builds DuckDB SQL text: callers
// pass URLs, column lists and options, never SQL fragments of their own, except the
// SELECT a person wrote (CREATE TABLE ... AS), which they checked is one SELECT.

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "basin/catalog/catalog.h"
#include "basin/common/result.h"
#include "basin/query/engine.h"

namespace basin::query {

/// `text` as a SQL string literal ('it''s'): the one way a value reaches SQL text.
std::string QuoteLiteral(std::string_view text);

/// Reading NDJSON or JSON objects.
struct JsonSource {
  std::string url;
  bool newline_delimited = true;  // false: DuckDB detects the layout (array or lines)
  /// Read with these columns and types (others ignored); empty: inferred.
  std::vector<catalog::Column> columns;
  std::string compression;  // "", "gzip", "zstd" or "none"
  int sample_rows = 0;      // rows to infer types from; 0: DuckDB's default
  bool hive_partitioning = true;
};

/// "SELECT * FROM read_json(...)".
std::string SelectFromJson(const JsonSource& source);

/// "SELECT * FROM read_parquet(url)".
std::string SelectFromParquet(std::string_view url, bool hive_partitioning = true);

/// One column of a reshaping SELECT: the input's column `source` (DuckDB matches names
/// case-insensitively) as `name`, cast to `type` ("" keeps the input's type); an empty
/// `source` is a NULL of `type`.
struct Projected {
  std::string source;
  std::string name;
  std::string type;
};

/// "SELECT CAST(q."a" AS T) AS "a", ... FROM (\n<input>\n) AS q".
std::string SelectProjected(std::string_view input, const std::vector<Projected>& columns);

enum class ObjectFormat { kParquet, kNdjson };

struct CopyOptions {
  ObjectFormat format = ObjectFormat::kParquet;
  /// Hive folders below the target, one level per column (the target is then a folder).
  std::vector<std::string> partition_by;
  /// With partition_by: the object names inside each folder ("w-.../part-{i}").
  std::string filename_pattern;
  /// Write the object in place, not through DuckDB's temp file and rename (a copy on S3):
  /// the stores commit an object whole when it is closed.
  bool in_place = true;
};

/// "COPY (select) TO 'target' (...)": answers one row, the number of rows written.
std::string CopySql(std::string_view select, std::string_view target, const CopyOptions& options);

/// Runs CopySql; returns the rows written.
Result<int64_t> CopySelect(Engine& engine, std::string_view select, std::string_view target,
                           const CopyOptions& options, const ExecuteOptions& execute);

/// The columns a SELECT produces, with DuckDB's type names.
Result<std::vector<catalog::Column>> DescribeSelect(Engine& engine, std::string_view select,
                                                    const ExecuteOptions& execute);
Result<std::vector<catalog::Column>> DescribeSelect(Engine& engine, std::string_view select,
                                                    const std::atomic<bool>* cancel = nullptr);

/// What DuckDB's CSV sniffer found in a file.
struct CsvSniff {
  std::string delimiter, quote, escape, header;
  std::vector<catalog::Column> columns;
};
Result<CsvSniff> SniffCsv(Engine& engine, std::string_view url, int sample_rows,
                          std::string_view compression);

/// Rows of a Parquet object, from its footer; nullopt when the footer does not say.
Result<std::optional<int64_t>> ParquetRows(Engine& engine, std::string_view url);

/// A value of staged records that a column's type cannot hold.
struct UncastableValue {
  int64_t row = 0;  // the record's position (its `row_field`)
  std::string column;
  std::string value;
};

/// The values in the NDJSON at `staged_url` that `columns` cannot hold, cast as a delivery
/// will cast them (an integer column refuses a fraction rather than rounding it); each
/// record carries its position in `row_field`. Text and nested columns take any value.
Result<std::vector<UncastableValue>> FindUncastable(Engine& engine, std::string_view staged_url,
                                                    std::string_view row_field,
                                                    const std::vector<catalog::Column>& columns,
                                                    const std::atomic<bool>* cancel = nullptr);

/// `select` as a Parquet object can store it: Parquet has no 128-bit integers (DuckDB would
/// write sum(BIGINT)'s HUGEINT as DOUBLE and lose digits), so such columns become
/// DECIMAL(38,0), which keeps every digit; `types` (of `names`, the plan's) say so after.
std::string StorableSelect(std::string_view select, const std::vector<std::string>& names,
                           std::vector<std::string>& types);

/// "SELECT * FROM read_parquet(url) LIMIT .. OFFSET ..": a page of a result object.
std::string SelectPage(std::string_view url, int64_t offset, int64_t limit);

}  // namespace basin::query
