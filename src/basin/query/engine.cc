#include "basin/query/engine.h"

#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include "duckdb.hpp"
#include "duckdb/common/multi_file/multi_file_states.hpp"
#include "duckdb/execution/operator/scan/physical_table_scan.hpp"
#include "duckdb/execution/physical_plan_generator.hpp"
#include "duckdb/main/prepared_statement_data.hpp"
#include "duckdb/parser/keyword_helper.hpp"
#include "duckdb/parser/parsed_data/create_function_info.hpp"
#include "duckdb/parser/parser.hpp"
#include "duckdb/parser/statement/create_statement.hpp"
#include "duckdb/parser/statement/explain_statement.hpp"
#include "duckdb/parser/statement/select_statement.hpp"
#include "duckdb/parser/tableref/subqueryref.hpp"

#include "basin/common/crypto.h"
#include "basin/query/engine_internal.h"
#include "basin/query/lake_file_system.h"
#include "basin/query/query_history.h"
#include "basin/query/result_cache.h"
#include "basin/query/spill_file_system.h"

namespace basin::query {

namespace {

using namespace internal;  // NOLINT: engine.cc is the internals' one user

// What one running query bound: its default database and the catalog tables it named.
struct QueryBinding {
  std::string default_database;
  std::mutex mutex;
  std::vector<TableScan> scans;  // GUARDED_BY(mutex)
};

// Which query (client context) a replacement scan is binding for.
class BindingRegistry {
 public:
  void Register(const void* context, QueryBinding* binding) {
    std::lock_guard<std::mutex> lock(mutex_);
    bindings_[context] = binding;
  }
  void Unregister(const void* context) {
    std::lock_guard<std::mutex> lock(mutex_);
    bindings_.erase(context);
  }
  QueryBinding* Find(const void* context) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = bindings_.find(context);
    return found == bindings_.end() ? nullptr : found->second;
  }

 private:
  std::mutex mutex_;
  std::map<const void*, QueryBinding*> bindings_;
};

struct CatalogScanData : public duckdb::ReplacementScanData {
  CatalogScanData(TableResolver resolver, std::string default_database,
                  std::shared_ptr<BindingRegistry> bindings,
                  std::shared_ptr<ReadAccounting> accounting)
      : resolver(std::move(resolver)),
        default_database(std::move(default_database)),
        bindings(std::move(bindings)),
        accounting(std::move(accounting)) {}
  TableResolver resolver;
  std::string default_database;
  std::shared_ptr<BindingRegistry> bindings;
  std::shared_ptr<ReadAccounting> accounting;
};

// Called by DuckDB's binder for a table name it does not know: a catalog table becomes a
// subquery over its files. Unknown names fall through to DuckDB's own "not found".
duckdb::unique_ptr<duckdb::TableRef> CatalogScan(
    duckdb::ClientContext& context, duckdb::ReplacementScanInput& input,
    duckdb::optional_ptr<duckdb::ReplacementScanData> data) {
  auto& scan_data = data->Cast<CatalogScanData>();
  QueryBinding* binding = scan_data.bindings->Find(&context);
  std::string database = input.schema_name == "main" ? "" : input.schema_name;
  std::string default_database = binding && !binding->default_database.empty()
                                     ? binding->default_database
                                     : scan_data.default_database;
  Result<TableScan> scan = scan_data.resolver(database, input.table_name, default_database);
  if (!scan.ok()) {
    // A quoted file name ('lake://t/x.csv') is DuckDB's own replacement scan's business.
    bool looks_like_path = input.table_name.find_first_of("/:.") != std::string::npos;
    if (scan.status().IsNotFound() && looks_like_path)
      return nullptr;
    if (scan.status().IsNotFound()) {
      throw duckdb::CatalogException("Table %s%s does not exist in the catalog (%s)",
                                     database.empty() ? "" : database + ".", input.table_name,
                                     scan.status().message());
    }
    throw duckdb::BinderException("%s", scan.status().message());
  }
  duckdb::Parser parser;
  parser.ParseQuery(scan->sql);
  if (parser.statements.size() != 1 ||
      parser.statements[0]->type != duckdb::StatementType::SELECT_STATEMENT) {
    throw duckdb::InternalException("catalog scan for %s is not one SELECT", input.table_name);
  }
  // The listing's sizes and ETags open the objects without another request each.
  if (std::shared_ptr<ReadCounter> counter = scan_data.accounting->Find(&context)) {
    for (const ScanFile& file : scan->files) {
      storage::ObjectInfo info{.size = file.size, .etag = file.etag};
      info.modified =
          std::chrono::system_clock::time_point(std::chrono::microseconds(file.modified_us));
      counter->AddListed(ObjectUrlOfScanPath(file.path), std::move(info));
    }
  }
  if (binding) {
    std::lock_guard<std::mutex> lock(binding->mutex);
    binding->scans.push_back(std::move(scan).value());
  }
  auto select = duckdb::unique_ptr_cast<duckdb::SQLStatement, duckdb::SelectStatement>(
      std::move(parser.statements[0]));
  return duckdb::make_uniq<duckdb::SubqueryRef>(std::move(select), input.table_name);
}

Row ChunkRow(duckdb::DataChunk& chunk, duckdb::idx_t row) {
  Row values;
  values.reserve(chunk.ColumnCount());
  for (duckdb::idx_t column = 0; column < chunk.ColumnCount(); ++column) {
    duckdb::Value value = chunk.GetValue(column, row);
    values.push_back(value.IsNull() ? std::nullopt : std::optional<std::string>(value.ToString()));
  }
  return values;
}

// Registers a connection's read counter and bindings for the query's lifetime.
class ContextRegistration {
 public:
  ContextRegistration(ReadAccounting& accounting, BindingRegistry& bindings, const void* context,
                      std::shared_ptr<ReadCounter> counter, QueryBinding* binding)
      : accounting_(accounting), bindings_(bindings), context_(context) {
    accounting_.Register(context_, std::move(counter));
    bindings_.Register(context_, binding);
  }
  ~ContextRegistration() {
    accounting_.Unregister(context_);
    bindings_.Unregister(context_);
  }
  ContextRegistration(const ContextRegistration&) = delete;
  ContextRegistration& operator=(const ContextRegistration&) = delete;

