#pragma once

// The one layer that writes rows into the lake as a catalogued table: CREATE TABLE ... AS and
// INSERT OVERWRITE (writer/), stream delivery (delivery/), and the coming snapshots and SQL
// transform jobs all write through it. It writes a SELECT's rows (or text already made, such
// as NDJSON records) as objects under a table's location, commits new or replaced partitions
// with their statistics in one catalog transaction, deletes what a commit replaced, undoes
// what a failed write left, and reports what was written. How a caller names its objects
// (fresh write folders, or a stream's deterministic names for exactly-once delivery) and
// when it commits stay the caller's.

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "basin/catalog/catalog.h"
#include "basin/common/result.h"
#include "basin/query/engine.h"
#include "basin/query/lake_sql.h"
#include "basin/storage/store_resolver.h"

namespace basin::tablewrite {

/// The objects under a location that table scans read (query::IsDataObject), and their bytes.
struct ObjectCounts {
  int64_t objects = 0;
  int64_t bytes = 0;
};
Result<ObjectCounts> CountDataObjects(storage::StoreResolver& stores, const std::string& location);

/// Deletes the objects below `location` that pass `doomed` (given the path below it). Returns
/// the first failure, after trying every object.
Status DeleteObjects(storage::StoreResolver& stores, const std::string& location,
                     const std::function<bool(const std::string& relative)>& doomed);

/// Deletes a temporary object; a failure is logged as `event` (it costs space only: '_'
/// folders are not read).
void DeleteTemporary(storage::ObjectStore& store, const std::string& key,
                     const char* event = "write_temporary_delete_failed");

/// What one object is made of: text written as is, or a SELECT's rows written by the engine.
struct ObjectContent {
  std::optional<std::string> text;
  std::string select;
  query::CopyOptions copy;  // with `select`
};

/// The result of WriteObject.
struct ObjectWrite {
  Status status;
  uint64_t size = 0;                      // when written
  std::optional<uint64_t> replaced_size;  // the object it replaced (with check_replaced)
  int64_t rows = 0;                       // with `select`
  /// A failed write may have made its object (an answer lost on the way, a partial object
  /// committed as the engine gave up); it is removed. True when even that failed: the object
  /// may still be there.
  bool left_behind = false;
};

/// Writes the object at `url` and reads back its size. With `check_replaced`, first looks
/// whether an object is there (a repeat replacing what it wrote before).
ObjectWrite WriteObject(query::Engine& engine, storage::StoreResolver& stores,
                        const std::string& url, const ObjectContent& content,
                        const query::ExecuteOptions& execute, bool check_replaced = false);

/// What a write into a fresh write folder (write_layout.h) left in the lake.
struct FolderWrite {
  std::vector<catalog::Partition> partitions;  // partitioned: one per w- folder
  int64_t rows = 0;
  int64_t objects = 0;
  int64_t bytes = 0;
  catalog::Timestamp last_modified{};
};

/// Where a SELECT's rows go: partitioned, Hive folders below `location` with the write folder
/// inside each (each becomes a partition's location); else <location><write folder>/part-0.
struct FolderTarget {
  std::string table;  // "db.t", for errors and logs
  std::string location;
  std::vector<catalog::PartitionKey> keys;
  std::vector<catalog::Column> columns;  // recorded with each partition
  std::string write_folder;              // WriteFolder(NewWriteId())
};

/// The COPY of `select` (data columns, then the keys) into `target`.
std::string FolderCopySql(const std::string& select, const FolderTarget& target);

/// Writes `select` into `target` and lists what it wrote. On failure (or cancel), what it
/// wrote is deleted (DiscardFolderWrite) and nothing references it; the engine's errors say
/// "writing <table>: ...".
Result<FolderWrite> WriteSelectToFolder(query::Engine& engine, storage::StoreResolver& stores,
                                        const std::string& select, const FolderTarget& target,
                                        const query::ExecuteOptions& execute);

/// Deletes the objects of `target`'s write folder (after a failure before the commit).
void DiscardFolderWrite(storage::StoreResolver& stores, const FolderTarget& target);

/// Commits `update` in one catalog transaction, then deletes the data it replaced: the
/// partitions replace_same_values swapped out and, for an unpartitioned table whose location
/// moved, its previous folder (write folders and '_'/'.' objects below them stay). A failure
/// to delete is logged: that data is unreferenced.
Result<catalog::ApplyOutcome> CommitTable(catalog::Catalog& catalog, storage::StoreResolver& stores,
                                          const catalog::TableUpdate& update);

}  // namespace basin::tablewrite
