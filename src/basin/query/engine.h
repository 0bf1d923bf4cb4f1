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
#include "basin/storage/store_resolver.h"

namespace basin::query {

/// The DuckDB build basin is compiled against. Its C++ ABI changes between patch
/// releases, so the library found at run time must be exactly this one.
inline constexpr std::string_view kDuckDbSourceId = "6ddac802ff";
inline constexpr std::string_view kDuckDbVersion = "v1.4.4";

struct EngineOptions {
  /// DuckDB's home and extension folders go here (inside the basin home), so nothing
  /// depends on $HOME and no extension is fetched from the network.
  std::string work_dir;
  std::shared_ptr<storage::StoreResolver> stores;
  /// Resolves table names DuckDB does not know (catalog tables, `db.table` or a bare
  /// `table` in the default database, passed as an empty `database`) to the SELECT that
  /// reads them. NotFound when there is no such table.
  std::function<Result<std::string>(const std::string& database, const std::string& table)> table_resolver;
  /// No file access outside the lake (lake:// and s3:// URLs): reading local files, ATTACH,
  /// installing or loading extensions and changing settings are refused.
  bool sandboxed = false;
  /// 0: DuckDB's defaults.
  int threads = 0;
  uint64_t memory_limit_bytes = 0;
};

struct QueryResult {
  std::vector<std::string> column_names;
  std::vector<std::string> column_types;  // DuckDB type names: "BIGINT", "VARCHAR"
  std::vector<std::vector<std::optional<std::string>>> rows;  // values as text; nullopt is NULL
  uint64_t bytes_read = 0;     // from lake storage, by this query
  uint64_t read_requests = 0;  // ranged reads issued to lake storage
  std::chrono::microseconds elapsed{0};
};

/// basin's one seam to DuckDB: an embedded database whose file system reads the lake
/// ("lake://key", "s3://bucket/key"). No DuckDB header leaks past this class.
/// Thread-safe: each Execute uses its own connection.
class Engine {
 public:
  /// Fails with FailedPrecondition when the loaded libduckdb is not the pinned build.
  static Result<std::unique_ptr<Engine>> Make(EngineOptions options);
  ~Engine();

  /// Runs one SQL statement (or several separated by ';', returning the last result).
  /// DuckDB errors come back as InvalidArgument (parser, binder, catalog) or Internal.
  /// When `cancel` is given and becomes true, the query is interrupted (Cancelled).
  Result<QueryResult> Execute(std::string_view sql, const std::atomic<bool>* cancel = nullptr);

  /// The source id and version of the loaded library ("6ddac802ff", "v1.4.4").
  static std::string LoadedSourceId();
  static std::string LoadedVersion();

 private:
  struct Impl;
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace basin::query
