#include "basin/delivery/stream_service.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "basin/catalog/schema.h"
#include "basin/common/log.h"
#include "basin/delivery/compression.h"
#include "basin/delivery/record_screen.h"
#include "basin/query/lake_sql.h"
#include "basin/query/table_scan.h"
#include "basin/stream/prefix_expression.h"
#include "basin/tablewrite/table_write.h"

namespace basin::delivery {
namespace {

using Clock = std::chrono::steady_clock;
using stream::Lsn;

std::string DumpJson(const nlohmann::json& json) {
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

nlohmann::json ToJson(const StreamStats& stats) {
  return {{"incoming_records", stats.incoming_records},
          {"incoming_bytes", stats.incoming_bytes},
          {"delivered_records", stats.delivered_records},
          {"delivered_objects", stats.delivered_objects},
          {"delivered_bytes", stats.delivered_bytes},
          {"failed_records", stats.failed_records},
          {"buffered_records", stats.buffered_records},
          {"oldest_undelivered_age_seconds", stats.oldest_undelivered_age_seconds},
          {"last_delivery_error", stats.last_delivery_error},
          {"failing_for_seconds", stats.failing_for_seconds},
          {"refusing", stats.refusing}};
}

Result<std::unique_ptr<StreamService>> StreamService::Open(StreamServiceOptions options,
                                                           stream::StreamStore& streams,
                                                           catalog::Catalog& catalog,
                                                           storage::StoreResolver& stores,
                                                           query::Engine& engine) {
  std::unique_ptr<StreamService> service(
      new StreamService(std::move(options), streams, catalog, stores, engine));
  BASIN_ASSIGN_OR_RETURN(service->wal_, stream::WriteAheadLog::Open(service->options_.wal_folder,
                                                                    service->options_.wal));
  BASIN_RETURN_IF_ERROR(service->Recover());
  StreamService* raw = service.get();
  service->ticker_ = std::thread([raw] { raw->RunTicker(); });
  for (int i = 0; i < std::max(1, service->options_.delivery_workers); ++i)
    service->workers_.emplace_back([raw] { raw->RunWorker(); });
  return service;
}

StreamService::~StreamService() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    stopped_ = true;
  }
  JoinThreads();
}

void StreamService::JoinThreads() {
  wakeup_.notify_all();
  work_ready_.notify_all();
  if (ticker_.joinable())
    ticker_.join();
  for (std::thread& worker : workers_)
    worker.join();
  workers_.clear();
}

StreamService::StreamState& StreamService::StateFor(const stream::StoredStream& stored) {
  StreamState& state = states_[stored.id];
  state.id = stored.id;
  state.definition = stored.definition;
  return state;
}

Result<std::shared_ptr<const StreamService::KnownStream>> StreamService::Known(
    std::string_view stream_name) {
  auto now = Now();
  {
    std::lock_guard<std::mutex> lock(known_mutex_);
    auto found = known_.find(stream_name);
    if (found != known_.end() && now - found->second->read_at < options_.definition_ttl)
      return found->second;
  }
  BASIN_ASSIGN_OR_RETURN(stream::StoredStream stored, streams_.Get(stream_name));
  BASIN_ASSIGN_OR_RETURN(stream::PrefixExpression expression,
                         stream::ParsePrefixExpression(stored.definition.prefix_expression));
  auto known = std::make_shared<const KnownStream>(
      KnownStream{std::move(stored), std::move(expression), now});
  std::lock_guard<std::mutex> lock(known_mutex_);
  known_[std::string(stream_name)] = known;
  return known;
}

void StreamService::Forget(std::string_view stream_name) {
  std::lock_guard<std::mutex> lock(known_mutex_);
  if (auto found = known_.find(stream_name); found != known_.end())
    known_.erase(found);
}

Result<IngestResult> StreamService::Ingest(std::string_view stream_name,
                                           const std::vector<std::string>& records,
                                           std::chrono::system_clock::time_point arrival) {
  BASIN_ASSIGN_OR_RETURN(std::shared_ptr<const KnownStream> known, Known(stream_name));
  const stream::StoredStream& stored = known->stored;
  const stream::StreamDefinition& definition = stored.definition;
  const stream::PrefixExpression& expression = known->expression;
  IngestResult result;
  std::vector<std::string> encoded;  // the log entry's records: accepted and refused
  std::vector<PartitionedRecord> buffered;
  uint64_t entry_bytes = 0;
  int64_t incoming_bytes = 0;
  for (size_t i = 0; i < records.size(); ++i) {
    const std::string& raw = records[i];
    incoming_bytes += static_cast<int64_t>(raw.size());
    Status status;
    PartitionedRecord record;
    if (static_cast<int64_t>(raw.size()) > definition.max_record_bytes) {
      status = Status::PayloadTooLarge("record is " + std::to_string(raw.size()) +
                                       " bytes; the stream's max_record_bytes is " +
                                       std::to_string(definition.max_record_bytes));
    } else if (int depth = JsonNestingDepth(raw); depth > options_.max_record_depth) {
      status = Status::InvalidArgument(
          "record nests " + std::to_string(depth) + " levels deep; streams take at most " +
          std::to_string(options_.max_record_depth) + " (streams.max_record_depth)");
    } else {
      nlohmann::json parsed = nlohmann::json::parse(raw, nullptr, false);
      if (parsed.is_discarded() || !parsed.is_object()) {
        status = Status::InvalidArgument(parsed.is_discarded() ? "record is not valid JSON"
                                                               : "record is not a JSON object");
      } else {
        Result<std::string> partition = expression.Evaluate(arrival, parsed);
        if (partition.ok())
          record = {std::move(*partition), DumpJson(parsed)};
        else
          status = partition.status();
      }
    }
    if (status.ok()) {
      ++result.accepted;
    } else {
      // Logged with the accepted records, so it reaches the error prefix exactly once, with the
      // delivery, and a lake that is down never holds up the acknowledgement.
      record = {std::string(kRefusedPartition),
                DumpJson({{"index", i},
                          {"code", std::string(StatusCodeName(status.code()))},
                          {"reason", status.message()},
                          {"raw", raw}})};
      ++result.failed;
    }
    entry_bytes += record.json.size();
    encoded.push_back(EncodeRecord(record));
    buffered.push_back(std::move(record));
    result.records.push_back(std::move(status));
  }

  std::multiset<Lsn>::iterator appending;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopped_)
      return Status::Unavailable("the stream service is stopping");
    StreamState& state = StateFor(stored);
    // Refused requests leave no trace: the producer sends them again.
    auto now = Now();
    if (state.failing_since && now - *state.failing_since >= options_.refuse_when_failing_for) {
      return Status::Unavailable("stream " + definition.name + " cannot deliver (failing for " +
                                 std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                                    now - *state.failing_since)
                                                    .count()) +
                                 " s: " + state.stats.last_delivery_error +
                                 "); records are refused until a delivery succeeds");
    }
    if (buffered_bytes_ > 0 && buffered_bytes_ + entry_bytes > options_.max_buffered_bytes) {
      return Status::Unavailable("stream buffers hold " + std::to_string(buffered_bytes_) +
                                 " bytes of undelivered records, the limit "
                                 "(streams.buffer_max_size) is " +
                                 std::to_string(options_.max_buffered_bytes) +
                                 "; delivery is behind");
    }
    appending = appending_.insert(wal_->counters().next_lsn);
    // Reserved now, so requests appending at the same time cannot all pass the bound.
    buffered_bytes_ += entry_bytes;
  }
  Result<Lsn> lsn = Lsn{0};
  if (!encoded.empty()) {
    std::string payload = stream::EncodeRecordBatch(encoded);
    lsn = wal_->Append({.kind = stream::EntryKind::kRecordBatch,
                        .stream_id = static_cast<uint64_t>(stored.id),
                        .payload = payload});
  }
  bool full = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    appending_.erase(appending);
    if (encoded.empty() || !lsn.ok())
      buffered_bytes_ -= entry_bytes;
    if (!encoded.empty() && lsn.ok()) {
      StreamState& state = states_[stored.id];
      state.stats.incoming_records += static_cast<int64_t>(records.size());
      state.stats.incoming_bytes += incoming_bytes;
      state.stats.failed_records += result.failed;
      Buffered entry{.lsn = *lsn, .arrived = Now(), .bytes = entry_bytes};
      for (const PartitionedRecord& record : buffered) {
        uint64_t& bytes = state.partition_bytes[record.partition];
        bytes += record.json.size();
        full = full || bytes >= (static_cast<uint64_t>(state.definition.buffer_mib) << 20);
      }
      entry.records = std::move(buffered);
      state.buffer.emplace(*lsn, std::move(entry));
    }
  }
  if (!lsn.ok() && lsn.status().code() == StatusCode::kFailedPrecondition) {
    // A log that refuses appends after a failed write (or is closed) took nothing: the
    // producer retries, as after any 503.
    return Status::Unavailable(lsn.status().message());
  }
  if (!lsn.ok())
    return lsn.status();
  if (full)
    wakeup_.notify_all();
  return result;
}

