#include "basin/crawler/table_grouping.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "basin/crawler/partition_path.h"

namespace basin::crawler {
namespace {

using catalog::Column;

// Folders below a table root: children by name, files directly inside.
struct FolderNode {
  std::map<std::string, FolderNode> children;
  std::vector<const CrawlEntry*> files;
};

void CollectFiles(const FolderNode& node, std::vector<const CrawlEntry*>& out) {
  out.insert(out.end(), node.files.begin(), node.files.end());
  for (const auto& [name, child] : node.children)
    CollectFiles(child, out);
}

bool LooksLikePartition(const std::string& folder) {
  if (folder.find('=') != std::string::npos)
    return true;
  return !folder.empty() && std::all_of(folder.begin(), folder.end(), [](unsigned char c) {
    return std::isdigit(c) || c == '-' || c == '_';
  });
}

struct Summary {
  std::string format;
  std::vector<Column> columns;
};

Summary Summarize(const FolderNode& node) {
  std::vector<const CrawlEntry*> files;
  CollectFiles(node, files);
  Summary summary;
  for (const CrawlEntry* entry : files) {
    if (!entry->schema)
      continue;
    if (summary.format.empty())
      summary.format = std::string(FormatName(entry->schema->format));
    summary.columns = catalog::MergeColumns(summary.columns, entry->schema->columns);
  }
  return summary;
}

struct Group {
  std::string name;
  std::string root;  // relative to the target, ending in '/' (or empty)
  std::vector<const CrawlEntry*> files;
};

std::string LastSegment(const std::string& prefix_url) {
  std::string trimmed = prefix_url;
  while (!trimmed.empty() && trimmed.back() == '/')
    trimmed.pop_back();
  size_t slash = trimmed.rfind('/');
  std::string last = slash == std::string::npos ? trimmed : trimmed.substr(slash + 1);
  return last.empty() || last.find(':') != std::string::npos ? "root" : last;
}

void Decide(const FolderNode& node, const std::string& root, const std::string& name,
            const std::string& prefix, std::vector<Group>& out, RunReport& report) {
  Group whole{name, root, {}};
  if (node.children.empty()) {
    CollectFiles(node, whole.files);
    out.push_back(std::move(whole));
    return;
  }
  bool partitions = std::all_of(node.children.begin(), node.children.end(),
                                [](const auto& child) { return LooksLikePartition(child.first); });
  if (partitions) {
    CollectFiles(node, whole.files);
    report.decisions.push_back(std::to_string(node.children.size()) + " folder(s) under " +
                               (root.empty() ? "the target" : root) + " such as '" +
                               node.children.begin()->first + "/' are partitions of table " + name);
    out.push_back(std::move(whole));
    return;
  }
  if (node.children.size() == 1 && node.files.empty()) {
    const auto& [child_name, child] = *node.children.begin();
    Decide(child, root + child_name + "/", prefix + catalog::SanitizeName(child_name), prefix, out,
           report);
    return;
  }
  // Named sibling folders: one table when they hold the same kind of data.
  std::vector<std::pair<std::string, Summary>> summaries;
  for (const auto& [child_name, child] : node.children)
    summaries.emplace_back(child_name, Summarize(child));
  const auto& first = summaries.front();
  bool compatible = node.files.empty();
  std::string worst_pair;
  catalog::SchemaOverlap worst{1, 1};
  for (size_t i = 1; i < summaries.size(); ++i) {
    catalog::SchemaOverlap overlap =
        catalog::CompareColumns(first.second.columns, summaries[i].second.columns);
    if (overlap.Similarity() < worst.Similarity() || worst_pair.empty()) {
      worst = overlap;
      worst_pair = first.first + "/ and " + summaries[i].first + "/";
    }
    if (summaries[i].second.format != first.second.format || overlap.Similarity() < 0.5)
      compatible = false;
  }
  std::string share = "schemas share " + std::to_string(worst.shared) + " of " +
                      std::to_string(worst.total) + " columns";
  if (compatible) {
    CollectFiles(node, whole.files);
    report.decisions.push_back(worst_pair + " hold the same kind of " + first.second.format +
                               " data (" + share + "): one table " + name +
                               " partitioned by folder");
    out.push_back(std::move(whole));
    return;
  }
  report.decisions.push_back(
      worst_pair + " became separate tables: " +
      (summaries.size() > 1 && summaries[1].second.format != first.second.format ? "formats differ"
                                                                                 : share));
  for (const auto& [child_name, child] : node.children) {
    Decide(child, root + child_name + "/", prefix + catalog::SanitizeName(child_name), prefix, out,
           report);
  }
  if (!node.files.empty()) {
    report.decisions.push_back("files directly in " +
                               (root.empty() ? std::string("the target") : root) + " form table " +
                               name);
    out.push_back({name, root, node.files});
  }
}

// The most common number of folder levels below the root: the table's partition depth.
size_t PartitionDepth(const std::vector<std::vector<PartitionLevel>>& levels) {
  std::map<size_t, size_t> counts;
  for (const auto& entry_levels : levels)
    ++counts[entry_levels.size()];
  size_t best = 0, best_count = 0;
  for (const auto& [depth, count] : counts) {
    if (count > best_count)
      best = depth, best_count = count;
  }
  return best;
}

TablePlan BuildPlan(const CrawlerDefinition& definition, const std::string& target,
                    const Group& group, const std::set<std::string>& vanished_keys,
                    RunReport& report) {
  TablePlan plan;
  catalog::Table& table = plan.update.table;
  table.database = definition.database;
  table.name = group.name;
  table.location = target + group.root;
  table.created_by = "crawler:" + definition.name;
  table.last_crawled_at =
      std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  plan.update.changed_by = "crawler:" + definition.name;
  plan.location_prefix = table.location;
  for (const std::string& key : vanished_keys) {
    if (key.rfind(group.root, 0) != 0)
      continue;
    plan.touched = true;
    plan.vanished_partitions.insert(target + key.substr(0, key.rfind('/') + 1));
  }

  // Format: the most common among readable files; others are reported, not mixed in.
  std::map<std::string, size_t> formats;
  for (const CrawlEntry* entry : group.files) {
    if (entry->schema)
      ++formats[std::string(FormatName(entry->schema->format))];
  }
  std::string format_name;
  for (const auto& [format, count] : formats) {
    if (format_name.empty() || count > formats[format_name])
      format_name = format;
  }
  if (Result<catalog::TableFormat> format = catalog::ParseTableFormat(format_name); format.ok())
    table.format = *format;
  std::vector<const CrawlEntry*> files;
  std::vector<std::vector<PartitionLevel>> levels;
  for (const CrawlEntry* entry : group.files) {
    if (entry->read_now)
      plan.touched = true;
    if (!entry->schema)
      continue;
    if (FormatName(entry->schema->format) != catalog::TableFormatName(table.format)) {
      report.errors.push_back({entry->target + entry->relative_key,
                               "skipped: " + std::string(FormatName(entry->schema->format)) +
                                   " file among the " +
                                   std::string(catalog::TableFormatName(table.format)) +
                                   " files of table " + table.name});
      continue;
    }
    std::string folders = entry->relative_key.substr(group.root.size());
    size_t slash = folders.rfind('/');
    folders = slash == std::string::npos ? "" : folders.substr(0, slash);
    files.push_back(entry);
    levels.push_back(ParsePartitionPath(folders));
  }
  size_t depth = PartitionDepth(levels);

  // Partition keys: key=value names where all files agree, partition_N otherwise.
  for (size_t level = 0; level < depth; ++level) {
    std::string key_name;
    bool same = true;
    std::vector<std::string> values;
    for (const auto& entry_levels : levels) {
      if (entry_levels.size() != depth)
        continue;
      if (key_name.empty() && values.empty())
        key_name = entry_levels[level].name;
      same = same && entry_levels[level].name == key_name;
      values.push_back(entry_levels[level].value);
    }
    std::string column = same && !key_name.empty() ? catalog::SanitizeName(key_name)
                                                   : "partition_" + std::to_string(level);
    table.partition_keys.push_back({column, InferPartitionType(values)});
  }

  std::map<std::string, catalog::Partition> partitions;  // by location
  for (size_t i = 0; i < files.size(); ++i) {
    const CrawlEntry& entry = *files[i];
    if (levels[i].size() != depth) {
      report.errors.push_back({entry.target + entry.relative_key,
                               "skipped: its folder depth differs from the other files of table " +
                                   table.name + " (expected " + std::to_string(depth) +
                                   " partition level(s))"});
      continue;
    }
    table.columns = catalog::MergeColumns(table.columns, entry.schema->columns);
    if (table.format_options.empty())
      table.format_options = entry.schema->options;
    auto modified = std::chrono::time_point_cast<std::chrono::seconds>(entry.info.modified);
    table.stats.objects += 1;
    table.stats.bytes += static_cast<int64_t>(entry.info.size);
    table.stats.last_modified =
        std::max(table.stats.last_modified, catalog::Timestamp(modified.time_since_epoch()));
    if (entry.schema->rows) {
      table.stats.rows = table.stats.rows.value_or(0) + *entry.schema->rows;
    }
    if (depth == 0)
      continue;
    std::string folder = entry.relative_key.substr(0, entry.relative_key.rfind('/') + 1);
    catalog::Partition& partition = partitions[entry.target + folder];
    partition.location = entry.target + folder;
    if (partition.values.empty()) {
      for (const PartitionLevel& level : levels[i])
        partition.values.push_back(level.value);
    }
    partition.objects += 1;
    partition.bytes += static_cast<int64_t>(entry.info.size);
    partition.last_modified =
        std::max(partition.last_modified, catalog::Timestamp(modified.time_since_epoch()));
    partition.columns = catalog::MergeColumns(partition.columns, entry.schema->columns);
  }
  // Row counts are only meaningful when every file's is known.
  for (const CrawlEntry* entry : files) {
    if (!entry->schema->rows)
      table.stats.rows.reset();
  }
  for (auto& [location, partition] : partitions) {
    plan.partition_locations.push_back(location);
    plan.update.upsert_partitions.push_back(std::move(partition));
  }
  return plan;
}

}  // namespace

std::vector<TablePlan> PlanTables(const CrawlerDefinition& definition,
                                  const std::vector<CrawlEntry>& entries,
                                  const std::vector<std::pair<std::string, std::string>>& vanished,
                                  RunReport& report) {
  std::vector<TablePlan> plans;
  for (const std::string& target : definition.targets) {
    FolderNode tree;
    std::vector<const CrawlEntry*> target_entries;
    for (const CrawlEntry& entry : entries) {
      if (entry.target != target || !entry.schema)
        continue;
      FolderNode* node = &tree;
      size_t start = 0;
      for (size_t slash = entry.relative_key.find('/'); slash != std::string::npos;
           slash = entry.relative_key.find('/', start)) {
        node = &node->children[entry.relative_key.substr(start, slash - start)];
        start = slash + 1;
      }
      node->files.push_back(&entry);
      target_entries.push_back(&entry);
    }
    std::set<std::string> vanished_keys;
    for (const auto& [vanished_target, key] : vanished) {
      if (vanished_target == target)
        vanished_keys.insert(key);
    }
    // Read-but-failed entries still mark their table as touched.
    for (const CrawlEntry& entry : entries) {
      if (entry.target == target && !entry.schema && entry.read_now)
        vanished_keys.insert(entry.relative_key);
    }
    std::string name = definition.table_prefix + catalog::SanitizeName(LastSegment(target));
    std::vector<Group> groups;
    if (definition.grouping == Grouping::kOneTablePerTarget) {
      groups.push_back({name, "", target_entries});
      report.decisions.push_back("everything under " + target + " is one table " + name +
                                 " (policy one-table-per-target)");
    } else if (!target_entries.empty()) {
      Decide(tree, "", name, definition.table_prefix, groups, report);
    }
    for (const Group& group : groups)
      plans.push_back(BuildPlan(definition, target, group, vanished_keys, report));
  }
  return plans;
}

Status ApplyPlans(catalog::Catalog& catalog, const CrawlerDefinition& definition,
                  const std::vector<TablePlan>& plans, RunReport& report) {
  std::set<std::string> produced;
  for (const TablePlan& plan : plans) {
    const catalog::Table& wanted = plan.update.table;
    if (wanted.columns.empty())
      continue;  // no readable files: not produced (see deletion below)
    produced.insert(wanted.name);
    Result<catalog::Table> existing = catalog.GetTable(wanted.database, wanted.name);
    if (!existing.ok() && !existing.status().IsNotFound())
      return existing.status();
    if (existing.ok() && !plan.touched && existing->status == catalog::TableStatus::kActive) {
      report.tables_unchanged.push_back(wanted.name);
      continue;
    }
    catalog::TableUpdate update = plan.update;
    if (existing.ok()) {
      std::vector<Column> merged = catalog::MergeColumns(existing->columns, wanted.columns);
      std::string change = catalog::DescribeSchemaChange(existing->columns, merged);
      if (!change.empty() && definition.schema_change == SchemaChangePolicy::kFail) {
        report.schema_changes.push_back(
            {wanted.name, existing->schema_version, change, "refused (policy fail)"});
        report.errors.push_back(
            {wanted.location, "schema change refused by policy 'fail'; table left as it was"});
        continue;
      }
      if (!change.empty() && definition.schema_change == SchemaChangePolicy::kLog) {
        update.table.columns = existing->columns;
        update.replace_columns = true;
        report.schema_changes.push_back(
            {wanted.name, existing->schema_version, change, "logged only (policy log)"});
      }
      // Partitions of this table under this crawl's location that no longer have files.
      BASIN_ASSIGN_OR_RETURN(auto stored, catalog.ListPartitions(existing->id, {.limit = 1 << 30}));
      std::set<std::string> current(plan.partition_locations.begin(),
                                    plan.partition_locations.end());
      for (const catalog::Partition& partition : stored) {
        if (partition.location.rfind(plan.location_prefix, 0) == 0 &&
            !current.count(partition.location) &&
            plan.vanished_partitions.count(partition.location)) {
          if (definition.deletion == DeletionPolicy::kRemove ||
              definition.deletion == DeletionPolicy::kDeprecate) {
            update.remove_partitions.push_back(partition.location);
          } else {
            report.decisions.push_back("partition " + partition.location +
                                       " has no files any more (kept: policy log)");
          }
        }
      }
      std::set<std::string> before;
      for (const catalog::Partition& partition : stored)
        before.insert(partition.location);
      for (const std::string& location : plan.partition_locations) {
        if (!before.count(location))
          ++report.partitions_added;
      }
    } else {
      report.partitions_added += static_cast<int64_t>(plan.partition_locations.size());
    }
    report.partitions_removed += static_cast<int64_t>(update.remove_partitions.size());
    BASIN_ASSIGN_OR_RETURN(catalog::ApplyOutcome outcome, catalog.ApplyTable(update));
    (outcome.created ? report.tables_created : report.tables_updated).push_back(wanted.name);
    if (outcome.schema_changed && !outcome.created) {
      report.schema_changes.push_back(
          {wanted.name, outcome.schema_version, outcome.change, "updated"});
    }
  }
  // Tables this crawler made earlier whose files are all gone.
  BASIN_ASSIGN_OR_RETURN(std::vector<catalog::Table> tables,
                         catalog.ListTables(definition.database));
  for (const catalog::Table& table : tables) {
    if (table.created_by != "crawler:" + definition.name || produced.count(table.name))
      continue;
    bool ours = std::any_of(
        definition.targets.begin(), definition.targets.end(),
        [&](const std::string& target) { return table.location.rfind(target, 0) == 0; });
    if (!ours)
      continue;
    switch (definition.deletion) {
      case DeletionPolicy::kRemove:
        BASIN_RETURN_IF_ERROR(catalog.DropTable(table.database, table.name));
        report.tables_removed.push_back(table.name);
        break;
      case DeletionPolicy::kDeprecate:
        if (table.status != catalog::TableStatus::kDeprecated) {
          BASIN_RETURN_IF_ERROR(catalog.SetTableStatus(table.database, table.name,
                                                       catalog::TableStatus::kDeprecated));
          report.tables_deprecated.push_back(table.name);
        }
        break;
      case DeletionPolicy::kLog:
        report.decisions.push_back("table " + table.name +
                                   " has no files any more (kept: policy log)");
        break;
    }
  }
  return Status::OK();
}

}  // namespace basin::crawler
