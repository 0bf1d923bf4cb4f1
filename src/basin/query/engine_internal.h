#pragma once

// Internals of the engine shared by its source files (query/ only: they include DuckDB).

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "duckdb.hpp"

#include "basin/common/status.h"
#include "basin/query/engine.h"
#include "basin/query/table_scan.h"

namespace basin::query::internal {

/// A DuckDB error as a Status (the code says whose mistake it was).
Status ToStatus(const duckdb::ErrorData& error);

/// "select", "explain", "write" or "other".
std::string StatementKind(duckdb::StatementType type);

/// True when `sql` calls a function whose result changes between runs on the same data.
bool MentionsVolatileFunction(std::string_view sql);

/// StatementPolicy::kUser: what a person's statement may do (docs/query.md, "What a query
/// may create"). Temporary objects belong to the statement's own connection, so they end
/// with it.
Status CheckUserStatement(const duckdb::SQLStatement& statement, duckdb::Connection& connection);

/// One object in a cache key: it changes when the object does.
std::string ObjectFingerprint(const std::string& relative, uint64_t size, const std::string& etag,
                              int64_t modified_us);

/// What the physical plan will read: per table scan, the objects left after pruning.
struct PlannedReads {
  std::vector<std::set<std::string>> kept_paths;  // per binding scan
  bool only_known_inputs = true;                  // every input is a catalog table or constant
};

/// Walks the plan's scans (the multi-file readers' bind data) into `reads`.
void CollectReads(const duckdb::PhysicalOperator& op,
                  const std::map<std::string, size_t>& scan_of_path, PlannedReads& reads);

/// Per table: kept and pruned partitions; appends the cache key's input part.
std::vector<TableScanReport> ReportScans(const std::vector<TableScan>& scans,
                                         const PlannedReads& reads,
                                         std::string* inputs_fingerprint);

/// The EXPLAIN row of one table's scan.
std::string DescribeScan(const TableScanReport& report);

}  // namespace basin::query::internal
