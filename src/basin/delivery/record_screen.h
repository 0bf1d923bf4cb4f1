#pragma once

// Which of a delivery's records the destination table can take. A record goes to the error
// prefix, with the reason, when it has a field the table lacks and the stream may not add
// columns, or a value its column's type cannot hold without loss ("abc" or 1.5 for a BIGINT
// column, an object for a DATE). Columns keep their types: a stream only adds columns.
//
// Strings for non-text columns ("2026-11-25" for a DATE, "42" for a BIGINT) are parsed by
// DuckDB's own casts, which only the engine knows exactly: such values are returned as
// `engine_checks` for the delivery to confirm (see StreamService::Deliver).

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "basin/catalog/catalog.h"
#include "basin/delivery/delivery_format.h"

namespace basin::delivery {

/// Whether `value` fits a column of DuckDB type `type`: "" when it does (or when only the
/// engine can tell, then *ask_engine is set), else why not.
std::string ValueMisfit(const nlohmann::json& value, std::string_view type, bool* ask_engine);

struct ScreenedRecord {
  std::string json;
  /// (column name as in the table, string value) pairs the engine must confirm.
  std::vector<std::pair<std::string, std::string>> engine_checks;
};

struct ScreenedRecords {
  std::map<std::string, std::vector<ScreenedRecord>> by_partition;
  std::vector<nlohmann::json> refused;  // {code, reason, raw} per record
};

/// `table`: the destination as it is (nullopt before the first delivery: everything fits).
ScreenedRecords ScreenRecords(const std::vector<const PartitionedRecord*>& records,
                              const std::optional<catalog::Table>& table,
                              bool refuse_unknown_fields);

/// The refusal of a record whose string `value` the engine could not cast to `type`.
nlohmann::json EngineRefusal(const ScreenedRecord& record, const std::string& column,
                             const std::string& value, const std::string& type,
                             const std::string& qualified_table);

}  // namespace basin::delivery
