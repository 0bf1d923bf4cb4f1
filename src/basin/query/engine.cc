#include "basin/query/engine.h"

#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "duckdb.hpp"
#include "duckdb/parser/parser.hpp"
#include "duckdb/parser/statement/select_statement.hpp"
#include "duckdb/parser/tableref/subqueryref.hpp"

#include "basin/query/lake_file_system.h"
#include "basin/query/query_history.h"
#include "basin/query/spill_file_system.h"

namespace basin::query {

namespace {

using TableResolver = std::function<Result<std::string>(const std::string&, const std::string&)>;

// Interrupts the connection when `cancel` becomes true (polled every 20 ms). Its end wakes
// the poll at once: a sleeping poll would hold every query up to 20 ms after it finished.
class CancelWatcher {
 public:
  CancelWatcher(duckdb::Connection& connection, const std::atomic<bool>* cancel) {
    if (cancel == nullptr) return;
    thread_ = std::thread([this, &connection, cancel] {
      std::unique_lock<std::mutex> lock(mutex_);
      while (!finished_) {
        if (cancel->load()) {
          connection.Interrupt();
          return;
        }
        wake_.wait_for(lock, std::chrono::milliseconds(20));
      }
    });
  }
  ~CancelWatcher() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      finished_ = true;
    }
    wake_.notify_one();
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::mutex mutex_;
  std::condition_variable wake_;
  bool finished_ = false;  // GUARDED_BY(mutex_)
  std::thread thread_;
};

struct CatalogScanData : public duckdb::ReplacementScanData {
  explicit CatalogScanData(TableResolver resolver) : resolver(std::move(resolver)) {}
  TableResolver resolver;
};

// Called by DuckDB's binder for a table name it does not know: a catalog table becomes a
// subquery over its files. Unknown names fall through to DuckDB's own "not found".
duckdb::unique_ptr<duckdb::TableRef> CatalogScan(duckdb::ClientContext&, duckdb::ReplacementScanInput& input,
                                                 duckdb::optional_ptr<duckdb::ReplacementScanData> data) {
  auto& scan = data->Cast<CatalogScanData>();
  std::string database = input.schema_name == "main" ? "" : input.schema_name;
  Result<std::string> sql = scan.resolver(database, input.table_name);
  if (!sql.ok()) {
    // A quoted file name ('lake://t/x.csv') is DuckDB's own replacement scan's business.
    bool looks_like_path = input.table_name.find_first_of("/:.") != std::string::npos;
    if (sql.status().IsNotFound() && looks_like_path) return nullptr;
    if (sql.status().IsNotFound()) {
      throw duckdb::CatalogException("Table %s%s does not exist in the catalog (%s)",
                                     database.empty() ? "" : database + ".", input.table_name, sql.status().message());
    }
    throw duckdb::BinderException("%s", sql.status().message());
  }
  duckdb::Parser parser;
  parser.ParseQuery(*sql);
  if (parser.statements.size() != 1 || parser.statements[0]->type != duckdb::StatementType::SELECT_STATEMENT) {
    throw duckdb::InternalException("catalog scan for %s is not one SELECT", input.table_name);
  }
  auto select = duckdb::unique_ptr_cast<duckdb::SQLStatement, duckdb::SelectStatement>(std::move(parser.statements[0]));
  return duckdb::make_uniq<duckdb::SubqueryRef>(std::move(select), input.table_name);
}

}  // namespace

Result<bool> IsReadOnlySql(const std::string& sql) {
  duckdb::Parser parser;
  try {
    parser.ParseQuery(sql);
  } catch (const std::exception& error) {
    return Status::InvalidArgument(duckdb::ErrorData(error).Message());
  }
  for (const auto& statement : parser.statements) {
    // EXPLAIN ANALYZE runs its statement, so an EXPLAIN is only as read-only as the plain SELECT.
    if (statement->type != duckdb::StatementType::SELECT_STATEMENT) return false;
  }
  return !parser.statements.empty();
}

struct Engine::Impl {
  std::unique_ptr<duckdb::DuckDB> database;
  std::shared_ptr<ReadAccounting> accounting = std::make_shared<ReadAccounting>();
  std::string home_directory;  // per connection in DuckDB: '~' in paths must not need $HOME
};

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

std::string Engine::LoadedSourceId() { return duckdb::DuckDB::SourceID(); }
std::string Engine::LoadedVersion() { return duckdb::DuckDB::LibraryVersion(); }