Status StreamService::Stop(std::chrono::milliseconds give_up_after) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_)
      return Status::OK();
    stopping_ = true;
    stopped_ = true;
  }
  std::mutex timer_mutex;
  std::condition_variable timer_wake;
  bool done = false;
  std::thread timer;
  if (give_up_after != std::chrono::milliseconds::max()) {
    timer = std::thread([&] {
      std::unique_lock<std::mutex> lock(timer_mutex);
      if (!timer_wake.wait_for(lock, give_up_after, [&] { return done; }))
        abandon_ = true;
    });
  }
  JoinThreads();
  Status delivered = DeliverAll();
  if (timer.joinable()) {
    {
      std::lock_guard<std::mutex> lock(timer_mutex);
      done = true;
    }
    timer_wake.notify_all();
    timer.join();
  }
  if (abandon_)
    return Status::Cancelled("stopping took longer than " + std::to_string(give_up_after.count()) +
                             " ms: deliveries under way were interrupted; their records stay in "
                             "the log and are delivered after the next start");
  return delivered;
}

Result<StreamStats> StreamService::Stats(std::string_view stream_name) {
  BASIN_ASSIGN_OR_RETURN(stream::StoredStream stored, streams_.Get(stream_name));
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = states_.find(stored.id);
  if (found == states_.end())
    return StreamStats{};
  return StatsOf(found->second);
}

