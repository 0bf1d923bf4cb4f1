#include "basin/app/home.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "basin/auth/master_key.h"
#include "basin/common/crypto.h"
#include "basin/query/table_scan.h"
#include "basin/storage/local_object_store.h"
#include "basin/storage/location.h"

namespace basin::app {
namespace {

namespace fs = std::filesystem;

std::string MasterKeyPath(const Config& config) {
  return config.home + "/secrets/master.key";
}

}  // namespace

Result<std::string> LocateHome(const std::optional<std::string>& flag,
                               const std::map<std::string, std::string>& environment) {
  if (flag && !flag->empty())
    return fs::absolute(*flag).lexically_normal().string();
  auto env = environment.find("BASIN_HOME");
  if (env != environment.end() && !env->second.empty())
    return fs::absolute(env->second).lexically_normal().string();
  std::error_code error;
  for (fs::path dir = fs::current_path(error); !error && !dir.empty(); dir = dir.parent_path()) {
    if (fs::exists(dir / kConfigFileName))
      return dir.string();
    if (dir == dir.parent_path())
      break;
  }
  return Status::NotFound(
      "no basin home here: pass --home DIR, set BASIN_HOME, or create one with 'basin init DIR'");
}

Result<std::unique_ptr<storage::ObjectStore>> OpenLake(const std::string& lake_url,
                                                       const storage::S3Options& s3) {
  if (lake_url.rfind("s3://", 0) == 0) {
    BASIN_ASSIGN_OR_RETURN(storage::Location location, storage::ParseLocation(lake_url));
    storage::S3Options options = s3;
    options.bucket = location.root;
    options.prefix = location.key;
    BASIN_ASSIGN_OR_RETURN(auto store, storage::S3ObjectStore::Make(std::move(options)));
    return std::unique_ptr<storage::ObjectStore>(std::move(store));
  }
  BASIN_ASSIGN_OR_RETURN(auto store, storage::LocalObjectStore::Make(lake_url));
  return std::unique_ptr<storage::ObjectStore>(std::move(store));
}

Result<InitOutcome> InitHome(const std::string& dir, const InitOptions& options) {
  std::string home = fs::absolute(dir).lexically_normal().string();
  while (home.size() > 1 && home.back() == '/')
    home.pop_back();
  if (fs::exists(home + "/" + kConfigFileName)) {
    return Status::AlreadyExists("a basin home already exists at " + home);
  }
  std::error_code error;
  fs::create_directories(home + "/secrets", error);
  if (error)
    return Status::IOError("cannot create basin home " + home + " (" + error.message() + ")");
  ::chmod((home + "/secrets").c_str(), 0700);

  Config config;
  config.home = home;
  config.lake = options.lake;
  config.metadata = options.metadata;
  config.s3 = options.s3;
  // The lake must work before anything points at it: create the folder or list the bucket.
  BASIN_ASSIGN_OR_RETURN(auto lake, OpenLake(config.LakeUrl(), config.s3));
  BASIN_RETURN_IF_ERROR(
      lake->List("", {.recursive = false}).status().WithContext("checking the lake"));

  Home opened(config);
  BASIN_ASSIGN_OR_RETURN(auth::AuthStore * auth, opened.Auth());
  std::string password = RandomAlphanumeric(20);
  // A shared PostgreSQL metadata database may already have its admin (another node's
  // home): then this home joins it and no new admin is made.
  Result<auth::User> existing_admin = auth->GetUser(options.admin_name);
  if (existing_admin.ok()) {
    password.clear();
  } else {
    BASIN_RETURN_IF_ERROR(
        auth->CreateUser(options.admin_name, password, auth::Role::kAdmin).status());
  }

  // Written last and atomically: a home without basin.yaml is not a home, so a failed
  // init can simply be run again.
  std::string config_path = home + "/" + kConfigFileName;
  std::string temp_path = config_path + ".tmp";
  {
    std::ofstream out(temp_path, std::ios::trunc);
    out << DefaultConfigText(options.lake, options.metadata, options.s3);
    if (!out.good())
      return Status::IOError("cannot write " + temp_path);
  }
  fs::rename(temp_path, config_path, error);
  if (error)
    return Status::IOError("cannot write " + config_path + " (" + error.message() + ")");
  return InitOutcome{home, config.LakeUrl(), options.admin_name, password};
}

Result<metadata::Database*> Home::Metadata() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!metadata_) {
    BASIN_ASSIGN_OR_RETURN(metadata_, metadata::Database::Open(config_.MetadataPath()));
  }
  return metadata_.get();
}

