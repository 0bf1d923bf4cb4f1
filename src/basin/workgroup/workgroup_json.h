#pragma once

#include <nlohmann/json.hpp>

#include "basin/common/result.h"
#include "basin/workgroup/workgroup.h"

// The JSON shape of a workgroup, shared by the HTTP API and `basin workgroup --json`.
// Field names are the stored column names: sizes in bytes, durations in milliseconds.
namespace basin::workgroup {

/// {"name", "description", "bytes_scanned_limit", "run_time_limit_ms",
///  "memory_limit_bytes", "max_concurrent", "max_queued", "queue_timeout_ms",
///  "created_at", "updated_at"} (times ISO 8601).
nlohmann::json ToJson(const Workgroup& workgroup);

/// The settings in a JSON object with the fields of ToJson (each optional; "name",
/// "created_at" and "updated_at" are ignored, so a document from ToJson can be sent back).
/// InvalidArgument naming the field for a value of the wrong type or out of the integer range, and
/// for an unknown field (a misspelt limit must not be silently ignored). Ranges are checked by
/// ValidateWorkgroup when the settings are used.
Result<WorkgroupSettings> SettingsFromJson(const nlohmann::json& object);

}  // namespace basin::workgroup
