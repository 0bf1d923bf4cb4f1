// SQL over HTTP: synchronous queries (JSON, or CSV streamed), asynchronous queries
// (submit, status, cancel, paged results, CSV and Parquet downloads), and EXPLAIN as data.
// The history listing is in query_history_routes.cc.
#include <charconv>
#include <condition_variable>
#include <deque>

#include <httplib.h>

#include "basin/common/time_format.h"
#include "basin/query/csv_text.h"
#include "basin/query/query_json.h"
#include "basin/server/api_server.h"
#include "basin/server/client_watch.h"
#include "basin/server/json_body.h"
#include "basin/service/query_service.h"

namespace basin::server {
namespace {

nlohmann::json ScansJson(const std::vector<query::TableScanReport>& scans) {
  nlohmann::json list = nlohmann::json::array();
  for (const query::TableScanReport& scan : scans) {
    list.push_back({{"table", scan.table},
                    {"partitions_total", scan.partitions_total},
                    {"partitions_kept", scan.partitions_kept},
                    {"partitions_pruned", scan.partitions_pruned},
                    {"objects_total", scan.objects_total},
                    {"objects_kept", scan.objects_kept},
                    {"bytes_kept", scan.bytes_kept}});
  }
  return list;
}

nlohmann::json ColumnsJson(const std::vector<std::string>& names,
                           const std::vector<std::string>& types) {
  nlohmann::json columns = nlohmann::json::array();
  for (size_t i = 0; i < names.size(); ++i)
    columns.push_back({{"name", names[i]}, {"type", types[i]}});
  return columns;
}

nlohmann::json RowJson(const query::Row& row) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& value : row)
    out.push_back(value ? nlohmann::json(*value) : nlohmann::json(nullptr));
  return out;
}

// Keeps the first `max_rows` rows, up to `max_bytes` of them, and counts the rest (the query
// still runs to the end, so the count is exact, but memory holds only what is returned).
class PageSink final : public query::RowSink {
 public:
  explicit PageSink(int64_t max_rows, uint64_t max_bytes = UINT64_MAX)
      : max_rows_(max_rows), max_bytes_(max_bytes) {}
  Status Begin(const std::vector<std::string>& names,
               const std::vector<std::string>& types) override {
    column_names = names;
    column_types = types;
    return Status();
  }
  Status Rows(std::vector<query::Row>&& batch) override {
    for (query::Row& row : batch) {
      ++total;
      if (full)
        continue;
      // What the row costs in the answer: its text plus JSON's per-value overhead.
      uint64_t row_bytes = 0;
      for (const auto& value : row)
        row_bytes += (value ? value->size() : 0) + 16;
      if (static_cast<int64_t>(rows.size()) >= max_rows_ || bytes + row_bytes > max_bytes_) {
        full = true;
        by_bytes = static_cast<int64_t>(rows.size()) < max_rows_;
        continue;
      }
      bytes += row_bytes;
      rows.push_back(RowJson(row));
    }
    return Status();
  }
  std::vector<std::string> column_names, column_types;
  nlohmann::json rows = nlohmann::json::array();
  int64_t total = 0;
  uint64_t bytes = 0;
  bool full = false;      // rows were left out
  bool by_bytes = false;  // because of the size bound (not the row count)

 private:
  int64_t max_rows_;
  uint64_t max_bytes_;
};

// Text chunks from a query thread to the HTTP writer, bounded so a slow client slows the
// query instead of filling memory.
class ChunkChannel {
 public:
  static constexpr size_t kMaxBytes = 4 << 20;

  /// false when the reader has gone (the query should stop).
  bool Push(std::string chunk) {
    std::unique_lock<std::mutex> lock(mutex_);
    space_.wait(lock, [&] { return bytes_ < kMaxBytes || aborted_; });
    if (aborted_)
      return false;
    bytes_ += chunk.size();
    chunks_.push_back(std::move(chunk));
    ready_.notify_all();
    return true;
  }
  /// nullopt at the end; `failed` tells whether the end is an error.
  std::optional<std::string> Pop(bool& failed) {
    std::unique_lock<std::mutex> lock(mutex_);
    ready_.wait(lock, [&] { return !chunks_.empty() || closed_; });
    if (chunks_.empty()) {
      failed = failed_;
      return std::nullopt;
    }
    std::string chunk = std::move(chunks_.front());
    chunks_.pop_front();
    bytes_ -= chunk.size();
    space_.notify_all();
    return chunk;
  }
  void Close(bool failed) {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
    failed_ = failed;
    ready_.notify_all();
  }
  void Abort() {
    std::lock_guard<std::mutex> lock(mutex_);
    aborted_ = true;
    space_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_, space_;
  std::deque<std::string> chunks_;
  size_t bytes_ = 0;
  bool closed_ = false, failed_ = false, aborted_ = false;
};

// A query streamed as CSV: headers are sent only once the query has started producing
// rows, so errors before that (bad SQL, permission, limits) are ordinary JSON errors.
struct CsvStream : public query::RowSink {
  ChunkChannel channel;
  std::atomic<bool> cancel{false};
  std::mutex mutex;
  std::condition_variable changed;
  bool began = false, ended = false;
  Status early_error;
  std::thread thread;
  std::string pending;

