#include "basin/catalog/catalog.h"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

#include "basin/common/crypto.h"

namespace basin::catalog {
namespace {

using metadata::Row;
using metadata::Value;
using nlohmann::json;

int64_t Unix(Timestamp time) {
  return time.time_since_epoch().count();
}
Timestamp FromUnix(int64_t seconds) {
  return Timestamp(std::chrono::seconds(seconds));
}
Timestamp Now() {
  return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
}

std::string ColumnsJson(const std::vector<Column>& columns) {
  json out = json::array();
  for (const Column& column : columns) {
    json item = {{"name", column.name}, {"type", column.type}};
    if (!column.comment.empty())
      item["comment"] = column.comment;
    out.push_back(item);
  }
  return out.dump();
}

std::vector<Column> ColumnsFrom(const std::string& text) {
  std::vector<Column> columns;
  json parsed = json::parse(text, nullptr, false);
  if (!parsed.is_array())
    return columns;
  for (const json& item : parsed) {
    columns.push_back({item.value("name", ""), item.value("type", ""), item.value("comment", "")});
  }
  return columns;
}

std::string KeysJson(const std::vector<PartitionKey>& keys) {
  json out = json::array();
  for (const PartitionKey& key : keys)
    out.push_back({{"name", key.name}, {"type", key.type}});
  return out.dump();
}

std::vector<PartitionKey> KeysFrom(const std::string& text) {
  std::vector<PartitionKey> keys;
  json parsed = json::parse(text, nullptr, false);
  if (!parsed.is_array())
    return keys;
  for (const json& item : parsed)
    keys.push_back({item.value("name", ""), item.value("type", "")});
  return keys;
}

constexpr const char* kTableColumns =
    "t.id, d.name, t.name, t.location, t.format, t.format_options, t.columns, t.partition_keys, "
    "t.schema_version, t.object_count, t.total_bytes, t.row_count, t.last_modified, t.created_by, "
    "t.status, "
    "t.created_at, t.changed_at, t.last_crawled_at";

Result<Table> TableFrom(const Row& row) {
  Table table;
  BASIN_ASSIGN_OR_RETURN(table.id, row.Int(0));
  BASIN_ASSIGN_OR_RETURN(table.database, row.Text(1));
  BASIN_ASSIGN_OR_RETURN(table.name, row.Text(2));
  BASIN_ASSIGN_OR_RETURN(table.location, row.Text(3));
  BASIN_ASSIGN_OR_RETURN(std::string format, row.Text(4));
  BASIN_ASSIGN_OR_RETURN(table.format, ParseTableFormat(format));
  BASIN_ASSIGN_OR_RETURN(std::string options, row.Text(5));
  json parsed = json::parse(options, nullptr, false);
  if (parsed.is_object()) {
    for (const auto& [key, value] : parsed.items())
      table.format_options[key] = value.get<std::string>();
  }
  BASIN_ASSIGN_OR_RETURN(std::string columns, row.Text(6));
  table.columns = ColumnsFrom(columns);
  BASIN_ASSIGN_OR_RETURN(std::string keys, row.Text(7));
  table.partition_keys = KeysFrom(keys);
  BASIN_ASSIGN_OR_RETURN(int64_t version, row.Int(8));
  table.schema_version = static_cast<int>(version);
  BASIN_ASSIGN_OR_RETURN(table.stats.objects, row.Int(9));
  BASIN_ASSIGN_OR_RETURN(table.stats.bytes, row.Int(10));
  BASIN_ASSIGN_OR_RETURN(table.stats.rows, row.OptionalInt(11));
  BASIN_ASSIGN_OR_RETURN(int64_t modified, row.Int(12));
  table.stats.last_modified = FromUnix(modified);
  BASIN_ASSIGN_OR_RETURN(table.created_by, row.Text(13));
  BASIN_ASSIGN_OR_RETURN(std::string status, row.Text(14));
  BASIN_ASSIGN_OR_RETURN(table.status, ParseTableStatus(status));
  BASIN_ASSIGN_OR_RETURN(int64_t created, row.Int(15));
  table.created_at = FromUnix(created);
  BASIN_ASSIGN_OR_RETURN(int64_t changed, row.Int(16));
  table.changed_at = FromUnix(changed);
  BASIN_ASSIGN_OR_RETURN(std::optional<int64_t> crawled, row.OptionalInt(17));
  if (crawled)
    table.last_crawled_at = FromUnix(*crawled);
  return table;
}

Value Nullable(const std::optional<int64_t>& value) {
  return value ? Value(*value) : Value();
}

}  // namespace

std::string_view TableFormatName(TableFormat format) {
  switch (format) {
    case TableFormat::kCsv:
      return "csv";
    case TableFormat::kJson:
      return "json";
    case TableFormat::kParquet:
      return "parquet";
  }
  return "parquet";
}

Result<TableFormat> ParseTableFormat(std::string_view name) {
  for (TableFormat format : {TableFormat::kCsv, TableFormat::kJson, TableFormat::kParquet}) {
    if (name == TableFormatName(format))
      return format;
  }
  return Status::InvalidArgument("format must be csv, json or parquet, got '" + std::string(name) +
                                 "'");
}

std::string_view TableStatusName(TableStatus status) {
  return status == TableStatus::kDeprecated ? "deprecated" : "active";
}

Result<TableStatus> ParseTableStatus(std::string_view name) {
  if (name == "active")
    return TableStatus::kActive;
  if (name == "deprecated")
    return TableStatus::kDeprecated;
  return Status::InvalidArgument("table status must be active or deprecated, not '" +
                                 std::string(name) + "'");
}

Status ValidateName(std::string_view name, std::string_view what) {
  bool valid = !name.empty() && name.size() <= 128 &&
               (std::islower(static_cast<unsigned char>(name[0])) || name[0] == '_');
  for (char c : name) {
    if (!(std::islower(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c)) || c == '_')) {
      valid = false;
    }
  }
  if (valid)
    return Status::OK();
  return Status::InvalidArgument(
      std::string(what) + " name '" + std::string(name) +
      "' is not valid: use lower-case letters, digits and '_', starting with a letter");
}

