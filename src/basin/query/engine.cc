#include "basin/query/engine.h"

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
#include "basin/query/lake_file_system.h"
#include "basin/query/query_history.h"
#include "basin/query/result_cache.h"
#include "basin/query/spill_file_system.h"

namespace basin::query {

namespace {

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

Status ToStatus(const duckdb::ErrorData& error) {
  switch (error.Type()) {
    case duckdb::ExceptionType::PARSER:
    case duckdb::ExceptionType::BINDER:
    case duckdb::ExceptionType::CATALOG:
    case duckdb::ExceptionType::CONVERSION:
    case duckdb::ExceptionType::INVALID_INPUT:
    case duckdb::ExceptionType::CONSTRAINT:
    case duckdb::ExceptionType::SYNTAX:
    case duckdb::ExceptionType::OUT_OF_RANGE:
    case duckdb::ExceptionType::DIVIDE_BY_ZERO:
    case duckdb::ExceptionType::NOT_IMPLEMENTED:
      return Status::InvalidArgument(error.Message());
    case duckdb::ExceptionType::PERMISSION:
      return Status::PermissionDenied(error.Message());
    case duckdb::ExceptionType::INTERRUPT:
      return Status::Cancelled("the query was cancelled");
    case duckdb::ExceptionType::OUT_OF_MEMORY:
      return Status::ResourceExhausted(error.Message());
    case duckdb::ExceptionType::IO:
    case duckdb::ExceptionType::HTTP:
      // A query naming objects that are not there is the caller's mistake (404 with the
      // name), not a fault of the server's storage.
      if (error.RawMessage().starts_with("No files found that match the pattern"))
        return Status::NotFound(error.Message());
      return Status::IOError(error.Message());
    default:
      return Status::Internal(error.Message());
  }
}

std::string StatementKind(duckdb::StatementType type) {
  switch (type) {
    case duckdb::StatementType::SELECT_STATEMENT:
      return "select";
    case duckdb::StatementType::EXPLAIN_STATEMENT:
      return "explain";
    case duckdb::StatementType::INSERT_STATEMENT:
    case duckdb::StatementType::UPDATE_STATEMENT:
    case duckdb::StatementType::DELETE_STATEMENT:
    case duckdb::StatementType::CREATE_STATEMENT:
    case duckdb::StatementType::DROP_STATEMENT:
    case duckdb::StatementType::ALTER_STATEMENT:
    case duckdb::StatementType::COPY_STATEMENT:
      return "write";
    default:
      return "other";
  }
}

// Functions whose result changes between runs on the same data: such queries are not cached.
bool MentionsVolatileFunction(std::string_view sql) {
  static constexpr std::string_view kVolatile[] = {
      "random",       "uuid",      "now",     "current_", "today",
      "get_current_", "localtime", "nextval", "setseed",  "transaction_timestamp",
      "epoch_ms()"};
  std::string lower(sql);
  for (char& c : lower)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (std::string_view name : kVolatile) {
    if (lower.find(name) != std::string::npos)
      return true;
  }
  return false;
}

bool IsMultiFileFunction(const std::string& name) {
  return name == "read_parquet" || name == "parquet_scan" || name == "read_csv" ||
         name == "read_csv_auto" || name == "read_json" || name == "read_json_auto" ||
         name == "read_ndjson" || name == "read_ndjson_auto";
}

// Table functions that read nothing that can change: they do not stop a query being cached.
bool IsConstantFunction(const std::string& name) {
  return name == "range" || name == "generate_series" || name == "unnest" || name == "repeat" ||
         name == "repeat_row" || name == "dummy_scan";
}

// One object in a cache key: it changes when the object does.
std::string ObjectFingerprint(const std::string& relative, uint64_t size, const std::string& etag,
                              int64_t modified_us) {
  return relative + '\x1f' + std::to_string(size) + '\x1f' + etag + '\x1f' +
         std::to_string(modified_us) + '\x1e';
}

// What the physical plan will read: per table scan, the objects left after pruning.
struct PlannedReads {
  std::vector<std::set<std::string>> kept_paths;  // per binding scan
  bool only_known_inputs = true;                  // every input is a catalog table or constant
};

void CollectReads(const duckdb::PhysicalOperator& op,
                  const std::map<std::string, size_t>& scan_of_path, PlannedReads& reads) {
  if (op.type == duckdb::PhysicalOperatorType::TABLE_SCAN) {
    auto& scan = op.Cast<duckdb::PhysicalTableScan>();
    const std::string& name = scan.function.name;
    if (IsMultiFileFunction(name) && scan.bind_data) {
      auto& bind = scan.bind_data->Cast<duckdb::MultiFileBindData>();
      if (!bind.file_list) {
        reads.only_known_inputs = false;
        return;
      }
      for (const duckdb::OpenFileInfo& file : bind.file_list->GetAllFiles()) {
        auto found = scan_of_path.find(file.path);
        if (found == scan_of_path.end()) {
          reads.only_known_inputs = false;
        } else {
          reads.kept_paths[found->second].insert(file.path);
        }
      }
    } else if (!IsConstantFunction(name)) {
      reads.only_known_inputs = false;
    }
  }
  for (const duckdb::PhysicalOperator& child : op.GetChildren())
    CollectReads(child, scan_of_path, reads);
}

// Per table: kept and pruned partitions; plus the cache key's input part.
std::vector<TableScanReport> ReportScans(const std::vector<TableScan>& scans,
                                         const PlannedReads& reads,
                                         std::string* inputs_fingerprint) {
  std::map<std::string, TableScanReport> by_table;
  std::map<std::string, std::set<std::string>> kept_names, counted_paths;
  for (size_t i = 0; i < scans.size(); ++i) {
    const TableScan& scan = scans[i];
    TableScanReport& report = by_table[scan.table];
    report.table = scan.table;
    report.partitions_total = static_cast<int64_t>(scan.partitions.size());
    report.objects_total = static_cast<int64_t>(scan.files.size());
    for (const ScanFile& file : scan.files) {
      if (!reads.kept_paths[i].count(file.path))
        continue;
      if (file.partition >= 0)
        kept_names[scan.table].insert(scan.partitions[file.partition]);
      if (counted_paths[scan.table].insert(file.path).second) {
        ++report.objects_kept;
        report.bytes_kept += file.size;
        *inputs_fingerprint += ObjectFingerprint(file.path, file.size, file.etag, file.modified_us);
      }
    }
    for (const std::string& partition : scan.partitions) {
      bool kept = kept_names[scan.table].count(partition) > 0;
      auto& list = kept ? report.partitions_kept : report.partitions_pruned;
      if (std::find(list.begin(), list.end(), partition) == list.end())
        list.push_back(partition);
    }
    // A later scan of the same table may keep what an earlier one pruned.
    std::erase_if(report.partitions_pruned,
                  [&](const std::string& name) { return kept_names[scan.table].count(name) > 0; });
  }
  std::vector<TableScanReport> out;
  for (auto& [table, report] : by_table)
    out.push_back(std::move(report));
  return out;
}

std::string DescribeScan(const TableScanReport& report) {
  auto list = [](const std::vector<std::string>& names) {
    std::string out;
    for (size_t i = 0; i < names.size() && i < 20; ++i)
      out += (i ? ", " : "") + names[i];
    if (names.size() > 20)
      out += ", … (" + std::to_string(names.size() - 20) + " more)";
    return out.empty() ? std::string("none") : out;
  };
  std::string text;
  if (report.partitions_total > 0) {
    text = std::to_string(report.partitions_kept.size()) + " of " +
           std::to_string(report.partitions_total) + " partitions kept, " +
           std::to_string(report.partitions_pruned.size()) +
           " pruned\nkept: " + list(report.partitions_kept) +
           "\npruned: " + list(report.partitions_pruned) + "\n";
  } else {
    text = "not partitioned\n";
  }
  return text + "objects: " + std::to_string(report.objects_kept) + " of " +
         std::to_string(report.objects_total) + " (" + std::to_string(report.bytes_kept) +
         " bytes)";
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

std::string Lowercase(std::string text) {
  for (char& c : text)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// StatementPolicy::kUser: what a person's statement may do. Temporary objects belong to the
// statement's own connection (Execute makes one per call), so they end with it.
Status CheckUserStatement(const duckdb::SQLStatement& statement, duckdb::Connection& connection) {
  static const std::string kRule =
      "; a query may run SELECT, EXPLAIN, COPY, and CREATE TEMPORARY TABLE/VIEW/MACRO (which end "
      "with the query); lake tables are written with CREATE TABLE ... AS SELECT or INSERT "
      "OVERWRITE";
  switch (statement.type) {
    case duckdb::StatementType::SELECT_STATEMENT:
      return Status();
    // Files go to the lake (confined URLs), rows into temporary tables: no other table exists
    // in a people's engine, since nothing else can be created there.
    case duckdb::StatementType::COPY_STATEMENT:
    case duckdb::StatementType::INSERT_STATEMENT:
    case duckdb::StatementType::UPDATE_STATEMENT:
    case duckdb::StatementType::DELETE_STATEMENT:
      return Status();
    case duckdb::StatementType::EXPLAIN_STATEMENT:
      return CheckUserStatement(*statement.Cast<duckdb::ExplainStatement>().stmt, connection);
    case duckdb::StatementType::CREATE_STATEMENT: {
      const duckdb::CreateInfo& info = *statement.Cast<duckdb::CreateStatement>().info;
      bool temporary = info.temporary || info.catalog == TEMP_CATALOG;
      bool kind_allowed = info.type == duckdb::CatalogType::TABLE_ENTRY ||
                          info.type == duckdb::CatalogType::VIEW_ENTRY ||
                          info.type == duckdb::CatalogType::TYPE_ENTRY ||  // PIVOT makes one
                          info.type == duckdb::CatalogType::MACRO_ENTRY ||
                          info.type == duckdb::CatalogType::TABLE_MACRO_ENTRY;
      if (!temporary || !kind_allowed) {
        return Status::PermissionDenied(
            "CREATE " + std::string(duckdb::CatalogTypeToString(info.type)) + " is refused" +
            (kind_allowed ? " unless TEMPORARY" : "") + kRule);
      }
      if (info.type == duckdb::CatalogType::MACRO_ENTRY ||
          info.type == duckdb::CatalogType::TABLE_MACRO_ENTRY) {
        const std::string name = Lowercase(info.Cast<duckdb::CreateFunctionInfo>().name);
        auto found = connection.Query(
            "SELECT count(*) FROM duckdb_functions() WHERE lower(function_name) = " +
            duckdb::KeywordHelper::WriteQuoted(name, '\''));
        if (found->HasError())
          return Status::Internal("checking the macro name failed: " + found->GetError());
        if (found->GetValue(0, 0).GetValue<int64_t>() > 0) {
          return Status::PermissionDenied("a macro may not be named '" + name +
                                          "': DuckDB already has a function of that name");
        }
      }
      return Status();
    }
    default:
      return Status::PermissionDenied("this statement (" +
                                      Lowercase(duckdb::StatementTypeToString(statement.type)) +
                                      ") is refused" + kRule);
  }
}

class CollectingSink final : public RowSink {
 public:
  explicit CollectingSink(QueryResult& out) : out_(out) {}
  Status Begin(const std::vector<std::string>& names,
               const std::vector<std::string>& types) override {
    out_.column_names = names;
    out_.column_types = types;
    return Status();
  }
  Status Rows(std::vector<Row>&& rows) override {
    for (Row& row : rows)
      out_.rows.push_back(std::move(row));
    return Status();
  }

 private:
  QueryResult& out_;
};

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

Result<bool> IsReadOnlySql(const std::string& sql) {
  duckdb::Parser parser;
  try {
    parser.ParseQuery(sql);
  } catch (const std::exception& error) {
    return Status::InvalidArgument(duckdb::ErrorData(error).Message());
  }
  for (const auto& statement : parser.statements) {
    // EXPLAIN ANALYZE runs its statement, so an EXPLAIN is only as read-only as the plain SELECT.
    if (statement->type == duckdb::StatementType::EXPLAIN_STATEMENT) {
      auto& explain = statement->Cast<duckdb::ExplainStatement>();
      if (explain.stmt->type != duckdb::StatementType::SELECT_STATEMENT)
        return false;
      continue;
    }
    if (statement->type != duckdb::StatementType::SELECT_STATEMENT)
      return false;
  }
  return !parser.statements.empty();
}

Result<std::vector<std::string>> StatementKinds(const std::string& sql) {
  duckdb::Parser parser;
  try {
    parser.ParseQuery(sql);
  } catch (const std::exception& error) {
    return Status::InvalidArgument(duckdb::ErrorData(error).Message());
  }
  std::vector<std::string> kinds;
  for (const auto& statement : parser.statements)
    kinds.push_back(StatementKind(statement->type));
  return kinds;
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
    const void* context = connection.context.get();
    accounting->Register(context, counter);
    bindings->Register(context, &binding);
    struct Unregister {
      Impl& impl;
      const void* context;
      ~Unregister() {
        impl.accounting->Unregister(context);
        impl.bindings->Unregister(context);
      }
    } unregister{*this, context};

    // A watcher interrupts the connection when the caller cancels or the time is up.
    std::mutex watcher_mutex;
    std::condition_variable watcher_wake;
    bool finished = false;
    std::thread watcher;
    if (options.cancel != nullptr || options.max_run_time.count() > 0 || options.on_progress) {
      watcher = std::thread([&] {
        std::unique_lock<std::mutex> lock(watcher_mutex);
        auto next_progress = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
        while (!finished) {
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
          watcher_wake.wait_for(lock, std::chrono::milliseconds(10));
        }
      });
    }
    struct StopWatcher {
      std::mutex& mutex;
      std::condition_variable& wake;
      bool& finished;
      std::thread& thread;
      ~StopWatcher() {
        {
          std::lock_guard<std::mutex> lock(mutex);
          finished = true;
        }
        wake.notify_all();
        if (thread.joinable())
          thread.join();
      }
    } stop_watcher{watcher_mutex, watcher_wake, finished, watcher};

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

    duckdb::vector<duckdb::unique_ptr<duckdb::SQLStatement>> statements;
    try {
      statements = connection.ExtractStatements(std::string(sql));
    } catch (const std::exception& error) {
      return fail(duckdb::ErrorData(error));
    }
    if (statements.empty())
      return Status::InvalidArgument("no SQL statement to run");
    if (sink == nullptr && statements.size() > 1)
      return Status::InvalidArgument("only one statement can be planned");
    if (options.policy == StatementPolicy::kUser) {
      for (const auto& statement : statements)
        BASIN_RETURN_IF_ERROR(CheckUserStatement(*statement, connection));
    }
    for (size_t i = 0; i + 1 < statements.size(); ++i) {
      auto result = connection.Query(std::move(statements[i]));
      if (result->HasError())
        return fail(result->GetErrorObject());
    }
    duckdb::unique_ptr<duckdb::SQLStatement> last = std::move(statements.back());
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
                     statements.size() == 1 && !MentionsVolatileFunction(sql);
    if (!plan_only && may_cache) {
      if (std::shared_ptr<const CachedResult> hit = QuickHit(sql_key)) {
        BASIN_RETURN_IF_ERROR(sink->Begin(hit->column_names, hit->column_types));
        std::vector<Row> rows = hit->rows;
        BASIN_RETURN_IF_ERROR(sink->Rows(std::move(rows)));
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
    std::map<std::string, size_t> scan_of_path;
    for (size_t i = 0; i < scans.size(); ++i) {
      for (const ScanFile& file : scans[i].files)
        scan_of_path.emplace(file.path, i);
    }
    PlannedReads reads;
    reads.kept_paths.resize(scans.size());
    if (prepared->data && prepared->data->physical_plan) {
      CollectReads(prepared->data->physical_plan->Root(), scan_of_path, reads);
    } else {
      reads.only_known_inputs = false;
    }
    std::string inputs;
    stats.scans = ReportScans(scans, reads, &inputs);
    // Objects opened while planning count too: DuckDB reads a Parquet footer to bind and
    // may answer from it (count(*) from metadata) without scanning anything at run time.
    for (const std::string& url : counter->Opened()) {
      for (const TableScan& scan : scans) {
        for (const ScanFile& file : scan.files) {
          if (ObjectUrlOfScanPath(file.path) != url)
            continue;
          inputs += "bind:" + ObjectFingerprint(file.path, file.size, file.etag, file.modified_us);
        }
      }
    }
    for (const std::string& name : prepared->GetNames())
      stats.column_names.push_back(name);
    for (const duckdb::LogicalType& type : prepared->GetTypes())
      stats.column_types.push_back(type.ToString());
    stats.cacheable = may_cache && reads.only_known_inputs;
    auto finish = [&]() -> Result<QueryStats> {
      stats.bytes_read = counter->bytes.load();
      stats.read_requests = counter->requests.load();
      stats.objects_opened = static_cast<int64_t>(counter->OpenedCount());
      stats.elapsed = std::chrono::duration_cast<std::chrono::microseconds>(
          std::chrono::steady_clock::now() - started);
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
        BASIN_RETURN_IF_ERROR(sink->Begin(hit->column_names, hit->column_types));
        std::vector<Row> rows = hit->rows;
        BASIN_RETURN_IF_ERROR(sink->Rows(std::move(rows)));
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
    while (true) {
      duckdb::unique_ptr<duckdb::DataChunk> chunk = result->Fetch();
      if (result->HasError())
        return fail(result->GetErrorObject());
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
        if (cached->bytes > cache->max_entry_bytes()) {
          keep = false;
          cached->rows.clear();
        }
      }
      BASIN_RETURN_IF_ERROR(sink->Rows(std::move(rows)));
    }
    if (stats.statement_kind == "explain") {
      std::vector<Row> rows;
      for (const TableScanReport& report : stats.scans) {
        Row row(names.size());
        row[0] = "basin scan of " + report.table;
        if (row.size() > 1)
          row[1] = DescribeScan(report);
        rows.push_back(std::move(row));
      }
      BASIN_RETURN_IF_ERROR(sink->Rows(std::move(rows)));
    }
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
  stats.bytes_read = counter->bytes.load();
  stats.read_requests = counter->requests.load();
  stats.objects_opened = static_cast<int64_t>(counter->OpenedCount());
  stats.elapsed = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - started);
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
