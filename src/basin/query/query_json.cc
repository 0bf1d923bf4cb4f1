#include "basin/query/query_json.h"

#include "basin/common/time_format.h"

namespace basin::query {

nlohmann::json ToJson(const QueryRecord& record) {
  bool ended = record.ended_at != std::chrono::system_clock::time_point{};
  return {{"id", record.id},
          {"user", record.user},
          {"sql", record.sql},
          {"status", record.status},
          {"statement_kind", record.statement_kind},
          {"database", record.database},
          {"workgroup", record.workgroup},
          {"started_at", FormatIso8601(record.started_at)},
          {"ended_at", ended ? nlohmann::json(FormatIso8601(record.ended_at)) : nlohmann::json()},
          {"duration_ms", record.duration.count()},
          {"rows", record.rows_returned},
          {"bytes_read", record.bytes_read},
          {"partitions_scanned", record.partitions_scanned},
          {"partitions_total", record.partitions_total},
          {"objects_scanned", record.objects_scanned},
          {"cache_hit", record.cache_hit},
          {"error", record.error}};
}

nlohmann::json ToJson(const SavedQuery& query) {
  return {{"name", query.name},
          {"description", query.description},
          {"sql", query.sql},
          {"database", query.database},
          {"owner", query.owner},
          {"created_at", FormatIso8601(query.created_at)},
          {"updated_at", FormatIso8601(query.updated_at)}};
}

}  // namespace basin::query
