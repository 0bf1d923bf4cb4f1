#pragma once

#include <nlohmann/json.hpp>

#include "basin/query/query_history.h"
#include "basin/query/saved_queries.h"

/// The JSON shapes of history records and saved queries, shared by the CLI (--json) and
/// the HTTP API.
namespace basin::query {

/// {"id", "user", "sql", "status", "statement_kind", "database", "workgroup",
///  "started_at", "ended_at" (null while unfinished), "duration_ms", "rows", "bytes_read",
///  "partitions_scanned", "partitions_total", "objects_scanned", "cache_hit", "error"}.
nlohmann::json ToJson(const QueryRecord& record);

/// {"name", "description", "sql", "database", "owner", "created_at", "updated_at"}.
nlohmann::json ToJson(const SavedQuery& query);

}  // namespace basin::query