std::string SanitizeName(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c)) {
      out.push_back(static_cast<char>(std::tolower(c)));
    } else if (!out.empty() && out.back() != '_') {
      out.push_back('_');
    }
  }
  while (!out.empty() && out.back() == '_')
    out.pop_back();
  // Non-ASCII letters (Korean folder names) are dropped above; a short hash of the
  // original keeps different names different ("주문" and "환불" must not both be "t").
  bool dropped = std::any_of(text.begin(), text.end(), [](unsigned char c) { return c >= 0x80; });
  if (dropped)
    out += (out.empty() ? "" : "_") + Sha256Hex(text).substr(0, 8);
  if (out.empty() || std::isdigit(static_cast<unsigned char>(out[0])))
    out = "t_" + out;
  if (out.size() > 128)
    out.resize(128);
  return out;
}

Result<int64_t> Catalog::DatabaseId(const std::string& name) {
  BASIN_ASSIGN_OR_RETURN(
      std::optional<Row> row,
      database_.QueryRow("SELECT id FROM catalog_databases WHERE name = ?", {name}));
  if (!row)
    return Status::NotFound("no such database: " + name);
  return row->Int(0);
}

Status Catalog::CreateDatabase(const std::string& name, const std::string& description) {
  BASIN_RETURN_IF_ERROR(ValidateName(name, "database"));
  Status created = database_.Execute(
      "INSERT INTO catalog_databases (name, description, created_at) VALUES (?, ?, ?)",
      {name, description, Unix(Now())});
  if (created.code() == StatusCode::kAlreadyExists)
    return Status::AlreadyExists("database already exists: " + name);
  return created;
}

Status Catalog::EnsureDatabase(const std::string& name) {
  BASIN_RETURN_IF_ERROR(ValidateName(name, "database"));
  // ON CONFLICT, not a failed INSERT: inside a transaction a failed statement would
  // abort the rest of it on PostgreSQL.
  return database_.Execute(
      "INSERT INTO catalog_databases (name, description, created_at) VALUES (?, '', ?) ON CONFLICT "
      "(name) DO NOTHING",
      {name, Unix(Now())});
}

