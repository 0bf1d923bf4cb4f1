#include "basin/tablewrite/table_write.h"

#include <algorithm>
#include <map>

#include "basin/common/log.h"
#include "basin/query/table_scan.h"
#include "basin/tablewrite/write_layout.h"

namespace basin::tablewrite {
namespace {

catalog::Timestamp Seconds(std::chrono::system_clock::time_point time) {
  return std::chrono::time_point_cast<std::chrono::seconds>(time);
}

// What the folder write covers: its own folder, or (partitioned) the whole location, of
// which only the objects inside write folders named like its own are its.
std::string ListedPrefix(const FolderTarget& target) {
  return target.keys.empty() ? target.location + target.write_folder + "/" : target.location;
}

// Lists `target`'s location and keeps the objects in its write folder; partitioned, one
// partition per partition folder, its values read back from the folder names.
Result<FolderWrite> FindWritten(storage::StoreResolver& stores, const FolderTarget& target) {
  BASIN_ASSIGN_OR_RETURN(storage::StoreResolver::Resolved resolved,
                         stores.Resolve(ListedPrefix(target)));
  BASIN_ASSIGN_OR_RETURN(std::vector<storage::ObjectInfo> objects,
                         resolved.store->List(resolved.key));
  std::vector<std::string> key_names;
  for (const catalog::PartitionKey& key : target.keys)
    key_names.push_back(key.name);
  FolderWrite written;
  std::map<std::string, size_t> partition_of_folder;
  for (const storage::ObjectInfo& object : objects) {
    std::string relative = object.key.substr(resolved.key.size());
    catalog::Timestamp modified = Seconds(object.modified);
    if (!target.keys.empty()) {
      BASIN_ASSIGN_OR_RETURN(std::optional<std::vector<std::string>> values,
                             PartitionValuesOf(relative, target.write_folder, key_names));
      if (!values)  // another write's object, or older data
        continue;
      for (size_t i = 0; i < values->size(); ++i) {
        // DuckDB names a NULL partition "NULL"; the catalog's text values cannot hold NULL.
        if ((*values)[i] == "NULL") {
          return Status::InvalidArgument("partition column '" + key_names[i] +
                                         "' is NULL in some rows: filter them out or COALESCE them "
                                         "(partition values cannot be NULL or the text 'NULL')");
        }
      }
      std::string folder = relative.substr(
          0, relative.find("/" + target.write_folder + "/") + target.write_folder.size() + 2);
      auto [slot, added] = partition_of_folder.try_emplace(folder, written.partitions.size());
      if (added) {
        written.partitions.push_back({.values = std::move(*values),
                                      .location = target.location + folder,
                                      .columns = target.columns});
      }
      catalog::Partition& partition = written.partitions[slot->second];
      partition.objects += 1;
      partition.bytes += static_cast<int64_t>(object.size);
      partition.last_modified = std::max(partition.last_modified, modified);
    }
    written.objects += 1;
    written.bytes += static_cast<int64_t>(object.size);
    written.last_modified = std::max(written.last_modified, modified);
  }
  return written;
}

// After a commit: the replaced data is unreferenced. Write folders below it (this write's,
// when the old location is a crawler's partition folder, or another node's in progress) and
// hidden objects are not its data and stay.
void DeleteReplaced(storage::StoreResolver& stores, const std::string& table,
                    const std::string& location) {
  Status deleted = DeleteObjects(
      stores, location, [](const std::string& relative) { return !IsOutsideTableData(relative); });
  if (!deleted.ok()) {
    log::Warn("write_cleanup_failed",
              {{"table", table}, {"location", location}, {"error", deleted.ToString()}});
  }
}

}  // namespace

Result<ObjectCounts> CountDataObjects(storage::StoreResolver& stores, const std::string& location) {
  BASIN_ASSIGN_OR_RETURN(storage::StoreResolver::Resolved folder, stores.Resolve(location));
  BASIN_ASSIGN_OR_RETURN(std::vector<storage::ObjectInfo> objects, folder.store->List(folder.key));
  ObjectCounts counts;
  for (const storage::ObjectInfo& object : objects) {
    if (!query::IsDataObject(object.key.substr(folder.key.size()), object.size))
      continue;
    counts.objects += 1;
    counts.bytes += static_cast<int64_t>(object.size);
  }
  return counts;
}

Status DeleteObjects(storage::StoreResolver& stores, const std::string& location,
                     const std::function<bool(const std::string& relative)>& doomed) {
  BASIN_ASSIGN_OR_RETURN(storage::StoreResolver::Resolved resolved, stores.Resolve(location));
  BASIN_ASSIGN_OR_RETURN(std::vector<storage::ObjectInfo> objects,
                         resolved.store->List(resolved.key));
  Status first;
  for (const storage::ObjectInfo& object : objects) {
    if (!doomed(object.key.substr(resolved.key.size())))
      continue;
    Status deleted = resolved.store->Delete(object.key);
    if (first.ok() && !deleted.ok())
      first = deleted;
  }
  return first;
}

void DeleteTemporary(storage::ObjectStore& store, const std::string& key, const char* event) {
  if (Status deleted = store.Delete(key); !deleted.ok() && !deleted.IsNotFound())
    log::Warn(event, {{"key", key}, {"error", deleted.ToString()}});
}

ObjectWrite WriteObject(query::Engine& engine, storage::StoreResolver& stores,
                        const std::string& url, const ObjectContent& content,
                        const query::ExecuteOptions& execute, bool check_replaced) {
  ObjectWrite write;
  Result<storage::StoreResolver::Resolved> object = stores.Resolve(url);
  if (!object.ok()) {
    write.status = object.status();
    return write;
  }
  if (check_replaced) {
    if (Result<storage::ObjectInfo> before = object->store->Stat(object->key); before.ok())
      write.replaced_size = before->size;
  }
  if (content.text) {
    write.status = object->store->Write(object->key, *content.text);
  } else {
    Result<int64_t> rows = query::CopySelect(engine, content.select, url, content.copy, execute);
    write.status = rows.status();
    write.rows = rows.ok() ? *rows : 0;
  }
  Result<storage::ObjectInfo> info = write.status.ok() ? object->store->Stat(object->key)
                                                       : Result<storage::ObjectInfo>(write.status);
  if (info.ok()) {
    write.size = info->size;
    return write;
  }
  write.status = info.status();
  if (Status removed = object->store->Delete(object->key); !removed.ok() && !removed.IsNotFound()) {
    write.left_behind = true;
    write.status = Status(write.status.code(),
                          write.status.message() +
                              "; removing what it may have left failed too: " + removed.message());
  }
  return write;
}

std::string FolderCopySql(const std::string& select, const FolderTarget& target) {
  if (target.keys.empty()) {
    // One object, written in place (DuckDB's temp-file-and-rename would be a copy on S3).
    return query::CopySql(select, target.location + target.write_folder + "/part-0.parquet", {});
  }
  std::vector<std::string> keys;
  for (const catalog::PartitionKey& key : target.keys)
    keys.push_back(key.name);
  // The write folder makes every object name new, so nothing is overwritten.
  return query::CopySql(
      select, target.location,
      {.partition_by = keys, .filename_pattern = target.write_folder + "/part-{i}"});
}

Result<FolderWrite> WriteSelectToFolder(query::Engine& engine, storage::StoreResolver& stores,
                                        const std::string& select, const FolderTarget& target,
                                        const query::ExecuteOptions& execute) {
  auto discard = [&](const Status& failure) {
    DiscardFolderWrite(stores, target);
    return failure;
  };
  Result<query::QueryResult> copied = engine.Execute(FolderCopySql(select, target), execute);
  if (!copied.ok())
    return discard(copied.status().WithContext("writing " + target.table));
  if (execute.cancel != nullptr && execute.cancel->load())
    return discard(Status::Cancelled("write cancelled"));
  Result<FolderWrite> written = FindWritten(stores, target);
  if (!written.ok())
    return discard(written.status());
  if (!copied->rows.empty() && !copied->rows[0].empty() && copied->rows[0][0])
    written->rows = std::stoll(*copied->rows[0][0]);
  return written;
}

void DiscardFolderWrite(storage::StoreResolver& stores, const FolderTarget& target) {
  std::string prefix = ListedPrefix(target);
  Status discarded = DeleteObjects(stores, prefix, [&](const std::string& relative) {
    return target.keys.empty() ||
           relative.find("/" + target.write_folder + "/") != std::string::npos;
  });
  if (!discarded.ok()) {
    log::Warn("write_discard_failed",
              {{"table", target.table}, {"location", prefix}, {"error", discarded.ToString()}});
  }
}

Result<catalog::ApplyOutcome> CommitTable(catalog::Catalog& catalog, storage::StoreResolver& stores,
                                          const catalog::TableUpdate& update) {
  BASIN_ASSIGN_OR_RETURN(catalog::ApplyOutcome applied, catalog.ApplyTable(update));
  const std::string qualified = update.table.database + "." + update.table.name;
  for (const catalog::Partition& replaced : applied.replaced_partitions)
    DeleteReplaced(stores, qualified, replaced.location);
  if (update.table.partition_keys.empty() && !applied.previous_location.empty() &&
      applied.previous_location != update.table.location)
    DeleteReplaced(stores, qualified, applied.previous_location);
  return applied;
}

}  // namespace basin::tablewrite
