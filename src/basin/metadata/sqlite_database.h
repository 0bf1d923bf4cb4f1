#pragma once

#include <memory>
#include <span>
#include <string>

#include "basin/common/result.h"
#include "basin/metadata/database.h"
#include "basin/metadata/migrations.h"

namespace basin::metadata {

/// Database::Open with an explicit migration list, so tests can exercise upgrades and
/// failing migrations. `migrations` must be numbered 1, 2, 3, ... (Internal otherwise).
/// `path` ":memory:" opens a private in-memory database (no WAL, gone on close).
Result<std::unique_ptr<Database>> OpenSqliteDatabase(const std::string& path,
                                                     std::span<const Migration> migrations);

}  // namespace basin::metadata
