#pragma once

#include <string>

#include "basin/catalog/catalog.h"
#include "basin/common/result.h"
#include "basin/storage/store_resolver.h"

namespace basin::query {

/// The SELECT that reads a catalog table from its files: every data object under the
/// table's location (hidden, `_`-prefixed and empty objects left out, as the crawler
/// does), read with the table's format options, columns matched by name across files
/// (a file lacking a column reads NULL) and cast to the catalog's types, plus the
/// partition columns (Hive `key=value` levels through DuckDB's Hive partitioning, so
/// filters on them skip files; plain levels from the object path).
/// Lists the table's location once. Names and paths reach the SQL only quoted.
Result<std::string> TableScanSql(const catalog::Table& table, storage::StoreResolver& stores);

/// `text` as a SQL string literal ('it''s').
std::string QuoteLiteral(std::string_view text);

}  // namespace basin::query