 private:
  ReadAccounting& accounting_;
  BindingRegistry& bindings_;
  const void* context_;
};

// Interrupts a running query's connection when the caller cancels or the time is up, and
// reports its progress: a thread for the query's lifetime, when the options need one.
class QueryWatcher {
 public:
  QueryWatcher(duckdb::Connection& connection, const ExecuteOptions& options,
               std::chrono::steady_clock::time_point started, std::atomic<bool>& timed_out) {
    if (options.cancel == nullptr && options.max_run_time.count() == 0 && !options.on_progress)
      return;
    thread_ = std::thread([this, &connection, &options, started, &timed_out] {
      std::unique_lock<std::mutex> lock(mutex_);
      auto next_progress = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
      while (!finished_) {
        if (options.on_progress && std::chrono::steady_clock::now() >= next_progress) {
          next_progress += std::chrono::milliseconds(500);
          options.on_progress(connection.context->GetQueryProgress().GetPercentage());
        }
        if (options.cancel != nullptr && options.cancel->load()) {
          connection.Interrupt();
          return;
        }
        if (options.max_run_time.count() > 0 &&
            std::chrono::steady_clock::now() - started > options.max_run_time) {
          timed_out = true;
          connection.Interrupt();
          return;
        }
        wake_.wait_for(lock, std::chrono::milliseconds(10));
      }
    });
  }
  ~QueryWatcher() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      finished_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable())
      thread_.join();
  }
  QueryWatcher(const QueryWatcher&) = delete;
  QueryWatcher& operator=(const QueryWatcher&) = delete;

 private:
  std::mutex mutex_;
  std::condition_variable wake_;
  bool finished_ = false;
  std::thread thread_;
};

// The statements of `sql`, checked against `policy`; all but the last are run. Returns the
// last (to plan, or run with its result) and how many there were.
Result<duckdb::unique_ptr<duckdb::SQLStatement>> RunLeadingStatements(
    duckdb::Connection& connection, std::string_view sql, StatementPolicy policy, bool plan_only,
    const std::function<Status(const duckdb::ErrorData&)>& fail, size_t& count) {
  duckdb::vector<duckdb::unique_ptr<duckdb::SQLStatement>> statements;
  try {
    statements = connection.ExtractStatements(std::string(sql));
  } catch (const std::exception& error) {
    return fail(duckdb::ErrorData(error));
  }
  count = statements.size();
  if (statements.empty())
    return Status::InvalidArgument("no SQL statement to run");
  if (plan_only && statements.size() > 1)
    return Status::InvalidArgument("only one statement can be planned");
  if (policy == StatementPolicy::kUser) {
    for (const auto& statement : statements)
      BASIN_RETURN_IF_ERROR(CheckUserStatement(*statement, connection));
  }
  for (size_t i = 0; i + 1 < statements.size(); ++i) {
    auto result = connection.Query(std::move(statements[i]));
    if (result->HasError())
      return fail(result->GetErrorObject());
  }
  return std::move(statements.back());
}

