#include "basin/service/query_service.h"

#include "basin/catalog/schema.h"
#include "basin/common/crypto.h"
#include "basin/common/log.h"
#include "basin/query/lake_sql.h"
#include "basin/query/table_scan.h"

namespace basin::service {
namespace {

std::string StatusName(const Status& status) {
  if (status.ok())
    return "succeeded";
  switch (status.code()) {
    case StatusCode::kCancelled:
      return "cancelled";
    case StatusCode::kPermissionDenied:
      return "refused";
    default:
      return "failed";
  }
}

void Finish(query::QueryRecord& record, const Status& status, const query::QueryStats& stats,
            int64_t rows) {
  record.ended_at = std::chrono::system_clock::now();
  record.duration =
      std::chrono::duration_cast<std::chrono::milliseconds>(record.ended_at - record.started_at);
  record.status = StatusName(status);
  record.error = status.ok() ? "" : status.message();
  record.rows_returned = rows;
  record.bytes_read = static_cast<int64_t>(stats.bytes_read);
  record.partitions_scanned = stats.PartitionsScanned();
  record.partitions_total = stats.PartitionsTotal();
  record.objects_scanned = stats.objects_opened;
  record.cache_hit = stats.cache_hit;
  if (!stats.statement_kind.empty())
    record.statement_kind = stats.statement_kind;
}

// Counts rows on their way to the caller's sink.
class CountingSink final : public query::RowSink {
 public:
  explicit CountingSink(query::RowSink& inner) : inner_(inner) {}
  Status Begin(const std::vector<std::string>& names,
               const std::vector<std::string>& types) override {
    return inner_.Begin(names, types);
  }
  Status Rows(std::vector<query::Row>&& rows) override {
    count += static_cast<int64_t>(rows.size());
    return inner_.Rows(std::move(rows));
  }
  int64_t count = 0;