  Status Begin(const std::vector<std::string>& names, const std::vector<std::string>&) override {
    if (!channel.Push(query::CsvLine(names)))
      return Status::Cancelled("the client went away");
    std::lock_guard<std::mutex> lock(mutex);
    began = true;
    changed.notify_all();
    return Status();
  }
  Status Rows(std::vector<query::Row>&& rows) override {
    std::string text;
    for (const query::Row& row : rows)
      text += query::CsvLine(row);
    if (!channel.Push(std::move(text)))
      return Status::Cancelled("the client went away");
    return Status();
  }
  void End(const Status& status) {
    std::lock_guard<std::mutex> lock(mutex);
    if (!began)
      early_error = status.ok() ? Status::Internal("the query produced no result") : status;
    ended = true;
    channel.Close(!status.ok());
    changed.notify_all();
  }
};

// Starts `run` (which must call stream->End) on its own thread and answers with CSV.
void RespondCsv(const httplib::Request& request, httplib::Response& response,
                std::shared_ptr<CsvStream> stream, std::function<void()> run,
                const std::string& filename, const std::atomic<bool>& stopping) {
  stream->thread = std::thread(std::move(run));
  {
    // Until rows flow, only a watch notices a client that hung up (then the writes fail).
    ClientWatch watch(request, stream->cancel, stopping);
    std::unique_lock<std::mutex> lock(stream->mutex);
    stream->changed.wait(lock, [&] { return stream->began || stream->ended; });
  }
  if (!stream->began) {
    stream->thread.join();
    return WriteError(response, stream->early_error);
  }
  response.set_header("Content-Disposition", "attachment; filename=\"" + filename + "\"");
  response.set_chunked_content_provider(
      "text/csv; charset=utf-8",
      [stream](size_t, httplib::DataSink& sink) {
        bool failed = false;
        std::optional<std::string> chunk = stream->channel.Pop(failed);
        if (!chunk) {
          if (failed)
            return false;  // cut the stream short: the client sees an incomplete transfer
          sink.done();
          return true;
        }
        return sink.write(chunk->data(), chunk->size());
      },
      [stream](bool) {
        stream->cancel = true;
        stream->channel.Abort();
        if (stream->thread.joinable())
          stream->thread.join();
      });
}

Result<int64_t> IntParam(const httplib::Request& request, const std::string& name,
                         int64_t fallback) {
  std::string text = request.get_param_value(name);
  if (text.empty())
    return fallback;
  int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) {
    return Status::InvalidArgument("parameter '" + name + "' must be an integer, got '" + text +
                                   "'");
  }
  return value;
}

// InvalidArgument naming `field` when `body` has it and it is not what `right` accepts.
Status CheckFieldType(const nlohmann::json& body, const char* field, const char* kind,
                      bool (*right)(const nlohmann::json&)) {
  auto found = body.find(field);
  if (found == body.end() || right(*found))
    return Status();
  return Status::InvalidArgument("field '" + std::string(field) + "' must be " + kind);
}

bool IsString(const nlohmann::json& value) {
  return value.is_string();
}
bool IsBoolean(const nlohmann::json& value) {
  return value.is_boolean();
}
bool IsInteger(const nlohmann::json& value) {
  return value.is_number_integer();
}

service::QueryCaller CallerOf(const RequestContext& context) {
  return service::QueryCaller{.user = context.principal.user.name,
                              .role = context.principal.user.role,
                              .workgroup = context.principal.user.workgroup};
}

// {"sql", "database"?, "cache"?}
Result<service::QueryRequest> RequestOf(const nlohmann::json& body, const RequestContext& context) {
  BASIN_ASSIGN_OR_RETURN(std::string sql, RequiredString(body, "sql"));
  // The engine reads SQL as a C string: after a NUL it would run less than the history shows.
  if (size_t nul = sql.find('\0'); nul != std::string::npos) {
    return Status::InvalidArgument("field 'sql' contains a NUL character (at offset " +
                                   std::to_string(nul) + ")");
  }
  service::QueryRequest request{.sql = sql, .caller = CallerOf(context)};
  BASIN_RETURN_IF_ERROR(CheckFieldType(body, "database", "a string", IsString));
  BASIN_RETURN_IF_ERROR(CheckFieldType(body, "cache", "true or false", IsBoolean));
  request.database = body.value("database", request.database);
  request.use_cache = body.value("cache", request.use_cache);
  return request;
}

}  // namespace