// Sends the result's rows to the sink; with `cached`, also keeps them there while they fit
// in `max_entry_bytes`. Returns whether they were all kept. Internal when the result failed
// (the caller reads the error from it).
Result<bool> FetchRows(duckdb::QueryResult& result, RowSink& sink, CachedResult* cached,
                       uint64_t max_entry_bytes) {
  bool keep = cached != nullptr;
  while (true) {
    duckdb::unique_ptr<duckdb::DataChunk> chunk = result.Fetch();
    if (result.HasError())
      return Status::Internal("fetching the result failed");
    if (!chunk || chunk->size() == 0)
      break;
    std::vector<Row> rows;
    rows.reserve(chunk->size());
    for (duckdb::idx_t row = 0; row < chunk->size(); ++row)
      rows.push_back(ChunkRow(*chunk, row));
    if (keep) {
      for (const Row& row : rows) {
        cached->bytes += ResultCache::RowBytes(row);
        cached->rows.push_back(row);
      }
      if (cached->bytes > max_entry_bytes) {
        keep = false;
        cached->rows.clear();
      }
    }
    BASIN_RETURN_IF_ERROR(sink.Rows(std::move(rows)));
  }
  return keep;
}

// The rows EXPLAIN adds for basin's scans of catalog tables.
std::vector<Row> ExplainScanRows(const std::vector<TableScanReport>& scans, size_t columns) {
  std::vector<Row> rows;
  for (const TableScanReport& report : scans) {
    Row row(columns);
    row[0] = "basin scan of " + report.table;
    if (row.size() > 1)
      row[1] = DescribeScan(report);
    rows.push_back(std::move(row));
  }
  return rows;
}

// What a query read, and how long it took.
void FinishStats(QueryStats& stats, ReadCounter& counter,
                 std::chrono::steady_clock::time_point started) {
  stats.bytes_read = counter.bytes.load();
  stats.read_requests = counter.requests.load();
  stats.objects_opened = static_cast<int64_t>(counter.OpenedCount());
  stats.elapsed = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - started);
}

// Sends a cached answer to the sink.
Status Replay(const CachedResult& hit, RowSink& sink) {
  BASIN_RETURN_IF_ERROR(sink.Begin(hit.column_names, hit.column_types));
  std::vector<Row> rows = hit.rows;
  return sink.Rows(std::move(rows));
}

// What `prepared` reads of `scans` (into `reads` and stats.scans), and the cache key's input
// part: the kept objects, and those opened while planning (DuckDB reads a Parquet footer to
// bind and may answer from it, count(*) from metadata, without scanning at run time).
std::string PlanInputs(duckdb::PreparedStatement& prepared, const std::vector<TableScan>& scans,
                       const std::set<std::string>& opened, PlannedReads& reads,
                       QueryStats& stats) {
  std::map<std::string, size_t> scan_of_path;
  for (size_t i = 0; i < scans.size(); ++i) {
    for (const ScanFile& file : scans[i].files)
      scan_of_path.emplace(file.path, i);
  }
  reads.kept_paths.resize(scans.size());
  if (prepared.data && prepared.data->physical_plan) {
    CollectReads(prepared.data->physical_plan->Root(), scan_of_path, reads);
  } else {
    reads.only_known_inputs = false;
  }
  std::string inputs;
  stats.scans = ReportScans(scans, reads, &inputs);
  for (const std::string& url : opened) {
    for (const TableScan& scan : scans) {
      for (const ScanFile& file : scan.files) {
        if (ObjectUrlOfScanPath(file.path) != url)
          continue;
        inputs += "bind:" + ObjectFingerprint(file.path, file.size, file.etag, file.modified_us);
      }
    }
  }
  return inputs;
}

}  // namespace

int64_t QueryStats::PartitionsScanned() const {
  int64_t total = 0;
  for (const TableScanReport& scan : scans)
    total += static_cast<int64_t>(scan.partitions_kept.size());
  return total;
}

