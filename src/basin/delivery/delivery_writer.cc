#include "basin/delivery/delivery_writer.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "basin/catalog/schema.h"
#include "basin/common/ascii.h"
#include "basin/common/log.h"
#include "basin/delivery/compression.h"
#include "basin/delivery/record_screen.h"
#include "basin/query/lake_sql.h"
#include "basin/stream/prefix_expression.h"
#include "basin/tablewrite/table_write.h"

namespace basin::delivery {
namespace {

std::string DumpJson(const nlohmann::json& json) {
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void DeleteTemporary(storage::ObjectStore& store, const std::string& key) {
  tablewrite::DeleteTemporary(store, key, "stream_temporary_delete_failed");
}

std::string StagedText(const std::vector<std::string>& records) {
  std::string text;
  for (size_t row = 0; row < records.size(); ++row)
    text += StagedLine(records[row], row) + "\n";
  return text;
}

bool SameColumns(const std::vector<catalog::Column>& a, const std::vector<catalog::Column>& b) {
  if (a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i].name) != AsciiLower(b[i].name) ||
        catalog::NormalizeType(a[i].type) != catalog::NormalizeType(b[i].type))
      return false;
  }
  return true;
}

// A partition's Parquet objects are read together by position-independent name only when
// they have the same columns, so when a delivery changes the table's columns, the older
// objects of the partitions it wrote are rewritten with the new columns (NULL for the added
// ones). Rewriting keeps the rows, so a repeat after a crash is harmless.
Status AlignOlderObjects(query::Engine& engine, storage::StoreResolver& stores,
                         const std::string& folder, const std::string& temporary_folder,
                         std::string_view delivered_name,
                         const std::vector<catalog::Column>& columns,
                         const std::atomic<bool>* cancel) {
  BASIN_ASSIGN_OR_RETURN(storage::StoreResolver::Resolved resolved, stores.Resolve(folder));
  BASIN_ASSIGN_OR_RETURN(std::vector<storage::ObjectInfo> objects,
                         resolved.store->List(resolved.key));
  for (const storage::ObjectInfo& object : objects) {
    if (cancel != nullptr && cancel->load())
      return Status::Cancelled("rewriting the older objects of " + folder + " was interrupted");
    std::string relative = object.key.substr(resolved.key.size());
    if (!relative.ends_with(".parquet") || relative == delivered_name ||
        relative.find('/') != std::string::npos)
      continue;
    std::string url = folder + relative;
    BASIN_ASSIGN_OR_RETURN(std::vector<catalog::Column> found,
                           query::DescribeSelect(engine, query::SelectFromParquet(url), cancel));
    if (SameColumns(found, columns))
      continue;
    std::vector<query::Projected> projected;
    for (const catalog::Column& column : columns) {
      bool present = std::any_of(found.begin(), found.end(), [&](const catalog::Column& old) {
        return AsciiLower(old.name) == AsciiLower(column.name);
      });
      projected.push_back({present ? column.name : "", column.name, column.type});
    }
    // Written aside (in a '_' folder, which scans skip), then copied over the original.
    std::string rewritten = temporary_folder + "rewrite-" + relative;
    BASIN_ASSIGN_OR_RETURN(storage::StoreResolver::Resolved aside, stores.Resolve(rewritten));
    BASIN_RETURN_IF_ERROR(
        query::CopySelect(engine, query::SelectProjected(query::SelectFromParquet(url), projected),
                          rewritten, {},
                          {.policy = query::StatementPolicy::kBasin, .cancel = cancel})
            .status()
            .WithContext("rewriting " + url + " with the table's new columns"));
    Status copied = aside.store == resolved.store
                        ? resolved.store->Copy(aside.key, object.key)
                        : Status::Internal("the temporary folder is in another store");
    DeleteTemporary(*aside.store, aside.key);
    BASIN_RETURN_IF_ERROR(copied);
  }
  return Status::OK();
}

