#include "basin/auth/store_rows.h"

#include <string>

namespace basin::auth {

Result<std::optional<Timestamp>> OptionalTimestamp(const metadata::Row& row, size_t index) {
  BASIN_ASSIGN_OR_RETURN(std::optional<int64_t> seconds, row.OptionalInt(index));
  if (!seconds.has_value())
    return std::optional<Timestamp>();
  return std::optional<Timestamp>(FromUnix(*seconds));
}

Result<User> UserFromRow(const metadata::Row& row, size_t first) {
  User user;
  BASIN_ASSIGN_OR_RETURN(user.id, row.Int(first));
  BASIN_ASSIGN_OR_RETURN(user.name, row.Text(first + 1));
  BASIN_ASSIGN_OR_RETURN(std::string role, row.Text(first + 2));
  Result<Role> parsed = ParseRole(role);
  if (!parsed.ok()) {
    return Status::Internal("user has a role this basin does not know: " + user.name);
  }
  user.role = *parsed;
  BASIN_ASSIGN_OR_RETURN(int64_t created_at, row.Int(first + 3));
  user.created_at = FromUnix(created_at);
  BASIN_ASSIGN_OR_RETURN(user.workgroup, row.Text(first + 4));
  return user;
}

}  // namespace basin::auth