std::map<std::string, StreamStats> StreamService::AllStats() {
  std::lock_guard<std::mutex> lock(mutex_);
  std::map<std::string, StreamStats> all;
  for (const auto& [id, state] : states_)
    all[state.definition.name] = StatsOf(state);
  return all;
}

uint64_t StreamService::BufferedBytes() {
  std::lock_guard<std::mutex> lock(mutex_);
  return buffered_bytes_;
}

std::chrono::seconds StreamService::RetryAfter(std::string_view stream_name) {
  Result<stream::StoredStream> stored = streams_.Get(stream_name);
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = stored.ok() ? states_.find(stored->id) : states_.end();
  if (found == states_.end() || !found->second.failing_since)
    return std::chrono::seconds(1);
  // The next attempt of the stream's failed delivery, or of the first failing partition.
  Clock::time_point next = found->second.next_attempt;
  std::optional<Clock::time_point> partition_next;
  for (const auto& [partition, retry] : found->second.failing_partitions)
    partition_next =
        partition_next ? std::min(*partition_next, retry.next_attempt) : retry.next_attempt;
  if (partition_next)
    next = std::max(next, *partition_next);
  auto wait = std::chrono::ceil<std::chrono::seconds>(next - Now());
  return std::max(std::chrono::seconds(1), wait);
}

StreamStats StreamService::StatsOf(const StreamState& state) {
  StreamStats stats = state.stats;
  std::optional<Clock::time_point> oldest;
  auto count = [&](const Buffered& entry) {
    stats.buffered_records += static_cast<int64_t>(entry.records.size());
    oldest = oldest ? std::min(*oldest, entry.arrived) : entry.arrived;
  };
  for (const auto& [lsn, entry] : state.buffer)
    count(entry);
  if (state.delivery) {
    for (const Buffered& entry : state.delivery->entries)
      count(entry);
  }
  auto now = Now();
  if (oldest)
    stats.oldest_undelivered_age_seconds = std::chrono::duration<double>(now - *oldest).count();
  if (state.failing_since) {
    stats.failing_for_seconds = std::chrono::duration<double>(now - *state.failing_since).count();
    stats.refusing = now - *state.failing_since >= options_.refuse_when_failing_for;
  }
  return stats;
}

}  // namespace basin::delivery
