#pragma once

// How one delivery's records become objects of the stream's table (docs/streams.md): the
// records the table cannot take go to the error prefix (record_screen.h), each partition's
// records are staged for the engine, which infers the columns they add, one object per
// partition is written through the table-writing layer (tablewrite/) under a name made from
// the delivery's log positions (so a repeat replaces it), the older objects of a partition
// whose columns changed are rewritten, and the partitions are registered in one catalog
// commit. The log protocol around it (intents, marks, recovery, moving forward) is the
// StreamService's: a failed Write is retried by it, exactly as it was.

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "basin/catalog/catalog.h"
#include "basin/common/result.h"
#include "basin/delivery/delivery_format.h"
#include "basin/query/engine.h"
#include "basin/storage/store_resolver.h"
#include "basin/stream/stream_store.h"
#include "basin/stream/wal.h"

namespace basin::delivery {

/// One delivery as the log protocol hands it over.
struct DeliveryBatch {
  const stream::StreamDefinition* definition = nullptr;
  std::vector<const PartitionedRecord*> records;  // in log order
  int64_t intent_time = 0;                        // part of the object names
  stream::Lsn first = 0, last = 0;                // part of the object names
  /// A repeat (a retry, or an intent found at recovery): its objects may exist already.
  bool repeat = false;
  /// Failures so far to write its refused records (see kErrorWriteAttempts); Write counts.
  int* error_write_failures = nullptr;
};

/// What a delivery wrote.
struct DeliveryCounts {
  int64_t records = 0;
  int64_t objects = 0;
  int64_t bytes = 0;
  int64_t refused = 0;  // sent to the error prefix by this delivery (not those refused at ingest)
};

struct DeliveryOutcome {
  DeliveryCounts counts;
  /// Records of partitions whose objects could not be written: delivered later under other
  /// names (DeliveredMark::deferred), with the first such failure.
  std::vector<PartitionedRecord> deferred;
  Status deferred_failure;
};

/// Attempts of a delivery whose refused records cannot be written to the error prefix
/// before it delivers the good records without them (logged).
inline constexpr int kErrorWriteAttempts = 3;

/// Thread-compatible; one delivery per table at a time (the caller takes turns). The
/// references must outlive it.
class DeliveryWriter {
 public:
  /// `abandon`, when set, interrupts the engine work of a delivery under way.
  DeliveryWriter(catalog::Catalog& catalog, storage::StoreResolver& stores, query::Engine& engine,
                 int max_record_depth, const std::atomic<bool>* abandon)
      : catalog_(catalog),
        stores_(stores),
        engine_(engine),
        max_record_depth_(max_record_depth),
        abandon_(abandon) {}

  /// Writes and registers `batch`. An error leaves the delivery to be repeated as it is; a
  /// written object under its name is then replaced. OK with deferred records when some
  /// partitions were written and others could not be.
  Result<DeliveryOutcome> Write(const DeliveryBatch& batch);

 private:
  // A partition's records, staged as NDJSON in a '_' folder (scans skip those).
  struct Group {
    std::string partition;
    std::vector<std::string>* records = nullptr;
    std::string temporary;
    storage::StoreResolver::Resolved tmp;
  };
  // What each written object adds to its partition's counts.
  struct Written {
    const Group* group;
    int64_t objects = 0;
    int64_t bytes = 0;
  };
  struct Staged;

  Status Stage(const DeliveryBatch& batch, const Result<catalog::Table>& existing, Staged& staged);
  Status StageGroup(const DeliveryBatch& batch, const Result<catalog::Table>& existing,
                    const std::string& partition, std::vector<std::string>& records,
                    Staged& staged);
  Status WriteRefusals(const DeliveryBatch& batch, const std::vector<nlohmann::json>& refused);
  // Writes each group's object; the groups that could not be written are deferred.
  Result<std::vector<Written>> WriteGroups(const DeliveryBatch& batch, Staged& staged,
                                           DeliveryOutcome& outcome);
  Status Register(const DeliveryBatch& batch, const Result<catalog::Table>& existing,
                  const Staged& staged, const std::vector<Written>& written);
  // `partition` with its objects and bytes: its counts as registered `before` (if it was)
  // plus what a delivery added, or a listing of its folder when `relist`.
  Result<catalog::Partition> CountedPartition(catalog::Partition partition,
                                              const std::optional<catalog::Partition>& before,
                                              int64_t added_objects, int64_t added_bytes,
                                              bool relist);
  // The table's objects and bytes summed over its registered partitions, with `upserted`
  // in place of the ones they replace (by location).
  Result<catalog::TableStats> TableTotals(const catalog::Table& table,
                                          const std::vector<catalog::Partition>& upserted,
                                          catalog::Timestamp modified);
  query::ExecuteOptions Basin() const;

  catalog::Catalog& catalog_;
  storage::StoreResolver& stores_;
  query::Engine& engine_;
  const int max_record_depth_;
  const std::atomic<bool>* abandon_;
};

}  // namespace basin::delivery
