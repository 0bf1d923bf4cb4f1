#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "basin/common/result.h"

namespace basin::writer {

/// One of basin's own write statements, parsed (see docs/query.md, "Writing results to the lake"):
///   CREATE TABLE [IF NOT EXISTS] [db.]name
///     [WITH (format = 'parquet', partitioned_by = ARRAY['c1', ...], location = 'lake://...')] AS
///     <query>
///   INSERT OVERWRITE [TABLE] [db.]name <query>
struct WriteStatement {
  enum class Kind { kCreateTableAs, kInsertOverwrite };
  Kind kind = Kind::kCreateTableAs;
  bool if_not_exists = false;
  std::string database;  // empty: the caller's default database
  std::string table;
  std::vector<std::string> partitioned_by;  // as written; matched to the query's columns later
  std::string location;                     // empty: the default; else a lake URL ending in '/'
  std::string query;                        // the SELECT, as written, without a trailing ';'
};

/// Parses `sql` when it is one of basin's write statements: nullopt when it is not (any other
/// SQL, including DuckDB's own CREATE TABLE t (columns...)), InvalidArgument naming the
/// problem when it is one but malformed (unknown or repeated WITH option, a format other than
/// parquet, a missing query, a second statement after ';', unbalanced parentheses, a name that
/// is not a valid catalog name). Keywords are case-insensitive; unquoted names are lowered,
/// "quoted" ones kept; comments and whitespace are allowed anywhere between tokens.
Result<std::optional<WriteStatement>> ParseWriteStatement(std::string_view sql);

/// True when `sql` is a write statement (well-formed or not): callers that let some users only
/// read refuse these before running anything.
bool IsWriteStatement(std::string_view sql);

}  // namespace basin::writer
