#pragma once

// What the delivery layer writes into the write-ahead log and the lake: record encoding,
// flush intent and delivered mark payloads, object names. Pure functions, no I/O.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "basin/catalog/catalog.h"
#include "basin/common/result.h"
#include "basin/stream/stream_definition.h"
#include "basin/stream/wal_format.h"

namespace basin::delivery {

/// A record as a batch entry holds it: the partition evaluated at ingest (so recovery
/// places it where it would have gone), then '\n', then the record as compact JSON.
struct PartitionedRecord {
  std::string partition;  // relative to the stream's prefix, "" or ending in '/'
  std::string json;       // one line
};
/// The partition of a record refused at ingest; its json is the refusal {index, code,
/// reason, raw}, delivered to the error prefix. No prefix expression yields it (theirs are
/// "" or end in '/').
inline constexpr std::string_view kRefusedPartition = "!refused";
std::string EncodeRecord(const PartitionedRecord& record);

/// How deeply `json` nests objects and arrays (a flat object: 1), read from the text
/// without parsing it, so a hostile record costs no recursion.
int JsonNestingDepth(std::string_view json);

/// Records nested deeper than this are refused (streams.max_record_depth): DuckDB's JSON
/// reader and schema inference get slower with every level, so one such record made every
/// later delivery of its stream fail or crawl.
inline constexpr int kDefaultMaxRecordDepth = 32;

/// `text` cut to `max_bytes` (on a UTF-8 boundary) with a note of how much was cut: error
/// texts go into logs, stats and /metrics.
std::string CapText(std::string text, size_t max_bytes = 1000);
Result<PartitionedRecord> DecodeRecord(std::string_view encoded);

/// A flush intent: the batch entries (LSNs, ascending) one delivery covers, and when it was
/// first tried (UTC seconds; 0 in intents written before names carried a time). The
/// delivery's object names come from these (see ObjectName).
struct FlushIntent {
  std::vector<stream::Lsn> lsns;
  int64_t unix_seconds = 0;
  friend bool operator==(const FlushIntent&, const FlushIntent&) = default;
};
std::string EncodeFlushIntent(const FlushIntent& intent);
Result<FlushIntent> DecodeFlushIntent(std::string_view payload);

/// What a delivery's object names are made of (see ObjectName).
struct DeliveryName {
  int64_t unix_seconds = 0;
  stream::Lsn first = 0;
  stream::Lsn last = 0;
  friend bool operator==(const DeliveryName&, const DeliveryName&) = default;
};

/// A delivered mark names the flush intent (its LSN) whose delivery completed, and the
/// records of partitions that could not be written then (`deferred`): they live on as a
/// record batch at the mark's own LSN, delivered later, so one failing partition does not
/// hold up the others. One entry, so a crash cannot split the two.
///
/// A mark also moves a failing stream's records forward in the log, so that they do not
/// keep the shared log from being truncated (docs/streams.md, "A failing stream and the
/// log"):
/// - `retired`: batch entries no intent names, whose records are in `deferred` (buffered
///   again at the mark's LSN); `intent` is then 0.
/// - `moved`: the delivery of `intent`, unfinished, moved here whole: `deferred` holds its
///   records, delivered under its names (`moved`, which a first attempt may have used), and
///   the mark's LSN serves as its flush intent.
struct DeliveredMark {
  stream::Lsn intent = 0;
  std::vector<PartitionedRecord> deferred;
  std::vector<stream::Lsn> retired;
  std::optional<DeliveryName> moved;
};
std::string EncodeDeliveredMark(const DeliveredMark& mark);
Result<DeliveredMark> DecodeDeliveredMark(std::string_view payload);

/// "<stream>-<yyyyMMddTHHmmssZ>-<first LSN, 20 digits>-<last, 20 digits>.<ext>": the
/// stream, when the delivery was first tried, and its place in the log; the same for a
/// repeated delivery, and sorted by name in delivery order. Without the time segment when
/// `unix_seconds` is 0 (an intent from before times were recorded).
std::string ObjectName(std::string_view stream, int64_t unix_seconds, stream::Lsn first,
                       stream::Lsn last, std::string_view extension);

/// "parquet", "json", "json.gz" or "json.zst".
std::string Extension(const stream::StreamDefinition& definition);

/// The values of `keys` read from a partition's folders ("dt=2026-11-25/event=click/"), in
/// key order; InvalidArgument when a key has no folder.
Result<std::vector<std::string>> PartitionValues(std::string_view partition,
                                                 const std::vector<catalog::PartitionKey>& keys);

}  // namespace basin::delivery
