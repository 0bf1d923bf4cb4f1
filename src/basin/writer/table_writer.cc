#include "basin/writer/table_writer.h"

#include <algorithm>
#include <cstdio>

#include "basin/common/log.h"
#include "basin/query/lake_sql.h"
#include "basin/query/query_history.h"
#include "basin/tablewrite/table_write.h"
#include "basin/tablewrite/write_layout.h"
#include "basin/writer/write_plan.h"

namespace basin::writer {
namespace {

// How the person's SELECT runs on basin's engine: as basin's statement (it is spliced into
// basin's DESCRIBE and COPY), but reaching only what the person's own SQL may (the lake and
// query.allowed_urls, not lake://_basin/), with unqualified tables in their default database.
query::ExecuteOptions PersonsQuery(const WriteContext& context) {
  return {.policy = query::StatementPolicy::kBasin,
          .cancel = context.cancel,
          .default_database = context.default_database,
          .confine_urls = true};
}

Result<std::vector<QueryColumn>> DescribeQuery(query::Engine& engine, const std::string& query,
                                               const WriteContext& context) {
  BASIN_ASSIGN_OR_RETURN(std::vector<catalog::Column> described,
                         query::DescribeSelect(engine, query, PersonsQuery(context)));
  std::vector<QueryColumn> columns;
  for (catalog::Column& column : described)
    columns.push_back({std::move(column.name), std::move(column.type)});
  return columns;
}

std::string HumanBytes(int64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 4) {
    value /= 1024;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof(text), unit == 0 ? "%.0f %s" : "%.1f %s", value, units[unit]);
  return text;
}

}  // namespace

nlohmann::json ToJson(const WriteResult& result) {
  return {{"table", result.table},
          {"created", result.created},
          {"partitions_written", result.partitions_written},
          {"partitions_replaced", result.partitions_replaced},
          {"rows", result.rows},
          {"objects", result.objects},
          {"bytes", result.bytes},
          {"location", result.location},
          {"skipped", result.skipped}};
}

std::string Summary(const WriteResult& result) {
  if (result.skipped)
    return result.table + " already exists; nothing written";
  std::string line = (result.created ? "created " : "overwrote ") + result.table + ": ";
  if (result.partitions_written > 0 || result.partitions_replaced > 0) {
    line += std::to_string(result.partitions_written) + " partition(s) written";
    if (!result.created)
      line += " (" + std::to_string(result.partitions_replaced) + " replaced)";
    line += ", ";
  }
  return line + std::to_string(result.rows) + " row(s) in " + std::to_string(result.objects) +
         " object(s) (" + HumanBytes(result.bytes) + ") at " + result.location;
}

std::shared_ptr<std::mutex> TableWriter::TableLock(const std::string& qualified_name) {
  std::lock_guard<std::mutex> lock(locks_mutex_);
  std::shared_ptr<std::mutex>& slot = table_locks_[qualified_name];
  if (!slot)
    slot = std::make_shared<std::mutex>();
  return slot;
}

Result<std::optional<WriteResult>> TableWriter::RunIfWriteStatement(const std::string& sql,
                                                                    const WriteContext& context) {
  BASIN_ASSIGN_OR_RETURN(std::optional<WriteStatement> statement, ParseWriteStatement(sql));
  if (!statement)
    return std::optional<WriteResult>();
  BASIN_ASSIGN_OR_RETURN(WriteResult result, Run(*statement, context));
  return std::optional<WriteResult>(std::move(result));
}

