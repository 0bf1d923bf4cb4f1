#pragma once

#include <functional>
#include <span>
#include <string_view>

#include "basin/common/result.h"
#include "basin/common/status.h"
#include "basin/metadata/database.h"
#include "basin/metadata/migrations.h"

namespace basin::metadata {

/// What applying migrations needs of an engine beyond the portable Database interface.
struct MigrationSteps {
  /// CREATE TABLE IF NOT EXISTS schema_migrations (version, description, applied_at) in
  /// the engine's dialect.
  std::string_view create_history_table;
  /// Runs one or more statements (a migration's SQL) on the connection of the calling
  /// thread's transaction.
  std::function<Status(std::string_view script)> execute_script;
  /// Runs `body` in a transaction that holds the database's write lock (and may wait
  /// longer for it than Database::Transaction does: another node may be migrating).
  std::function<Status(const std::function<Status()>& body)> transaction;
};

/// Brings the schema of `database` up to the newest of `migrations` and returns the
/// schema version then applied. Each migration runs in its own transaction and is
/// recorded in schema_migrations; one that another process applied meanwhile is skipped.
/// Errors: Internal when `migrations` are not numbered 1, 2, 3, ...; FailedPrecondition
/// when the database's schema is newer than `migrations` know ("metadata schema version 7
/// is newer than this basin (5); upgrade basin"); a failing migration's error, naming it.
Result<int> ApplyMigrations(Database& database, std::span<const Migration> migrations,
                            const MigrationSteps& steps);

}  // namespace basin::metadata
