#include "basin/workgroup/workgroup.h"

#include <cctype>

#include "basin/common/plain_name.h"

namespace basin::workgroup {
namespace {

Status AtLeast(const char* field, int64_t value, int64_t least) {
  if (value >= least)
    return Status::OK();
  return Status::InvalidArgument(std::string(field) + " must be at least " + std::to_string(least) +
                                 ", got " + std::to_string(value));
}

Status AtMost(const char* field, int64_t value, int64_t most) {
  if (value <= most)
    return Status::OK();
  return Status::InvalidArgument(std::string(field) + " must be at most " + std::to_string(most) +
                                 ", got " + std::to_string(value));
}

}  // namespace

void WorkgroupSettings::ApplyTo(Workgroup& workgroup) const {
  if (description)
    workgroup.description = *description;
  if (bytes_scanned_limit)
    workgroup.bytes_scanned_limit = *bytes_scanned_limit;
  if (run_time_limit)
    workgroup.run_time_limit = *run_time_limit;
  if (memory_limit_bytes)
    workgroup.memory_limit_bytes = *memory_limit_bytes;
  if (max_concurrent)
    workgroup.max_concurrent = *max_concurrent;
  if (max_queued)
    workgroup.max_queued = *max_queued;
  if (queue_timeout)
    workgroup.queue_timeout = *queue_timeout;
}

Status ValidateWorkgroupName(std::string_view name) {
  if (IsPlainName(name, 64) && std::isalnum(static_cast<unsigned char>(name.front())))
    return Status::OK();
  return Status::InvalidArgument(
      "workgroup name must be 1-64 letters, digits, '_', '.' or '-', starting with a letter or "
      "digit: '" +
      std::string(name.substr(0, 80)) + "'");
}

Status ValidateWorkgroup(const Workgroup& workgroup) {
  BASIN_RETURN_IF_ERROR(ValidateWorkgroupName(workgroup.name));
  if (workgroup.description.size() > kMaxDescriptionBytes) {
    return Status::InvalidArgument("description must be at most " +
                                   std::to_string(kMaxDescriptionBytes) + " bytes, got " +
                                   std::to_string(workgroup.description.size()));
  }
  for (char c : workgroup.description) {
    if (c == '\0')
      return Status::InvalidArgument("description must not contain NUL characters");
  }
  BASIN_RETURN_IF_ERROR(AtLeast("bytes_scanned_limit", workgroup.bytes_scanned_limit, 0));
  BASIN_RETURN_IF_ERROR(AtLeast("run_time_limit_ms", workgroup.run_time_limit.count(), 0));
  BASIN_RETURN_IF_ERROR(AtLeast("memory_limit_bytes", workgroup.memory_limit_bytes, 0));
  BASIN_RETURN_IF_ERROR(AtLeast("max_concurrent", workgroup.max_concurrent, 1));
  BASIN_RETURN_IF_ERROR(AtMost("max_concurrent", workgroup.max_concurrent, kMaxConcurrentLimit));
  BASIN_RETURN_IF_ERROR(AtLeast("max_queued", workgroup.max_queued, 0));
  BASIN_RETURN_IF_ERROR(AtMost("max_queued", workgroup.max_queued, kMaxQueuedLimit));
  return AtLeast("queue_timeout_ms", workgroup.queue_timeout.count(), 0);
}

}  // namespace basin::workgroup