Result<WriteResult> TableWriter::Run(const WriteStatement& statement, const WriteContext& context) {
  // The query is spliced into basin's own COPY, so it must be exactly one SELECT: a ')' and a
  // second statement in it would otherwise run as basin's.
  BASIN_ASSIGN_OR_RETURN(std::vector<std::string> kinds, query::StatementKinds(statement.query));
  if (kinds.size() != 1 || kinds.front() != "select") {
    return Status::InvalidArgument(
        "the query of CREATE TABLE ... AS / INSERT OVERWRITE must be one "
        "SELECT statement");
  }
  bool create = statement.kind == WriteStatement::Kind::kCreateTableAs;
  std::string database = statement.database.empty() ? context.default_database : statement.database;
  BASIN_RETURN_IF_ERROR(catalog::ValidateName(database, "database"));
  BASIN_RETURN_IF_ERROR(catalog::ValidateName(statement.table, "table"));
  std::string qualified = database + "." + statement.table;
  std::string by = "user:" + context.user;
  std::shared_ptr<std::mutex> table_lock = TableLock(qualified);
  std::lock_guard<std::mutex> serialised(*table_lock);

  Result<catalog::Table> existing = catalog_.GetTable(database, statement.table);
  if (!existing.ok() && !existing.status().IsNotFound())
    return existing.status();
  if (create && existing.ok()) {
    if (statement.if_not_exists)
      return WriteResult{.table = qualified, .location = existing->location, .skipped = true};
    return Status::AlreadyExists("table " + qualified +
                                 " already exists: replace its data with INSERT OVERWRITE " +
                                 qualified + " <query>");
  }
  if (!create && !existing.ok()) {
    return Status::NotFound("no such table: " + qualified + " (create it with CREATE TABLE " +
                            qualified + " AS <query>)");
  }
  if (!create && existing->format != catalog::TableFormat::kParquet) {
    return Status::FailedPrecondition("table " + qualified + " is " +
                                      std::string(catalog::TableFormatName(existing->format)) +
                                      ": INSERT OVERWRITE writes only Parquet tables");
  }

  BASIN_ASSIGN_OR_RETURN(std::vector<QueryColumn> output,
                         DescribeQuery(engine_, statement.query, context));
  BASIN_ASSIGN_OR_RETURN(WritePlan plan, create ? PlanCreate(statement, database, output)
                                                : PlanOverwrite(statement, *existing, output));
  BASIN_ASSIGN_OR_RETURN(storage::StoreResolver::Resolved resolved, stores_.Resolve(plan.location));
  if (resolved.key.empty()) {
    return Status::InvalidArgument("location " + plan.location +
                                   " is the lake's root: give the table a folder");
  }

  tablewrite::FolderTarget target{
      .table = qualified,
      .location = plan.location,
      .keys = plan.keys,
      .columns = plan.columns,
      .write_folder = tablewrite::WriteFolder(tablewrite::NewWriteId())};
  Result<tablewrite::FolderWrite> written =
      tablewrite::WriteSelectToFolder(engine_, stores_, plan.select, target, PersonsQuery(context));
  if (!written.ok())
    return written.status();
  auto discard = [&](const Status& failure) {
    tablewrite::DiscardFolderWrite(stores_, target);
    return failure;
  };
  const int64_t rows = written->rows;
  catalog::TableUpdate update;
  update.changed_by = by;
  update.upsert_partitions = written->partitions;
  if (create) {
    update.table = {.database = database,
                    .name = statement.table,
                    .format = catalog::TableFormat::kParquet,
                    .created_by = by};
    update.mode = catalog::ApplyMode::kCreateOnly;
    update.create_database = true;
    update.replace_columns = true;
  } else {
    update.table = *existing;
    update.mode = catalog::ApplyMode::kUpdateOnly;
    update.replace_same_values = true;
  }
  update.table.columns = plan.columns;
  update.table.partition_keys = plan.keys;
  update.table.location =
      plan.keys.empty() ? plan.location + target.write_folder + "/" : plan.location;
  update.table.stats.objects = written->objects;
  update.table.stats.bytes = written->bytes;
  update.table.stats.last_modified = written->last_modified;
  // A partitioned overwrite knows only the rows it wrote, not those of the partitions it kept.
  update.table.stats.rows =
      (create || plan.keys.empty()) ? std::optional<int64_t>(rows) : std::nullopt;
  Result<catalog::ApplyOutcome> applied = tablewrite::CommitTable(catalog_, stores_, update);
  if (!applied.ok()) {
    if (applied.status().code() == StatusCode::kAlreadyExists && statement.if_not_exists) {
      (void)discard(applied.status());  // created meanwhile by another node
      BASIN_ASSIGN_OR_RETURN(catalog::Table winner, catalog_.GetTable(database, statement.table));
      return WriteResult{.table = qualified, .location = winner.location, .skipped = true};
    }
    return discard(applied.status().WithContext("registering " + qualified));
  }
  return WriteResult{
      .table = qualified,
      .created = create,
      .partitions_written = static_cast<int64_t>(written->partitions.size()),
      .partitions_replaced = static_cast<int64_t>(applied->replaced_partitions.size()),
      .rows = rows,
      .objects = written->objects,
      .bytes = written->bytes,
      .location = update.table.location};
}

}  // namespace basin::writer