// Values a column's type cannot hold would fail the whole delivery for ever when the objects
// are written. They are found with the engine's own casts over the staged records (one query
// per group; see query::FindUncastable) and their records refused. Returns how many were refused.
Result<size_t> RefuseUncastable(query::Engine& engine, const std::string& staged_url,
                                const catalog::Table& table, std::vector<std::string>& records,
                                std::vector<nlohmann::json>& refused,
                                const std::atomic<bool>* cancel) {
  BASIN_ASSIGN_OR_RETURN(
      std::vector<query::UncastableValue> bad,
      query::FindUncastable(engine, staged_url, kRowField, table.columns, cancel));
  std::map<size_t, std::pair<std::string, std::string>> first_problem;  // by row
  for (query::UncastableValue& value : bad) {
    size_t index = static_cast<size_t>(value.row);
    if (value.row >= 0 && index < records.size())
      first_problem.try_emplace(index, std::move(value.column), std::move(value.value));
  }
  if (first_problem.empty())
    return size_t{0};
  const std::string qualified = table.database + "." + table.name;
  std::vector<std::string> kept;
  for (size_t index = 0; index < records.size(); ++index) {
    auto problem = first_problem.find(index);
    if (problem == first_problem.end()) {
      kept.push_back(std::move(records[index]));
      continue;
    }
    for (const catalog::Column& column : table.columns) {
      if (column.name == problem->second.first) {
        refused.push_back(CastRefusal(records[index], column, problem->second.second, qualified));
        break;
      }
    }
  }
  size_t dropped = records.size() - kept.size();
  records = std::move(kept);
  return dropped;
}

// Moves the records FindUnreadable found from `records` to `refused`.
Status DropUnreadable(const std::vector<UnreadableRecord>& unreadable,
                      std::vector<std::string>& records, std::vector<nlohmann::json>& refused) {
  std::vector<bool> drop(records.size(), false);
  for (const UnreadableRecord& record : unreadable) {
    if (record.index >= records.size())
      return Status::Internal("unreadable record " + std::to_string(record.index) + " of " +
                              std::to_string(records.size()));
    drop[record.index] = true;
    refused.push_back(UnreadableRefusal(records[record.index], record.reason));
  }
  std::vector<std::string> kept;
  for (size_t index = 0; index < records.size(); ++index) {
    if (!drop[index])
      kept.push_back(std::move(records[index]));
  }
  records = std::move(kept);
  return Status::OK();
}

}  // namespace

// What Stage found: the records by partition, staged; the refusals; the columns.
struct DeliveryWriter::Staged {
  ScreenedRecords screened;
  std::vector<Group> groups;
  std::vector<catalog::Column> columns;
  std::vector<catalog::PartitionKey> keys;

  // Deletes the staged objects. The groups stay: Register reads the partition of the group
  // each Written points at (clearing them here made it read freed strings).
  void RemoveTemporaries() {
    for (Group& group : groups)
      DeleteTemporary(*group.tmp.store, group.tmp.key);
  }
};

query::ExecuteOptions DeliveryWriter::Basin() const {
  return {.policy = query::StatementPolicy::kBasin, .cancel = abandon_};
}