 private:
  query::RowSink& inner_;
};

// Offsets and limits over a sink (reading a slice of a materialized result).
Status ReplaySlice(const std::vector<std::string>& names, const std::vector<std::string>& types,
                   const std::vector<query::Row>& rows, int64_t offset, int64_t limit,
                   query::RowSink& sink) {
  BASIN_RETURN_IF_ERROR(sink.Begin(names, types));
  std::vector<query::Row> slice;
  for (int64_t i = std::max<int64_t>(offset, 0);
       i < static_cast<int64_t>(rows.size()) && (limit < 0 || i < offset + limit); ++i) {
    slice.push_back(rows[i]);
  }
  return sink.Rows(std::move(slice));
}

// `sql` without trailing semicolons and whitespace, so it can be wrapped in COPY (...).
std::string TrimStatement(std::string sql) {
  while (!sql.empty() &&
         (std::isspace(static_cast<unsigned char>(sql.back())) || sql.back() == ';'))
    sql.pop_back();
  return sql;
}

}  // namespace

struct QueryService::Job {
  std::mutex mutex;
  query::QueryRecord record;  // GUARDED_BY(mutex)
  std::atomic<bool> cancel{false};
  /// What Cancel sets: `cancel`, or for a synchronous query its caller's flag.
  std::atomic<bool>* cancel_flag = &cancel;
  std::string result_url;  // set when the result went to the lake
  std::vector<std::string> column_names, column_types;
  std::vector<query::Row> rows;  // materialized results
  std::vector<query::TableScanReport> scans;
  std::atomic<bool> finished{false};
};

QueryService::QueryService(Options options) : options_(std::move(options)) {}

QueryService::~QueryService() {
  stopping_ = true;
  std::unique_lock<std::mutex> lock(mutex_);
  for (auto& [id, job] : jobs_)
    *job->cancel_flag = true;
  jobs_done_.wait(lock, [&] { return running_jobs_ == 0; });
}

Result<workgroup::Workgroup> QueryService::WorkgroupOf(const QueryCaller& caller) {
  if (options_.workgroups == nullptr) {
    workgroup::Workgroup unlimited;
    unlimited.name = "primary";
    return unlimited;
  }
  return options_.workgroups->Get(caller.workgroup.empty() ? "primary" : caller.workgroup);
}

Result<query::Engine*> QueryService::DefaultEngine() {
  workgroup::Workgroup primary;
  primary.name = "primary";
  return options_.engine_for(primary);
}

QueryService::Outcome QueryService::Execute(const QueryRequest& request,
                                            const std::string& sql_to_run, query::RowSink& sink,
                                            const std::atomic<bool>* cancel,
                                            query::QueryRecord record,
                                            const std::function<void()>& on_admitted,
                                            query::StatementPolicy policy,
                                            const std::string& own_url) {
  Outcome out;
  out.record = std::move(record);
  query::QueryRecord& rec = out.record;
  CountingSink counting(sink);
  auto done = [&](Status status) {
    out.status = status;
    Finish(rec, status, out.stats, counting.count);
    return out;
  };
  bool write_statement = IsWriteStatement(request.sql);
  if (write_statement) {
    rec.statement_kind = "write";
  } else {
    Result<std::vector<std::string>> kinds = query::StatementKinds(request.sql);
    if (!kinds.ok())
      return done(kinds.status());
    if (kinds->empty())
      return done(Status::InvalidArgument("no SQL statement to run"));
    rec.statement_kind = kinds->back();
  }
  if (Status allowed = CheckRole(request, write_statement); !allowed.ok())
    return done(allowed);
  Result<workgroup::Workgroup> group = WorkgroupOf(request.caller);
  if (!group.ok())
    return done(group.status());
  rec.workgroup = group->name;
  std::optional<workgroup::AdmissionQueue::Ticket> ticket;
  if (options_.admission != nullptr) {
    Result<workgroup::AdmissionQueue::Ticket> admitted = options_.admission->Admit(*group, cancel);
    if (!admitted.ok())
      return done(admitted.status());
    ticket.emplace(std::move(admitted).value());
  }
  if (on_admitted)
    on_admitted();
  if (write_statement && options_.write_statements) {
    Result<std::optional<query::QueryResult>> written =
        options_.write_statements(request.sql, request.database, request.caller.user, cancel);
    if (!written.ok())
      return done(written.status());
    if (written->has_value()) {
      out.stats.statement_kind = "write";
      Status begun = counting.Begin((*written)->column_names, (*written)->column_types);
      if (begun.ok())
        begun = counting.Rows(std::move((*written)->rows));
      return done(begun);
    }
  }
  Result<query::Engine*> engine = options_.engine_for(*group);
  if (!engine.ok())
    return done(engine.status());
  query::ExecuteOptions execute{
      .policy = policy,
      .cancel = cancel,
      .max_bytes_scanned = static_cast<uint64_t>(std::max<int64_t>(group->bytes_scanned_limit, 0)),
      .max_run_time = group->run_time_limit.count() > 0 ? group->run_time_limit
                                                        : options_.default_run_time_limit,
      .default_database = request.database,
      .use_cache = request.use_cache,
      .own_urls = own_url.empty() ? std::vector<std::string>{} : std::vector<std::string>{own_url},
      .limits_owner = "workgroup '" + group->name + "'"};
  execute.on_progress = request.on_progress;
  Result<query::QueryStats> stats = (*engine)->Execute(sql_to_run, execute, counting);
  if (!stats.ok())
    return done(stats.status());
  out.stats = std::move(stats).value();
  if (rec.statement_kind == "select" && sql_to_run != request.sql)
    out.stats.statement_kind = "select";
  return done(Status());
}

QueryService::Outcome QueryService::Run(const QueryRequest& request, query::RowSink& sink,
                                        std::atomic<bool>* cancel) {
  query::QueryRecord record{.user = request.caller.user,
                            .sql = request.sql,
                            .status = "running",
                            .started_at = std::chrono::system_clock::now(),
                            .database = request.database};
  // In the history (and cancellable) while it runs, like an asynchronous query.
  Result<int64_t> id = options_.history->Record(record);
  std::shared_ptr<Job> job;
  if (id.ok()) {
    record.id = *id;
    job = std::make_shared<Job>();
    job->record = record;
    job->cancel_flag = cancel != nullptr ? cancel : &job->cancel;
    std::lock_guard<std::mutex> lock(mutex_);
    jobs_[record.id] = job;
  } else {
    log::Warn("query history not recorded", {{"error", id.status().message()}});
  }
  Outcome out = Execute(request, request.sql, sink, cancel, std::move(record));
  if (job) {
    if (Status updated = options_.history->Update(out.record); !updated.ok())
      log::Warn("query history not updated", {{"error", updated.message()}});
    std::lock_guard<std::mutex> lock(mutex_);
    jobs_.erase(out.record.id);  // the history has it from now on
  }
  return out;
}

std::string QueryService::ResultUrl(int64_t id) const {
  std::string name = std::to_string(id);
  if (!options_.results_secret.empty())
    name += "-" + Sha256Hex(HmacSha256(options_.results_secret, name)).substr(0, 32);
  return options_.results_prefix + name + ".parquet";
}

bool QueryService::IsWriteStatement(const std::string& sql) const {
  return options_.is_write_statement && options_.is_write_statement(sql);
}

// Viewers may only read; the check is here, on the server, whatever the client does.
Status QueryService::CheckRole(const QueryRequest& request, bool write_statement) const {
  if (auth::RoleAtLeast(request.caller.role, auth::Role::kEditor))
    return Status();
  Status refused = Status::PermissionDenied("viewers may only run SELECT queries; user '" +
                                            request.caller.user + "' is a viewer");
  if (write_statement)
    return refused;
  BASIN_ASSIGN_OR_RETURN(bool read_only, query::IsReadOnlySql(request.sql));
  return read_only ? Status() : refused;
}

Result<query::QueryStats> QueryService::Explain(const QueryRequest& request) {
  BASIN_RETURN_IF_ERROR(CheckRole(request, IsWriteStatement(request.sql)));
  BASIN_ASSIGN_OR_RETURN(workgroup::Workgroup group, WorkgroupOf(request.caller));
  BASIN_ASSIGN_OR_RETURN(query::Engine * engine, options_.engine_for(group));
  return engine->Plan(request.sql, query::ExecuteOptions{.default_database = request.database});
}

Result<int64_t> QueryService::Submit(const QueryRequest& request) {
  if (stopping_)
    return Status::Unavailable("the server is stopping");
  auto job = std::make_shared<Job>();
  job->record = query::QueryRecord{
      .user = request.caller.user,
      .sql = request.sql,
      .status = "queued",
      .started_at = std::chrono::system_clock::now(),
      .database = request.database,
      .workgroup = request.caller.workgroup.empty() ? "primary" : request.caller.workgroup};
  BASIN_ASSIGN_OR_RETURN(job->record.id, options_.history->Record(job->record));
  int64_t id = job->record.id;
  std::lock_guard<std::mutex> lock(mutex_);
  // Forget the oldest finished jobs beyond the cap (ids grow, so the map is in age order).
  size_t finished = 0;
  for (const auto& [job_id, kept] : jobs_)
    finished += kept->finished ? 1 : 0;
  for (auto it = jobs_.begin(); it != jobs_.end() && finished > options_.max_finished_jobs;) {
    if (it->second->finished) {
      it = jobs_.erase(it);
      --finished;
    } else {
      ++it;
    }
  }
  jobs_[id] = job;
  ++running_jobs_;
  // Detached: the destructor waits for running_jobs_ to reach zero instead of joining.
  std::thread([this, job, request] {
    RunJob(job, request);
    std::lock_guard<std::mutex> done(mutex_);
    --running_jobs_;
    jobs_done_.notify_all();
  }).detach();
  return id;
}

void QueryService::RunJob(std::shared_ptr<Job> job, QueryRequest request) {
  query::QueryRecord record;
  {
    std::lock_guard<std::mutex> lock(job->mutex);
    record = job->record;
  }
  // "queued" until the workgroup's queue lets it run.
  auto admitted = [&] {
    query::QueryRecord running;
    {
      std::lock_guard<std::mutex> lock(job->mutex);
      job->record.status = "running";
      running = job->record;
    }
    (void)options_.history->Update(running);
  };
  // A single SELECT goes to a Parquet object in the lake, so a result of any size never
  // sits in server memory and can be paged and downloaded; other statements' results
  // (small: counts, plans, summaries) stay in memory.
  Result<std::vector<std::string>> kinds = query::StatementKinds(request.sql);
  bool to_lake = kinds.ok() && kinds->size() == 1 && kinds->front() == "select";
  std::string url = ResultUrl(record.id);
  std::string select = TrimStatement(request.sql);
  // The result's columns as the Parquet object will have them, known from the plan.
  std::vector<std::string> lake_names, lake_types;
  if (to_lake) {
    Result<query::Engine*> engine = DefaultEngine();
    Result<query::QueryStats> plan =
        engine.ok()
            ? (*engine)->Plan(select, query::ExecuteOptions{.default_database = request.database})
            : Result<query::QueryStats>(engine.status());
    if (plan.ok()) {
      lake_names = plan->column_names;
      lake_types = plan->column_types;
      select = query::StorableSelect(select, lake_names, lake_types);
    }
  }
  std::string sql = to_lake ? query::CopySql(select, url, {.in_place = false}) : request.sql;
  // A COPY answers with one row: the number of rows it wrote.
  query::QueryResult memory;
  query::CollectingSink collected(memory, options_.max_memory_rows);
  // The COPY around a single SELECT is basin's own statement (the SELECT alone was parsed as
  // exactly one); any other statement runs as the user's.
  Outcome out = Execute(request, sql, collected, &job->cancel, record, admitted,
                        to_lake ? query::StatementPolicy::kBasin : query::StatementPolicy::kUser,
                        to_lake ? url : "");
  if (to_lake && out.status.ok()) {
    out.record.rows_returned = 0;
    if (!memory.rows.empty() && !memory.rows[0].empty() && memory.rows[0][0]) {
      out.record.rows_returned = std::stoll(*memory.rows[0][0]);
    }
    memory.column_names = std::move(lake_names);
    memory.column_types = std::move(lake_types);
  }
  {
    std::lock_guard<std::mutex> lock(job->mutex);
    job->record = out.record;
    job->scans = out.stats.scans;
    if (to_lake && out.status.ok())
      job->result_url = url;
    job->column_names = std::move(memory.column_names);
    job->column_types = std::move(memory.column_types);
    if (!to_lake)
      job->rows = std::move(memory.rows);
    job->finished = true;
  }
  Status updated = options_.history->Update(out.record);
  if (!updated.ok())
    log::Warn("query history not updated", {{"error", updated.message()}});
}

Result<std::shared_ptr<QueryService::Job>> QueryService::FindJob(int64_t id,
                                                                 const QueryCaller& caller) {
  std::shared_ptr<Job> job;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = jobs_.find(id);
    if (found != jobs_.end())
      job = found->second;
  }
  if (!job) {
    // Not started by this process (or before a restart): the history is the record.
    BASIN_ASSIGN_OR_RETURN(query::QueryRecord record, options_.history->Get(id));
    job = std::make_shared<Job>();
    job->record = record;
    job->finished = query::IsFinishedStatus(record.status);
    if (!job->finished) {
      job->record.status = "failed";
      job->record.error = "the server stopped before the query finished";
      job->finished = true;
    }
    if (record.status == "succeeded" && record.statement_kind == "select") {
      job->result_url = ResultUrl(id);
    }
  }
  std::lock_guard<std::mutex> lock(job->mutex);
  if (job->record.user != caller.user && caller.role != auth::Role::kAdmin) {
    return Status::NotFound("no query " +
                            std::to_string(id));  // others' queries are not even confirmed
  }
  return job;
}

