#include "basin/delivery/record_screen.h"

#include <cctype>
#include <set>

#include "basin/catalog/schema.h"
#include "basin/common/ascii.h"

namespace basin::delivery {
namespace {

std::string Shown(const std::string& value) {
  return value.size() > 60 ? value.substr(0, 57) + "..." : value;
}

}  // namespace

ScreenedRecords ScreenRecords(const std::vector<const PartitionedRecord*>& records,
                              const std::optional<catalog::Table>& table,
                              bool refuse_unknown_fields, int max_depth) {
  ScreenedRecords screened;
  std::set<std::string> known;  // lower-case column and partition key names
  bool check = table.has_value() && refuse_unknown_fields;
  if (check) {
    for (const catalog::Column& column : table->columns)
      known.insert(AsciiLower(column.name));
    for (const catalog::PartitionKey& key : table->partition_keys)
      known.insert(AsciiLower(key.name));
  }
  for (const PartitionedRecord* record : records) {
    if (record->partition == kRefusedPartition) {
      nlohmann::json refusal = nlohmann::json::parse(record->json, nullptr, false);
      screened.refused.push_back(refusal.is_object() ? refusal
                                                     : nlohmann::json{{"raw", record->json}});
      ++screened.refused_at_ingest;
      continue;
    }
    if (int depth = max_depth > 0 ? JsonNestingDepth(record->json) : 0; depth > max_depth) {
      screened.refused.push_back(
          {{"code", "InvalidArgument"},
           {"reason", "record nests " + std::to_string(depth) +
                          " levels deep; streams take at most " + std::to_string(max_depth) +
                          " (streams.max_record_depth)"},
           {"raw", record->json}});
      continue;
    }
    if (check) {
      nlohmann::json parsed = nlohmann::json::parse(record->json, nullptr, false);
      std::string unknown;
      for (const auto& [key, value] : parsed.items()) {
        if (!known.contains(AsciiLower(key))) {
          unknown = key;
          break;
        }
      }
      if (!unknown.empty()) {
        screened.refused.push_back(
            {{"code", "InvalidArgument"},
             {"reason", "field '" + unknown + "' is not a column of " + table->database + "." +
                            table->name + " (the stream's unknown_fields is error)"},
             {"raw", record->json}});
        continue;
      }
    }
    screened.by_partition[record->partition].push_back(record->json);
  }
  return screened;
}

Result<std::vector<UnreadableRecord>> FindUnreadable(size_t count, const Status& failure,
                                                     const ReadsTogether& reads) {
  if (failure.code() != StatusCode::kInvalidArgument)
    return failure;
  std::vector<UnreadableRecord> unreadable;
  if (count == 1) {
    unreadable.push_back({0, failure.message()});
    return unreadable;
  }
  std::vector<size_t> kept;
  // Ranges [begin, end) still to try, the next on top; the whole is known to fail.
  std::vector<std::pair<size_t, size_t>> pending = {{count / 2, count}, {0, count / 2}};
  while (!pending.empty()) {
    auto [begin, end] = pending.back();
    pending.pop_back();
    std::vector<size_t> trial = kept;
    for (size_t index = begin; index < end; ++index)
      trial.push_back(index);
    Status read = reads(trial);
    if (read.ok()) {
      kept = std::move(trial);
    } else if (read.code() != StatusCode::kInvalidArgument) {
      return read;
    } else if (end - begin == 1) {
      unreadable.push_back({begin, read.message()});
    } else {
      size_t middle = begin + (end - begin) / 2;
      pending.push_back({middle, end});
      pending.push_back({begin, middle});
    }
  }
  return unreadable;
}

nlohmann::json UnreadableRefusal(const std::string& record_json, const std::string& reason) {
  return {{"code", "InvalidArgument"},
          {"reason", CapText("the engine cannot read this record with the others of its "
                             "delivery: " +
                             reason)},
          {"raw", record_json}};
}

std::string StagedLine(const std::string& record_json, size_t row) {
  std::string line = "{\"" + std::string(kRowField) + "\":" + std::to_string(row);
  if (record_json.size() > 2)  // "{...}": its fields follow
    line += "," + record_json.substr(1);
  else
    line += "}";
  return line;
}

nlohmann::json CastRefusal(const std::string& record_json, const catalog::Column& column,
                           const std::string& value, const std::string& qualified_table) {
  return {{"code", "InvalidArgument"},
          {"reason", "field '" + column.name + "': value '" + Shown(value) +
                         "' cannot be converted to " + column.type +
                         ", so it cannot be stored in column " + column.name + " of " +
                         qualified_table},
          {"raw", record_json}};
}

}  // namespace basin::delivery
