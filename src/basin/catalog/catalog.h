#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "basin/catalog/schema.h"
#include "basin/common/result.h"
#include "basin/metadata/database.h"

/// The catalog: databases, tables (location, format, columns, partition keys, statistics,
/// schema versions) and partitions, kept in the metadata database.
namespace basin::catalog {

using Timestamp = std::chrono::sys_seconds;

struct PartitionKey {
  std::string name;
  std::string type;  // DATE, BIGINT or VARCHAR
  friend bool operator==(const PartitionKey&, const PartitionKey&) = default;
};

struct TableStats {
  int64_t objects = 0;
  int64_t bytes = 0;
  std::optional<int64_t> rows;  // when every object's row count is known (Parquet)
  Timestamp last_modified{};
};

/// How a table's objects are written; its name ("csv", "json", "parquet") is what the
/// metadata database, the API and the CLI show.
enum class TableFormat { kCsv, kJson, kParquet };
std::string_view TableFormatName(TableFormat format);
/// InvalidArgument naming the accepted formats.
Result<TableFormat> ParseTableFormat(std::string_view name);

/// A deprecated table's data vanished (see the crawler's deletion policy).
enum class TableStatus { kActive, kDeprecated };
std::string_view TableStatusName(TableStatus status);
Result<TableStatus> ParseTableStatus(std::string_view name);

struct Table {
  int64_t id = 0;
  std::string database;
  std::string name;
  std::string location;  // lake URL prefix ending in '/': "lake://sales/orders/"
  TableFormat format = TableFormat::kParquet;
  std::map<std::string, std::string>
      format_options;  // delimiter, quote, escape, header, compression
  std::vector<Column> columns;
  std::vector<PartitionKey> partition_keys;
  TableStats stats;
  int schema_version = 1;
  std::string created_by;  // "crawler:NAME", "stream:NAME", "snapshot:NAME", "query", "user:NAME"
  TableStatus status = TableStatus::kActive;
  Timestamp created_at{};
  Timestamp changed_at{};
  std::optional<Timestamp> last_crawled_at;
};

struct Partition {
  int64_t id = 0;
  std::vector<std::string> values;  // one per partition key, in key order
  std::string location;             // lake URL prefix ending in '/'
  int64_t objects = 0;
  int64_t bytes = 0;
  Timestamp last_modified{};
  std::vector<Column> columns;  // the partition's own observed schema
};

struct SchemaVersion {
  int version = 0;
  std::vector<Column> columns;
  std::vector<PartitionKey> partition_keys;
  std::string change;  // DescribeSchemaChange from the previous version
  std::string changed_by;
  Timestamp created_at{};
};

struct PartitionFilter {
  /// Exact values per key name; keys not named match anything.
  std::map<std::string, std::string> equals;
  int64_t limit = 1000;
  int64_t offset = 0;
};

/// Whether ApplyTable may create the table, update it, or both.
enum class ApplyMode {
  kCreateOrUpdate,
  kCreateOnly,  // AlreadyExists when the table exists (CREATE TABLE)
  kUpdateOnly,  // NotFound when it does not (INSERT OVERWRITE)
};

/// What one writer (a crawl, a stream, a user) says a table now looks like. Applied by
/// Catalog::ApplyTable in one transaction.
struct TableUpdate {
  Table table;                                 // id, created_at, schema_version are ignored
  std::vector<Partition> upsert_partitions;    // added or replaced (by location)
  std::vector<std::string> remove_partitions;  // locations
  /// true: columns replace the stored ones. false: they are merged into them
  /// (MergeColumns), so two writers never lose each other's columns.
  bool replace_columns = false;
  std::string changed_by;
  ApplyMode mode = ApplyMode::kCreateOrUpdate;
  /// Creates the table's database when it does not exist, in the same transaction.
  bool create_database = false;
  /// Each upserted partition replaces the stored partitions with the same values (at other
  /// locations), so a writer can swap a partition's data in one commit (INSERT OVERWRITE).
  bool replace_same_values = false;
};

struct ApplyOutcome {
  bool created = false;
  bool schema_changed = false;
  std::string change;  // DescribeSchemaChange, when schema_changed
  int schema_version = 0;
  int64_t table_id = 0;
  /// The partitions that replace_same_values removed (their objects are now unreferenced).
  std::vector<Partition> replaced_partitions;
  /// The table's location before this update; empty when it was created.
  std::string previous_location;
};

/// Database and table names: lower-case letters, digits and '_', starting with a letter or
/// '_', at most 128 characters. InvalidArgument naming `what` otherwise.
Status ValidateName(std::string_view name, std::string_view what);

/// Turns a folder name into a valid table name: "Orders-2026" -> "orders_2026".
std::string SanitizeName(std::string_view text);

/// Thread-safe (the database is). Errors: NotFound / AlreadyExists naming the object,
/// InvalidArgument for bad names.
class Catalog {
 public:
  explicit Catalog(metadata::Database& database) : database_(database) {}

  Status CreateDatabase(const std::string& name, const std::string& description = "");
  /// Creates it unless it exists.
  Status EnsureDatabase(const std::string& name);
  Result<std::vector<std::string>> ListDatabases();
  /// FailedPrecondition when it still has tables, unless `cascade`.
  Status DropDatabase(const std::string& name, bool cascade);

  Result<Table> GetTable(const std::string& database, const std::string& name);
  Result<std::vector<Table>> ListTables(const std::string& database);
  /// Creates or updates a table and its partitions atomically; records a schema version
  /// when the columns or partition keys change. `update.mode` may refuse to create
  /// (NotFound) or to update (AlreadyExists); then nothing changes.
  Result<ApplyOutcome> ApplyTable(const TableUpdate& update);
  /// Deprecated (its data vanished) or back to active.
  Status SetTableStatus(const std::string& database, const std::string& name, TableStatus status);
  Status DropTable(const std::string& database, const std::string& name);

  Result<std::vector<Partition>> ListPartitions(int64_t table_id,
                                                const PartitionFilter& filter = {});
  /// A short text that changes whenever the table's definition or its partitions change
  /// (one cheap query: the result cache checks it on every hit). NotFound for no such table.
  Result<std::string> TableVersion(const std::string& database, const std::string& name);
  Result<int64_t> CountPartitions(int64_t table_id);
  Result<std::vector<SchemaVersion>> SchemaHistory(int64_t table_id);

 private:
  Result<int64_t> DatabaseId(const std::string& name);
  metadata::Database& database_;
};

}  // namespace basin::catalog
