#include "basin/query/engine.h"

#include <filesystem>

#include "duckdb.hpp"

#include "basin/query/lake_file_system.h"

namespace basin::query {

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
    impl->database = std::make_unique<duckdb::DuckDB>(nullptr, &config);
    if (options.stores) {
      impl->database->GetFileSystem().RegisterSubSystem(
          duckdb::make_uniq<LakeFileSystem>(options.stores, impl->accounting));
    }
  } catch (const std::exception& error) {
    duckdb::ErrorData data(error);
    return Status::Internal("starting the SQL engine failed: " + data.RawMessage());
  }
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

Result<QueryResult> Engine::Execute(std::string_view sql) {
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

    duckdb::unique_ptr<duckdb::MaterializedQueryResult> result = connection.Query(std::string(sql));
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