Result<DeliveryOutcome> DeliveryWriter::Write(const DeliveryBatch& batch) {
  const stream::StreamDefinition& definition = *batch.definition;
  Result<catalog::Table> existing = catalog_.GetTable(definition.database, definition.table);
  if (!existing.ok() && !existing.status().IsNotFound())
    return existing.status();
  if (existing.ok())
    BASIN_RETURN_IF_ERROR(stream::CheckDestinationTable(definition, *existing));
  BASIN_ASSIGN_OR_RETURN(stream::PrefixExpression expression,
                         stream::ParsePrefixExpression(definition.prefix_expression));

  Staged staged;
  if (Status status = Stage(batch, existing, staged); !status.ok()) {
    staged.RemoveTemporaries();
    return status;
  }
  if (Status status = WriteRefusals(batch, staged.screened.refused); !status.ok()) {
    staged.RemoveTemporaries();
    return status;
  }
  DeliveryOutcome outcome;
  outcome.counts.refused =
      static_cast<int64_t>(staged.screened.refused.size() - staged.screened.refused_at_ingest);
  // A field that is also a partition key is the partition's value (as in Hive and Glue): it
  // is not a column, so Parquet objects do not store it twice and scans show it once.
  staged.keys = existing.ok() ? existing->partition_keys : expression.PartitionKeys();
  std::erase_if(staged.columns, [&](const catalog::Column& column) {
    return std::any_of(staged.keys.begin(), staged.keys.end(),
                       [&](const catalog::PartitionKey& key) {
                         return AsciiLower(key.name) == AsciiLower(column.name);
                       });
  });
  Result<std::vector<Written>> written = WriteGroups(batch, staged, outcome);
  staged.RemoveTemporaries();
  if (!written.ok())
    return written.status();
  // When no partition could be written, every record is deferred as one failing
  // partition's are (none left an object behind: that returned above), so records of
  // other partitions that arrive meanwhile are not held up behind this delivery's retries.
  if (!written->empty())
    BASIN_RETURN_IF_ERROR(Register(batch, existing, staged, *written));
  return outcome;
}

Status DeliveryWriter::Stage(const DeliveryBatch& batch, const Result<catalog::Table>& existing,
                             Staged& staged) {
  const stream::StreamDefinition& definition = *batch.definition;
  // Records the table cannot take (unknown fields when the stream may not add columns,
  // values its column types cannot hold) go to the error prefix.
  staged.screened = ScreenRecords(
      batch.records, existing.ok() ? std::optional<catalog::Table>(*existing) : std::nullopt,
      definition.unknown_fields == stream::UnknownFieldPolicy::kError, max_record_depth_);
  staged.columns = existing.ok() ? existing->columns : std::vector<catalog::Column>{};
  // Each group as NDJSON in a '_' folder, each record with its position added (kRowField),
  // for the engine to check and read; every object is then written with the columns of all
  // groups, so they read together.
  for (auto& [partition, records] : staged.screened.by_partition)
    BASIN_RETURN_IF_ERROR(StageGroup(batch, existing, partition, records, staged));
  return Status::OK();
}

Status DeliveryWriter::StageGroup(const DeliveryBatch& batch,
                                  const Result<catalog::Table>& existing,
                                  const std::string& partition, std::vector<std::string>& records,
                                  Staged& staged) {
  const stream::StreamDefinition& definition = *batch.definition;
  std::vector<nlohmann::json>& refused = staged.screened.refused;
  std::string temporary = definition.prefix + "_tmp/" +
                          ObjectName(definition.name, batch.intent_time, batch.first, batch.last,
                                     std::to_string(staged.groups.size()) + ".json");
  BASIN_ASSIGN_OR_RETURN(storage::StoreResolver::Resolved tmp, stores_.Resolve(temporary));
  staged.groups.push_back({partition, &records, temporary, tmp});
  storage::ObjectStore& store = *tmp.store;
  const std::string& key = tmp.key;
  auto describe = [&] {
    return query::DescribeSelect(engine_, query::SelectFromJson({.url = temporary}), abandon_);
  };
  using Columns = Result<std::vector<catalog::Column>>;
  Status written = store.Write(key, StagedText(records));
  Columns described = written.ok() ? describe() : Columns(written);
  if (!described.ok() && described.status().code() == StatusCode::kInvalidArgument) {
    // A record the engine cannot read (two spellings of one struct field) would hold up
    // the delivery for good: it goes to the error prefix, the rest are delivered.
    Result<std::vector<UnreadableRecord>> unreadable =
        FindUnreadable(records.size(), described.status(), [&](const std::vector<size_t>& indices) {
          std::vector<std::string> trial;
          for (size_t index : indices)
            trial.push_back(records[index]);
          BASIN_RETURN_IF_ERROR(store.Write(key, StagedText(trial)));
          return describe().status();
        });
    written = unreadable.status();
    if (unreadable.ok())
      written = DropUnreadable(*unreadable, records, refused);
    if (written.ok() && !records.empty())
      written = store.Write(key, StagedText(records));
    described = written.ok() && !records.empty() ? describe() : Columns(written);
  }
  if (described.ok() && existing.ok() && !records.empty()) {
    Result<size_t> dropped =
        RefuseUncastable(engine_, temporary, *existing, records, refused, abandon_);
    if (dropped.ok() && *dropped > 0 && !records.empty()) {
      Status rewritten = store.Write(key, StagedText(records));
      described = rewritten.ok() ? describe() : Columns(rewritten);
    } else if (!dropped.ok()) {
      described = dropped.status();
    }
  }
  if (records.empty()) {  // every record of the partition was refused
    DeleteTemporary(store, key);
    staged.groups.pop_back();
    return Status::OK();
  }
  if (!described.ok())
    return described.status().WithContext("reading the records of " + definition.name);
  auto in_table = [&](const std::string& name) {
    return AsciiLower(name) == kRowField ||
           (existing.ok() && std::any_of(existing->columns.begin(), existing->columns.end(),
                                         [&](const catalog::Column& column) {
                                           return AsciiLower(column.name) == AsciiLower(name);
                                         }));
  };
  std::vector<catalog::Column> found;
  for (catalog::Column& column : *described) {
    if (!in_table(column.name))
      found.push_back(std::move(column));
  }
  // The table's columns keep their types.
  staged.columns = catalog::MergeColumns(staged.columns, found);
  return Status::OK();
}

