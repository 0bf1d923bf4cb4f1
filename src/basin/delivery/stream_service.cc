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

// A delivery takes at most this many times the stream's buffer_mib from its buffer.
constexpr uint64_t kDeliveryHints = 2;

// Attempts of a delivery whose refused records cannot be written to the error prefix
// before it delivers the good records without them (logged).
constexpr int kErrorWriteAttempts = 3;

std::string DumpJson(const nlohmann::json& json) {
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string Lower(std::string_view text) {
  std::string lower(text);
  for (char& c : lower)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower;
}

struct DeliveryCounts {
  int64_t records = 0;
  int64_t objects = 0;
  int64_t bytes = 0;
  int64_t refused = 0;
};

// Objects are written in place: the stores commit an object whole when it is closed. With
// DuckDB's default temp file, a repeated delivery (whose objects exist) would delete each
// object and then move a "tmp_" object over it: a copy on S3, and a failed copy would leave
// that "tmp_" object in the partition's folder, where scans read its records a second time.

void DeleteTemporary(storage::ObjectStore& store, const std::string& key) {
  tablewrite::DeleteTemporary(store, key, "stream_temporary_delete_failed");
}

bool SameColumns(const std::vector<catalog::Column>& a, const std::vector<catalog::Column>& b) {
  if (a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i].name) != Lower(b[i].name) ||
        catalog::NormalizeType(a[i].type) != catalog::NormalizeType(b[i].type))
      return false;
  }
  return true;
}

// A partition's Parquet objects are read together by position-independent name only when
// they have the same columns, so when a delivery changes the table's columns, the older
// objects of the partitions it wrote are rewritten with the new columns (NULL for the added
// ones). Rewriting keeps the rows, so a repeat after a crash is harmless.
Status AlignOlderObjects(query::Engine& engine, storage::StoreResolver& stores,
                         const std::string& folder, const std::string& temporary_folder,
                         std::string_view delivered_name,
                         const std::vector<catalog::Column>& columns,
                         const std::atomic<bool>* cancel) {
  BASIN_ASSIGN_OR_RETURN(storage::StoreResolver::Resolved resolved, stores.Resolve(folder));
  BASIN_ASSIGN_OR_RETURN(std::vector<storage::ObjectInfo> objects,
                         resolved.store->List(resolved.key));
  for (const storage::ObjectInfo& object : objects) {
    if (cancel != nullptr && cancel->load())
      return Status::Cancelled("rewriting the older objects of " + folder + " was interrupted");
    std::string relative = object.key.substr(resolved.key.size());
    if (!relative.ends_with(".parquet") || relative == delivered_name ||
        relative.find('/') != std::string::npos)
      continue;
    std::string url = folder + relative;
    BASIN_ASSIGN_OR_RETURN(std::vector<catalog::Column> found,
                           query::DescribeSelect(engine, query::SelectFromParquet(url), cancel));
    if (SameColumns(found, columns))
      continue;
    std::vector<query::Projected> projected;
    for (const catalog::Column& column : columns) {
      bool present = std::any_of(found.begin(), found.end(), [&](const catalog::Column& old) {
        return Lower(old.name) == Lower(column.name);
      });
      projected.push_back({present ? column.name : "", column.name, column.type});
    }
    // Written aside (in a '_' folder, which scans skip), then copied over the original.
    std::string rewritten = temporary_folder + "rewrite-" + relative;
    BASIN_ASSIGN_OR_RETURN(storage::StoreResolver::Resolved aside, stores.Resolve(rewritten));
    BASIN_RETURN_IF_ERROR(
        query::CopySelect(engine, query::SelectProjected(query::SelectFromParquet(url), projected),
                          rewritten, {}, {.policy = query::StatementPolicy::kBasin, .cancel = cancel})
            .status()
            .WithContext("rewriting " + url + " with the table's new columns"));
    Status copied = aside.store == resolved.store
                        ? resolved.store->Copy(aside.key, object.key)
                        : Status::Internal("the temporary folder is in another store");
    DeleteTemporary(*aside.store, aside.key);
    BASIN_RETURN_IF_ERROR(copied);
  }
  return Status::OK();
}

// Values a column's type cannot hold would fail the whole delivery for ever when the objects
// are written. They are found with the engine's own casts over the staged records (one query
// per group; see query::FindUncastable) and their records refused. Returns how many were refused.
Result<size_t> RefuseUncastable(query::Engine& engine, const std::string& staged_url,
                                const catalog::Table& table, std::vector<std::string>& records,
                                std::vector<nlohmann::json>& refused,
                                const std::atomic<bool>* cancel) {
  BASIN_ASSIGN_OR_RETURN(std::vector<query::UncastableValue> bad,
                         query::FindUncastable(engine, staged_url, kRowField, table.columns, cancel));
  std::map<size_t, std::pair<std::string, std::string>> first_problem;  // by row
  for (query::UncastableValue& value : bad) {
    size_t index = static_cast<size_t>(value.row);
    if (value.row >= 0 && index < records.size())
      first_problem.try_emplace(index, std::move(value.column), std::move(value.value));
  }
  if (first_problem.empty())
    return size_t{0};
  const std::string qualified = table.database + "." + table.name;
  std::vector<std::string> kept;
  for (size_t index = 0; index < records.size(); ++index) {
    auto problem = first_problem.find(index);
    if (problem == first_problem.end()) {
      kept.push_back(std::move(records[index]));
      continue;
    }
    for (const catalog::Column& column : table.columns) {
      if (column.name == problem->second.first) {
        refused.push_back(CastRefusal(records[index], column, problem->second.second, qualified));
        break;
      }
    }
  }
  size_t dropped = records.size() - kept.size();
  records = std::move(kept);
  return dropped;
}