void ApiServer::RegisterQueryRoutes() {
  using Request = httplib::Request;
  using Response = httplib::Response;
  if (queries_ == nullptr)
    return;

  // Synchronous: {"sql", "database"?, "max_rows"?, "cache"?, "format"? ("json" | "csv"),
  // "explain"? (true: plan only, say which partitions would be read)}.
  Route("POST", "/api/query", Access::kViewer,
        [this](const Request& http, Response& response, const RequestContext& context) {
          Result<nlohmann::json> body = ParseJsonBody(http.body);
          if (!body.ok())
            return WriteError(response, body.status());
          Result<service::QueryRequest> request = RequestOf(*body, context);
          if (!request.ok())
            return WriteError(response, request.status());
          for (Status typed : {CheckFieldType(*body, "max_rows", "an integer", IsInteger),
                               CheckFieldType(*body, "format", "a string", IsString),
                               CheckFieldType(*body, "explain", "true or false", IsBoolean)}) {
            if (!typed.ok())
              return WriteError(response, typed);
          }
          int64_t max_rows = body->value("max_rows", int64_t{10000});
          if (max_rows < 1)
            return WriteError(response,
                              Status::InvalidArgument("field 'max_rows' must be at least 1"));
          std::string format = body->value("format", std::string("json"));
          if (format != "json" && format != "csv") {
            return WriteError(response, Status::InvalidArgument(
                                            "field 'format' must be \"json\" or \"csv\", got \"" +
                                            format + "\""));
          }
          if (body->value("explain", false)) {
            Result<query::QueryStats> plan = queries_->Explain(*request);
            if (!plan.ok())
              return WriteError(response, plan.status());
            return WriteJson(response, 200,
                             {{"scans", ScansJson(plan->scans)},
                              {"partitions_scanned", plan->PartitionsScanned()},
                              {"partitions_total", plan->PartitionsTotal()}});
          }
          if (format == "csv") {
            auto stream = std::make_shared<CsvStream>();
            service::QueryService* service = queries_;
            service::QueryRequest copy = *request;
            return RespondCsv(
                http, response, stream,
                [service, stream, copy] {
                  service::QueryService::Outcome outcome =
                      service->Run(copy, *stream, &stream->cancel);
                  stream->End(outcome.status);
                },
                "query.csv", stopping_);
          }
          // A query whose client hung up, or that an admin cancels, stops.
          std::atomic<bool> cancel{false};
          PageSink page(std::min(max_rows, options_.sync_max_rows), options_.sync_max_bytes);
          service::QueryService::Outcome outcome;
          {
            ClientWatch watch(http, cancel, stopping_);
            outcome = queries_->Run(*request, page, &cancel);
          }
          if (!outcome.status.ok())
            return WriteError(response, outcome.status);
          const query::QueryRecord& record = outcome.record;
          nlohmann::json answer = {{"id", record.id},
                                   {"columns", ColumnsJson(page.column_names, page.column_types)},
                                   {"rows", page.rows},
                                   {"row_count", page.total},
                                   {"truncated", page.full},
                                   {"bytes_read", record.bytes_read},
                                   {"elapsed_ms", record.duration.count()},
                                   {"cache_hit", record.cache_hit},
                                   {"partitions_scanned", record.partitions_scanned},
                                   {"partitions_total", record.partitions_total},
                                   {"objects_scanned", record.objects_scanned},
                                   {"workgroup", record.workgroup},
                                   {"scans", ScansJson(outcome.stats.scans)}};
          if (page.full) {
            answer["truncated_reason"] =
                page.by_bytes ? "the answer reached " + std::to_string(options_.sync_max_bytes) +
                                    " bytes (query.sync_max_size)"
                : max_rows > options_.sync_max_rows
                    ? "max_rows is capped at " + std::to_string(options_.sync_max_rows) +
                          " (query.sync_max_rows)"
                    : "max_rows is " + std::to_string(max_rows);
            answer["full_result"] =
                "submit the query to POST /api/queries and page or download its result";
          }
          WriteJson(response, 200, answer);
        });

  RegisterAsyncQueryRoutes();
}

