#include "basin/query/query_history.h"

#include "basin/query/text_search.h"

namespace basin::query {
namespace {

using Clock = std::chrono::system_clock;

constexpr char kColumns[] =
    "id, user_name, sql_text, status, started_at_ms, duration_ms, rows_returned, bytes_read, "
    "error, database_name, workgroup, ended_at_ms, partitions_scanned, partitions_total, "
    "objects_scanned, cache_hit, statement_kind";

int64_t Millis(Clock::time_point time) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
}

Clock::time_point FromMillis(int64_t millis) {
  return Clock::time_point(std::chrono::milliseconds(millis));
}

// Every column but id, in kColumns order.
std::vector<metadata::Value> ValuesOf(const QueryRecord& record) {
  Clock::time_point ended_at = record.ended_at;
  if (ended_at == Clock::time_point{} && IsFinishedStatus(record.status)) {
    ended_at = record.started_at + record.duration;
  }
  return {record.user,
          record.sql,
          record.status,
          Millis(record.started_at),
          int64_t{record.duration.count()},
          record.rows_returned,
          record.bytes_read,
          record.error,
          record.database,
          record.workgroup,
          Millis(ended_at),
          record.partitions_scanned,
          record.partitions_total,
          record.objects_scanned,
          int64_t{record.cache_hit ? 1 : 0},
          record.statement_kind};
}

Result<QueryRecord> RecordFromRow(const metadata::Row& row) {
  QueryRecord record;
  BASIN_ASSIGN_OR_RETURN(record.id, row.Int(0));
  BASIN_ASSIGN_OR_RETURN(record.user, row.Text(1));
  BASIN_ASSIGN_OR_RETURN(record.sql, row.Text(2));
  BASIN_ASSIGN_OR_RETURN(record.status, row.Text(3));
  BASIN_ASSIGN_OR_RETURN(int64_t started, row.Int(4));
  record.started_at = FromMillis(started);
  BASIN_ASSIGN_OR_RETURN(int64_t duration, row.Int(5));
  record.duration = std::chrono::milliseconds(duration);
  BASIN_ASSIGN_OR_RETURN(record.rows_returned, row.Int(6));
  BASIN_ASSIGN_OR_RETURN(record.bytes_read, row.Int(7));
  BASIN_ASSIGN_OR_RETURN(record.error, row.Text(8));
  BASIN_ASSIGN_OR_RETURN(record.database, row.Text(9));
  BASIN_ASSIGN_OR_RETURN(record.workgroup, row.Text(10));
  BASIN_ASSIGN_OR_RETURN(int64_t ended, row.Int(11));
  record.ended_at = FromMillis(ended);
  BASIN_ASSIGN_OR_RETURN(record.partitions_scanned, row.Int(12));
  BASIN_ASSIGN_OR_RETURN(record.partitions_total, row.Int(13));
  BASIN_ASSIGN_OR_RETURN(record.objects_scanned, row.Int(14));
  BASIN_ASSIGN_OR_RETURN(int64_t cache_hit, row.Int(15));
  record.cache_hit = cache_hit != 0;
  BASIN_ASSIGN_OR_RETURN(record.statement_kind, row.Text(16));
  return record;
}

}  // namespace

bool IsFinishedStatus(const std::string& status) {
  return status != "queued" && status != "running";
}

Result<int64_t> QueryHistory::Record(const QueryRecord& record) {
  return database_.ExecuteReturningId(
      "INSERT INTO query_history (user_name, sql_text, status, started_at_ms, duration_ms, "
      "rows_returned, bytes_read, error, database_name, workgroup, ended_at_ms, "
      "partitions_scanned, partitions_total, objects_scanned, cache_hit, statement_kind) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      ValuesOf(record));
}

Status QueryHistory::Update(const QueryRecord& record) {
  std::vector<metadata::Value> params = ValuesOf(record);
  params.push_back(record.id);
  BASIN_ASSIGN_OR_RETURN(
      int64_t changed,
      database_.ExecuteReturningChangeCount(
          "UPDATE query_history SET user_name = ?, sql_text = ?, status = ?, started_at_ms = ?, "
          "duration_ms = ?, rows_returned = ?, bytes_read = ?, error = ?, database_name = ?, "
          "workgroup = ?, ended_at_ms = ?, partitions_scanned = ?, partitions_total = ?, "
          "objects_scanned = ?, cache_hit = ?, statement_kind = ? WHERE id = ?",
          std::move(params)));
  if (changed == 0) {
    return Status::NotFound("query " + std::to_string(record.id) + " is not in the history");
  }
  return Status::OK();
}

Result<QueryRecord> QueryHistory::Get(int64_t id) {
  BASIN_ASSIGN_OR_RETURN(
      std::optional<metadata::Row> row,
      database_.QueryRow(std::string("SELECT ") + kColumns + " FROM query_history WHERE id = ?",
                         {id}));
  if (!row)
    return Status::NotFound("query " + std::to_string(id) + " is not in the history");
  return RecordFromRow(*row);
}

Result<std::vector<QueryRecord>> QueryHistory::List(const HistoryFilter& filter) {
  if (filter.limit < 0 || filter.offset < 0) {
    return Status::InvalidArgument("history limit and offset must not be negative, got " +
                                   std::to_string(filter.limit) + " and " +
                                   std::to_string(filter.offset));
  }
  std::string sql = std::string("SELECT ") + kColumns + " FROM query_history";
  std::vector<metadata::Value> params;
  std::vector<std::string> conditions;
  if (!filter.user.empty()) {
    conditions.push_back("user_name = ?");
    params.push_back(filter.user);
  }
  if (!filter.search.empty()) {
    conditions.push_back("(lower(sql_text) LIKE ? ESCAPE '!' OR lower(error) LIKE ? ESCAPE '!')");
    params.push_back(ContainsPattern(filter.search));
    params.push_back(ContainsPattern(filter.search));
  }
  if (!filter.status.empty()) {
    conditions.push_back("status = ?");
    params.push_back(filter.status);
  }
  if (filter.since) {
    conditions.push_back("started_at_ms >= ?");
    params.push_back(Millis(*filter.since));
  }
  if (filter.until) {
    conditions.push_back("started_at_ms < ?");
    params.push_back(Millis(*filter.until));
  }
  for (size_t i = 0; i < conditions.size(); ++i) {
    sql += (i == 0 ? " WHERE " : " AND ") + conditions[i];
  }
  sql += " ORDER BY id DESC LIMIT ? OFFSET ?";
  params.push_back(filter.limit);
  params.push_back(filter.offset);
  BASIN_ASSIGN_OR_RETURN(std::vector<metadata::Row> rows, database_.Query(sql, std::move(params)));
  std::vector<QueryRecord> records;
  records.reserve(rows.size());
  for (const metadata::Row& row : rows) {
    BASIN_ASSIGN_OR_RETURN(QueryRecord record, RecordFromRow(row));
    records.push_back(std::move(record));
  }
  return records;
}

Result<std::vector<QueryRecord>> QueryHistory::List(const std::string& user,
                                                    const std::string& search, int64_t limit) {
  return List(HistoryFilter{.user = user, .search = search, .limit = limit});
}

}  // namespace basin::query