// Moves the records FindUnreadable found from `records` to `refused`.
Status DropUnreadable(const std::vector<UnreadableRecord>& unreadable,
                      std::vector<std::string>& records, std::vector<nlohmann::json>& refused) {
  std::vector<bool> drop(records.size(), false);
  for (const UnreadableRecord& record : unreadable) {
    if (record.index >= records.size())
      return Status::Internal("unreadable record " + std::to_string(record.index) + " of " +
                              std::to_string(records.size()));
    drop[record.index] = true;
    refused.push_back(UnreadableRefusal(records[record.index], record.reason));
  }
  std::vector<std::string> kept;
  for (size_t index = 0; index < records.size(); ++index) {
    if (!drop[index])
      kept.push_back(std::move(records[index]));
  }
  records = std::move(kept);
  return Status::OK();
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

Status StreamService::Recover() {
  struct Seen {
    std::map<Lsn, std::vector<PartitionedRecord>> batches;
    std::map<Lsn, FlushIntent> intents;
    std::map<Lsn, DeliveryName> moved;  // by the LSN of the mark serving as intent
    std::set<Lsn> marked;
    std::set<Lsn> retired;  // batches whose records a mark moved forward
  };
  std::map<uint64_t, Seen> seen;
  BASIN_RETURN_IF_ERROR(wal_->Replay(0, [&](const stream::EntryView& entry) -> Status {
    Seen& stream = seen[entry.stream_id];
    switch (entry.kind) {
      case stream::EntryKind::kRecordBatch: {
        BASIN_ASSIGN_OR_RETURN(std::vector<std::string_view> encoded,
                               stream::DecodeRecordBatch(entry.payload));
        std::vector<PartitionedRecord>& records = stream.batches[entry.lsn];
        for (std::string_view one : encoded) {
          BASIN_ASSIGN_OR_RETURN(PartitionedRecord record, DecodeRecord(one));
          records.push_back(std::move(record));
        }
        break;
      }
      case stream::EntryKind::kFlushIntent: {
        BASIN_ASSIGN_OR_RETURN(stream.intents[entry.lsn], DecodeFlushIntent(entry.payload));
        break;
      }
      case stream::EntryKind::kDeliveredMark: {
        BASIN_ASSIGN_OR_RETURN(DeliveredMark mark, DecodeDeliveredMark(entry.payload));
        if (mark.intent != 0)
          stream.marked.insert(mark.intent);
        stream.retired.insert(mark.retired.begin(), mark.retired.end());
        if (mark.moved) {  // an unfinished delivery, with this mark as its intent
          stream.intents[entry.lsn] = {.lsns = {entry.lsn},
                                       .unix_seconds = mark.moved->unix_seconds};
          stream.moved[entry.lsn] = *mark.moved;
        }
        if (!mark.deferred.empty())
          stream.batches[entry.lsn] = std::move(mark.deferred);
        break;
      }
    }
    return Status::OK();
  }));

  BASIN_ASSIGN_OR_RETURN(std::vector<stream::StoredStream> defined, streams_.List());
  std::map<int64_t, const stream::StoredStream*> by_id;
  for (const stream::StoredStream& stored : defined)
    by_id[stored.id] = &stored;
  auto now = Clock::now();
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& [id, stream] : seen) {
    auto found = by_id.find(static_cast<int64_t>(id));
    if (found == by_id.end()) {
      log::Warn("stream_records_dropped", {{"stream_id", id},
                                           {"batches", stream.batches.size()},
                                           {"reason", "the stream was deleted"}});
      continue;
    }
    StreamState& state = StateFor(*found->second);
    std::set<Lsn> taken;  // delivered, or in the delivery to repeat
    for (const auto& [intent, recorded] : stream.intents) {
      const std::vector<Lsn>& lsns = recorded.lsns;
      if (stream.marked.contains(intent)) {
        taken.insert(lsns.begin(), lsns.end());
        continue;
      }
      if (state.delivery) {
        // One delivery per stream is under way at a time, so at most one lacks its mark.
        return Status::Internal("stream log has two undelivered flush intents for stream " +
                                state.definition.name + " (at LSN " +
                                std::to_string(state.delivery->intent_lsn) + " and " +
                                std::to_string(intent) + ")");
      }
      Delivery delivery{
          .intent_lsn = intent, .intent_time = recorded.unix_seconds, .recovered = true};
      if (auto moved = stream.moved.find(intent); moved != stream.moved.end())
        delivery.name = moved->second;
      for (Lsn lsn : lsns) {
        auto batch = stream.batches.find(lsn);
        if (batch == stream.batches.end()) {
          return Status::Internal("flush intent at LSN " + std::to_string(intent) +
                                  " names record batch " + std::to_string(lsn) +
                                  ", which the log lacks");
        }
        Buffered entry{.lsn = lsn, .arrived = now, .records = batch->second};
        for (const PartitionedRecord& record : entry.records)
          entry.bytes += record.json.size();
        buffered_bytes_ += entry.bytes;
        delivery.entries.push_back(std::move(entry));
        taken.insert(lsn);
      }
      state.delivery = std::move(delivery);
    }
    for (auto& [lsn, records] : stream.batches) {
      if (taken.contains(lsn) || stream.retired.contains(lsn))
        continue;
      Buffered entry{.lsn = lsn, .arrived = now, .records = std::move(records)};
      for (const PartitionedRecord& record : entry.records) {
        entry.bytes += record.json.size();
        state.partition_bytes[record.partition] += record.json.size();
      }
      buffered_bytes_ += entry.bytes;
      state.buffer.emplace(lsn, std::move(entry));
    }
  }
  return Status::OK();
}