Result<auth::AuthStore*> Home::Auth() {
  BASIN_ASSIGN_OR_RETURN(metadata::Database * database, Metadata());
  std::lock_guard<std::mutex> lock(mutex_);
  if (!auth_) {
    BASIN_ASSIGN_OR_RETURN(std::string master_key, MasterKeyLocked());
    auth::AuthOptions options;
    options.max_concurrent_password_hashes = config_.password_hashes_at_once;
    BASIN_ASSIGN_OR_RETURN(
        auth_, auth::AuthStore::Make(*database, std::move(master_key), std::move(options)));
  }
  return auth_.get();
}

Result<source::SourceStore*> Home::Sources() {
  BASIN_ASSIGN_OR_RETURN(metadata::Database * database, Metadata());
  std::lock_guard<std::mutex> lock(mutex_);
  if (!sources_) {
    BASIN_ASSIGN_OR_RETURN(std::string master_key, MasterKeyLocked());
    sources_ = std::make_unique<source::SourceStore>(*database, std::move(master_key));
  }
  return sources_.get();
}

Result<std::string> Home::MasterKeyLocked() {
  if (!master_key_) {
    BASIN_ASSIGN_OR_RETURN(std::string key, auth::LoadOrCreateMasterKey(MasterKeyPath(config_)));
    master_key_ = std::move(key);
  }
  return *master_key_;
}

Result<std::string> Home::DerivedSecret(std::string_view purpose) {
  std::string master_key;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    BASIN_ASSIGN_OR_RETURN(master_key, MasterKeyLocked());
  }
  return HmacSha256(master_key, purpose);
}

Result<std::shared_ptr<storage::StoreResolver>> Home::Stores() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!stores_) {
    BASIN_ASSIGN_OR_RETURN(auto lake, OpenLake(config_.LakeUrl(), config_.s3));
    stores_ = std::make_shared<storage::StoreResolver>(
        std::shared_ptr<storage::ObjectStore>(std::move(lake)), config_.s3);
  }
  return stores_;
}

Result<std::unique_ptr<query::Engine>> Home::MakeEngine(const std::string& work_dir,
                                                        uint64_t memory_limit_bytes,
                                                        bool for_people) {
  metadata::Database* database = metadata_.get();
  std::shared_ptr<storage::StoreResolver> stores = stores_;
  // Catalog tables are resolved when a query names them, so they are always current.
  auto catalog = std::make_shared<catalog::Catalog>(*database);
  // A table's definition and partitions are kept per catalog version: the version is one
  // small query, reading and parsing every partition is not (365 partitions: milliseconds
  // on every query).
  struct KnownTable {
    std::string version;
    catalog::Table table;
    std::vector<catalog::Partition> partitions;
  };
  struct KnownTables {
    std::mutex mutex;
    std::map<std::string, std::shared_ptr<const KnownTable>> by_name;  // "db\x1ftable"
  };
  auto known = std::make_shared<KnownTables>();
  auto resolver = [catalog, stores, database, known](
                      const std::string& name, const std::string& table,
                      const std::string& default_database) -> Result<query::TableScan> {
    std::string db = name.empty() ? default_database : name;
    // The version is read first: a change after it makes what is kept older than its
    // version says, so the next query reloads; never the other way round.
    BASIN_ASSIGN_OR_RETURN(std::string version, catalog->TableVersion(db, table));
    std::string key = db + '\x1f' + table;
    std::shared_ptr<const KnownTable> entry;
    {
      std::lock_guard<std::mutex> lock(known->mutex);
      auto found = known->by_name.find(key);
      if (found != known->by_name.end() && found->second->version == version)
        entry = found->second;
    }
    if (!entry) {
      auto loaded = std::make_shared<KnownTable>();
      loaded->version = version;
      BASIN_ASSIGN_OR_RETURN(loaded->table, catalog->GetTable(db, table));
      if (!loaded->table.partition_keys.empty()) {
        BASIN_ASSIGN_OR_RETURN(
            loaded->partitions,
            catalog->ListPartitions(loaded->table.id, {.limit = int64_t{1} << 40}));
      }
      std::lock_guard<std::mutex> lock(known->mutex);
      if (known->by_name.size() > 10000)
        known->by_name.clear();
      known->by_name[key] = loaded;
      entry = loaded;
    }
    // Files a crawler rejected stay out of queries (their tables were built without them).
    BASIN_ASSIGN_OR_RETURN(std::set<std::string> rejected,
                           crawler::CrawlerStore(*database).RejectedObjects(entry->table.location));
    BASIN_ASSIGN_OR_RETURN(
        query::TableScan scan,
        query::PlanTableScan(entry->table, entry->partitions, *stores, rejected));
    scan.catalog_version = std::move(version);
    return scan;
  };
  auto table_version = [catalog](const std::string& database, const std::string& table) {
    return catalog->TableVersion(database, table);
  };
  if (!result_cache_ && config_.result_cache_bytes > 0) {
    result_cache_ = std::make_shared<query::ResultCache>(config_.result_cache_bytes,
                                                         config_.result_cache_entry_bytes);
  }
  return query::Engine::Make({.work_dir = work_dir,
                              .stores = stores,
                              .table_resolver = resolver,
                              .table_version = table_version,
                              .default_database = config_.default_database,
                              .sandboxed = true,
                              .confine_urls = for_people,
                              .allowed_urls = config_.sql_allowed_urls,
                              .threads = config_.engine_threads,
                              .memory_limit_bytes = memory_limit_bytes,
                              .cache = result_cache_});
}