Result<std::unique_ptr<Engine>> Engine::Make(EngineOptions options) {
  std::string loaded = LoadedSourceId();
  if (loaded.rfind(kDuckDbSourceId, 0) != 0) {
    return Status::FailedPrecondition("libduckdb.so is " + LoadedVersion() + " (" + loaded + "), but basin was built for " +
                                      std::string(kDuckDbVersion) + " (" + std::string(kDuckDbSourceId) +
                                      "); reinstall basin so the library beside the binary matches");
  }
  auto impl = std::make_unique<Impl>();
  impl->home_directory = options.work_dir;
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
    if (options.threads > 0) config.SetOptionByName("threads", duckdb::Value::BIGINT(options.threads));
    if (options.memory_limit_bytes > 0) {
      config.SetOptionByName("memory_limit", duckdb::Value(std::to_string(options.memory_limit_bytes) + "B"));
    }
    if (options.table_resolver) {
      config.replacement_scans.emplace_back(CatalogScan, duckdb::make_uniq<CatalogScanData>(options.table_resolver));
    }
    if (options.sandboxed) {
      // Only the lake: DuckDB checks every file it opens against these prefixes.
      // DuckDB's own local file system is switched off: every path then goes through the
      // lake file system or fails. (enable_external_access=false with allowed_directories
      // would also refuse lake:// paths, which DuckDB treats as relative local paths.)
      config.options.lock_configuration = true;
    }
    impl->database = std::make_unique<duckdb::DuckDB>(nullptr, &config);
    if (options.stores) {
      impl->database->GetFileSystem().RegisterSubSystem(
          duckdb::make_uniq<LakeFileSystem>(options.stores, impl->accounting));
    }
    if (options.sandboxed) {
      impl->database->GetFileSystem().RegisterSubSystem(duckdb::make_uniq<SpillFileSystem>(options.work_dir + "/tmp"));
      impl->database->GetFileSystem().SetDisabledFileSystems({"LocalFileSystem"});
    }
  } catch (const std::exception& error) {
    duckdb::ErrorData data(error);
    return Status::Internal("starting the SQL engine failed: " + data.RawMessage());
  }
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

Result<QueryResult> Engine::Execute(std::string_view sql, const std::atomic<bool>* cancel) {
  auto started = std::chrono::steady_clock::now();
  auto counter = std::make_shared<ReadCounter>();
  QueryResult out;
  try {
    duckdb::Connection connection(*impl_->database);
    connection.context->config.home_directory = impl_->home_directory;
    const void* context = connection.context.get();
    impl_->accounting->Register(context, counter);
    struct Unregister {
      ReadAccounting& accounting;
      const void* context;
      ~Unregister() { accounting.Unregister(context); }
    } unregister{*impl_->accounting, context};

    duckdb::unique_ptr<duckdb::MaterializedQueryResult> result;
    {
      CancelWatcher watcher(connection, cancel);
      result = connection.Query(std::string(sql));
    }
    if (result->HasError()) {
      const duckdb::ErrorData& error = result->GetErrorObject();
      switch (error.Type()) {
        case duckdb::ExceptionType::PARSER:
        case duckdb::ExceptionType::BINDER:
        case duckdb::ExceptionType::CATALOG:
        case duckdb::ExceptionType::CONVERSION:
        case duckdb::ExceptionType::INVALID_INPUT:
        case duckdb::ExceptionType::CONSTRAINT:
        case duckdb::ExceptionType::SYNTAX:
          return Status::InvalidArgument(error.Message());
        case duckdb::ExceptionType::PERMISSION:
          return Status::PermissionDenied(error.Message());
        case duckdb::ExceptionType::INTERRUPT:
          return Status::Cancelled(error.Message());
        case duckdb::ExceptionType::OUT_OF_MEMORY:
          return Status::ResourceExhausted(error.Message());
        case duckdb::ExceptionType::IO:
          return Status::IOError(error.Message());
        default:
          return Status::Internal(error.Message());
      }
    }
    for (duckdb::idx_t i = 0; i < result->ColumnCount(); ++i) {
      out.column_names.push_back(result->ColumnName(i));
      out.column_types.push_back(result->types[i].ToString());
    }
    for (duckdb::idx_t row = 0; row < result->RowCount(); ++row) {
      std::vector<std::optional<std::string>> values;
      values.reserve(result->ColumnCount());
      for (duckdb::idx_t column = 0; column < result->ColumnCount(); ++column) {
        duckdb::Value value = result->GetValue(column, row);
        values.push_back(value.IsNull() ? std::nullopt : std::optional<std::string>(value.ToString()));
      }
      out.rows.push_back(std::move(values));
    }
  } catch (const std::exception& error) {
    duckdb::ErrorData data(error);
    return Status::Internal("query failed: " + data.RawMessage());
  }
  out.bytes_read = counter->bytes.load();
  out.read_requests = counter->requests.load();
  out.elapsed = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started);
  return out;
}

}  // namespace basin::query
