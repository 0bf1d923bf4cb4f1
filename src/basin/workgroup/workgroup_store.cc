#include "basin/workgroup/workgroup_store.h"

#include <optional>
#include <utility>

namespace basin::workgroup {
namespace {

using metadata::Row;

// The columns WorkgroupFromRow reads, in its order.
constexpr std::string_view kColumns =
    "w.id, w.name, w.description, w.bytes_scanned_limit, w.run_time_limit_ms, "
    "w.memory_limit_bytes, w.max_concurrent, w.max_queued, w.queue_timeout_ms, w.created_at, "
    "w.updated_at";

// A workgroup from kColumns starting at column `first`.
Result<Workgroup> WorkgroupFromRow(const Row& row, size_t first) {
  Workgroup workgroup;
  BASIN_ASSIGN_OR_RETURN(workgroup.id, row.Int(first));
  BASIN_ASSIGN_OR_RETURN(workgroup.name, row.Text(first + 1));
  BASIN_ASSIGN_OR_RETURN(workgroup.description, row.Text(first + 2));
  BASIN_ASSIGN_OR_RETURN(workgroup.bytes_scanned_limit, row.Int(first + 3));
  BASIN_ASSIGN_OR_RETURN(int64_t run_time_limit_ms, row.Int(first + 4));
  workgroup.run_time_limit = std::chrono::milliseconds(run_time_limit_ms);
  BASIN_ASSIGN_OR_RETURN(workgroup.memory_limit_bytes, row.Int(first + 5));
  BASIN_ASSIGN_OR_RETURN(int64_t max_concurrent, row.Int(first + 6));
  workgroup.max_concurrent = static_cast<int>(max_concurrent);
  BASIN_ASSIGN_OR_RETURN(int64_t max_queued, row.Int(first + 7));
  workgroup.max_queued = static_cast<int>(max_queued);
  BASIN_ASSIGN_OR_RETURN(int64_t queue_timeout_ms, row.Int(first + 8));
  workgroup.queue_timeout = std::chrono::milliseconds(queue_timeout_ms);
  BASIN_ASSIGN_OR_RETURN(int64_t created_at, row.Int(first + 9));
  workgroup.created_at = std::chrono::sys_seconds(std::chrono::seconds(created_at));
  BASIN_ASSIGN_OR_RETURN(int64_t updated_at, row.Int(first + 10));
  workgroup.updated_at = std::chrono::sys_seconds(std::chrono::seconds(updated_at));
  return workgroup;
}

int64_t UnixSeconds(std::chrono::sys_seconds time) {
  return time.time_since_epoch().count();
}

std::string CountOfUsers(int64_t count) {
  return std::to_string(count) + (count == 1 ? " user" : " users");
}

}  // namespace

WorkgroupStore::WorkgroupStore(metadata::Database& database, Clock clock)
    : database_(database), clock_(std::move(clock)) {}

std::chrono::sys_seconds WorkgroupStore::Now() const {
  return std::chrono::time_point_cast<std::chrono::seconds>(
      clock_ ? clock_() : std::chrono::system_clock::now());
}

Result<Workgroup> WorkgroupStore::Create(std::string_view name, const WorkgroupSettings& settings) {
  Workgroup workgroup;
  workgroup.name = std::string(name);
  settings.ApplyTo(workgroup);
  BASIN_RETURN_IF_ERROR(ValidateWorkgroup(workgroup));
  workgroup.created_at = workgroup.updated_at = Now();
  Result<int64_t> id = database_.ExecuteReturningId(
      "INSERT INTO workgroups (name, description, bytes_scanned_limit, run_time_limit_ms, "
      "memory_limit_bytes, max_concurrent, max_queued, queue_timeout_ms, created_at, updated_at) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      {workgroup.name, workgroup.description, workgroup.bytes_scanned_limit,
       int64_t{workgroup.run_time_limit.count()}, workgroup.memory_limit_bytes,
       int64_t{workgroup.max_concurrent}, int64_t{workgroup.max_queued},
       int64_t{workgroup.queue_timeout.count()}, UnixSeconds(workgroup.created_at),
       UnixSeconds(workgroup.updated_at)});
  if (id.status().code() == StatusCode::kAlreadyExists) {
    return Status::AlreadyExists("workgroup name is taken (names are unique ignoring case): " +
                                 workgroup.name);
  }
  BASIN_RETURN_IF_ERROR(id.status());
  workgroup.id = *id;
  return workgroup;
}

Result<Workgroup> WorkgroupStore::Get(std::string_view name) {
  BASIN_ASSIGN_OR_RETURN(
      std::optional<Row> row,
      database_.QueryRow("SELECT " + std::string(kColumns) + " FROM workgroups w WHERE w.name = ?",
                         {std::string(name)}));
  if (!row.has_value())
    return Status::NotFound("workgroup not found: " + std::string(name));
  return WorkgroupFromRow(*row, 0);
}

Result<std::vector<Workgroup>> WorkgroupStore::List() {
  BASIN_ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      database_.Query("SELECT " + std::string(kColumns) + " FROM workgroups w ORDER BY w.name"));
  std::vector<Workgroup> workgroups;
  workgroups.reserve(rows.size());
  for (const Row& row : rows) {
    BASIN_ASSIGN_OR_RETURN(Workgroup workgroup, WorkgroupFromRow(row, 0));
    workgroups.push_back(std::move(workgroup));
  }
  return workgroups;
}