Result<QueryService::JobView> QueryService::Get(int64_t id, const QueryCaller& caller) {
  BASIN_ASSIGN_OR_RETURN(std::shared_ptr<Job> job, FindJob(id, caller));
  std::lock_guard<std::mutex> lock(job->mutex);
  return JobView{.record = job->record,
                 .column_names = job->column_names,
                 .column_types = job->column_types,
                 .result_url = job->result_url,
                 .scans = job->scans};
}

Status QueryService::Cancel(int64_t id, const QueryCaller& caller) {
  BASIN_ASSIGN_OR_RETURN(std::shared_ptr<Job> job, FindJob(id, caller));
  std::lock_guard<std::mutex> lock(job->mutex);
  if (job->finished)
    return Status::FailedPrecondition("query " + std::to_string(id) + " has already ended (" +
                                      job->record.status + ")");
  *job->cancel_flag = true;
  return Status();
}

Status QueryService::ReadResult(int64_t id, const QueryCaller& caller, int64_t offset,
                                int64_t limit, query::RowSink& sink,
                                const std::atomic<bool>* cancel) {
  BASIN_ASSIGN_OR_RETURN(std::shared_ptr<Job> job, FindJob(id, caller));
  std::string url;
  {
    std::lock_guard<std::mutex> lock(job->mutex);
    if (!job->finished)
      return Status::FailedPrecondition("query " + std::to_string(id) + " is still " +
                                        job->record.status);
    if (job->record.status != "succeeded") {
      return Status::FailedPrecondition("query " + std::to_string(id) + " " + job->record.status +
                                        ": " + job->record.error);
    }
    if (job->result_url.empty())
      return ReplaySlice(job->column_names, job->column_types, job->rows, offset, limit, sink);
    url = job->result_url;
  }
  BASIN_ASSIGN_OR_RETURN(query::Engine * engine, DefaultEngine());
  std::string sql = query::SelectPage(url, offset, limit);
  Result<query::QueryStats> read =
      engine->Execute(sql,
                      query::ExecuteOptions{.policy = query::StatementPolicy::kBasin,
                                            .cancel = cancel,
                                            .use_cache = false,
                                            .own_urls = {url}},
                      sink);
  if (read.ok())
    return Status();
  if (read.status().IsNotFound() || read.status().code() == StatusCode::kIOError) {
    return Status::NotFound("the result of query " + std::to_string(id) + " is gone from " + url +
                            ": " + read.status().message());
  }
  return read.status();
}

}  // namespace basin::service