int64_t QueryStats::PartitionsTotal() const {
  int64_t total = 0;
  for (const TableScanReport& scan : scans)
    total += scan.partitions_total;
  return total;
}

struct Engine::Impl {
  std::unique_ptr<duckdb::DuckDB> database;
  std::shared_ptr<ReadAccounting> accounting = std::make_shared<ReadAccounting>();
  std::shared_ptr<BindingRegistry> bindings = std::make_shared<BindingRegistry>();
  std::shared_ptr<ResultCache> cache;
  std::string home_directory;  // per connection in DuckDB: '~' in paths must not need $HOME
  std::string default_database;
  std::shared_ptr<storage::StoreResolver> stores;
  std::function<Result<std::string>(const std::string&, const std::string&)> table_version;
  bool confine_urls = false;
  std::vector<std::string> allowed_urls;

  // Confirming a cache hit without planning: for a cached query, the catalog version of each
  // table it read and the objects in each folder (partition) it read. If all are as they
  // were, so is the answer. Planning lists the whole table; this lists only those folders.
  struct FolderCheck {
    std::string folder;       // lake URL prefix
    std::string table_root;   // the table's location (for what counts as a data object)
    std::string fingerprint;  // of the data objects under `folder`
  };
  struct TableCheck {
    std::string database, name, version;
  };
  struct QuickCheck {
    std::string cache_key;
    std::vector<TableCheck> tables;
    std::vector<FolderCheck> folders;
  };
  std::mutex quick_mutex;
  std::map<std::string, QuickCheck>
      quick_checks;  // by Sha256(database, sql); GUARDED_BY(quick_mutex)

  Result<QueryStats> Run(std::string_view sql, const ExecuteOptions& options, RowSink* sink);
  std::shared_ptr<const CachedResult> QuickHit(const std::string& sql_key);
  void RememberQuickCheck(const std::string& sql_key, const std::string& cache_key,
                          const std::vector<TableScan>& scans,
                          const std::vector<std::set<std::string>>& kept_paths,
                          const std::set<std::string>& opened);
  Result<std::string> FolderFingerprint(const std::string& folder, const std::string& table_root);
};

Result<std::string> Engine::Impl::FolderFingerprint(const std::string& folder,
                                                    const std::string& table_root) {
  BASIN_ASSIGN_OR_RETURN(storage::StoreResolver::Resolved resolved, stores->Resolve(folder));
  BASIN_ASSIGN_OR_RETURN(std::vector<storage::ObjectInfo> objects,
                         resolved.store->List(resolved.key));
  std::map<std::string, std::string> sorted;
  for (const storage::ObjectInfo& object : objects) {
    std::string url = folder + object.key.substr(resolved.key.size());
    std::string relative = url.substr(std::min(table_root.size(), url.size()));
    if (!IsDataObject(relative, object.size))
      continue;
    int64_t modified =
        std::chrono::duration_cast<std::chrono::microseconds>(object.modified.time_since_epoch())
            .count();
    sorted[url] = ObjectFingerprint(url, object.size, object.etag, modified);
  }
  std::string fingerprint;
  for (const auto& [url, text] : sorted)
    fingerprint += text;
  return fingerprint;
}

void Engine::Impl::RememberQuickCheck(const std::string& sql_key, const std::string& cache_key,
                                      const std::vector<TableScan>& scans,
                                      const std::vector<std::set<std::string>>& kept_paths,
                                      const std::set<std::string>& opened) {
  if (!table_version || !stores)
    return;
  QuickCheck check{.cache_key = cache_key};
  std::set<std::string> folders_seen;
  for (size_t i = 0; i < scans.size(); ++i) {
    const TableScan& scan = scans[i];
    if (scan.catalog_version.empty())
      return;  // no way to confirm this table quickly
    check.tables.push_back({scan.database, scan.name, scan.catalog_version});
    // The folders whose objects the answer depends on: kept partitions (or the whole table).
    std::set<std::string> folders;
    for (const ScanFile& file : scan.files) {
      bool read = kept_paths[i].count(file.path) || opened.count(ObjectUrlOfScanPath(file.path));
      if (!read)
        continue;
      folders.insert(file.partition >= 0 ? scan.partition_locations[file.partition]
                                         : scan.location);
    }
    if (scan.partitions.empty())
      folders.insert(scan.location);
    for (const std::string& folder : folders) {
      if (!folders_seen.insert(folder).second)
        continue;
      std::map<std::string, std::string> sorted;
      for (const ScanFile& file : scan.files) {
        std::string url = ObjectUrlOfScanPath(file.path);
        if (url.rfind(folder, 0) != 0)
          continue;
        sorted[url] = ObjectFingerprint(url, file.size, file.etag, file.modified_us);
      }
      std::string fingerprint;
      for (const auto& [url, text] : sorted)
        fingerprint += text;
      check.folders.push_back({folder, scan.location, std::move(fingerprint)});
    }
  }
  std::lock_guard<std::mutex> lock(quick_mutex);
  if (quick_checks.size() > 10000)
    quick_checks.clear();  // bounded; entries are cheap to rebuild
  quick_checks[sql_key] = std::move(check);
}

