#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "basin/common/result.h"
#include "basin/query/table_scan.h"
#include "basin/storage/store_resolver.h"

namespace basin::query {

class ResultCache;

/// The DuckDB build basin is compiled against. Its C++ ABI changes between patch
/// releases, so the library found at run time must be exactly this one.
inline constexpr std::string_view kDuckDbSourceId = "6ddac802ff";
inline constexpr std::string_view kDuckDbVersion = "v1.4.4";

/// Resolves a table name DuckDB does not know (a catalog table: `db.table`, or a bare
/// `table`, passed with `database` empty, in `default_database`) to how it is read.
/// NotFound when there is no such table.
using TableResolver = std::function<Result<TableScan>(
    const std::string& database, const std::string& table, const std::string& default_database)>;

struct EngineOptions {
  /// DuckDB's home and extension folders go here (inside the basin home), so nothing
  /// depends on $HOME and no extension is fetched from the network.
  std::string work_dir;
  std::shared_ptr<storage::StoreResolver> stores;
  TableResolver table_resolver;
  /// The catalog version of a table (Catalog::TableVersion): lets a cache hit be confirmed
  /// without planning the query. May be empty (then every query is planned).
  std::function<Result<std::string>(const std::string& database, const std::string& table)>
      table_version;
  /// The database of unqualified table names when a query does not name one.
  std::string default_database;
  /// No file access outside the lake (lake:// and s3:// URLs): reading local files, ATTACH,
  /// installing or loading extensions and changing settings are refused.
  bool sandboxed = false;
  /// People's SQL runs here: URLs are confined to the lake outside basin's own `_basin/`
  /// area, the objects of catalog tables a query names, and `allowed_urls` prefixes
  /// ("s3://public-data/"); anything else is PermissionDenied. So the server's own storage
  /// credentials reach no other bucket through SQL.
  bool confine_urls = false;
  std::vector<std::string> allowed_urls;
  /// 0: DuckDB's defaults. The memory limit is the whole engine's: every query it runs shares it.
  int threads = 0;
  uint64_t memory_limit_bytes = 0;
  /// Results of read queries, shared by engines (may be null: no caching).
  std::shared_ptr<ResultCache> cache;
};

/// What the statements of one Execute may do (docs/query.md, "What a query may create").
enum class StatementPolicy {
  /// SQL a person wrote: SELECT, EXPLAIN of one, COPY (to confined URLs), INSERT/UPDATE/
  /// DELETE (only temporary tables exist), and CREATE TEMPORARY TABLE/VIEW/MACRO.
  /// Temporary objects live in the query's own connection and end with it, so nothing a
  /// query creates outlives it or is seen by anyone else; a macro may not take the name of
  /// a function DuckDB already has. Anything else is PermissionDenied.
  kUser,
  /// SQL basin builds itself (COPY into the lake, DESCRIBE of a file): anything goes.
  kBasin,
};

/// Per-query limits and context.
struct ExecuteOptions {
  StatementPolicy policy = StatementPolicy::kUser;
  /// When it becomes true, the query is interrupted (Cancelled).
  const std::atomic<bool>* cancel = nullptr;
  /// 0: none. Exceeding it stops the query with ResourceExhausted.
  uint64_t max_bytes_scanned = 0;
  /// 0: none. Exceeding it stops the query with DeadlineExceeded.
  std::chrono::milliseconds max_run_time{0};
  /// Overrides EngineOptions::default_database for this query.
  std::string default_database;
  /// Use and fill the result cache (when the engine has one and the query is cacheable).
  bool use_cache = true;
  /// Objects this query may reach even on a confined engine: a basin-made statement's own
  /// result object.
  std::vector<std::string> own_urls;
  /// Overrides EngineOptions::confine_urls for this query: basin's engine runs the SELECT of
  /// a person's CREATE TABLE ... AS confined, with the engine's allowed_urls.
  std::optional<bool> confine_urls;
  /// Said in limit errors ("workgroup 'analysts'").
  std::string limits_owner;
  /// Called about twice a second while the query runs, with DuckDB's estimate of how much
  /// is done (0-100; -1 when unknown). From another thread.
  std::function<void(double percent)> on_progress;
};

/// Which partitions of one catalog table a query reads, after pruning.
struct TableScanReport {
  std::string table;  // "db.table"
  int64_t partitions_total = 0;
  std::vector<std::string>
      partitions_kept;  // names ("dt=2026-11-24"); all of them when unpartitioned: empty
  std::vector<std::string> partitions_pruned;
  int64_t objects_total = 0;
  int64_t objects_kept = 0;
  uint64_t bytes_kept = 0;  // sizes of the kept objects (an upper bound of what is read)
};

struct QueryStats {
  uint64_t bytes_read = 0;     // from lake storage, by this query
  uint64_t read_requests = 0;  // ranged reads issued to lake storage
  int64_t objects_opened = 0;  // distinct objects opened for reading
  std::vector<TableScanReport> scans;
  bool cache_hit = false;
  bool cacheable = false;
  std::string statement_kind;             // "select", "explain", "write", "other"
  std::vector<std::string> column_names;  // of the result, as planned
  std::vector<std::string> column_types;
  std::chrono::microseconds elapsed{0};