// Asynchronous queries: submit, state, cancel, results.
void ApiServer::RegisterAsyncQueryRoutes() {
  using Request = httplib::Request;
  using Response = httplib::Response;
  // Asynchronous: submit answers at once with the query's id.
  Route("POST", "/api/queries", Access::kViewer,
        [this](const Request& http, Response& response, const RequestContext& context) {
          Result<nlohmann::json> body = ParseJsonBody(http.body);
          if (!body.ok())
            return WriteError(response, body.status());
          Result<service::QueryRequest> request = RequestOf(*body, context);
          if (!request.ok())
            return WriteError(response, request.status());
          Result<int64_t> id = queries_->Submit(*request);
          if (!id.ok())
            return WriteError(response, id.status());
          WriteJson(response, 202, {{"id", *id}, {"status", "queued"}});
        });

  Route("GET", R"(/api/queries/(\d+))", Access::kViewer,
        [this](const Request& http, Response& response, const RequestContext& context) {
          Result<service::QueryService::JobView> job =
              queries_->Get(std::stoll(http.matches[1]), CallerOf(context));
          if (!job.ok())
            return WriteError(response, job.status());
          nlohmann::json out = query::ToJson(job->record);
          out["columns"] = ColumnsJson(job->column_names, job->column_types);
          out["scans"] = ScansJson(job->scans);
          if (!job->result_url.empty())
            out["result_location"] = job->result_url;
          WriteJson(response, 200, out);
        });

  Route("POST", R"(/api/queries/(\d+)/cancel)", Access::kViewer,
        [this](const Request& http, Response& response, const RequestContext& context) {
          Status cancelled = queries_->Cancel(std::stoll(http.matches[1]), CallerOf(context));
          if (!cancelled.ok())
            return WriteError(response, cancelled);
          WriteJson(response, 202, {{"id", std::stoll(http.matches[1])}, {"status", "cancelling"}});
        });

  // ?format=json (a page: offset, limit ≤ 10000) | csv (everything, streamed) | parquet (the result
  // object).
  Route(
      "GET", R"(/api/queries/(\d+)/results)", Access::kViewer,
      [this](const Request& http, Response& response, const RequestContext& context) {
        int64_t id = std::stoll(http.matches[1]);
        service::QueryCaller caller = CallerOf(context);
        std::string format = http.has_param("format") ? http.get_param_value("format") : "json";
        if (format == "parquet") {
          Result<service::QueryService::JobView> job = queries_->Get(id, caller);
          if (!job.ok())
            return WriteError(response, job.status());
          if (job->record.status != "succeeded") {
            return WriteError(response, Status::FailedPrecondition("query " + std::to_string(id) +
                                                                   " is " + job->record.status));
          }
          if (job->result_url.empty()) {
            return WriteError(
                response,
                Status::FailedPrecondition(
                    "query " + std::to_string(id) +
                    " was not a SELECT: its result has no Parquet file; use format=json or csv"));
          }
          Result<storage::StoreResolver::Resolved> resolved = stores_->Resolve(job->result_url);
          if (!resolved.ok())
            return WriteError(response, resolved.status());
          auto reader = resolved->store->OpenForRead(resolved->key);
          if (!reader.ok())
            return WriteError(response, reader.status());
          response.set_header("Content-Disposition",
                              "attachment; filename=\"query-" + std::to_string(id) + ".parquet\"");
          RespondWithObject(response, std::move(reader).value(), "application/vnd.apache.parquet");
          return;
        }
        if (format == "csv") {
          auto stream = std::make_shared<CsvStream>();
          service::QueryService* service = queries_;
          return RespondCsv(
              http, response, stream,
              [service, stream, id, caller] {
                stream->End(service->ReadResult(id, caller, 0, -1, *stream, &stream->cancel));
              },
              "query-" + std::to_string(id) + ".csv", stopping_);
        }
        if (format != "json") {
          return WriteError(response, Status::InvalidArgument(
                                          "parameter 'format' must be json, csv or parquet, got '" +
                                          format + "'"));
        }
        Result<int64_t> offset = IntParam(http, "offset", 0);
        Result<int64_t> limit = IntParam(http, "limit", 1000);
        if (!offset.ok())
          return WriteError(response, offset.status());
        if (!limit.ok())
          return WriteError(response, limit.status());
        if (*offset < 0 || *limit < 1 || *limit > 10000) {
          return WriteError(response,
                            Status::InvalidArgument(
                                "parameters: offset must be >= 0 and limit between 1 and 10000"));
        }
        PageSink page(*limit);
        Status read = queries_->ReadResult(id, caller, *offset, *limit, page, &stopping_);
        if (!read.ok())
          return WriteError(response, read);
        Result<service::QueryService::JobView> job = queries_->Get(id, caller);
        int64_t total = job.ok() ? job->record.rows_returned : -1;
        nlohmann::json out = {{"id", id},
                              {"columns", ColumnsJson(page.column_names, page.column_types)},
                              {"rows", page.rows},
                              {"offset", *offset},
                              {"row_count", total}};
        int64_t next = *offset + static_cast<int64_t>(page.rows.size());
        out["next_offset"] = next < total ? nlohmann::json(next) : nlohmann::json(nullptr);
        WriteJson(response, 200, out);
      });
}

}  // namespace basin::server
