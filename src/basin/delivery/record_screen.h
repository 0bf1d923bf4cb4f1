#pragma once

// Which of a delivery's records the destination table can take (see StreamService::Deliver):
// with the stream's unknown_fields = error, a record with a field the table lacks goes to
// the error prefix; a value its column's type cannot hold ("abc" for a BIGINT, 1.5 for an
// INTEGER, "soon" for a DATE) goes there too. Columns keep their types: a stream only adds
// columns. Values are checked by DuckDB over the staged records (query::FindUncastable), so the
// check uses the casts that will write them, at the engine's speed.

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "basin/catalog/catalog.h"
#include "basin/common/status.h"
#include "basin/delivery/delivery_format.h"

namespace basin::delivery {

/// The field a staged record line carries its position in (see StagedLine).
inline constexpr char kRowField[] = "__basin_row";

/// Records by partition, and the refused ones as {code, reason, raw}.
struct ScreenedRecords {
  std::map<std::string, std::vector<std::string>> by_partition;  // compact JSON objects
  std::vector<nlohmann::json> refused;
  size_t refused_at_ingest = 0;  // of `refused`: already counted when they arrived
};

/// Sorts records into partitions; records of kRefusedPartition (refused at ingest) become
/// refusals; with `table` and `refuse_unknown_fields`, refuses records with a field that is
/// neither a column nor a partition key of `table`; refuses records nested deeper than
/// `max_depth` (0: any depth; such records may be in the log from before the limit).
ScreenedRecords ScreenRecords(const std::vector<const PartitionedRecord*>& records,
                              const std::optional<catalog::Table>& table,
                              bool refuse_unknown_fields, int max_depth = 0);

/// Reports whether the engine reads a set of records (by their indices) together: OK, or
/// InvalidArgument for what their content does (any other error is the engine's or the
/// store's, not the records').
using ReadsTogether = std::function<Status(const std::vector<size_t>& indices)>;

/// A record of `count` that the engine cannot read with the others: its index and why.
struct UnreadableRecord {
  size_t index = 0;
  std::string reason;
};

/// Finds the records that keep the engine from reading a delivery's records, once it failed
/// to read all `count` of them with `failure`: keeps halves that read together with what is
/// already kept and narrows the others down to single records, so one bad record costs
/// about log2(count) reads and the rest are delivered. A record that only conflicts with
/// others (two spellings of one struct field) is refused after those kept before it. An
/// error other than InvalidArgument from `reads` stops the search and is returned: an
/// unreachable store must never refuse records.
Result<std::vector<UnreadableRecord>> FindUnreadable(size_t count, const Status& failure,
                                                     const ReadsTogether& reads);

/// The refusal of a record the engine could not read (see FindUnreadable).
nlohmann::json UnreadableRefusal(const std::string& record_json, const std::string& reason);

/// A record as staged for the engine: its JSON object with kRowField = `row` added first.
std::string StagedLine(const std::string& record_json, size_t row);

/// The refusal of a record whose `value` the engine could not cast to `column`'s type.
nlohmann::json CastRefusal(const std::string& record_json, const catalog::Column& column,
                           const std::string& value, const std::string& qualified_table);

}  // namespace basin::delivery
