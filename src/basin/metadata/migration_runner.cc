#include "basin/metadata/migration_runner.h"

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace basin::metadata {
namespace {

Result<int> AppliedVersion(Database& database) {
  BASIN_ASSIGN_OR_RETURN(std::vector<Row> rows,
                         database.Query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
  if (rows.size() != 1)
    return Status::Internal("metadata schema_migrations: no version row");
  BASIN_ASSIGN_OR_RETURN(int64_t version, rows[0].Int(0));
  return static_cast<int>(version);
}

int64_t UnixSecondsNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Result<int> ApplyMigrations(Database& database, std::span<const Migration> migrations,
                            const MigrationSteps& steps) {
  for (size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version != static_cast<int>(i) + 1) {
      return Status::Internal("metadata migrations are misnumbered: entry " + std::to_string(i) +
                              " has version " + std::to_string(migrations[i].version));
    }
  }
  const int known = static_cast<int>(migrations.size());
  auto newer = [&](int applied) {
    return Status::FailedPrecondition("metadata schema version " + std::to_string(applied) +
                                      " is newer than this basin (" + std::to_string(known) +
                                      "); upgrade basin");
  };

  // Under the lock: two nodes creating the table at once could both fail otherwise.
  BASIN_RETURN_IF_ERROR(
      steps.transaction([&] { return steps.execute_script(steps.create_history_table); }));
  BASIN_ASSIGN_OR_RETURN(int applied, AppliedVersion(database));
  if (applied > known)
    return newer(applied);

  for (const Migration& migration : migrations) {
    if (migration.version <= applied)
      continue;
    Status status = steps.transaction([&]() -> Status {
      // Another process may have applied it while this one waited for the lock.
      BASIN_ASSIGN_OR_RETURN(int now_applied, AppliedVersion(database));
      if (now_applied >= migration.version)
        return Status::OK();
      BASIN_RETURN_IF_ERROR(steps.execute_script(migration.sql));
      return database.Execute(
          "INSERT INTO schema_migrations (version, description, applied_at) VALUES (?, ?, ?)",
          {int64_t{migration.version}, std::string(migration.description), UnixSecondsNow()});
    });
    if (!status.ok()) {
      return Status(status.code(), "metadata migration " + std::to_string(migration.version) +
                                       " (" + std::string(migration.description) +
                                       ") failed: " + status.message());
    }
  }
  BASIN_ASSIGN_OR_RETURN(int now_applied, AppliedVersion(database));
  if (now_applied > known)
    return newer(now_applied);
  return now_applied;
}

}  // namespace basin::metadata
