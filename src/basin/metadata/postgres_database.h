#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "basin/common/result.h"
#include "basin/metadata/database.h"
#include "basin/metadata/migrations.h"

namespace basin::metadata {

/// Whether `location` names a PostgreSQL database: it starts with "postgresql://" or
/// "postgres://" (the prefixes libpq accepts).
bool IsPostgresUrl(std::string_view location);

/// `url` with its password (in the user-info part or a password= parameter) replaced
/// by "***", for messages and logs.
std::string RedactPostgresUrl(std::string_view url);

/// Database::Open for a PostgreSQL connection URL, with an explicit migration list (in
/// PostgreSQL's dialect), so tests can exercise upgrades and failing migrations.
/// `migrations` must be numbered 1, 2, 3, ... (Internal otherwise).
///
/// The database keeps a small pool of connections (up to 4, opened when needed and
/// kept open): a statement outside a transaction runs on any idle one, a Transaction
/// keeps one for its whole body. A connection that broke is closed and replaced on
/// the next call, so a restarted server costs the calls that were running (Unavailable).
/// Defaults that the URL may override: connect_timeout=10, application_name=basin; a
/// lock_timeout of 5 s unless the server or URL sets one.
Result<std::unique_ptr<Database>> OpenPostgresDatabase(const std::string& url,
                                                       std::span<const Migration> migrations);

}  // namespace basin::metadata
