#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "basin/auth/auth_store.h"
#include "basin/common/result.h"
#include "basin/metadata/row.h"

// Conversions between AuthStore's types and metadata rows, shared by its source files.
namespace basin::auth {

inline int64_t ToUnix(Timestamp time) {
  return time.time_since_epoch().count();
}
inline Timestamp FromUnix(int64_t seconds) {
  return Timestamp(std::chrono::seconds(seconds));
}

inline std::optional<int64_t> OptionalToUnix(const std::optional<Timestamp>& time) {
  if (!time.has_value())
    return std::nullopt;
  return ToUnix(*time);
}

/// A nullable INTEGER time column.
Result<std::optional<Timestamp>> OptionalTimestamp(const metadata::Row& row, size_t index);

/// The columns of `users` (table alias `u`) that UserFromRow reads, in its order.
inline constexpr std::string_view kUserColumns = "u.id, u.name, u.role, u.created_at, u.workgroup";
inline constexpr size_t kUserColumnCount = 5;

/// A user from columns kUserColumns starting at `first`. Internal when the stored role
/// is not one this binary knows.
Result<User> UserFromRow(const metadata::Row& row, size_t first);

}  // namespace basin::auth