Result<Workgroup> WorkgroupStore::Update(std::string_view name, const WorkgroupSettings& settings) {
  Workgroup updated;
  BASIN_RETURN_IF_ERROR(database_.Transaction([&]() -> Status {
    BASIN_ASSIGN_OR_RETURN(updated, Get(name));
    settings.ApplyTo(updated);
    BASIN_RETURN_IF_ERROR(ValidateWorkgroup(updated));
    updated.updated_at = Now();
    return database_.Execute(
        "UPDATE workgroups SET description = ?, bytes_scanned_limit = ?, run_time_limit_ms = ?, "
        "memory_limit_bytes = ?, max_concurrent = ?, max_queued = ?, queue_timeout_ms = ?, "
        "updated_at = ? WHERE id = ?",
        {updated.description, updated.bytes_scanned_limit, int64_t{updated.run_time_limit.count()},
         updated.memory_limit_bytes, int64_t{updated.max_concurrent}, int64_t{updated.max_queued},
         int64_t{updated.queue_timeout.count()}, UnixSeconds(updated.updated_at), updated.id});
  }));
  return updated;
}

Status WorkgroupStore::Delete(std::string_view name) {
  if (name == kPrimaryWorkgroup) {
    return Status::FailedPrecondition(
        "the 'primary' workgroup cannot be deleted: it is where every user starts");
  }
  // One transaction, so no user can be assigned between the count and the delete.
  return database_.Transaction([&]() -> Status {
    BASIN_ASSIGN_OR_RETURN(Workgroup workgroup, Get(name));
    BASIN_ASSIGN_OR_RETURN(
        std::optional<Row> count,
        database_.QueryRow("SELECT count(*) FROM users WHERE workgroup = ?", {workgroup.name}));
    BASIN_ASSIGN_OR_RETURN(int64_t members, count->Int(0));
    if (members > 0) {
      return Status::FailedPrecondition(
          "workgroup '" + workgroup.name + "' still has " + CountOfUsers(members) +
          "; move them to another workgroup first (basin user set-workgroup USER WORKGROUP)");
    }
    return database_.Execute("DELETE FROM workgroups WHERE id = ?", {workgroup.id});
  });
}

Result<std::vector<std::string>> WorkgroupStore::Members(std::string_view name) {
  BASIN_ASSIGN_OR_RETURN(Workgroup workgroup, Get(name));
  BASIN_ASSIGN_OR_RETURN(std::vector<Row> rows,
                         database_.Query("SELECT name FROM users WHERE workgroup = ? ORDER BY name",
                                         {workgroup.name}));
  std::vector<std::string> names;
  names.reserve(rows.size());
  for (const Row& row : rows) {
    BASIN_ASSIGN_OR_RETURN(std::string user, row.Text(0));
    names.push_back(std::move(user));
  }
  return names;
}

Result<std::vector<std::pair<std::string, int64_t>>> WorkgroupStore::MemberCounts() {
  BASIN_ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      database_.Query(
          "SELECT workgroup, count(*) FROM users GROUP BY workgroup ORDER BY workgroup"));
  std::vector<std::pair<std::string, int64_t>> counts;
  for (const Row& row : rows) {
    BASIN_ASSIGN_OR_RETURN(std::string workgroup, row.Text(0));
    BASIN_ASSIGN_OR_RETURN(int64_t count, row.Int(1));
    counts.emplace_back(std::move(workgroup), count);
  }
  return counts;
}

Result<Workgroup> WorkgroupStore::UserWorkgroup(std::string_view user) {
  BASIN_ASSIGN_OR_RETURN(
      std::optional<Row> row,
      database_.QueryRow("SELECT u.workgroup, " + std::string(kColumns) +
                             " FROM users u LEFT JOIN workgroups w ON w.name = u.workgroup "
                             "WHERE u.name = ?",
                         {std::string(user)}));
  if (!row.has_value())
    return Status::NotFound("user not found: " + std::string(user));
  BASIN_ASSIGN_OR_RETURN(std::string name, row->Text(0));
  if (row->IsNull(1)) {
    return Status::FailedPrecondition("user '" + std::string(user) + "' belongs to workgroup '" +
                                      name +
                                      "', which does not exist; assign the user to another one");
  }
  return WorkgroupFromRow(*row, 1);
}

Status WorkgroupStore::AssignUser(std::string_view user, std::string_view workgroup) {
  // One transaction, so the workgroup cannot be deleted between the check and the update.
  return database_.Transaction([&]() -> Status {
    BASIN_ASSIGN_OR_RETURN(Workgroup target, Get(workgroup));
    BASIN_ASSIGN_OR_RETURN(int64_t changed,
                           database_.ExecuteReturningChangeCount(
                               "UPDATE users SET workgroup = ?, updated_at = ? WHERE name = ?",
                               {target.name, UnixSeconds(Now()), std::string(user)}));
    if (changed == 0)
      return Status::NotFound("user not found: " + std::string(user));
    return Status::OK();
  });
}

}  // namespace basin::workgroup