Status StreamService::WriteRefused(const stream::StreamDefinition& definition,
                                   std::string_view object_name,
                                   const std::vector<nlohmann::json>& lines) {
  std::string text;
  for (const nlohmann::json& line : lines)
    text += DumpJson(line) + "\n";
  BASIN_ASSIGN_OR_RETURN(storage::StoreResolver::Resolved resolved,
                         stores_.Resolve(definition.error_prefix + std::string(object_name)));
  return resolved.store->Write(resolved.key, text);
}

Result<std::shared_ptr<const StreamService::KnownStream>> StreamService::Known(
    std::string_view stream_name) {
  auto now = Clock::now();
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
    auto now = Clock::now();
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
      Buffered entry{.lsn = *lsn, .arrived = Clock::now(), .bytes = entry_bytes};
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
    return Status::Cancelled("stopping took longer than " +
                             std::to_string(give_up_after.count()) +
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
  auto wait = std::chrono::ceil<std::chrono::seconds>(found->second.next_attempt - Clock::now());
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
  auto now = Clock::now();
  if (oldest)
    stats.oldest_undelivered_age_seconds = std::chrono::duration<double>(now - *oldest).count();
  if (state.failing_since) {
    stats.failing_for_seconds = std::chrono::duration<double>(now - *state.failing_since).count();
    stats.refusing = now - *state.failing_since >= options_.refuse_when_failing_for;
  }
  return stats;
}

void StreamService::RunTicker() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    wakeup_.wait_for(lock, options_.tick);
    if (stopping_)
      break;
    std::vector<int64_t> due = TakeDue(false);
    if (due.empty())
      continue;
    due_.insert(due_.end(), due.begin(), due.end());
    work_ready_.notify_all();
  }
}

void StreamService::RunWorker() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    work_ready_.wait(lock, [this] { return stopping_ || !due_.empty(); });
    if (stopping_)
      return;  // what is left is delivered by Stop, or after the next Open
    int64_t id = due_.front();
    due_.pop_front();
    lock.unlock();
    (void)DeliverOne(id);  // failures are logged and kept as last_delivery_error
    TruncateDelivered();
    lock.lock();
    states_[id].delivering = false;
  }
}

std::vector<int64_t> StreamService::TakeDue(bool everything) {
  std::vector<int64_t> due;
  auto now = Clock::now();
  // The log is shared and truncated only before the oldest undelivered entry: when it is
  // over half full, the stream that holds that entry is delivered now, whatever its hints
  // say, so a quiet stream with a long buffer_seconds cannot fill the log for a busy one.
  // A stream that is failing (an unfinished delivery, or a partition waiting for its next
  // attempt) cannot be delivered now: its records are moved forward in the log instead.
  int64_t holding_the_log = -1;
  const uint64_t log_bytes = wal_->counters().bytes_on_disk;
  if (!everything && log_bytes > options_.wal.max_bytes / 2) {
    Lsn oldest = 0;
    for (const auto& [id, state] : states_) {
      Lsn first = state.buffer.empty() ? 0 : state.buffer.begin()->first;
      if (state.delivery && !state.delivery->entries.empty())
        first = state.delivery->entries.front().lsn;
      if (!state.delivering && first != 0 && (oldest == 0 || first < oldest)) {
        oldest = first;
        holding_the_log = id;
      }
    }
  }
  if (holding_the_log >= 0) {
    StreamState& state = states_[holding_the_log];
    const bool failing = state.backoff.count() > 0 && now < state.next_attempt;
    uint64_t held = 0;  // what moving would write again
    for (const auto& [lsn, entry] : state.buffer)
      held += entry.bytes;
    if (state.delivery) {
      for (const Buffered& entry : state.delivery->entries)
        held += entry.bytes;
    }
    // Moving pays off only when it frees more of the log than it writes again, and happens
    // at most once per min_move_interval per stream (two failing streams could take turns).
    if (failing && held < log_bytes / 2 && now - state.moved_at >= options_.min_move_interval) {
      state.move_forward = true;
      state.delivering = true;
      due.push_back(holding_the_log);
    }
    if (failing)
      holding_the_log = -1;  // moved, or left as it is: not delivered before its next attempt
  }
  for (auto& [id, state] : states_) {
    if (state.delivering)
      continue;
    if (state.delivery) {
      if (everything || now >= state.next_attempt) {
        state.delivering = true;
        due.push_back(id);
      }
      continue;
    }
    if (state.buffer.empty())
      continue;
    bool old = now - state.buffer.begin()->second.arrived >=
               std::chrono::seconds(state.definition.buffer_seconds);
    uint64_t limit = static_cast<uint64_t>(state.definition.buffer_mib) << 20;
    bool large = std::any_of(state.partition_bytes.begin(), state.partition_bytes.end(),
                             [&](const auto& partition) { return partition.second >= limit; });
    if (!everything && !old && !large && id != holding_the_log)
      continue;
    if (!everything && state.backoff.count() > 0 && now < state.next_attempt)
      continue;  // a partition failed in the last delivery: wait for the next attempt
    // One delivery takes at most kDeliveryHints times the size hint (oldest first): when
    // delivery falls behind, objects stay near the hint and a delivery's memory (records,
    // staged copy, the engine's work) stays bounded; the rest goes in the next delivery.
    Delivery delivery;
    uint64_t taken = 0;
    while (!state.buffer.empty() && (taken == 0 || taken < kDeliveryHints * limit)) {
      auto oldest = state.buffer.begin();
      taken += oldest->second.bytes;
      delivery.entries.push_back(std::move(oldest->second));
      state.buffer.erase(oldest);
    }
    state.partition_bytes.clear();
    for (const auto& [lsn, entry] : state.buffer) {
      for (const PartitionedRecord& record : entry.records)
        state.partition_bytes[record.partition] += record.json.size();
    }
    state.delivery = std::move(delivery);
    state.delivering = true;
    due.push_back(id);
  }
  return due;
}