Status DeliveryWriter::WriteRefusals(const DeliveryBatch& batch,
                                     const std::vector<nlohmann::json>& refused) {
  if (refused.empty())
    return Status::OK();
  const stream::StreamDefinition& definition = *batch.definition;
  std::string text;
  for (const nlohmann::json& line : refused)
    text += DumpJson(line) + "\n";
  std::string url = definition.error_prefix + "delivery-" +
                    ObjectName(definition.name, batch.intent_time, batch.first, batch.last, "json");
  Result<storage::StoreResolver::Resolved> resolved = stores_.Resolve(url);
  Status written = resolved.ok() ? resolved->store->Write(resolved->key, text) : resolved.status();
  // A failing error prefix holds up the good records for a few attempts only; then the
  // refused ones are counted and logged, and delivery goes on.
  if (!written.ok() && ++*batch.error_write_failures < kErrorWriteAttempts)
    return written.WithContext("writing refused records to " + definition.error_prefix);
  if (!written.ok()) {
    log::Warn(
        "stream_error_write_failed",
        {{"stream", definition.name}, {"records", refused.size()}, {"error", written.ToString()}});
  }
  return Status::OK();
}

Result<std::vector<DeliveryWriter::Written>> DeliveryWriter::WriteGroups(const DeliveryBatch& batch,
                                                                         Staged& staged,
                                                                         DeliveryOutcome& outcome) {
  const stream::StreamDefinition& definition = *batch.definition;
  const std::string extension = Extension(definition);
  std::vector<Written> written_groups;
  for (const Group& group : staged.groups) {
    // A first attempt's names are new (they hold its log positions); a repeat may replace
    // objects it wrote before.
    std::string target =
        definition.prefix + group.partition +
        ObjectName(definition.name, batch.intent_time, batch.first, batch.last, extension);
    tablewrite::ObjectContent content;
    Status compressed_ok;
    if (definition.format == stream::OutputFormat::kNdjson) {
      std::string lines;
      for (const std::string& record : *group.records)
        lines += record + "\n";
      Result<std::string> compressed = Compress(lines, definition.compression);
      compressed_ok = compressed.status();
      content.text = compressed.ok() ? std::move(*compressed) : std::string();
    } else {
      content.select = query::SelectFromJson({.url = group.temporary, .columns = staged.columns});
    }
    tablewrite::ObjectWrite written =
        compressed_ok.ok()
            ? tablewrite::WriteObject(engine_, stores_, target, content, Basin(), batch.repeat)
            : tablewrite::ObjectWrite{.status = compressed_ok};
    if (!written.status.ok()) {
      // The other partitions go on; this one's records are deferred (see DeliveredMark) and
      // delivered later under another name. A write reported failed may still have made its
      // object: WriteObject removed it, or its records would be delivered twice. If even that
      // failed, the whole delivery is tried again as it is, under the same names, replacing
      // what it wrote.
      Status failure = written.status.WithContext("writing " + target);
      log::Warn("stream_partition_failed",
                {{"stream", definition.name}, {"error", failure.ToString()}});
      if (written.left_behind)
        return failure;
      if (outcome.deferred_failure.ok())
        outcome.deferred_failure = failure;
      for (const std::string& record : *group.records)
        outcome.deferred.push_back({group.partition, record});
      continue;
    }
    written_groups.push_back({.group = &group,
                              .objects = written.replaced_size ? 0 : 1,
                              .bytes = static_cast<int64_t>(written.size) -
                                       static_cast<int64_t>(written.replaced_size.value_or(0))});
    outcome.counts.records += static_cast<int64_t>(group.records->size());
    outcome.counts.objects += 1;
    outcome.counts.bytes += static_cast<int64_t>(written.size);
  }
  return written_groups;
}

