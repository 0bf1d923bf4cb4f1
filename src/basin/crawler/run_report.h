#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace basin::crawler {

/// What one crawl did, for the CLI, the API and the run history.
struct RunReport {
  struct FileError {
    std::string path;
    std::string reason;
  };
  struct SchemaChange {
    std::string table;
    int version = 0;
    std::string change;
    std::string applied;  // "updated", "logged only", "refused (policy fail)"
  };

  std::string crawler;
  std::string status = "completed";  // completed, cancelled, failed
  std::string failure;               // when failed
  std::chrono::system_clock::time_point started_at{};
  std::chrono::milliseconds duration{0};
  int64_t objects_listed = 0;
  int64_t objects_read = 0;
  int64_t objects_unchanged = 0;
  std::map<std::string, int64_t> objects_skipped;  // reason -> count
  std::vector<std::string> tables_created, tables_updated, tables_unchanged, tables_deprecated,
      tables_removed;
  int64_t partitions_added = 0;
  int64_t partitions_removed = 0;
  std::vector<SchemaChange> schema_changes;
  std::vector<std::string> decisions;  // how files became tables, in words
  std::vector<FileError> errors;

  nlohmann::json ToJson() const;
  /// The report as a person reads it in a terminal.
  std::string ToText() const;
};

}  // namespace basin::crawler
