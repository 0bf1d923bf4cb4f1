#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "basin/catalog/catalog.h"
#include "basin/common/result.h"
#include "basin/query/engine.h"
#include "basin/storage/store_resolver.h"
#include "basin/writer/write_statement.h"

/// Writing query results into the lake as catalog tables: CREATE TABLE ... AS and
/// INSERT OVERWRITE (docs/query.md, "Writing results to the lake").
namespace basin::writer {

struct WriteContext {
  std::string default_database;  // for unqualified table names
  std::string user;              // recorded as "user:NAME" (created_by, schema changes)
  const std::atomic<bool>* cancel = nullptr;  // true: stop the write (Cancelled), nothing changes
};

struct WriteResult {
  std::string table;  // "db.t"
  bool created = false;
  int64_t partitions_written = 0;   // 0 for an unpartitioned table
  int64_t partitions_replaced = 0;  // existing partitions whose data the write replaced
  int64_t rows = 0;
  int64_t objects = 0;
  int64_t bytes = 0;
  std::string location;  // the table's location after the write
  bool skipped = false;  // CREATE TABLE IF NOT EXISTS found the table: nothing was written
};

/// {"table", "created", "partitions_written", "partitions_replaced", "rows", "objects", "bytes",
/// "location", "skipped"}.
nlohmann::json ToJson(const WriteResult& result);

/// One line for people: "created shop.daily: 3 partitions, 120 rows in 3 objects (4.1 KiB) at
/// lake://...".
std::string Summary(const WriteResult& result);

/// Runs write statements: the query's rows go to Parquet objects in folders no registered
/// location covers, then one catalog transaction makes them the table's data (creating the
/// table, or swapping the partitions the query produced), then the replaced objects are
/// deleted. A failure before the commit deletes what was written and leaves the catalog as it
/// was; a failure to delete replaced objects afterwards is logged (they are unreferenced).
/// Thread-safe. Writes to one table are serialised within this object; writers on several
/// nodes commit in turn and the last commit wins.
/// Access control is the caller's: it must refuse these statements to users who may only
/// read (IsWriteStatement tells; query::IsReadOnlySql never says they are read-only).
class TableWriter {
 public:
  /// The references must outlive the writer.
  TableWriter(catalog::Catalog& catalog, storage::StoreResolver& stores, query::Engine& engine)
      : catalog_(catalog), stores_(stores), engine_(engine) {}

  /// nullopt when `sql` is not a write statement (the caller then runs it on the engine).
  /// Errors: InvalidArgument for a malformed statement, a query that does not fit the table
  /// (naming the column) or that fails; AlreadyExists for CREATE TABLE of an existing table
  /// (without IF NOT EXISTS, which returns created = false and writes nothing); NotFound for
  /// INSERT OVERWRITE of a missing table; FailedPrecondition when that table is not Parquet;
  /// Cancelled; storage and catalog errors as they come.
  Result<std::optional<WriteResult>> RunIfWriteStatement(const std::string& sql,
                                                         const WriteContext& context);

  /// Runs a parsed statement (as above).
  Result<WriteResult> Run(const WriteStatement& statement, const WriteContext& context);

 private:
  std::shared_ptr<std::mutex> TableLock(const std::string& qualified_name);

  catalog::Catalog& catalog_;
  storage::StoreResolver& stores_;
  query::Engine& engine_;
  std::mutex locks_mutex_;
  std::map<std::string, std::shared_ptr<std::mutex>> table_locks_;  // GUARDED_BY(locks_mutex_)
};

}  // namespace basin::writer
