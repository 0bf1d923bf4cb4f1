#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "basin/common/result.h"
#include "basin/metadata/database.h"
#include "basin/workgroup/workgroup.h"

namespace basin::workgroup {

/// Workgroups and the workgroup of each user, in the metadata database (tables
/// `workgroups` and `users.workgroup`, migration 5).
///
/// Thread-safe: the store keeps no state of its own and the Database serialises
/// statements; changes that read before they write run in one transaction.
class WorkgroupStore {
 public:
  using Clock = std::function<std::chrono::system_clock::time_point()>;

  /// `database` must outlive the store. `clock` stamps created_at and updated_at (the
  /// system clock when empty).
  explicit WorkgroupStore(metadata::Database& database, Clock clock = {});

  /// Creates workgroup `name` with `settings` over the defaults of Workgroup.
  /// InvalidArgument for a bad name or setting (naming the field); AlreadyExists when the
  /// name is taken (names are unique ignoring case).
  Result<Workgroup> Create(std::string_view name, const WorkgroupSettings& settings);

  /// NotFound when there is no workgroup of that exact name.
  Result<Workgroup> Get(std::string_view name);

  /// Every workgroup, ordered by name.
  Result<std::vector<Workgroup>> List();

  /// Changes the settings `settings` sets; the rest stay. Returns the workgroup as
  /// stored now. NotFound for an unknown workgroup; InvalidArgument for a bad setting.
  Result<Workgroup> Update(std::string_view name, const WorkgroupSettings& settings);

  /// Deletes a workgroup. NotFound when it does not exist; FailedPrecondition for
  /// 'primary' and for a workgroup that still has users (the message says how many).
  Status Delete(std::string_view name);

  /// The names of the users in workgroup `name`, ordered. NotFound for an unknown
  /// workgroup.
  Result<std::vector<std::string>> Members(std::string_view name);

  /// The number of users in each workgroup that has any.
  Result<std::vector<std::pair<std::string, int64_t>>> MemberCounts();

  /// The workgroup of user `user` (exact name), with its current settings. NotFound for
  /// an unknown user; FailedPrecondition when the user's workgroup no longer exists
  /// (only a hand-edited database gets there).
  Result<Workgroup> UserWorkgroup(std::string_view user);

  /// Moves user `user` into workgroup `workgroup`, effective for its next query.
  /// NotFound for an unknown user or workgroup.
  Status AssignUser(std::string_view user, std::string_view workgroup);

 private:
  std::chrono::sys_seconds Now() const;

  metadata::Database& database_;
  const Clock clock_;
};

}  // namespace basin::workgroup
