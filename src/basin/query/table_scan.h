#pragma once

#include <set>
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
/// `uniform_schema`: every file has exactly the table's columns (the crawler saw the same
/// columns in every partition). Then the files are read with the catalog's schema and
/// DuckDB skips whole partitions on filters of Hive partition columns without opening
/// their files; otherwise DuckDB must open every file to match columns by name.
/// `excluded`: object URLs to leave out (files the crawler rejected).
Result<std::string> TableScanSql(const catalog::Table& table, storage::StoreResolver& stores, bool uniform_schema,
                                 const std::set<std::string>& excluded = {});

/// `text` as a SQL string literal ('it''s').
std::string QuoteLiteral(std::string_view text);

}  // namespace basin::query
