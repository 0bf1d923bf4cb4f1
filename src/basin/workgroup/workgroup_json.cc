#include "basin/workgroup/workgroup_json.h"

#include <algorithm>
#include <limits>
#include <string>

#include "basin/common/time_format.h"

namespace basin::workgroup {
namespace {

Result<int64_t> IntegerField(const nlohmann::json& value, const std::string& field, int64_t most) {
  if (!value.is_number_integer())
    return Status::InvalidArgument("field '" + field + "' must be an integer");
  if (value.is_number_unsigned() && value.get<uint64_t>() > static_cast<uint64_t>(most))
    return Status::InvalidArgument("field '" + field + "' must be at most " + std::to_string(most));
  int64_t number = value.get<int64_t>();
  if (number > most)
    return Status::InvalidArgument("field '" + field + "' must be at most " + std::to_string(most));
  return number;
}

}  // namespace

nlohmann::json ToJson(const Workgroup& workgroup) {
  return {{"name", workgroup.name},
          {"description", workgroup.description},
          {"bytes_scanned_limit", workgroup.bytes_scanned_limit},
          {"run_time_limit_ms", workgroup.run_time_limit.count()},
          {"memory_limit_bytes", workgroup.memory_limit_bytes},
          {"max_concurrent", workgroup.max_concurrent},
          {"max_queued", workgroup.max_queued},
          {"queue_timeout_ms", workgroup.queue_timeout.count()},
          {"created_at", FormatIso8601(workgroup.created_at)},
          {"updated_at", FormatIso8601(workgroup.updated_at)}};
}

Result<WorkgroupSettings> SettingsFromJson(const nlohmann::json& object) {
  if (!object.is_object())
    return Status::InvalidArgument("workgroup settings must be a JSON object");
  constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
  constexpr int64_t kIntMax = std::numeric_limits<int>::max();
  constexpr int64_t kIntMin = std::numeric_limits<int>::min();
  WorkgroupSettings settings;
  for (const auto& [field, value] : object.items()) {
    if (field == "name" || field == "created_at" || field == "updated_at")
      continue;  // what ToJson writes may be sent back as it is
    if (field == "description") {
      if (!value.is_string())
        return Status::InvalidArgument("field 'description' must be a string");
      settings.description = value.get<std::string>();
    } else if (field == "bytes_scanned_limit") {
      BASIN_ASSIGN_OR_RETURN(settings.bytes_scanned_limit, IntegerField(value, field, kInt64Max));
    } else if (field == "run_time_limit_ms") {
      BASIN_ASSIGN_OR_RETURN(int64_t ms, IntegerField(value, field, kInt64Max));
      settings.run_time_limit = std::chrono::milliseconds(ms);
    } else if (field == "memory_limit_bytes") {
      BASIN_ASSIGN_OR_RETURN(settings.memory_limit_bytes, IntegerField(value, field, kInt64Max));
    } else if (field == "max_concurrent") {
      BASIN_ASSIGN_OR_RETURN(int64_t count, IntegerField(value, field, kIntMax));
      settings.max_concurrent = static_cast<int>(std::max<int64_t>(count, kIntMin));
    } else if (field == "max_queued") {
      BASIN_ASSIGN_OR_RETURN(int64_t count, IntegerField(value, field, kIntMax));
      settings.max_queued = static_cast<int>(std::max<int64_t>(count, kIntMin));
    } else if (field == "queue_timeout_ms") {
      BASIN_ASSIGN_OR_RETURN(int64_t ms, IntegerField(value, field, kInt64Max));
      settings.queue_timeout = std::chrono::milliseconds(ms);
    } else {
      return Status::InvalidArgument(
          "unknown field '" + field +
          "' (workgroup fields: description, bytes_scanned_limit, run_time_limit_ms, "
          "memory_limit_bytes, max_concurrent, max_queued, queue_timeout_ms)");
    }
  }
  return settings;
}

}  // namespace basin::workgroup