Result<std::vector<std::string>> Catalog::ListDatabases() {
  BASIN_ASSIGN_OR_RETURN(std::vector<Row> rows,
                         database_.Query("SELECT name FROM catalog_databases ORDER BY name"));
  std::vector<std::string> names;
  for (const Row& row : rows) {
    BASIN_ASSIGN_OR_RETURN(std::string name, row.Text(0));
    names.push_back(std::move(name));
  }
  return names;
}

Status Catalog::DropDatabase(const std::string& name, bool cascade) {
  return database_.Transaction([&]() -> Status {
    BASIN_ASSIGN_OR_RETURN(int64_t id, DatabaseId(name));
    BASIN_ASSIGN_OR_RETURN(
        std::optional<Row> count,
        database_.QueryRow("SELECT count(*) FROM catalog_tables WHERE database_id = ?", {id}));
    BASIN_ASSIGN_OR_RETURN(int64_t tables, count->Int(0));
    if (tables > 0 && !cascade) {
      return Status::FailedPrecondition("database " + name + " still has " +
                                        std::to_string(tables) +
                                        " table(s); drop them first or use --cascade");
    }
    return database_.Execute("DELETE FROM catalog_databases WHERE id = ?", {id});
  });
}

Result<Table> Catalog::GetTable(const std::string& database, const std::string& name) {
  BASIN_ASSIGN_OR_RETURN(
      std::optional<Row> row,
      database_.QueryRow(
          std::string("SELECT ") + kTableColumns +
              " FROM catalog_tables t JOIN catalog_databases d ON d.id = t.database_id"
              " WHERE d.name = ? AND t.name = ?",
          {database, name}));
  if (!row)
    return Status::NotFound("no such table: " + database + "." + name);
  return TableFrom(*row);
}

Result<std::vector<Table>> Catalog::ListTables(const std::string& database) {
  BASIN_RETURN_IF_ERROR(DatabaseId(database).status());
  BASIN_ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      database_.Query(std::string("SELECT ") + kTableColumns +
                          " FROM catalog_tables t JOIN catalog_databases d ON d.id = t.database_id"
                          " WHERE d.name = ? ORDER BY t.name",
                      {database}));
  std::vector<Table> tables;
  for (const Row& row : rows) {
    BASIN_ASSIGN_OR_RETURN(Table table, TableFrom(row));
    tables.push_back(std::move(table));
  }
  return tables;
}

