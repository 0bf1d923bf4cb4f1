// What a prepared plan reads: the objects its multi-file scans kept after pruning, as the
// EXPLAIN report, the statistics and the result cache key need them. This reaches into
// DuckDB's internals, which is safe only because the library is pinned to one build.

#include <algorithm>

#include "duckdb/common/multi_file/multi_file_states.hpp"
#include "duckdb/execution/operator/scan/physical_table_scan.hpp"

#include "basin/query/engine_internal.h"

namespace basin::query::internal {
namespace {

bool IsMultiFileFunction(const std::string& name) {
  return name == "read_parquet" || name == "parquet_scan" || name == "read_csv" ||
         name == "read_csv_auto" || name == "read_json" || name == "read_json_auto" ||
         name == "read_ndjson" || name == "read_ndjson_auto";
}

// Table functions that read nothing that can change: they do not stop a query being cached.
bool IsConstantFunction(const std::string& name) {
  return name == "range" || name == "generate_series" || name == "unnest" || name == "repeat" ||
         name == "repeat_row" || name == "dummy_scan";
}

}  // namespace

// One object in a cache key: it changes when the object does.
std::string ObjectFingerprint(const std::string& relative, uint64_t size, const std::string& etag,
                              int64_t modified_us) {
  return relative + '\x1f' + std::to_string(size) + '\x1f' + etag + '\x1f' +
         std::to_string(modified_us) + '\x1e';
}

void CollectReads(const duckdb::PhysicalOperator& op,
                  const std::map<std::string, size_t>& scan_of_path, PlannedReads& reads) {
  if (op.type == duckdb::PhysicalOperatorType::TABLE_SCAN) {
    auto& scan = op.Cast<duckdb::PhysicalTableScan>();
    const std::string& name = scan.function.name;
    if (IsMultiFileFunction(name) && scan.bind_data) {
      auto& bind = scan.bind_data->Cast<duckdb::MultiFileBindData>();
      if (!bind.file_list) {
        reads.only_known_inputs = false;
        return;
      }
      for (const duckdb::OpenFileInfo& file : bind.file_list->GetAllFiles()) {
        auto found = scan_of_path.find(file.path);
        if (found == scan_of_path.end()) {
          reads.only_known_inputs = false;
        } else {
          reads.kept_paths[found->second].insert(file.path);
        }
      }
    } else if (!IsConstantFunction(name)) {
      reads.only_known_inputs = false;
    }
  }
  for (const duckdb::PhysicalOperator& child : op.GetChildren())
    CollectReads(child, scan_of_path, reads);
}

// Per table: kept and pruned partitions; plus the cache key's input part.
std::vector<TableScanReport> ReportScans(const std::vector<TableScan>& scans,
                                         const PlannedReads& reads,
                                         std::string* inputs_fingerprint) {
  std::map<std::string, TableScanReport> by_table;
  std::map<std::string, std::set<std::string>> kept_names, counted_paths;
  for (size_t i = 0; i < scans.size(); ++i) {
    const TableScan& scan = scans[i];
    TableScanReport& report = by_table[scan.table];
    report.table = scan.table;
    report.partitions_total = static_cast<int64_t>(scan.partitions.size());
    report.objects_total = static_cast<int64_t>(scan.files.size());
    for (const ScanFile& file : scan.files) {
      if (!reads.kept_paths[i].count(file.path))
        continue;
      if (file.partition >= 0)
        kept_names[scan.table].insert(scan.partitions[file.partition]);
      if (counted_paths[scan.table].insert(file.path).second) {
        ++report.objects_kept;
        report.bytes_kept += file.size;
        *inputs_fingerprint += ObjectFingerprint(file.path, file.size, file.etag, file.modified_us);
      }
    }
    for (const std::string& partition : scan.partitions) {
      bool kept = kept_names[scan.table].count(partition) > 0;
      auto& list = kept ? report.partitions_kept : report.partitions_pruned;
      if (std::find(list.begin(), list.end(), partition) == list.end())
        list.push_back(partition);
    }
    // A later scan of the same table may keep what an earlier one pruned.
    std::erase_if(report.partitions_pruned,
                  [&](const std::string& name) { return kept_names[scan.table].count(name) > 0; });
  }
  std::vector<TableScanReport> out;
  for (auto& [table, report] : by_table)
    out.push_back(std::move(report));
  return out;
}

std::string DescribeScan(const TableScanReport& report) {
  auto list = [](const std::vector<std::string>& names) {
    std::string out;
    for (size_t i = 0; i < names.size() && i < 20; ++i)
      out += (i ? ", " : "") + names[i];
    if (names.size() > 20)
      out += ", … (" + std::to_string(names.size() - 20) + " more)";
    return out.empty() ? std::string("none") : out;
  };
  std::string text;
  if (report.partitions_total > 0) {
    text = std::to_string(report.partitions_kept.size()) + " of " +
           std::to_string(report.partitions_total) + " partitions kept, " +
           std::to_string(report.partitions_pruned.size()) +
           " pruned\nkept: " + list(report.partitions_kept) +
           "\npruned: " + list(report.partitions_pruned) + "\n";
  } else {
    text = "not partitioned\n";
  }
  return text + "objects: " + std::to_string(report.objects_kept) + " of " +
         std::to_string(report.objects_total) + " (" + std::to_string(report.bytes_kept) +
         " bytes)";
}

}  // namespace basin::query::internal
