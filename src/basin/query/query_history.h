#pragma once

#include <chrono>
#include <cstdint>
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
  std::string status;  // "succeeded", "failed", "cancelled"
  std::chrono::system_clock::time_point started_at{};
  std::chrono::milliseconds duration{0};
  int64_t rows_returned = 0;
  int64_t bytes_read = 0;
  std::string error;
};

/// Query history in the metadata database. Thread-safe.
class QueryHistory {
 public:
  explicit QueryHistory(metadata::Database& database) : database_(database) {}

  /// Records a finished query; returns its id.
  Result<int64_t> Record(const QueryRecord& record);

  /// The newest first; `user` empty means everyone's; `search` matches the SQL text
  /// (a plain substring, case-insensitive).
  Result<std::vector<QueryRecord>> List(const std::string& user, const std::string& search,
                                        int64_t limit);

 private:
  metadata::Database& database_;
};

/// True when `sql` only reads: SELECT statements (and EXPLAIN of one), nothing that
/// writes, creates, attaches or changes settings. Viewers may run only these.
/// InvalidArgument for SQL that does not parse.
Result<bool> IsReadOnlySql(const std::string& sql);

}  // namespace basin::query