Result<ApplyOutcome> Catalog::ApplyTable(const TableUpdate& update) {
  const Table& wanted = update.table;
  BASIN_RETURN_IF_ERROR(ValidateName(wanted.database, "database"));
  BASIN_RETURN_IF_ERROR(ValidateName(wanted.name, "table"));
  ApplyOutcome outcome;
  Status applied = database_.Transaction([&]() -> Status {
    if (update.create_database)
      BASIN_RETURN_IF_ERROR(EnsureDatabase(wanted.database));
    BASIN_ASSIGN_OR_RETURN(int64_t database_id, DatabaseId(wanted.database));
    Result<Table> existing = GetTable(wanted.database, wanted.name);
    if (!existing.ok() && !existing.status().IsNotFound())
      return existing.status();
    std::string qualified = wanted.database + "." + wanted.name;
    if (existing.ok() && update.mode == ApplyMode::kCreateOnly) {
      return Status::AlreadyExists("table already exists: " + qualified);
    }
    if (!existing.ok() && update.mode == ApplyMode::kUpdateOnly)
      return Status::NotFound("no such table: " + qualified);
    if (existing.ok())
      outcome.previous_location = existing->location;
    int64_t now = Unix(Now());
    std::optional<int64_t> crawled = wanted.last_crawled_at
                                         ? std::optional<int64_t>(Unix(*wanted.last_crawled_at))
                                         : std::nullopt;
    json options = wanted.format_options;

    std::vector<Column> columns = wanted.columns;
    std::vector<PartitionKey> keys = wanted.partition_keys;
    if (existing.ok()) {
      if (!update.replace_columns)
        columns = MergeColumns(existing->columns, wanted.columns);
      if (keys.empty())
        keys = existing->partition_keys;
      std::string change = DescribeSchemaChange(existing->columns, columns);
      if (keys != existing->partition_keys) {
        change += "~ partition keys " + KeysJson(existing->partition_keys) + " -> " +
                  KeysJson(keys) + "\n";
      }
      outcome.schema_changed = !change.empty();
      outcome.change = change;
      outcome.schema_version = existing->schema_version + (outcome.schema_changed ? 1 : 0);
      outcome.table_id = existing->id;
      BASIN_RETURN_IF_ERROR(database_.Execute(
          "UPDATE catalog_tables SET location = ?, format = ?, format_options = "
          "?, columns = ?, partition_keys = ?, "
          "schema_version = ?, status = ?, changed_at = ?, last_crawled_at = "
          "COALESCE(?, last_crawled_at) "
          "WHERE id = ?",
          {wanted.location, std::string(TableFormatName(wanted.format)), options.dump(),
           ColumnsJson(columns), KeysJson(keys), int64_t{outcome.schema_version},
           std::string(TableStatusName(wanted.status)),
           outcome.schema_changed ? now : Unix(existing->changed_at), Nullable(crawled),
           existing->id}));
    } else {
      outcome.created = true;
      outcome.schema_changed = true;
      outcome.schema_version = 1;
      outcome.change = DescribeSchemaChange({}, columns);
      BASIN_ASSIGN_OR_RETURN(
          outcome.table_id,
          database_.ExecuteReturningId(
              "INSERT INTO catalog_tables (database_id, name, location, format, "
              "format_options, columns, "
              "partition_keys, schema_version, object_count, total_bytes, "
              "row_count, last_modified, created_by, "
              "status, created_at, changed_at, last_crawled_at) VALUES (?, ?, "
              "?, ?, ?, ?, ?, 1, 0, 0, NULL, 0, ?, ?, ?, ?, ?)",
              {database_id, wanted.name, wanted.location,
               std::string(TableFormatName(wanted.format)), options.dump(), ColumnsJson(columns),
               KeysJson(keys), wanted.created_by, std::string(TableStatusName(wanted.status)), now,
               now, Nullable(crawled)}));
    }
    if (outcome.schema_changed) {
      BASIN_RETURN_IF_ERROR(database_.Execute(
          "INSERT INTO catalog_schema_versions (table_id, version, columns, partition_keys, "
          "change, changed_by, "
          "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
          {outcome.table_id, int64_t{outcome.schema_version}, ColumnsJson(columns), KeysJson(keys),
           outcome.change, update.changed_by, now}));
    }
    if (update.replace_same_values && !update.upsert_partitions.empty() && existing.ok()) {
      BASIN_ASSIGN_OR_RETURN(std::vector<Partition> stored,
                             ListPartitions(outcome.table_id, {.limit = int64_t{1} << 40}));
      for (Partition& partition : stored) {
        bool replaced = std::any_of(update.upsert_partitions.begin(),
                                    update.upsert_partitions.end(), [&](const Partition& upsert) {
                                      return upsert.values == partition.values &&
                                             upsert.location != partition.location;
                                    });
        if (!replaced)
          continue;
        BASIN_RETURN_IF_ERROR(
            database_.Execute("DELETE FROM catalog_partitions WHERE id = ?", {partition.id}));
        outcome.replaced_partitions.push_back(std::move(partition));
      }
    }
    for (const std::string& location : update.remove_partitions) {
      BASIN_RETURN_IF_ERROR(
          database_.Execute("DELETE FROM catalog_partitions WHERE table_id = ? AND location = ?",
                            {outcome.table_id, location}));
    }
    for (const Partition& partition : update.upsert_partitions) {
      json values = partition.values;
      BASIN_RETURN_IF_ERROR(database_.Execute(
          "INSERT INTO catalog_partitions (table_id, partition_values, location, object_count, "
          "total_bytes, "
          "last_modified, columns) VALUES (?, ?, ?, ?, ?, ?, ?) "
          "ON CONFLICT (table_id, location) DO UPDATE SET partition_values = "
          "excluded.partition_values, "
          "object_count = excluded.object_count, total_bytes = excluded.total_bytes, "
          "last_modified = excluded.last_modified, columns = excluded.columns",
          {outcome.table_id, values.dump(), partition.location, partition.objects, partition.bytes,
           Unix(partition.last_modified), ColumnsJson(partition.columns)}));
    }
    // Statistics: a partitioned table sums its partitions; an unpartitioned one has its own.
    TableStats stats = wanted.stats;
    if (!keys.empty()) {
      BASIN_ASSIGN_OR_RETURN(
          std::optional<Row> sums,
          database_.QueryRow(
              "SELECT COALESCE(sum(object_count), 0), COALESCE(sum(total_bytes), 0), "
              "COALESCE(max(last_modified), 0) FROM catalog_partitions WHERE table_id = ?",
              {outcome.table_id}));
      BASIN_ASSIGN_OR_RETURN(stats.objects, sums->Int(0));
      BASIN_ASSIGN_OR_RETURN(stats.bytes, sums->Int(1));
      BASIN_ASSIGN_OR_RETURN(int64_t modified, sums->Int(2));
      stats.last_modified = std::max(stats.last_modified, FromUnix(modified));
    }
    return database_.Execute(
        "UPDATE catalog_tables SET object_count = ?, total_bytes = ?, row_count = ?, last_modified "
        "= ? WHERE id = ?",
        {stats.objects, stats.bytes, Nullable(stats.rows), Unix(stats.last_modified),
         outcome.table_id});
  });
  if (!applied.ok())
    return applied;
  return outcome;
}