Result<catalog::Partition> DeliveryWriter::CountedPartition(
    catalog::Partition partition, const std::optional<catalog::Partition>& before,
    int64_t added_objects, int64_t added_bytes, bool relist) {
  partition.last_modified =
      std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  if (relist) {
    BASIN_ASSIGN_OR_RETURN(tablewrite::ObjectCounts counts,
                           tablewrite::CountDataObjects(stores_, partition.location));
    partition.objects = counts.objects;
    partition.bytes = counts.bytes;
    return partition;
  }
  // The registered counts plus this delivery's: no listing, which would grow with the
  // partition (a day's partition gathers thousands of objects).
  if (before) {
    partition.objects = before->objects;
    partition.bytes = before->bytes;
  }
  partition.objects += added_objects;
  partition.bytes += added_bytes;
  return partition;
}

Result<catalog::TableStats> DeliveryWriter::TableTotals(
    const catalog::Table& table, const std::vector<catalog::Partition>& upserted,
    catalog::Timestamp modified) {
  catalog::TableStats totals{.last_modified = modified};
  std::set<std::string> replaced;
  for (const catalog::Partition& partition : upserted) {
    replaced.insert(partition.location);
    totals.objects += partition.objects;
    totals.bytes += partition.bytes;
  }
  catalog::PartitionFilter page{.limit = 1000};
  for (;; page.offset += page.limit) {
    BASIN_ASSIGN_OR_RETURN(std::vector<catalog::Partition> found,
                           catalog_.ListPartitions(table.id, page));
    for (const catalog::Partition& partition : found) {
      if (replaced.count(partition.location) == 0) {
        totals.objects += partition.objects;
        totals.bytes += partition.bytes;
      }
    }
    if (static_cast<int64_t>(found.size()) < page.limit)
      return totals;
  }
}

