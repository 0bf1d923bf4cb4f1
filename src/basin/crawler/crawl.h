#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <utility>

#include "basin/catalog/catalog.h"
#include "basin/crawler/crawler_definition.h"
#include "basin/crawler/run_report.h"
#include "basin/query/engine.h"
#include "basin/storage/store_resolver.h"

namespace basin::crawler {

struct CrawlProgress {
  int64_t listed = 0;
  int64_t to_read = 0;
  int64_t read = 0;
};

struct CrawlOptions {
  /// Called from the crawling thread now and then; must be cheap.
  std::function<void(const CrawlProgress&)> on_progress;
  /// Checked between objects; when either is set, the crawl stops and changes nothing
  /// (`cancel` is the caller's, `stop` the service's that runs it).
  const std::atomic<bool>* cancel = nullptr;
  const std::atomic<bool>* stop = nullptr;
  bool Cancelled() const { return (cancel && cancel->load()) || (stop && stop->load()); }
  /// Objects read (probed and sniffed) at once.
  int threads = 2;
};

/// Runs crawlers: lists their targets, reads new and changed objects, groups files into
/// tables with partitions, and applies the result to the catalog in one transaction
/// (with the crawler's object states, so a crash leaves the previous consistent state).
/// A bad file is reported and skipped; it never fails the crawl. Thread-compatible:
/// crawls of different crawlers may run at once (the catalog merges their changes).
class Crawler {
 public:
  Crawler(metadata::Database& database, storage::StoreResolver& stores, query::Engine& engine)
      : database_(database),
        catalog_(database),
        store_(database),
        stores_(stores),
        engine_(engine) {}

  /// Runs crawler `name`. The report says what happened even when the status is not OK:
  /// Status errors are reserved for failures to start (unknown crawler, unreachable target,
  /// metadata database errors).
  Result<RunReport> Run(const std::string& name, const CrawlOptions& options = {});

  CrawlerStore& store() { return store_; }
  catalog::Catalog& catalog() { return catalog_; }

 private:
  // Marks a crawler as running for as long as it lives.
  class RunningGuard {
   public:
    static Result<RunningGuard> Acquire(Crawler& crawler, const std::string& name);
    RunningGuard(RunningGuard&& other) noexcept
        : crawler_(std::exchange(other.crawler_, nullptr)), name_(other.name_) {}
    RunningGuard& operator=(RunningGuard&&) = delete;
    ~RunningGuard();

   private:
    RunningGuard(Crawler* crawler, std::string name) : crawler_(crawler), name_(std::move(name)) {}
    Crawler* crawler_;
    std::string name_;
  };

  metadata::Database& database_;
  catalog::Catalog catalog_;
  CrawlerStore store_;
  storage::StoreResolver& stores_;
  query::Engine& engine_;
  std::mutex running_mutex_;
  std::set<std::string> running_;  // GUARDED_BY(running_mutex_)
};

/// Why an object is not crawled ("_SUCCESS marker", "hidden", "empty", "excluded"), or ""
/// when it is. `relative_key` is the key below the crawler's target.
std::string IgnoreReason(const std::string& relative_key, uint64_t size,
                         const std::vector<std::string>& exclude_globs);

}  // namespace basin::crawler