Status Catalog::SetTableStatus(const std::string& database, const std::string& name,
                               TableStatus status) {
  BASIN_ASSIGN_OR_RETURN(Table table, GetTable(database, name));
  return database_.Execute("UPDATE catalog_tables SET status = ?, changed_at = ? WHERE id = ?",
                           {std::string(TableStatusName(status)), Unix(Now()), table.id});
}

Status Catalog::DropTable(const std::string& database, const std::string& name) {
  BASIN_ASSIGN_OR_RETURN(Table table, GetTable(database, name));
  return database_.Execute("DELETE FROM catalog_tables WHERE id = ?", {table.id});
}

Result<std::string> Catalog::TableVersion(const std::string& database, const std::string& name) {
  BASIN_ASSIGN_OR_RETURN(
      std::optional<Row> row,
      database_.QueryRow(
          "SELECT t.id, t.schema_version, t.changed_at, "
          "(SELECT count(*) FROM catalog_partitions p WHERE p.table_id = t.id), "
          "(SELECT coalesce(max(p.id), 0) FROM catalog_partitions p WHERE p.table_id = t.id), "
          "(SELECT coalesce(sum(length(p.location)), 0) FROM catalog_partitions p WHERE p.table_id "
          "= t.id), "
          "(SELECT coalesce(sum(p.object_count), 0) FROM catalog_partitions p WHERE p.table_id = "
          "t.id), "
          "(SELECT coalesce(sum(p.total_bytes), 0) FROM catalog_partitions p WHERE p.table_id = "
          "t.id), "
          "(SELECT coalesce(max(p.last_modified), 0) FROM catalog_partitions p WHERE p.table_id = "
          "t.id), "
          "length(t.format_options) + length(t.columns), t.location "
          "FROM catalog_tables t JOIN catalog_databases d ON d.id = t.database_id WHERE d.name = ? "
          "AND t.name = ?",
          {database, name}));
  if (!row)
    return Status::NotFound("no table " + database + "." + name);
  std::string version;
  for (size_t i = 0; i < 10; ++i) {
    BASIN_ASSIGN_OR_RETURN(int64_t value, row->Int(i));
    version += std::to_string(value) + ":";
  }
  // The location itself, not its length: INSERT OVERWRITE of an unpartitioned table moves it
  // to a new folder of the same length, and a server kept reading the old, deleted one.
  BASIN_ASSIGN_OR_RETURN(std::string location, row->Text(10));
  return version + location;
}

