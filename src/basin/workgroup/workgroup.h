#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "basin/common/status.h"

/// Workgroups: named sets of per-query limits and a cap on concurrent queries with a
/// queue. Every user belongs to exactly one (by default 'primary').
namespace basin::workgroup {

/// The workgroup every user starts in; it always exists and cannot be deleted.
inline constexpr std::string_view kPrimaryWorkgroup = "primary";

/// One workgroup as stored. The defaults are those of a new workgroup (and of
/// 'primary'): no per-query limits, 4 queries at once, 100 waiting, 60 s in the queue.
struct Workgroup {
  int64_t id = 0;
  std::string name;
  std::string description;
  /// A query that reads more than this many bytes is stopped; 0: no limit.
  int64_t bytes_scanned_limit = 0;
  /// A query that runs longer is stopped; 0: no limit.
  std::chrono::milliseconds run_time_limit{0};
  /// Memory one query may use; 0: the engine's own limit (engine.memory_limit).
  int64_t memory_limit_bytes = 0;
  /// Queries of this workgroup that run at once; at least 1.
  int max_concurrent = 4;
  /// Queries that may wait for a slot; more are refused at once. 0: none wait.
  int max_queued = 100;
  /// How long a query waits for a slot before it fails; 0: as long as it takes.
  std::chrono::milliseconds queue_timeout{std::chrono::seconds(60)};
  std::chrono::sys_seconds created_at{};
  std::chrono::sys_seconds updated_at{};

  friend bool operator==(const Workgroup&, const Workgroup&) = default;
};

/// A change to a workgroup's settings: the fields that are set replace the stored ones.
/// Creating a workgroup applies it over the defaults of Workgroup.
struct WorkgroupSettings {
  std::optional<std::string> description;
  std::optional<int64_t> bytes_scanned_limit;
  std::optional<std::chrono::milliseconds> run_time_limit;
  std::optional<int64_t> memory_limit_bytes;
  std::optional<int> max_concurrent;
  std::optional<int> max_queued;
  std::optional<std::chrono::milliseconds> queue_timeout;

  /// Sets the fields of `workgroup` that this change sets.
  void ApplyTo(Workgroup& workgroup) const;
};

/// Upper bounds that keep a typo from meaning "unlimited in practice".
inline constexpr int kMaxConcurrentLimit = 10000;
inline constexpr int kMaxQueuedLimit = 1000000;
inline constexpr size_t kMaxDescriptionBytes = 1000;

/// OK when `name` can name a workgroup: 1-64 characters of letters, digits, '_', '.'
/// and '-', starting with a letter or digit. InvalidArgument naming the rule otherwise.
Status ValidateWorkgroupName(std::string_view name);

/// OK when every field of `workgroup` is in range; InvalidArgument naming the first field
/// that is not ("max_concurrent must be at least 1, got 0").
Status ValidateWorkgroup(const Workgroup& workgroup);

}  // namespace basin::workgroup
