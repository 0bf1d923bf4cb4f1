#include "basin/query/query_history.h"

#include <algorithm>
#include <cctype>

namespace basin::query {
namespace {

int64_t Millis(std::chrono::system_clock::time_point time) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
}

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return text;
}

}  // namespace

Result<int64_t> QueryHistory::Record(const QueryRecord& record) {
  return database_.ExecuteReturningId(
      "INSERT INTO query_history (user_name, sql_text, status, started_at_ms, duration_ms, "
      "rows_returned, bytes_read, "
      "error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      {record.user, record.sql, record.status, Millis(record.started_at),
       int64_t{record.duration.count()}, record.rows_returned, record.bytes_read, record.error});
}

Result<std::vector<QueryRecord>> QueryHistory::List(const std::string& user,
                                                    const std::string& search, int64_t limit) {
  std::string sql =
      "SELECT id, user_name, sql_text, status, started_at_ms, duration_ms, rows_returned, "
      "bytes_read, error "
      "FROM query_history";
  std::vector<metadata::Value> params;
  std::vector<std::string> conditions;
  if (!user.empty()) {
    conditions.push_back("user_name = ?");
    params.push_back(user);
  }
  if (!search.empty()) {
    // lower() on both sides: LIKE's case rules differ between SQLite and PostgreSQL.
    conditions.push_back("lower(sql_text) LIKE ?");
    std::string pattern = "%";
    for (char c : Lower(search)) {
      if (c == '%' || c == '_' || c == '\\')
        continue;  // wildcards would change the meaning
      pattern += c;
    }
    params.push_back(pattern + "%");
  }
  for (size_t i = 0; i < conditions.size(); ++i)
    sql += (i == 0 ? " WHERE " : " AND ") + conditions[i];
  sql += " ORDER BY id DESC LIMIT ?";
  params.push_back(limit);
  BASIN_ASSIGN_OR_RETURN(std::vector<metadata::Row> rows, database_.Query(sql, params));
  std::vector<QueryRecord> records;
  for (const metadata::Row& row : rows) {
    QueryRecord record;
    BASIN_ASSIGN_OR_RETURN(record.id, row.Int(0));
    BASIN_ASSIGN_OR_RETURN(record.user, row.Text(1));
    BASIN_ASSIGN_OR_RETURN(record.sql, row.Text(2));
    BASIN_ASSIGN_OR_RETURN(record.status, row.Text(3));
    BASIN_ASSIGN_OR_RETURN(int64_t started, row.Int(4));
    record.started_at = std::chrono::system_clock::time_point(std::chrono::milliseconds(started));
    BASIN_ASSIGN_OR_RETURN(int64_t duration, row.Int(5));
    record.duration = std::chrono::milliseconds(duration);
    BASIN_ASSIGN_OR_RETURN(record.rows_returned, row.Int(6));
    BASIN_ASSIGN_OR_RETURN(record.bytes_read, row.Int(7));
    BASIN_ASSIGN_OR_RETURN(record.error, row.Text(8));
    records.push_back(std::move(record));
  }
  return records;
}

}  // namespace basin::query
