#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "basin/common/result.h"

/// Where a write puts its files. Each statement writes into folders of its own,
/// w-<write id>/, that no registered location covers until the catalog commit:
///   partitioned:   <table location><k1>=<v1>/<k2>=<v2>/w-<write id>/part-<n>.parquet
///                  (each such w- folder becomes a partition's location)
///   unpartitioned: <base location>w-<write id>/part-0.parquet (the table's location)
namespace basin::tablewrite {

/// Where CREATE TABLE puts a table without a location: lake://warehouse/<db>/<table>/.
/// A constant for now; it becomes a setting (query.warehouse) when someone needs another.
inline constexpr std::string_view kWarehouseRoot = "lake://warehouse/";

/// A new write id: UTC time and 6 random hex digits, "20261125T101502Z-ab12cd". Sorts by time.
std::string NewWriteId(
    std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

/// The folder name of a write: "w-" + id.
std::string WriteFolder(std::string_view write_id);

/// True when `name` (one path segment) is a write folder, w-<write id>.
bool IsWriteFolder(std::string_view name);

/// An unpartitioned table's base location: its location without a trailing w-<write id>/
/// (where basin's writes switched it), or the location itself.
std::string BaseLocation(const std::string& table_location);

/// Splits a path below a table location that holds `write_folder`, such as
/// "dt=2026-11-25/w-.../part-0.parquet", into the partition values before the write folder,
/// one per key in order ("2026-11-25"), percent-decoded as DuckDB encodes them. nullopt when
/// the path is not in `write_folder`; InvalidArgument when its levels do not match `keys`.
Result<std::optional<std::vector<std::string>>> PartitionValuesOf(
    std::string_view relative_path, std::string_view write_folder,
    const std::vector<std::string>& keys);

/// True when a path below a location has a w-<write id> folder among its levels (another
/// write's files), or a level starting with '.' or '_' (not table data).
bool IsOutsideTableData(std::string_view relative_path);

}  // namespace basin::tablewrite
