#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "basin/app/config.h"
#include "basin/auth/auth_store.h"
#include "basin/catalog/catalog.h"
#include "basin/crawler/crawl.h"
#include "basin/metadata/database.h"
#include "basin/query/engine.h"
#include "basin/query/result_cache.h"
#include "basin/source/source_store.h"
#include "basin/storage/store_resolver.h"
#include "basin/workgroup/admission_queue.h"
#include "basin/workgroup/workgroup_store.h"
#include "basin/writer/table_writer.h"

namespace basin::app {

/// Finds the basin home: `flag` (--home), else BASIN_HOME, else the nearest folder at or
/// above the working directory that holds basin.yaml. NotFound with a hint otherwise.
Result<std::string> LocateHome(const std::optional<std::string>& flag,
                               const std::map<std::string, std::string>& environment);

struct InitOptions {
  std::string lake = "lake";             // folder relative to the home, or s3://bucket/prefix
  std::string metadata = "metadata.db";  // SQLite file relative to the home, or postgresql:// URL
  storage::S3Options s3;                 // endpoint, region, credentials for an S3 lake
  std::string admin_name = "admin";
};

struct InitOutcome {
  std::string home;
  std::string lake_url;
  std::string admin_name;
  std::string admin_password;  // shown once, never stored in plain text
};

/// Creates a basin home in `dir`: basin.yaml, the lake (a folder, or a check that the S3
/// location is reachable), the metadata database, the master key and an admin user with
/// a random password. AlreadyExists when `dir` already holds a basin home.
Result<InitOutcome> InitHome(const std::string& dir, const InitOptions& options);

/// An open basin home: its config and the services built from it, each opened on first
/// use, with what it needs and nothing more: Metadata, Auth, Workgroups and Catalog open
/// only the metadata database; Stores the lake; the engines, Crawler and Writer start
/// DuckDB. Commands that only read or change metadata use the former, so they never
/// start the query engine. Thread-safe.
class Home {
 public:
  explicit Home(Config config) : config_(std::move(config)) {}

  const Config& config() const { return config_; }

  Result<metadata::Database*> Metadata();
  Result<auth::AuthStore*> Auth();
  /// The sources snapshots read; their passwords sealed under the home's master key.
  Result<source::SourceStore*> Sources();
  /// A key for one purpose ("query-results"), derived from the home's master key.
  Result<std::string> DerivedSecret(std::string_view purpose);
  /// lake:// and s3:// URLs; the lake is opened on first use.
  Result<std::shared_ptr<storage::StoreResolver>> Stores();
  /// The engine people's SQL runs on (CLI queries, the primary workgroup).
  Result<query::Engine*> Engine();
  /// The engine basin's own work runs on: crawls, table writes, stream delivery. A separate
  /// DuckDB instance, so nothing a user's SQL does can change what basin reads or writes
  /// (docs/query.md, "What a query may create"). Same memory limit as Engine().
  Result<query::Engine*> InternalEngine();
  /// The engine a workgroup's queries run on: the home's engine, or (for a workgroup with a
  /// memory limit) an engine of its own whose memory is capped at that limit, so one
  /// workgroup's queries cannot take another's memory. Engines share the result cache.
  Result<query::Engine*> EngineFor(const workgroup::Workgroup& workgroup);
  /// The catalog (databases, tables, partitions, schema history) over the metadata
  /// database alone.
  Result<catalog::Catalog*> Catalog();
  /// Runs crawlers against the lake; its catalog() is the home's catalog. Opens the lake
  /// and starts the internal engine (DuckDB infers the files' schemas).
  Result<crawler::Crawler*> Crawler();
  /// Workgroups and the workgroup of each user.
  Result<workgroup::WorkgroupStore*> Workgroups();
  /// Admission control for this process's queries: per-workgroup concurrency and queue.
  workgroup::AdmissionQueue& Admission() { return admission_; }

  /// Runs CREATE TABLE ... AS and INSERT OVERWRITE into the lake through the engine.
  Result<writer::TableWriter*> Writer();

 private:
  // The master key, read from its file on first use. REQUIRES: mutex_ held.
  Result<std::string> MasterKeyLocked();
  /// Spill files go below `work_dir`: one folder per engine. REQUIRES: mutex_ held.
  /// `for_people`: an engine for people's SQL (URLs confined, EngineOptions::confine_urls).
  Result<std::unique_ptr<query::Engine>> MakeEngine(const std::string& work_dir,
                                                    uint64_t memory_limit_bytes,
                                                    bool for_people = true);

  Config config_;
  std::mutex mutex_;
  std::unique_ptr<metadata::Database> metadata_;
  std::unique_ptr<auth::AuthStore> auth_;
  std::unique_ptr<source::SourceStore> sources_;
  std::optional<std::string> master_key_;  // read once (Auth, Sources, DerivedSecret)
  std::shared_ptr<storage::StoreResolver> stores_;
  std::unique_ptr<query::Engine> engine_;
  std::unique_ptr<query::Engine> internal_engine_;
  std::map<std::pair<std::string, int64_t>, std::unique_ptr<query::Engine>> workgroup_engines_;
  std::shared_ptr<query::ResultCache> result_cache_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<crawler::Crawler> crawler_;
  std::unique_ptr<workgroup::WorkgroupStore> workgroups_;
  workgroup::AdmissionQueue admission_;

  std::unique_ptr<catalog::Catalog> writer_catalog_;
  std::unique_ptr<writer::TableWriter> writer_;
};

/// Opens the store for the lake URL of a config ("/abs/lake" or "s3://bucket/prefix").
Result<std::unique_ptr<storage::ObjectStore>> OpenLake(const std::string& lake_url,
                                                       const storage::S3Options& s3);

}  // namespace basin::app
