#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "basin/common/result.h"
#include "basin/metadata/database.h"

namespace basin::query {

/// One query as the history keeps it.
struct QueryRecord {
  int64_t id = 0;
  std::string user;
  std::string sql;
  /// "queued", "running" (an asynchronous query not finished yet), "succeeded", "failed",
  /// "cancelled" or "refused".
  std::string status;
  std::chrono::system_clock::time_point started_at{};
  std::chrono::milliseconds duration{0};
  int64_t rows_returned = 0;
  int64_t bytes_read = 0;
  std::string error;
  /// The database unqualified table names resolved in ("" when none was set).
  std::string database;
  std::string workgroup;
  /// When it ended; the epoch (unset) while queued or running. Record and Update fill an
  /// unset end of a finished query in as started_at + duration.
  std::chrono::system_clock::time_point ended_at{};
  int64_t partitions_scanned = 0;
  int64_t partitions_total = 0;  // partitions of the tables it read, before pruning
  int64_t objects_scanned = 0;
  bool cache_hit = false;  // answered from the result cache
  /// "select", "write", "ddl", ... ("" when unknown, as for queries recorded before basin
  /// kept it).
  std::string statement_kind;
};

/// True for the statuses of a query that has ended (anything but "queued" and "running").
bool IsFinishedStatus(const std::string& status);

/// Which history records List returns. Empty fields do not filter.
struct HistoryFilter {
  std::string user;    // one user's queries; "" = everyone's
  std::string search;  // plain text (no wildcards) in the SQL or the error, case-insensitive
                       // for ASCII letters
  std::string status;  // exactly this status
  std::optional<std::chrono::system_clock::time_point> since;  // started at or after
  std::optional<std::chrono::system_clock::time_point> until;  // started before
  int64_t limit = 100;
  int64_t offset = 0;  // skip this many of the newest matches (paging)
};

/// Query history in the metadata database. Thread-safe.
class QueryHistory {
 public:
  explicit QueryHistory(metadata::Database& database) : database_(database) {}

  /// Records a query (every field but `id`); returns its id. An asynchronous query is
  /// recorded when it is submitted ("queued" or "running") and updated when it ends.
  Result<int64_t> Record(const QueryRecord& record);

  /// Replaces every field but `id` of the record with `record.id`. NotFound when there
  /// is none.
  Status Update(const QueryRecord& record);

  /// The record with this id. NotFound when there is none.
  Result<QueryRecord> Get(int64_t id);

  /// The records that match, newest first. InvalidArgument for a negative limit or offset.
  Result<std::vector<QueryRecord>> List(const HistoryFilter& filter);

  /// List({.user = user, .search = search, .limit = limit}).
  Result<std::vector<QueryRecord>> List(const std::string& user, const std::string& search,
                                        int64_t limit);

 private:
  metadata::Database& database_;
};

/// True when `sql` only reads: SELECT statements (and EXPLAIN of one), nothing that
/// writes, creates, attaches or changes settings. Viewers may run only these.
/// InvalidArgument for SQL that does not parse.
Result<bool> IsReadOnlySql(const std::string& sql);

/// The kind of each statement in `sql`: "select", "explain", "write" or "other".
/// InvalidArgument for SQL that does not parse.
Result<std::vector<std::string>> StatementKinds(const std::string& sql);

}  // namespace basin::query
