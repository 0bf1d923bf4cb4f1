#pragma once

#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "basin/catalog/catalog.h"
#include "basin/crawler/crawler_definition.h"
#include "basin/crawler/file_schema.h"
#include "basin/crawler/run_report.h"
#include "basin/storage/object_store.h"

namespace basin::crawler {

/// One object a crawl saw.
struct CrawlEntry {
  std::string target;        // the crawler target URL, ending in '/'
  std::string relative_key;  // key below the target
  storage::ObjectInfo info;
  std::optional<FileSchema> schema;  // none when the object failed (see error)
  std::string error;
  bool read_now = false;  // read in this run (new or changed), not reused from the last
};

/// A table a crawl will write: its files, partition keys, partitions and schema.
struct TablePlan {
  catalog::TableUpdate update;
  bool touched = false;                          // some of its objects are new, changed or vanished
  std::vector<std::string> partition_locations;  // every partition the files make
  /// Partitions where this crawl saw objects vanish: only these may be removed, since a
  /// partition missing from this crawl's listing may have been added by a newer crawl.
  std::set<std::string> vanished_partitions;
  std::string location_prefix;  // partitions outside it belong to others
};

/// Groups entries into tables (see docs/crawler.md): key=value and value-like folders
/// are partitions; sibling folders with the same format and similar schemas are one
/// table; clearly different folders are separate tables. Decisions and per-file
/// problems (format or depth differing from the table) go to `report`.
std::vector<TablePlan> PlanTables(const CrawlerDefinition& definition,
                                  const std::vector<CrawlEntry>& entries,
                                  const std::vector<std::pair<std::string, std::string>>& vanished,
                                  RunReport& report);

/// Applies plans to the catalog under the crawler's schema-change and deletion policies.
/// REQUIRES: inside a transaction (the crawl's), so the whole result lands or none of it.
Status ApplyPlans(catalog::Catalog& catalog, const CrawlerDefinition& definition,
                  const std::vector<TablePlan>& plans, RunReport& report);

}  // namespace basin::crawler
