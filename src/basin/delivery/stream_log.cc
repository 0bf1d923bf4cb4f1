// The stream service's log protocol (docs/streams.md, "Delivery and the guarantee"):
// recovery at Open, a delivery's flush intent and delivered mark around the DeliveryWriter,
// moving a failing stream's records forward, and truncating what is delivered.

#include <algorithm>
#include <set>

#include "basin/common/log.h"
#include "basin/delivery/stream_service.h"

namespace basin::delivery {
namespace {

using Clock = std::chrono::steady_clock;
using stream::Lsn;

}  // namespace

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
  auto now = Now();
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

Status StreamService::MoveForward(int64_t id) {
  const uint64_t stream_id = static_cast<uint64_t>(id);
  StreamState* state = nullptr;
  Delivery* delivery = nullptr;  // read without the lock: `delivering` keeps writers off it
  DeliveredMark buffered;        // the buffer's entries (Ingest may add newer ones meanwhile)
  Clock::time_point oldest_arrival = Now();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    state = &states_[id];
    state->move_forward = false;
    state->moved_at = Now();
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

Status StreamService::Deliver(StreamState& state, const stream::StreamDefinition& definition,
                              Delivery& delivery, DeliveryReport* report) {
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
  DeliveryBatch batch{.definition = &definition,
                      .intent_time = delivery.intent_time,
                      .first = delivery.name ? delivery.name->first : delivery.entries.front().lsn,
                      .last = delivery.name ? delivery.name->last : delivery.entries.back().lsn,
                      .repeat = delivery.attempts > 1 || delivery.recovered,
                      .error_write_failures = &delivery.error_write_failures};
  for (const Buffered& entry : delivery.entries) {
    for (const PartitionedRecord& record : entry.records)
      batch.records.push_back(&record);
  }
  BASIN_ASSIGN_OR_RETURN(DeliveryOutcome outcome, writer_.Write(batch));
  report->deferred_failure = outcome.deferred_failure;
  report->delivered_records = outcome.counts.records;
  std::vector<PartitionedRecord>& deferred = outcome.deferred;
  for (const PartitionedRecord& record : deferred)
    report->deferred_partitions.insert(record.partition);
  const DeliveryCounts& counts = outcome.counts;

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
