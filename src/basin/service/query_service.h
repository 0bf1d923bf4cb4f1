#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "basin/auth/role.h"
#include "basin/common/result.h"
#include "basin/query/engine.h"
#include "basin/query/query_history.h"
#include "basin/workgroup/admission_queue.h"
#include "basin/workgroup/workgroup_store.h"

namespace basin::service {

/// Who runs a query.
struct QueryCaller {
  std::string user;
  auth::Role role = auth::Role::kViewer;
  std::string workgroup;  // "" → primary
};

struct QueryRequest {
  std::string sql;
  std::string database;  // default database for unqualified names ("" → the configured one)
  bool use_cache = true;
  QueryCaller caller;
  /// DuckDB's estimate of how far the query is, in percent (see ExecuteOptions).
  std::function<void(double percent)> on_progress;
};

/// A statement basin runs itself instead of handing it to DuckDB (CTAS, INSERT OVERWRITE):
/// nullopt when `sql` is not one; otherwise its one-row summary.
using WriteStatementRunner = std::function<Result<std::optional<query::QueryResult>>(
    const std::string& sql, const std::string& database, const std::string& user,
    const std::atomic<bool>* cancel)>;

/// Runs queries for the API: the viewer read-only rule, the caller's workgroup (its
/// engine, limits and admission queue), basin's own write statements, and the history
/// record of every query — synchronous ones streamed to the caller, asynchronous ones
/// run on their own thread with results kept in the lake
/// (`<results_prefix><id>.parquet`), pageable and downloadable. Thread-safe.
class QueryService {
 public:
  struct Options {
    /// The engine a workgroup's queries run on (its memory limit is the engine's).
    std::function<Result<query::Engine*>(const workgroup::Workgroup&)> engine_for;
    query::QueryHistory* history = nullptr;
    workgroup::WorkgroupStore* workgroups = nullptr;  // may be null: no limits, no queue
    workgroup::AdmissionQueue* admission = nullptr;   // may be null
    WriteStatementRunner write_statements;            // may be empty
    /// True for the statements write_statements runs (even malformed ones), so a viewer's
    /// attempt is refused as such rather than reported as a syntax error.
    std::function<bool(const std::string&)> is_write_statement;
    std::string results_prefix = "lake://_basin/query-results/";
    /// Makes result object names unguessable: `<id>-<HMAC(id)>.parquet`.
    std::string results_secret;
    /// The run-time limit of queries in a workgroup that sets none (0: none).
    std::chrono::milliseconds default_run_time_limit{0};
    /// Materialized results of asynchronous non-SELECT statements are capped at this.
    size_t max_memory_rows = 100000;
    /// Finished asynchronous queries kept in memory; older ones are answered from the
    /// history (and their Parquet results), without in-memory results.
    size_t max_finished_jobs = 1000;
  };

  explicit QueryService(Options options);
  /// Cancels asynchronous queries still running and waits for them.
  ~QueryService();

  /// Runs `request` now, streaming the result into `sink`. The record (with its id) is
  /// returned whether the query succeeded or not; the query's own failure is in
  /// `record.status`/`record.error` and in `outcome`. While it runs it is in the history as
  /// "running" and Cancel (by its user or an admin) sets `*cancel`.
  struct Outcome {
    query::QueryRecord record;
    query::QueryStats stats;
    Status status;
  };
  Outcome Run(const QueryRequest& request, query::RowSink& sink, std::atomic<bool>* cancel);

  /// Plans a read query (which partitions it would read) without running it.
  Result<query::QueryStats> Explain(const QueryRequest& request);

  /// Starts `request` in the background; returns its query id at once.
  Result<int64_t> Submit(const QueryRequest& request);

  /// The state of a query the caller may see (their own; admins: any).
  struct JobView {
    query::QueryRecord record;
    std::vector<std::string> column_names;  // known once finished
    std::vector<std::string> column_types;
    std::string result_url;  // the Parquet result in the lake, when there is one
    std::vector<query::TableScanReport> scans;
  };
  Result<JobView> Get(int64_t id, const QueryCaller& caller);

  /// Asks a queued or running query to stop. FailedPrecondition when it has ended.
  Status Cancel(int64_t id, const QueryCaller& caller);

  /// Streams the result of a finished query into `sink`, rows [offset, offset + limit)
  /// (limit < 0: all). Materialized results come from memory, others from the lake.
  Status ReadResult(int64_t id, const QueryCaller& caller, int64_t offset, int64_t limit,
                    query::RowSink& sink, const std::atomic<bool>* cancel);

  /// The engine a caller's workgroup uses (for reading results back).
  Result<query::Engine*> DefaultEngine();

 private:
  struct Job;
  Result<workgroup::Workgroup> WorkgroupOf(const QueryCaller& caller);
  bool IsWriteStatement(const std::string& sql) const;
  /// PermissionDenied when the caller's role may not run the statement.
  Status CheckRole(const QueryRequest& request, bool write_statement) const;
  /// `on_admitted` is called once the workgroup's queue lets the query run.
  Outcome Execute(const QueryRequest& request, const std::string& sql_to_run, query::RowSink& sink,
                  const std::atomic<bool>* cancel, query::QueryRecord record,
                  const std::function<void()>& on_admitted = {},
                  query::StatementPolicy policy = query::StatementPolicy::kUser,
                  const std::string& own_url = "");
  void RunJob(std::shared_ptr<Job> job, QueryRequest request);
  Result<std::shared_ptr<Job>> FindJob(int64_t id, const QueryCaller& caller);
  /// Where query `id`'s Parquet result goes: a name nobody can derive from the id alone.
  std::string ResultUrl(int64_t id) const;

  Options options_;
  std::mutex mutex_;
  std::map<int64_t, std::shared_ptr<Job>> jobs_;  // GUARDED_BY(mutex_)
  int running_jobs_ = 0;                          // GUARDED_BY(mutex_)
  std::condition_variable jobs_done_;
  std::atomic<bool> stopping_{false};
};

}  // namespace basin::service