Status DeliveryWriter::Register(const DeliveryBatch& batch, const Result<catalog::Table>& existing,
                                const Staged& staged, const std::vector<Written>& written) {
  const stream::StreamDefinition& definition = *batch.definition;
  const std::string qualified = definition.database + "." + definition.table;
  // Each written partition's key values, and the partition as registered before this
  // delivery (none: a new partition).
  std::vector<std::vector<std::string>> values(written.size());
  std::vector<std::optional<catalog::Partition>> before(written.size());
  for (size_t i = 0; i < written.size() && !staged.keys.empty(); ++i) {
    BASIN_ASSIGN_OR_RETURN(values[i], PartitionValues(written[i].group->partition, staged.keys));
  }
  if (existing.ok() && !staged.keys.empty()) {
    for (size_t i = 0; i < written.size(); ++i) {
      catalog::PartitionFilter filter{.limit = 1};
      for (size_t k = 0; k < staged.keys.size() && k < values[i].size(); ++k)
        filter.equals[staged.keys[k].name] = values[i][k];
      BASIN_ASSIGN_OR_RETURN(std::vector<catalog::Partition> found,
                             catalog_.ListPartitions(existing->id, filter));
      if (!found.empty())
        before[i] = std::move(found.front());
    }
  }
  // A partition's objects are read as one schema: when this delivery's columns differ from
  // those its partition recorded (the table's, unpartitioned), its older Parquet objects are
  // rewritten with them. A partition the table has not registered has no older objects (a
  // repeat's are its own, replaced now).
  std::vector<bool> realigned(written.size(), false);
  if (definition.format == stream::OutputFormat::kParquet && existing.ok()) {
    std::string delivered_name = ObjectName(definition.name, batch.intent_time, batch.first,
                                            batch.last, Extension(definition));
    for (size_t i = 0; i < written.size(); ++i) {
      const std::vector<catalog::Column>* recorded = &existing->columns;
      if (!staged.keys.empty()) {
        if (!before[i])
          continue;
        if (!before[i]->columns.empty())
          recorded = &before[i]->columns;
      }
      if (SameColumns(*recorded, staged.columns))
        continue;
      BASIN_RETURN_IF_ERROR(
          AlignOlderObjects(engine_, stores_, definition.prefix + written[i].group->partition,
                            definition.prefix + "_tmp/", delivered_name, staged.columns, abandon_));
      realigned[i] = true;
    }
  }

  catalog::TableUpdate update;
  update.changed_by = "stream:" + definition.name;
  update.create_database = true;
  if (existing.ok()) {
    update.table = *existing;
  } else {
    update.table = {.database = definition.database,
                    .name = definition.table,
                    .location = definition.prefix,
                    .format = stream::TableFormatOf(definition),
                    .created_by = "stream:" + definition.name};
    if (definition.compression != stream::Compression::kNone &&
        definition.format == stream::OutputFormat::kNdjson)
      update.table.format_options["compression"] =
          std::string(stream::CompressionName(definition.compression));
  }
  update.table.columns = staged.columns;
  update.table.partition_keys = staged.keys;
  for (const Written& written : written) {
    update.table.stats.objects += written.objects;
    update.table.stats.bytes += written.bytes;
  }
  update.table.stats.last_modified =
      std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  update.table.stats.rows = std::nullopt;
  if (staged.keys.empty() && (batch.repeat || (!realigned.empty() && realigned.front()))) {
    // Unpartitioned: the same reasons to count from a listing, of the table's folder.
    BASIN_ASSIGN_OR_RETURN(tablewrite::ObjectCounts counts,
                           tablewrite::CountDataObjects(stores_, definition.prefix));
    update.table.stats.objects = counts.objects;
    update.table.stats.bytes = counts.bytes;
  }
  if (!staged.keys.empty()) {
    // Rewritten objects change size, and a repeat cannot tell whether its first attempt
    // was registered: those partitions are counted from a listing, and the table over its
    // partitions.
    bool recounted = false;
    for (size_t i = 0; i < written.size(); ++i) {
      const std::string& partition = written[i].group->partition;
      catalog::Partition registered{.values = values[i],
                                    .location = definition.prefix + partition,
                                    .columns = staged.columns};
      const bool relist = realigned[i] || batch.repeat;
      recounted = recounted || relist;
      BASIN_ASSIGN_OR_RETURN(registered,
                             CountedPartition(std::move(registered), before[i], written[i].objects,
                                              written[i].bytes, relist));
      update.upsert_partitions.push_back(std::move(registered));
    }
    if (recounted && existing.ok()) {
      BASIN_ASSIGN_OR_RETURN(update.table.stats, TableTotals(*existing, update.upsert_partitions,
                                                             update.table.stats.last_modified));
    }
  }
  Result<catalog::ApplyOutcome> applied = tablewrite::CommitTable(catalog_, stores_, update);
  if (!applied.ok())
    return applied.status().WithContext("registering " + qualified);
  return Status::OK();
}

}  // namespace basin::delivery