Result<std::vector<Partition>> Catalog::ListPartitions(int64_t table_id,
                                                       const PartitionFilter& filter) {
  BASIN_ASSIGN_OR_RETURN(
      std::optional<Row> keys_row,
      database_.QueryRow("SELECT partition_keys FROM catalog_tables WHERE id = ?", {table_id}));
  if (!keys_row)
    return Status::NotFound("no such table id: " + std::to_string(table_id));
  BASIN_ASSIGN_OR_RETURN(std::string keys_text, keys_row->Text(0));
  std::vector<PartitionKey> keys = KeysFrom(keys_text);
  std::string sql =
      "SELECT id, partition_values, location, object_count, total_bytes, last_modified, columns "
      "FROM catalog_partitions WHERE table_id = ? ORDER BY location";
  std::vector<Value> params = {table_id};
  if (filter.equals.empty()) {
    sql += " LIMIT ? OFFSET ?";
    params.push_back(filter.limit);
    params.push_back(filter.offset);
  }
  BASIN_ASSIGN_OR_RETURN(std::vector<Row> rows, database_.Query(sql, params));
  std::vector<Partition> partitions;
  int64_t skipped = 0;
  for (const Row& row : rows) {
    Partition partition;
    BASIN_ASSIGN_OR_RETURN(partition.id, row.Int(0));
    BASIN_ASSIGN_OR_RETURN(std::string values, row.Text(1));
    json parsed = json::parse(values, nullptr, false);
    if (parsed.is_array())
      partition.values = parsed.get<std::vector<std::string>>();
    // Values filter in memory: thousands of partitions take milliseconds, and the SQL
    // stays the same for SQLite and PostgreSQL.
    bool match = true;
    for (const auto& [name, value] : filter.equals) {
      for (size_t i = 0; i < keys.size() && i < partition.values.size(); ++i) {
        if (keys[i].name == name && partition.values[i] != value)
          match = false;
      }
    }
    if (!match)
      continue;
    if (!filter.equals.empty() && skipped++ < filter.offset)
      continue;
    BASIN_ASSIGN_OR_RETURN(partition.location, row.Text(2));
    BASIN_ASSIGN_OR_RETURN(partition.objects, row.Int(3));
    BASIN_ASSIGN_OR_RETURN(partition.bytes, row.Int(4));
    BASIN_ASSIGN_OR_RETURN(int64_t modified, row.Int(5));
    partition.last_modified = FromUnix(modified);
    BASIN_ASSIGN_OR_RETURN(std::string columns, row.Text(6));
    partition.columns = ColumnsFrom(columns);
    partitions.push_back(std::move(partition));
    if (!filter.equals.empty() && static_cast<int64_t>(partitions.size()) >= filter.limit)
      break;
  }
  return partitions;
}

Result<int64_t> Catalog::CountPartitions(int64_t table_id) {
  BASIN_ASSIGN_OR_RETURN(
      std::optional<Row> row,
      database_.QueryRow("SELECT count(*) FROM catalog_partitions WHERE table_id = ?", {table_id}));
  return row->Int(0);
}

Result<std::vector<SchemaVersion>> Catalog::SchemaHistory(int64_t table_id) {
  BASIN_ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      database_.Query("SELECT version, columns, partition_keys, change, changed_by, created_at "
                      "FROM catalog_schema_versions WHERE table_id = ? ORDER BY version",
                      {table_id}));
  std::vector<SchemaVersion> versions;
  for (const Row& row : rows) {
    SchemaVersion version;
    BASIN_ASSIGN_OR_RETURN(int64_t number, row.Int(0));
    version.version = static_cast<int>(number);
    BASIN_ASSIGN_OR_RETURN(std::string columns, row.Text(1));
    version.columns = ColumnsFrom(columns);
    BASIN_ASSIGN_OR_RETURN(std::string keys, row.Text(2));
    version.partition_keys = KeysFrom(keys);
    BASIN_ASSIGN_OR_RETURN(version.change, row.Text(3));
    BASIN_ASSIGN_OR_RETURN(version.changed_by, row.Text(4));
    BASIN_ASSIGN_OR_RETURN(int64_t created, row.Int(5));
    version.created_at = FromUnix(created);
    versions.push_back(std::move(version));
  }
  return versions;
}

}  // namespace basin::catalog
