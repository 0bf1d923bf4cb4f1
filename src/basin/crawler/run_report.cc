#include "basin/crawler/run_report.h"

#include "basin/common/time_format.h"

namespace basin::crawler {

nlohmann::json RunReport::ToJson() const {
  nlohmann::json changes = nlohmann::json::array();
  for (const SchemaChange& change : schema_changes) {
    changes.push_back({{"table", change.table},
                       {"version", change.version},
                       {"change", change.change},
                       {"applied", change.applied}});
  }
  nlohmann::json file_errors = nlohmann::json::array();
  for (const FileError& error : errors)
    file_errors.push_back({{"path", error.path}, {"reason", error.reason}});
  return {{"crawler", crawler},
          {"status", status},
          {"failure", failure},
          {"started_at", FormatIso8601(started_at)},
          {"started_at_unix",
           std::chrono::duration_cast<std::chrono::seconds>(started_at.time_since_epoch()).count()},
          {"duration_ms", duration.count()},
          {"objects",
           {{"listed", objects_listed},
            {"read", objects_read},
            {"unchanged", objects_unchanged},
            {"skipped", objects_skipped}}},
          {"tables",
           {{"created", tables_created},
            {"updated", tables_updated},
            {"unchanged", tables_unchanged},
            {"deprecated", tables_deprecated},
            {"removed", tables_removed}}},
          {"partitions", {{"added", partitions_added}, {"removed", partitions_removed}}},
          {"schema_changes", changes},
          {"decisions", decisions},
          {"errors", file_errors}};
}

std::string RunReport::ToText() const {
  auto join = [](const std::vector<std::string>& names) {
    std::string out;
    for (const std::string& name : names)
      out += (out.empty() ? "" : ", ") + name;
    return out.empty() ? std::string("-") : out;
  };
  std::string out = "crawler " + crawler + ": " + status;
  if (!failure.empty())
    out += " (" + failure + ")";
  out += " in " + std::to_string(duration.count()) + " ms\n";
  out += "  objects: " + std::to_string(objects_listed) + " listed, " +
         std::to_string(objects_read) + " read, " + std::to_string(objects_unchanged) +
         " unchanged";
  for (const auto& [reason, count] : objects_skipped)
    out += ", " + std::to_string(count) + " skipped (" + reason + ")";
  out += "\n  tables created:   " + join(tables_created);
  out += "\n  tables updated:   " + join(tables_updated);
  out += "\n  tables unchanged: " + join(tables_unchanged);
  if (!tables_deprecated.empty())
    out += "\n  tables deprecated: " + join(tables_deprecated);
  if (!tables_removed.empty())
    out += "\n  tables removed:   " + join(tables_removed);
  out += "\n  partitions: " + std::to_string(partitions_added) + " added, " +
         std::to_string(partitions_removed) + " removed\n";
  for (const SchemaChange& change : schema_changes) {
    out += "  schema of " + change.table + " (version " + std::to_string(change.version) + ", " +
           change.applied + "):\n";
    size_t start = 0;
    while (start < change.change.size()) {
      size_t end = change.change.find('\n', start);
      if (end == std::string::npos)
        end = change.change.size();
      out += "    " + change.change.substr(start, end - start) + "\n";
      start = end + 1;
    }
  }
  for (const std::string& decision : decisions)
    out += "  decision: " + decision + "\n";
  for (const FileError& error : errors)
    out += "  error: " + error.path + ": " + error.reason + "\n";
  return out;
}

}  // namespace basin::crawler
