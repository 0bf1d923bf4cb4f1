#pragma once

#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "basin/common/result.h"
#include "basin/metadata/database.h"

namespace basin::crawler {

enum class Grouping { kAuto, kOneTablePerTarget };
enum class SchemaChangePolicy { kUpdate, kLog, kFail };
enum class DeletionPolicy { kRemove, kDeprecate, kLog };
enum class RecrawlPolicy { kEverything, kNewFolders, kChangedObjects };

/// A named, stored crawler.
struct CrawlerDefinition {
  std::string name;
  std::vector<std::string> targets;  // lake URLs: "lake://raw/events/", "s3://bucket/prefix/"
  std::string database;
  std::vector<std::string> exclude_globs;  // matched against keys relative to the target
  std::string table_prefix;
  Grouping grouping = Grouping::kAuto;
  SchemaChangePolicy schema_change = SchemaChangePolicy::kUpdate;
  DeletionPolicy deletion = DeletionPolicy::kDeprecate;
  RecrawlPolicy recrawl = RecrawlPolicy::kChangedObjects;
};

nlohmann::json ToJson(const CrawlerDefinition& definition);
/// InvalidArgument naming the field that is wrong.
Result<CrawlerDefinition> CrawlerFromJson(const nlohmann::json& json);

/// Parses policy names as the CLI and API spell them ("auto", "one-table-per-target",
/// "update", "log", "fail", "remove", "deprecate", "everything", "new-folders",
/// "changed-objects"). InvalidArgument listing the choices otherwise.
Result<Grouping> ParseGrouping(std::string_view text);
Result<SchemaChangePolicy> ParseSchemaChangePolicy(std::string_view text);
Result<DeletionPolicy> ParseDeletionPolicy(std::string_view text);
Result<RecrawlPolicy> ParseRecrawlPolicy(std::string_view text);

/// What the crawler saw of one object last time: reused when the object is unchanged.
struct ObjectState {
  std::string target;
  std::string key;  // relative to the target
  int64_t size = 0;
  std::string etag;
  int64_t modified = 0;
  std::string schema;  // FileSchema as JSON; empty when the object failed
  std::string error;   // why it was skipped, when it was
};

/// Crawler definitions, their object states and run reports in the metadata database.
class CrawlerStore {
 public:
  explicit CrawlerStore(metadata::Database& database) : database_(database) {}

  Status Create(const CrawlerDefinition& definition);
  Result<CrawlerDefinition> Get(const std::string& name);
  Result<std::vector<CrawlerDefinition>> List();
  Status Delete(const std::string& name);

  Result<std::vector<ObjectState>> LoadObjects(const std::string& crawler);
  /// Adds or replaces states (by target and key) and removes those of vanished objects.
  /// Call inside the crawl's transaction, so states and catalog change together.
  Status SaveObjects(const std::string& crawler, const std::vector<ObjectState>& changed,
                     const std::vector<std::pair<std::string, std::string>>& removed);

  /// URLs of objects under `location` (a table's lake prefix) that a crawler rejected
  /// (unreadable, unsupported, ragged...): queries leave them out.
  Result<std::set<std::string>> RejectedObjects(const std::string& location);

  Status SaveRun(const std::string& crawler, const nlohmann::json& report);
  /// The newest reports first.
  Result<std::vector<nlohmann::json>> ListRuns(const std::string& crawler, int limit);

 private:
  Result<int64_t> Id(const std::string& name);
  metadata::Database& database_;
};

}  // namespace basin::crawler