Status StreamService::DeliverAll() {
  std::vector<int64_t> due;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    due_.clear();
    for (auto& [id, state] : states_) {
      state.delivering = false;  // the workers have stopped
      state.move_forward = false;
    }
    due = TakeDue(true);
  }
  Status first;
  for (int64_t id : due) {
    Status delivered = DeliverOne(id);
    if (first.ok())
      first = delivered;
  }
  TruncateDelivered();
  std::lock_guard<std::mutex> lock(mutex_);
  for (int64_t id : due)
    states_[id].delivering = false;
  return first;
}

Status StreamService::MoveForward(int64_t id) {
  const uint64_t stream_id = static_cast<uint64_t>(id);
  StreamState* state = nullptr;
  Delivery* delivery = nullptr;  // read without the lock: `delivering` keeps writers off it
  DeliveredMark buffered;        // the buffer's entries (Ingest may add newer ones meanwhile)
  Clock::time_point oldest_arrival = Clock::now();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    state = &states_[id];
    state->move_forward = false;
    state->moved_at = Clock::now();
    if (state->delivery)
      delivery = &*state->delivery;
    for (const auto& [lsn, entry] : state->buffer) {
      buffered.retired.push_back(lsn);
      oldest_arrival = std::min(oldest_arrival, entry.arrived);
      buffered.deferred.insert(buffered.deferred.end(), entry.records.begin(), entry.records.end());
    }
  }
  // The unfinished delivery first, whole and under its names (objects a first attempt wrote
  // are replaced by the next one, not duplicated). Its intent is in the log: a delivery gets
  // it before it is first tried, and a log that failed that append refuses every other.
  if (delivery && delivery->intent_lsn != 0 && !delivery->entries.empty()) {
    DeliveredMark moved{
        .intent = delivery->intent_lsn,
        .moved = delivery->name.value_or(DeliveryName{.unix_seconds = delivery->intent_time,
                                                      .first = delivery->entries.front().lsn,
                                                      .last = delivery->entries.back().lsn})};
    for (const Buffered& entry : delivery->entries)
      moved.deferred.insert(moved.deferred.end(), entry.records.begin(), entry.records.end());
    BASIN_ASSIGN_OR_RETURN(Lsn lsn, wal_->Append({.kind = stream::EntryKind::kDeliveredMark,
                                                  .stream_id = stream_id,
                                                  .payload = EncodeDeliveredMark(moved)}));
    std::lock_guard<std::mutex> lock(mutex_);
    Buffered entry{.lsn = lsn, .arrived = delivery->entries.front().arrived};
    for (const Buffered& old : delivery->entries) {
      entry.bytes += old.bytes;
      entry.arrived = std::min(entry.arrived, old.arrived);
    }
    entry.records = std::move(moved.deferred);
    delivery->entries.clear();
    delivery->entries.push_back(std::move(entry));
    delivery->intent_lsn = lsn;
    delivery->intent_time = moved.moved->unix_seconds;
    delivery->name = moved.moved;
  }
  if (buffered.retired.empty())
    return Status::OK();
  BASIN_ASSIGN_OR_RETURN(Lsn lsn, wal_->Append({.kind = stream::EntryKind::kDeliveredMark,
                                                .stream_id = stream_id,
                                                .payload = EncodeDeliveredMark(buffered)}));
  std::lock_guard<std::mutex> lock(mutex_);
  Buffered entry{.lsn = lsn, .arrived = oldest_arrival, .records = std::move(buffered.deferred)};
  for (Lsn old : buffered.retired) {
    if (auto found = state->buffer.find(old); found != state->buffer.end()) {
      entry.bytes += found->second.bytes;
      state->buffer.erase(found);
    }
  }
  state->buffer.emplace(lsn, std::move(entry));  // partition_bytes: the same records
  log::Info(
      "stream_records_moved_forward",
      {{"stream", state->definition.name}, {"to_lsn", lsn}, {"entries", buffered.retired.size()}});
  return Status::OK();
}