Result<query::Engine*> Home::Engine() {
  // MakeEngine uses both; opening them takes the lock, so before it.
  BASIN_RETURN_IF_ERROR(Stores().status());
  BASIN_RETURN_IF_ERROR(Metadata().status());
  std::lock_guard<std::mutex> lock(mutex_);
  if (!engine_) {
    BASIN_ASSIGN_OR_RETURN(engine_,
                           MakeEngine(config_.home + "/engine", config_.engine_memory_limit_bytes));
  }
  return engine_.get();
}

Result<query::Engine*> Home::InternalEngine() {
  BASIN_RETURN_IF_ERROR(Stores().status());
  BASIN_RETURN_IF_ERROR(Metadata().status());
  std::lock_guard<std::mutex> lock(mutex_);
  if (!internal_engine_) {
    BASIN_ASSIGN_OR_RETURN(internal_engine_, MakeEngine(config_.home + "/engine/internal",
                                                        config_.engine_memory_limit_bytes,
                                                        /*for_people=*/false));
  }
  return internal_engine_.get();
}

Result<query::Engine*> Home::EngineFor(const workgroup::Workgroup& workgroup) {
  if (workgroup.memory_limit_bytes <= 0)
    return Engine();
  BASIN_RETURN_IF_ERROR(Engine().status());
  std::lock_guard<std::mutex> lock(mutex_);
  auto& engine = workgroup_engines_[{workgroup.name, workgroup.memory_limit_bytes}];
  if (!engine) {
    std::string work_dir = config_.home + "/engine/workgroup-" + std::to_string(workgroup.id) +
                           "-" + std::to_string(workgroup.memory_limit_bytes);
    BASIN_ASSIGN_OR_RETURN(
        engine, MakeEngine(work_dir, static_cast<uint64_t>(workgroup.memory_limit_bytes)));
  }
  return engine.get();
}

Result<catalog::Catalog*> Home::Catalog() {
  BASIN_ASSIGN_OR_RETURN(metadata::Database * database, Metadata());
  std::lock_guard<std::mutex> lock(mutex_);
  if (!catalog_)
    catalog_ = std::make_unique<catalog::Catalog>(*database);
  return catalog_.get();
}

Result<crawler::Crawler*> Home::Crawler() {
  BASIN_ASSIGN_OR_RETURN(metadata::Database * database, Metadata());
  BASIN_ASSIGN_OR_RETURN(auto stores, Stores());
  BASIN_ASSIGN_OR_RETURN(query::Engine * engine, InternalEngine());
  std::lock_guard<std::mutex> lock(mutex_);
  if (!crawler_)
    crawler_ = std::make_unique<crawler::Crawler>(*database, *stores, *engine);
  return crawler_.get();
}

Result<workgroup::WorkgroupStore*> Home::Workgroups() {
  BASIN_ASSIGN_OR_RETURN(metadata::Database * database, Metadata());
  std::lock_guard<std::mutex> lock(mutex_);
  if (!workgroups_)
    workgroups_ = std::make_unique<workgroup::WorkgroupStore>(*database);
  return workgroups_.get();
}

Result<writer::TableWriter*> Home::Writer() {
  BASIN_ASSIGN_OR_RETURN(metadata::Database * database, Metadata());
  BASIN_ASSIGN_OR_RETURN(auto stores, Stores());
  BASIN_ASSIGN_OR_RETURN(query::Engine * engine, InternalEngine());
  std::lock_guard<std::mutex> lock(mutex_);
  if (!writer_) {
    writer_catalog_ = std::make_unique<catalog::Catalog>(*database);
    writer_ = std::make_unique<writer::TableWriter>(*writer_catalog_, *stores, *engine);
  }
  return writer_.get();
}

}  // namespace basin::app
