#include "basin/catalog/catalog_json.h"

#include "basin/common/time_format.h"

namespace basin::catalog {

nlohmann::json ToJson(const std::vector<Column>& columns) {
  nlohmann::json out = nlohmann::json::array();
  for (const Column& column : columns) {
    nlohmann::json item = {{"name", column.name}, {"type", column.type}};
    if (!column.comment.empty())
      item["comment"] = column.comment;
    out.push_back(item);
  }
  return out;
}

nlohmann::json ToJson(const Table& table) {
  nlohmann::json keys = nlohmann::json::array();
  for (const PartitionKey& key : table.partition_keys)
    keys.push_back({{"name", key.name}, {"type", key.type}});
  return {
      {"database", table.database},
      {"name", table.name},
      {"location", table.location},
      {"format", std::string(TableFormatName(table.format))},
      {"format_options", table.format_options},
      {"columns", ToJson(table.columns)},
      {"partition_keys", keys},
      {"statistics",
       {{"objects", table.stats.objects},
        {"bytes", table.stats.bytes},
        {"rows", table.stats.rows ? nlohmann::json(*table.stats.rows) : nlohmann::json(nullptr)},
        {"last_modified", FormatIso8601(table.stats.last_modified)}}},
      {"schema_version", table.schema_version},
      {"created_by", table.created_by},
      {"status", std::string(TableStatusName(table.status))},
      {"created_at", FormatIso8601(table.created_at)},
      {"changed_at", FormatIso8601(table.changed_at)},
      {"last_crawled_at", table.last_crawled_at
                              ? nlohmann::json(FormatIso8601(*table.last_crawled_at))
                              : nlohmann::json(nullptr)}};
}

nlohmann::json ToJson(const Partition& partition) {
  return {{"values", partition.values},
          {"location", partition.location},
          {"objects", partition.objects},
          {"bytes", partition.bytes},
          {"last_modified", FormatIso8601(partition.last_modified)},
          {"columns", ToJson(partition.columns)}};
}

nlohmann::json ToJson(const SchemaVersion& version) {
  return {{"version", version.version},
          {"columns", ToJson(version.columns)},
          {"change", version.change},
          {"changed_by", version.changed_by},
          {"created_at", FormatIso8601(version.created_at)}};
}

Result<Column> ParseColumnSpec(std::string_view spec) {
  size_t colon = spec.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == spec.size()) {
    return Status::InvalidArgument("column must be NAME:TYPE, e.g. keyword:VARCHAR, got '" +
                                   std::string(spec) + "'");
  }
  return Column{std::string(spec.substr(0, colon)), NormalizeType(spec.substr(colon + 1)), ""};
}

}  // namespace basin::catalog