Status StreamService::DeliverOne(int64_t id) {
  bool move = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    move = states_[id].move_forward;
  }
  if (move) {
    Status moved = MoveForward(id);
    if (!moved.ok())
      log::Warn("stream_move_forward_failed", {{"stream_id", id}, {"error", moved.ToString()}});
    return moved;
  }
  StreamState* state = nullptr;
  std::optional<stream::StreamDefinition> definition;
  std::mutex* table_turn = nullptr;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    state = &states_[id];
    definition = state->delivery->definition;
    if (!definition)
      definition = state->definition;
  }
  if (!state->delivery->definition) {
    // Changes made since the last ingest count (a deleted stream delivers what it has left).
    Result<stream::StoredStream> current = streams_.Get(definition->name);
    std::lock_guard<std::mutex> lock(mutex_);
    if (current.ok() && current->id == id)
      definition = state->definition = current->definition;
    state->delivery->definition = definition;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    std::unique_ptr<std::mutex>& turn =
        table_turns_[Lower(definition->database + "." + definition->table)];
    if (!turn)
      turn = std::make_unique<std::mutex>();
    table_turn = turn.get();
  }
  Status delivered;
  Status deferred;  // a partition that could not be written; the others were delivered
  {
    std::lock_guard<std::mutex> turn(*table_turn);
    delivered = Deliver(*state, *definition, *state->delivery, &deferred);
  }
  std::lock_guard<std::mutex> lock(mutex_);
  if (delivered.ok()) {
    for (const Buffered& entry : state->delivery->entries)
      buffered_bytes_ -= std::min(buffered_bytes_, entry.bytes);
    state->delivery.reset();
    state->failing_since.reset();
    if (deferred.ok()) {
      state->backoff = std::chrono::milliseconds(0);
      state->stats.last_delivery_error.clear();
      return Status::OK();
    }
    // The stream delivers; one partition waits for its next attempt (with backoff).
    state->stats.last_delivery_error = CapText(deferred.ToString());
    state->backoff =
        std::min(options_.max_retry, std::max(options_.first_retry, state->backoff * 2));
    state->next_attempt = Clock::now() + state->backoff;
    return deferred;
  }
  log::Warn("stream_delivery_failed",
            {{"stream", definition->name}, {"error", CapText(delivered.ToString())}});
  state->stats.last_delivery_error = CapText(delivered.ToString());
  if (!state->failing_since)
    state->failing_since = Clock::now();
  state->backoff = std::min(options_.max_retry, std::max(options_.first_retry, state->backoff * 2));
  state->next_attempt = Clock::now() + state->backoff;
  return delivered;
}

void StreamService::TruncateDelivered() {
  Lsn keep = wal_->counters().next_lsn;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!appending_.empty())
      keep = std::min(keep, *appending_.begin());
    for (const auto& [id, state] : states_) {
      if (!state.buffer.empty())
        keep = std::min(keep, state.buffer.begin()->first);
      if (state.delivery && !state.delivery->entries.empty())
        keep = std::min(keep, state.delivery->entries.front().lsn);
    }
  }
  Result<uint64_t> truncated = wal_->TruncateBefore(keep);
  if (!truncated.ok())
    log::Warn("stream_log_truncate_failed", {{"error", truncated.status().ToString()}});
}

Result<catalog::Partition> StreamService::CountedPartition(
    catalog::Partition partition, const std::optional<catalog::Partition>& before,
    int64_t added_objects, int64_t added_bytes, bool relist) {
  partition.last_modified =
      std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  if (relist) {
    BASIN_ASSIGN_OR_RETURN(tablewrite::ObjectCounts counts,
                           tablewrite::CountDataObjects(stores_, partition.location));
    partition.objects = counts.objects;
    partition.bytes = counts.bytes;
    return partition;
  }
  // The registered counts plus this delivery's: no listing, which would grow with the
  // partition (a day's partition gathers thousands of objects).
  if (before) {
    partition.objects = before->objects;
    partition.bytes = before->bytes;
  }
  partition.objects += added_objects;
  partition.bytes += added_bytes;
  return partition;
}

Result<catalog::TableStats> StreamService::TableTotals(
    const catalog::Table& table, const std::vector<catalog::Partition>& upserted,
    catalog::Timestamp modified) {
  catalog::TableStats totals{.last_modified = modified};
  std::set<std::string> replaced;
  for (const catalog::Partition& partition : upserted) {
    replaced.insert(partition.location);
    totals.objects += partition.objects;
    totals.bytes += partition.bytes;
  }
  catalog::PartitionFilter page{.limit = 1000};
  for (;; page.offset += page.limit) {
    BASIN_ASSIGN_OR_RETURN(std::vector<catalog::Partition> found,
                           catalog_.ListPartitions(table.id, page));
    for (const catalog::Partition& partition : found) {
      if (replaced.count(partition.location) == 0) {
        totals.objects += partition.objects;
        totals.bytes += partition.bytes;
      }
    }
    if (static_cast<int64_t>(found.size()) < page.limit)
      return totals;
  }
}

