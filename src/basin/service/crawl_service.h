#pragma once

// Running crawls as a service below the HTTP server: the server's run route, and the coming
// job scheduler, start crawls here; each run has an id, shows its progress while it runs, can
// be cancelled, and ends with the crawler's run report. A stopping service cancels its runs.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "basin/common/result.h"
#include "basin/crawler/crawl.h"

namespace basin::service {

/// What a crawl run is doing or did.
struct CrawlRunView {
  int64_t id = 0;
  std::string crawler;
  std::string state;  // "running", then the report's: "completed", "cancelled", "failed"
  crawler::CrawlProgress progress;
  std::optional<crawler::RunReport> report;  // when it ended with one
  Status status;                             // when it ended: why it failed
};

/// Thread-safe. The crawler must outlive the service.
class CrawlService {
 public:
  explicit CrawlService(crawler::Crawler& crawler) : crawler_(crawler) {}
  /// Cancels the runs still going and waits for them.
  ~CrawlService();
  CrawlService(const CrawlService&) = delete;
  CrawlService& operator=(const CrawlService&) = delete;

  /// Runs crawler `name` now, on the calling thread, reporting to `options.on_progress`
  /// (cancelled by `options.cancel` or Stop).
  Result<crawler::RunReport> Run(const std::string& name, crawler::CrawlOptions options = {});

  /// Starts crawler `name` on a thread of its own; returns the run's id at once. NotFound
  /// for an unknown crawler; Unavailable when the service is stopping.
  Result<int64_t> Start(const std::string& name);
  /// NotFound for an unknown id (runs are kept until the service ends).
  Result<CrawlRunView> Get(int64_t id);
  /// Waits until run `id` ends; its view.
  Result<CrawlRunView> Wait(int64_t id);
  /// Asks run `id` to stop; FailedPrecondition once it has ended.
  Status Cancel(int64_t id);
  /// Cancels every run (running ones stop between objects) and refuses new ones.
  void Stop();

 private:
  struct RunState {
    CrawlRunView view;
    std::atomic<bool> cancel{false};
    std::thread thread;
  };
  crawler::Crawler& crawler_;
  std::mutex mutex_;
  std::condition_variable ended_;
  std::map<int64_t, std::unique_ptr<RunState>> runs_;  // GUARDED_BY(mutex_)
  int64_t next_id_ = 1;                                // GUARDED_BY(mutex_)
  std::atomic<bool> stopping_{false};
};

}  // namespace basin::service
