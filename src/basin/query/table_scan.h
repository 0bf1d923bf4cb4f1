#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "basin/catalog/catalog.h"
#include "basin/common/result.h"
#include "basin/storage/store_resolver.h"

namespace basin::query {

/// One object a catalog table scan may read.
struct ScanFile {
  std::string
      path;  // what DuckDB is given (ScanPath): the object URL with the partition's values in it
  int partition = -1;  // index into TableScan::partitions; -1 for unpartitioned tables
  uint64_t size = 0;
  std::string etag;
  int64_t modified_us = 0;
};

/// How a catalog table is read by one query: the SELECT over its files, and which object
/// belongs to which partition (for pruning reports, statistics and the result cache).
struct TableScan {
  std::string table;  // "db.table"
  std::string sql;
  std::vector<std::string> partitions;  // "dt=2026-11-24/event=click", in the catalog's order
  std::vector<std::string> partition_locations;  // lake URL prefixes, one per partition
  std::string location;                          // the table's
  std::vector<ScanFile> files;
  /// Catalog::TableVersion when the scan was planned ("" when unknown): the result cache's
  /// quick check that the table's definition and partitions are as they were.
  std::string catalog_version;
  std::string database, name;  // of the table, for that check
};

/// Plans the SELECT that reads a catalog table from its files.
/// - Objects: every data object under the table's location (hidden, `_`-prefixed and empty
///   objects left out, as the crawler does, and the `excluded` URLs a crawler rejected).
///   For a partitioned table only objects under a REGISTERED partition's location are read,
///   so data becomes visible when the catalog says so (a crawl, a stream delivery, a CTAS
///   commit) and never half-written.
/// - Partition values come from the catalog and reach DuckDB as Hive `key=value` levels of a
///   virtual path (ScanPath), for Hive and plain (`partition_N`) layouts alike, so DuckDB's
///   Hive filter pushdown prunes partitions on =, IN, ranges and expressions without opening
///   their objects.
/// - Columns are matched by name and cast to the catalog's types. Files are grouped by the
///   schema their partition recorded: each group is read with that schema (no per-file
///   sniffing, so pruning holds) and a column the group lacks reads NULL. Unpartitioned
///   tables, whose per-file schemas the catalog does not keep, match columns by name
///   across files (DuckDB opens every file then).
/// Lists the table's location once. Names and paths reach the SQL only quoted.
Result<TableScan> PlanTableScan(const catalog::Table& table,
                                const std::vector<catalog::Partition>& partitions,
                                storage::StoreResolver& stores,
                                const std::set<std::string>& excluded = {});

/// The path DuckDB is given for `object_url`: "<folder>/~basin/k1=v1/k2=v2/<name>". The
/// lake file system reads the object itself (ObjectUrlOfScanPath); DuckDB parses the Hive
/// levels. Values are percent-encoded where a path would break ('/', '%', '=', '\\', '?').
std::string ScanPath(std::string_view object_url,
                     const std::vector<std::pair<std::string, std::string>>& values);

/// The object a scan path names; other paths come back unchanged.
std::string ObjectUrlOfScanPath(std::string_view path);

/// True for objects a table scan reads: not empty, and no level of `relative_key` (relative
/// to the table's location) starts with '.' or '_'.
bool IsDataObject(const std::string& relative_key, uint64_t size);

/// True for paths made by ScanPath.
bool IsScanPath(std::string_view path);

}  // namespace basin::query