Status StreamService::Deliver(StreamState& state, const stream::StreamDefinition& definition,
                              Delivery& delivery, Status* deferred_failure) {
  if (delivery.entries.empty())
    return Status::OK();
  if (abandon_)
    return Status::Cancelled("the stream service gave up stopping gracefully");
  ++delivery.attempts;
  const uint64_t stream_id = static_cast<uint64_t>(state.id);
  if (delivery.intent_lsn == 0) {
    std::vector<Lsn> lsns;
    for (const Buffered& entry : delivery.entries)
      lsns.push_back(entry.lsn);
    int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
    std::string payload = EncodeFlushIntent({.lsns = lsns, .unix_seconds = now});
    BASIN_ASSIGN_OR_RETURN(Lsn intent, wal_->Append({.kind = stream::EntryKind::kFlushIntent,
                                                     .stream_id = stream_id,
                                                     .payload = payload}));
    std::lock_guard<std::mutex> lock(mutex_);
    delivery.intent_lsn = intent;
    delivery.intent_time = now;
  }
  const Lsn first = delivery.name ? delivery.name->first : delivery.entries.front().lsn;
  const Lsn last = delivery.name ? delivery.name->last : delivery.entries.back().lsn;
  const std::string qualified = definition.database + "." + definition.table;
  BASIN_ASSIGN_OR_RETURN(stream::PrefixExpression expression,
                         stream::ParsePrefixExpression(definition.prefix_expression));
  Result<catalog::Table> existing = catalog_.GetTable(definition.database, definition.table);
  if (!existing.ok() && !existing.status().IsNotFound())
    return existing.status();
  if (existing.ok())
    BASIN_RETURN_IF_ERROR(stream::CheckDestinationTable(definition, *existing));

  // Records the table cannot take (unknown fields when the stream may not add columns,
  // values its column types cannot hold) go to the error prefix.
  std::vector<const PartitionedRecord*> all_records;
  for (const Buffered& entry : delivery.entries) {
    for (const PartitionedRecord& record : entry.records)
      all_records.push_back(&record);
  }
  ScreenedRecords screened = ScreenRecords(
      all_records, existing.ok() ? std::optional<catalog::Table>(*existing) : std::nullopt,
      definition.unknown_fields == stream::UnknownFieldPolicy::kError, options_.max_record_depth);
  std::vector<nlohmann::json>& refused = screened.refused;

  std::vector<catalog::Column> columns =
      existing.ok() ? existing->columns : std::vector<catalog::Column>{};
  auto in_table = [&](const std::string& name) {
    return Lower(name) == kRowField ||
           (existing.ok() && std::any_of(existing->columns.begin(), existing->columns.end(),
                                         [&](const catalog::Column& column) {
                                           return Lower(column.name) == Lower(name);
                                         }));
  };
  // Each group as NDJSON in a '_' folder (table scans skip those), each record with its
  // position added (kRowField), for the engine to check and read; every object is then
  // written with the columns of all groups, so they read together.
  struct Group {
    std::string partition;
    const std::vector<std::string>* records = nullptr;
    std::string temporary;
    storage::StoreResolver::Resolved tmp;
  };
  std::vector<Group> groups;
  auto remove_temporaries = [&] {
    for (Group& group : groups)
      DeleteTemporary(*group.tmp.store, group.tmp.key);
  };
  auto staged_text = [](const std::vector<std::string>& records) {
    std::string text;
    for (size_t row = 0; row < records.size(); ++row)
      text += StagedLine(records[row], row) + "\n";
    return text;
  };
  for (auto& [partition, records] : screened.by_partition) {
    std::string temporary = definition.prefix + "_tmp/" +
                            ObjectName(definition.name, delivery.intent_time, first, last,
                                       std::to_string(groups.size()) + ".json");
    Result<storage::StoreResolver::Resolved> tmp = stores_.Resolve(temporary);
    if (!tmp.ok()) {
      remove_temporaries();
      return tmp.status();
    }
    groups.push_back({partition, &records, temporary, *tmp});
    storage::ObjectStore& store = *tmp->store;
    const std::string& key = tmp->key;
    auto describe = [&] {
      return query::DescribeSelect(engine_, query::SelectFromJson({.url = temporary}), &abandon_);
    };
    Status staged = store.Write(key, staged_text(records));
    Result<std::vector<catalog::Column>> described =
        staged.ok() ? describe() : Result<std::vector<catalog::Column>>(staged);
    if (!described.ok() && described.status().code() == StatusCode::kInvalidArgument) {
      // A record the engine cannot read (two spellings of one struct field) would hold up
      // the delivery for good: it goes to the error prefix, the rest are delivered.
      Result<std::vector<UnreadableRecord>> unreadable = FindUnreadable(
          records.size(), described.status(), [&](const std::vector<size_t>& indices) {
            std::vector<std::string> trial;
            for (size_t index : indices)
              trial.push_back(records[index]);
            BASIN_RETURN_IF_ERROR(store.Write(key, staged_text(trial)));
            return describe().status();
          });
      staged = unreadable.status();
      if (unreadable.ok())
        staged = DropUnreadable(*unreadable, records, refused);
      if (staged.ok() && !records.empty())
        staged = store.Write(key, staged_text(records));
      described = staged.ok() && !records.empty() ? describe()
                                                  : Result<std::vector<catalog::Column>>(staged);
    }
    if (described.ok() && existing.ok() && !records.empty()) {
      Result<size_t> dropped = RefuseUncastable(engine_, temporary, *existing, records, refused, &abandon_);
      if (dropped.ok() && *dropped > 0 && !records.empty()) {
        Status rewritten = store.Write(key, staged_text(records));
        described = rewritten.ok() ? describe() : Result<std::vector<catalog::Column>>(rewritten);
      } else if (!dropped.ok()) {
        described = dropped.status();
      }
    }
    if (records.empty()) {  // every record of the partition was refused
      DeleteTemporary(*groups.back().tmp.store, groups.back().tmp.key);
      groups.pop_back();
      continue;
    }
    if (!described.ok()) {
      remove_temporaries();
      return described.status().WithContext("reading the records of " + definition.name);
    }
    std::vector<catalog::Column> found;
    for (catalog::Column& column : *described) {
      if (!in_table(column.name))
        found.push_back(std::move(column));
    }
    columns = catalog::MergeColumns(columns, found);  // the table's columns keep their types
  }
  if (!refused.empty()) {
    // A failing error prefix holds up the good records for a few attempts only; then the
    // refused ones are counted and logged, and delivery goes on.
    Status written = WriteRefused(
        definition,
        "delivery-" + ObjectName(definition.name, delivery.intent_time, first, last, "json"),
        refused);
    if (!written.ok() && ++delivery.error_write_failures < kErrorWriteAttempts) {
      remove_temporaries();
      return written.WithContext("writing refused records to " + definition.error_prefix);
    }
    if (!written.ok()) {
      log::Warn("stream_error_write_failed", {{"stream", definition.name},
                                              {"records", refused.size()},
                                              {"error", written.ToString()}});
    }
  }
  DeliveryCounts counts{.refused =
                            static_cast<int64_t>(refused.size() - screened.refused_at_ingest)};
  // A field that is also a partition key is the partition's value (as in Hive and Glue): it
  // is not a column, so Parquet objects do not store it twice and scans show it once.
  const std::vector<catalog::PartitionKey> keys =
      existing.ok() ? existing->partition_keys : expression.PartitionKeys();
  std::erase_if(columns, [&](const catalog::Column& column) {
    return std::any_of(keys.begin(), keys.end(), [&](const catalog::PartitionKey& key) {
      return Lower(key.name) == Lower(column.name);
    });
  });
  std::string extension = Extension(definition);
  // What each written object adds to its partition's counts. A first attempt's names are new
  // (they hold its log positions); a repeat may replace objects it wrote before.
  struct Written {
    const Group* group;
    int64_t objects = 0;
    int64_t bytes = 0;
  };
  std::vector<Written> written_groups;
  std::vector<PartitionedRecord> deferred;
  const bool repeat = delivery.attempts > 1 || delivery.recovered;
  for (const Group& group : groups) {
    std::string target = definition.prefix + group.partition +
                         ObjectName(definition.name, delivery.intent_time, first, last, extension);
    tablewrite::ObjectContent content;
    Status compressed_ok;
    if (definition.format == stream::OutputFormat::kNdjson) {
      std::string lines;
      for (const std::string& record : *group.records)
        lines += record + "\n";
      Result<std::string> compressed = Compress(lines, definition.compression);
      compressed_ok = compressed.status();
      content.text = compressed.ok() ? std::move(*compressed) : std::string();
    } else {
      content.select = query::SelectFromJson({.url = group.temporary, .columns = columns});
    }
    tablewrite::ObjectWrite written =
        compressed_ok.ok()
            ? tablewrite::WriteObject(engine_, stores_, target, content,
                                      {.policy = query::StatementPolicy::kBasin, .cancel = &abandon_},
                                      repeat)
            : tablewrite::ObjectWrite{.status = compressed_ok};
    if (!written.status.ok()) {
      // The other partitions go on; this one's records are deferred (see DeliveredMark) and
      // delivered later under another name. A write reported failed may still have made its
      // object: WriteObject removed it, or its records would be delivered twice. If even that
      // failed, the whole delivery is tried again as it is, under the same names, replacing
      // what it wrote.
      Status failure = written.status.WithContext("writing " + target);
      log::Warn("stream_partition_failed",
                {{"stream", definition.name}, {"error", failure.ToString()}});
      if (written.left_behind) {
        remove_temporaries();
        *deferred_failure = Status::OK();
        return failure;
      }
      if (deferred_failure->ok())
        *deferred_failure = failure;
      for (const std::string& record : *group.records)
        deferred.push_back({group.partition, record});
      continue;
    }
    const std::optional<uint64_t>& replaced_size = written.replaced_size;
    const uint64_t written_size = written.size;
    written_groups.push_back({.group = &group,
                              .objects = replaced_size ? 0 : 1,
                              .bytes = static_cast<int64_t>(written_size) -
                                       static_cast<int64_t>(replaced_size.value_or(0))});
    counts.records += static_cast<int64_t>(group.records->size());
    counts.objects += 1;
    counts.bytes += static_cast<int64_t>(written_size);
  }
  remove_temporaries();
  if (written_groups.empty() && !groups.empty()) {
    Status failure = *deferred_failure;
    *deferred_failure = Status::OK();
    return failure;  // nothing written: the whole delivery is retried as it is
  }

  // Each written partition's key values, and the partition as registered before this
  // delivery (none: a new partition).
  std::vector<std::vector<std::string>> values(written_groups.size());
  std::vector<std::optional<catalog::Partition>> before(written_groups.size());
  for (size_t i = 0; i < written_groups.size() && !keys.empty(); ++i) {
    BASIN_ASSIGN_OR_RETURN(values[i], PartitionValues(written_groups[i].group->partition, keys));
  }
  if (existing.ok() && !keys.empty()) {
    for (size_t i = 0; i < written_groups.size(); ++i) {
      catalog::PartitionFilter filter{.limit = 1};
      for (size_t k = 0; k < keys.size() && k < values[i].size(); ++k)
        filter.equals[keys[k].name] = values[i][k];
      BASIN_ASSIGN_OR_RETURN(std::vector<catalog::Partition> found,
                             catalog_.ListPartitions(existing->id, filter));
      if (!found.empty())
        before[i] = std::move(found.front());
    }
  }
  // A partition's objects are read as one schema: when this delivery's columns differ from
  // those its partition recorded (the table's, unpartitioned), its older Parquet objects are
  // rewritten with them. A partition the table has not registered has no older objects (a
  // repeat's are its own, replaced now).
  std::vector<bool> realigned(written_groups.size(), false);
  if (definition.format == stream::OutputFormat::kParquet && existing.ok()) {
    std::string delivered_name =
        ObjectName(definition.name, delivery.intent_time, first, last, extension);
    for (size_t i = 0; i < written_groups.size(); ++i) {
      const std::vector<catalog::Column>* recorded = &existing->columns;
      if (!keys.empty()) {
        if (!before[i])
          continue;
        if (!before[i]->columns.empty())
          recorded = &before[i]->columns;
      }
      if (SameColumns(*recorded, columns))
        continue;
      BASIN_RETURN_IF_ERROR(AlignOlderObjects(
          engine_, stores_, definition.prefix + written_groups[i].group->partition,
          definition.prefix + "_tmp/", delivered_name, columns, &abandon_));
      realigned[i] = true;
    }
  }

  if (!written_groups.empty()) {
    catalog::TableUpdate update;
    update.changed_by = "stream:" + definition.name;
    update.create_database = true;
    if (existing.ok()) {
      update.table = *existing;
    } else {
      update.table = {.database = definition.database,
                      .name = definition.table,
                      .location = definition.prefix,
                      .format = stream::TableFormatOf(definition),
                      .created_by = "stream:" + definition.name};
      if (definition.compression != stream::Compression::kNone &&
          definition.format == stream::OutputFormat::kNdjson)
        update.table.format_options["compression"] =
            std::string(stream::CompressionName(definition.compression));
    }
    update.table.columns = columns;
    update.table.partition_keys = keys;
    for (const Written& written : written_groups) {
      update.table.stats.objects += written.objects;
      update.table.stats.bytes += written.bytes;
    }
    update.table.stats.last_modified =
        std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
    update.table.stats.rows = std::nullopt;
    if (keys.empty() && (repeat || (!realigned.empty() && realigned.front()))) {
      // Unpartitioned: the same reasons to count from a listing, of the table's folder.
      BASIN_ASSIGN_OR_RETURN(tablewrite::ObjectCounts counts,
                             tablewrite::CountDataObjects(stores_, definition.prefix));
      update.table.stats.objects = counts.objects;
      update.table.stats.bytes = counts.bytes;
    }
    if (!keys.empty()) {
      // Rewritten objects change size, and a repeat cannot tell whether its first attempt
      // was registered: those partitions are counted from a listing, and the table over its
      // partitions.
      bool recounted = false;
      for (size_t i = 0; i < written_groups.size(); ++i) {
        const std::string& partition = written_groups[i].group->partition;
        catalog::Partition registered{
            .values = values[i], .location = definition.prefix + partition, .columns = columns};
        const bool relist = realigned[i] || repeat;
        recounted = recounted || relist;
        BASIN_ASSIGN_OR_RETURN(registered, CountedPartition(std::move(registered), before[i],
                                                            written_groups[i].objects,
                                                            written_groups[i].bytes, relist));
        update.upsert_partitions.push_back(std::move(registered));
      }
      if (recounted && existing.ok()) {
        BASIN_ASSIGN_OR_RETURN(update.table.stats, TableTotals(*existing, update.upsert_partitions,
                                                               update.table.stats.last_modified));
      }
    }
    Result<catalog::ApplyOutcome> applied = catalog_.ApplyTable(update);
    if (!applied.ok())
      return applied.status().WithContext("registering " + qualified);
  }

  std::string mark = EncodeDeliveredMark({.intent = delivery.intent_lsn, .deferred = deferred});
  BASIN_ASSIGN_OR_RETURN(Lsn mark_lsn, wal_->Append({.kind = stream::EntryKind::kDeliveredMark,
                                                     .stream_id = stream_id,
                                                     .payload = mark}));
  std::lock_guard<std::mutex> lock(mutex_);
  if (!deferred.empty()) {
    // Buffered again at the mark's LSN, with the arrival of the delivery's oldest records.
    Buffered entry{.lsn = mark_lsn, .arrived = delivery.entries.front().arrived};
    for (const PartitionedRecord& record : deferred) {
      entry.bytes += record.json.size();
      state.partition_bytes[record.partition] += record.json.size();
    }
    entry.records = std::move(deferred);
    buffered_bytes_ += entry.bytes;
    state.buffer.emplace(mark_lsn, std::move(entry));
  }
  state.stats.delivered_records += counts.records;
  state.stats.delivered_objects += counts.objects;
  state.stats.delivered_bytes += counts.bytes;
  state.stats.failed_records += counts.refused;
  return Status::OK();
}

}  // namespace basin::delivery