std::shared_ptr<const CachedResult> Engine::Impl::QuickHit(const std::string& sql_key) {
  if (!cache || !table_version || !stores)
    return nullptr;
  QuickCheck check;
  {
    std::lock_guard<std::mutex> lock(quick_mutex);
    auto found = quick_checks.find(sql_key);
    if (found == quick_checks.end())
      return nullptr;
    check = found->second;
  }
  for (const TableCheck& table : check.tables) {
    Result<std::string> version = table_version(table.database, table.name);
    if (!version.ok() || *version != table.version)
      return nullptr;
  }
  for (const FolderCheck& folder : check.folders) {
    Result<std::string> fingerprint = FolderFingerprint(folder.folder, folder.table_root);
    if (!fingerprint.ok() || *fingerprint != folder.fingerprint)
      return nullptr;
  }
  return cache->Find(check.cache_key);
}

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

std::string Engine::LoadedSourceId() {
  return duckdb::DuckDB::SourceID();
}
std::string Engine::LoadedVersion() {
  return duckdb::DuckDB::LibraryVersion();
}

Result<std::unique_ptr<Engine>> Engine::Make(EngineOptions options) {
  std::string loaded = LoadedSourceId();
  if (loaded.rfind(kDuckDbSourceId, 0) != 0) {
    return Status::FailedPrecondition(
        "libduckdb.so is " + LoadedVersion() + " (" + loaded + "), but basin was built for " +
        std::string(kDuckDbVersion) + " (" + std::string(kDuckDbSourceId) +
        "); reinstall basin so the library beside the binary matches");
  }
  auto impl = std::make_unique<Impl>();
  impl->home_directory = options.work_dir;
  impl->cache = options.cache;
  impl->default_database = options.default_database;
  impl->stores = options.stores;
  impl->table_version = options.table_version;
  impl->confine_urls = options.confine_urls;
  impl->allowed_urls = options.allowed_urls;
  try {
    std::error_code error;
    std::filesystem::create_directories(options.work_dir + "/extensions", error);
    duckdb::DBConfig config;
    // Nothing may reach the network or depend on $HOME: extensions are built in or refused.
    config.SetOptionByName("autoinstall_known_extensions", duckdb::Value::BOOLEAN(false));
    config.SetOptionByName("autoload_known_extensions", duckdb::Value::BOOLEAN(false));
    config.SetOptionByName("allow_community_extensions", duckdb::Value::BOOLEAN(false));
    config.SetOptionByName("extension_directory", duckdb::Value(options.work_dir + "/extensions"));
    config.SetOptionByName("temp_directory", duckdb::Value(options.work_dir + "/tmp"));
    if (options.threads > 0)
      config.SetOptionByName("threads", duckdb::Value::BIGINT(options.threads));
    if (options.memory_limit_bytes > 0) {
      config.SetOptionByName("memory_limit",
                             duckdb::Value(std::to_string(options.memory_limit_bytes) + "B"));
    }
    if (options.table_resolver) {
      config.replacement_scans.emplace_back(
          CatalogScan,
          duckdb::make_uniq<CatalogScanData>(options.table_resolver, options.default_database,
                                             impl->bindings, impl->accounting));
    }
    if (options.sandboxed) {
      // DuckDB's own local file system is switched off (below): every path then goes through
      // the lake file system or fails. (enable_external_access=false with allowed_directories
      // would also refuse lake:// paths, which DuckDB treats as relative local paths.)
      config.options.lock_configuration = true;
    }
    impl->database = std::make_unique<duckdb::DuckDB>(nullptr, &config);
    if (options.stores) {
      impl->database->GetFileSystem().RegisterSubSystem(
          duckdb::make_uniq<LakeFileSystem>(options.stores, impl->accounting));
    }
    if (options.sandboxed) {
      impl->database->GetFileSystem().RegisterSubSystem(
          duckdb::make_uniq<SpillFileSystem>(options.work_dir + "/tmp"));
      impl->database->GetFileSystem().SetDisabledFileSystems({"LocalFileSystem"});
    }
  } catch (const std::exception& error) {
    duckdb::ErrorData data(error);
    return Status::Internal("starting the SQL engine failed: " + data.RawMessage());
  }
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

Result<QueryStats> Engine::Impl::Run(std::string_view sql, const ExecuteOptions& options,
                                     RowSink* sink) {
  auto started = std::chrono::steady_clock::now();
  auto counter = std::make_shared<ReadCounter>();
  counter->max_bytes = options.max_bytes_scanned;
  counter->confined = options.confine_urls.value_or(confine_urls);
  counter->allowed_prefixes = allowed_urls;
  counter->own_urls.insert(options.own_urls.begin(), options.own_urls.end());
  QueryBinding binding;
  binding.default_database = options.default_database;
  QueryStats stats;
  std::atomic<bool> timed_out{false};
  std::string owner = options.limits_owner.empty() ? "" : " (" + options.limits_owner + ")";
  try {
    duckdb::Connection connection(*database);
    connection.context->config.home_directory = home_directory;
    if (options.on_progress) {
      // Progress is tracked for callers that show it, never printed by DuckDB itself.
      connection.context->config.enable_progress_bar = true;
      connection.context->config.print_progress_bar = false;
      connection.context->config.wait_time = 500;
    }
    // The replacement scan and the lake file system find the query's state by its context.
    ContextRegistration registration(*accounting, *bindings, connection.context.get(), counter,
                                     &binding);
    QueryWatcher watcher(connection, options, started, timed_out);
    auto fail = [&](const duckdb::ErrorData& error) -> Status {
      if (counter->over_limit) {
        return Status::ResourceExhausted("query stopped: it read more than " +
                                         std::to_string(counter->max_bytes) +
                                         " bytes, the bytes-scanned limit" + owner);
      }
      if (timed_out) {
        return Status::DeadlineExceeded("query stopped: it ran longer than " +
                                        std::to_string(options.max_run_time.count()) +
                                        " ms, the run-time limit" + owner);
      }
      return ToStatus(error);
    };

    size_t statement_count = 0;
    Result<duckdb::unique_ptr<duckdb::SQLStatement>> last_statement = RunLeadingStatements(
        connection, sql, options.policy, sink == nullptr, fail, statement_count);
    if (!last_statement.ok())
      return last_statement.status();
    duckdb::unique_ptr<duckdb::SQLStatement> last = std::move(*last_statement);
    stats.statement_kind = StatementKind(last->type);

    // EXPLAIN (not ANALYZE): plan the statement itself to see what it would read.
    duckdb::unique_ptr<duckdb::SQLStatement> explained;
    if (last->type == duckdb::StatementType::EXPLAIN_STATEMENT) {
      auto& explain = last->Cast<duckdb::ExplainStatement>();
      if (explain.explain_type != duckdb::ExplainType::EXPLAIN_ANALYZE)
        explained = explain.stmt->Copy();
    }
    bool plan_only = sink == nullptr;
    std::string database_name =
        options.default_database.empty() ? default_database : options.default_database;
    std::string sql_key = Sha256Hex(database_name + '\x1d' + std::string(sql));
    bool may_cache = cache != nullptr && options.use_cache && stats.statement_kind == "select" &&
                     statement_count == 1 && !MentionsVolatileFunction(sql);
    if (!plan_only && may_cache) {
      if (std::shared_ptr<const CachedResult> hit = QuickHit(sql_key)) {
        BASIN_RETURN_IF_ERROR(Replay(*hit, *sink));
        stats.cache_hit = true;
        stats.cacheable = true;
        stats.scans = hit->scans;
        stats.column_names = hit->column_names;
        stats.column_types = hit->column_types;
        stats.elapsed = std::chrono::duration_cast<std::chrono::microseconds>(
            std::chrono::steady_clock::now() - started);
        return stats;
      }
    }
    auto prepared = connection.Prepare(explained ? std::move(explained) : last->Copy());
    if (prepared->HasError())
      return fail(prepared->GetErrorObject());

    // Which objects the plan reads, after pruning.
    std::vector<TableScan> scans;
    {
      std::lock_guard<std::mutex> lock(binding.mutex);
      scans = std::move(binding.scans);
    }
    PlannedReads reads;
    std::string inputs = PlanInputs(*prepared, scans, counter->Opened(), reads, stats);
    for (const std::string& name : prepared->GetNames())
      stats.column_names.push_back(name);
    for (const duckdb::LogicalType& type : prepared->GetTypes())
      stats.column_types.push_back(type.ToString());
    stats.cacheable = may_cache && reads.only_known_inputs;
    auto finish = [&]() -> Result<QueryStats> {
      FinishStats(stats, *counter, started);
      return stats;
    };
    if (plan_only)
      return finish();

    std::string cache_key;
    if (stats.cacheable) {
      std::string database =
          options.default_database.empty() ? default_database : options.default_database;
      cache_key = Sha256Hex(database + '\x1d' + std::string(sql) + '\x1d' + inputs);
      if (auto hit = cache->Find(cache_key)) {
        BASIN_RETURN_IF_ERROR(Replay(*hit, *sink));
        stats.cache_hit = true;
        return finish();
      }
    }

    duckdb::unique_ptr<duckdb::QueryResult> result;
    if (stats.statement_kind == "explain") {
      result = connection.Query(std::move(last));
    } else {
      duckdb::vector<duckdb::Value> no_parameters;
      auto pending = prepared->PendingQuery(no_parameters, true);
      if (pending->HasError())
        return fail(pending->GetErrorObject());
      result = pending->Execute();
    }
    if (result->HasError())
      return fail(result->GetErrorObject());
    std::vector<std::string> names(result->names.begin(), result->names.end());
    std::vector<std::string> types;
    for (const duckdb::LogicalType& type : result->types)
      types.push_back(type.ToString());
    BASIN_RETURN_IF_ERROR(sink->Begin(names, types));

    auto cached = std::make_shared<CachedResult>();
    bool keep = stats.cacheable;
    if (keep) {
      cached->column_names = names;
      cached->column_types = types;
      cached->scans = stats.scans;
    }
    if (Result<bool> kept = FetchRows(*result, *sink, keep ? cached.get() : nullptr,
                                      cache ? cache->max_entry_bytes() : 0);
        !kept.ok()) {
      if (kept.status().code() == StatusCode::kInternal && result->HasError())
        return fail(result->GetErrorObject());
      return kept.status();
    } else {
      keep = *kept;
    }
    if (stats.statement_kind == "explain")
      BASIN_RETURN_IF_ERROR(sink->Rows(ExplainScanRows(stats.scans, names.size())));
    if (keep) {
      cache->Insert(cache_key, std::move(cached));
      RememberQuickCheck(sql_key, cache_key, scans, reads.kept_paths, counter->Opened());
    }
  } catch (const std::exception& error) {
    duckdb::ErrorData data(error);
    if (counter->over_limit || timed_out)
      return Status::ResourceExhausted(data.RawMessage());
    return Status::Internal("query failed: " + data.RawMessage());
  }
  FinishStats(stats, *counter, started);
  return stats;
}

Result<QueryStats> Engine::Execute(std::string_view sql, const ExecuteOptions& options,
                                   RowSink& sink) {
  return impl_->Run(sql, options, &sink);
}

Result<QueryResult> Engine::Execute(std::string_view sql, const ExecuteOptions& options) {
  QueryResult out;
  CollectingSink sink(out);
  BASIN_ASSIGN_OR_RETURN(out.stats, impl_->Run(sql, options, &sink));
  out.bytes_read = out.stats.bytes_read;
  out.read_requests = out.stats.read_requests;
  out.elapsed = out.stats.elapsed;
  return out;
}

Result<QueryResult> Engine::Execute(std::string_view sql, const std::atomic<bool>* cancel) {
  return Execute(
      sql, ExecuteOptions{.policy = StatementPolicy::kBasin, .cancel = cancel, .use_cache = false});
}

Result<QueryStats> Engine::Plan(std::string_view sql, const ExecuteOptions& options) {
  return impl_->Run(sql, options, nullptr);
}

}  // namespace basin::query