  int64_t PartitionsScanned() const;
  int64_t PartitionsTotal() const;
};

using Row = std::vector<std::optional<std::string>>;  // values as text; nullopt is NULL

/// Receives a result as it is produced, so large results need not be held in memory.
class RowSink {
 public:
  virtual ~RowSink() = default;
  /// Once, before any rows. Types are DuckDB type names ("BIGINT", "VARCHAR").
  virtual Status Begin(const std::vector<std::string>& names,
                       const std::vector<std::string>& types) = 0;
  /// A batch of rows; an error stops the query.
  virtual Status Rows(std::vector<Row>&& rows) = 0;
};

struct QueryResult {
  std::vector<std::string> column_names;
  std::vector<std::string> column_types;
  std::vector<Row> rows;
  uint64_t bytes_read = 0;
  uint64_t read_requests = 0;
  std::chrono::microseconds elapsed{0};
  QueryStats stats;
};

/// Keeps a result's names, types and rows in `out` (at most `max_rows`; the rest are
/// dropped and `truncated` set).
class CollectingSink final : public RowSink {
 public:
  explicit CollectingSink(QueryResult& out, size_t max_rows = SIZE_MAX)
      : out_(out), max_rows_(max_rows) {}
  Status Begin(const std::vector<std::string>& names,
               const std::vector<std::string>& types) override {
    out_.column_names = names;
    out_.column_types = types;
    return Status();
  }
  Status Rows(std::vector<Row>&& rows) override {
    for (Row& row : rows) {
      if (out_.rows.size() >= max_rows_) {
        truncated = true;
        break;
      }
      out_.rows.push_back(std::move(row));
    }
    return Status();
  }
  bool truncated = false;

 private:
  QueryResult& out_;
  size_t max_rows_;
};

/// basin's one seam to DuckDB: an embedded database whose file system reads the lake
/// ("lake://key", "s3://bucket/key"). No DuckDB header leaks past this class.
/// Thread-safe: each Execute uses its own connection.
class Engine {
 public:
  /// Fails with FailedPrecondition when the loaded libduckdb is not the pinned build.
  static Result<std::unique_ptr<Engine>> Make(EngineOptions options);
  ~Engine();

  /// Runs SQL (one statement, or several separated by ';' returning the last result),
  /// streaming the result into `sink`. DuckDB errors come back as InvalidArgument (parser,
  /// binder, catalog), PermissionDenied (sandbox), Cancelled, ResourceExhausted (out of
  /// memory, bytes limit), DeadlineExceeded (run time limit), IOError or Internal.
  /// `EXPLAIN SELECT …` returns DuckDB's plan plus one row per catalog table saying which
  /// partitions are kept and pruned.
  Result<QueryStats> Execute(std::string_view sql, const ExecuteOptions& options, RowSink& sink);

  /// The same, collecting the result in memory.
  Result<QueryResult> Execute(std::string_view sql, const ExecuteOptions& options);
  /// basin's own SQL (StatementPolicy::kBasin), uncached.
  Result<QueryResult> Execute(std::string_view sql, const std::atomic<bool>* cancel = nullptr);

  /// Plans a read query without running it: which partitions and objects it would read.
  Result<QueryStats> Plan(std::string_view sql, const ExecuteOptions& options = {});

  /// The source id and version of the loaded library ("6ddac802ff", "v1.4.4").
  static std::string LoadedSourceId();
  static std::string LoadedVersion();

 private:
  struct Impl;
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace basin::query
