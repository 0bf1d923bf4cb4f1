// When a stream's buffer is delivered (docs/streams.md, "Buffering"): the ticker hands due
// buffers to the delivery workers, which take turns per table and back off after failures.

#include <algorithm>
#include <cctype>

#include "basin/common/ascii.h"
#include "basin/common/log.h"
#include "basin/delivery/stream_service.h"

namespace basin::delivery {
namespace {

using Clock = std::chrono::steady_clock;
using stream::Lsn;

// A delivery takes at most this many times the stream's buffer_mib from its buffer.
constexpr uint64_t kDeliveryHints = 2;

}  // namespace

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
  auto now = Now();
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
    const bool failing = (state.backoff.count() > 0 && now < state.next_attempt) ||
                         (!state.delivery && !state.buffer.empty() &&
                          HeldBack(state, state.buffer.begin()->second, now));
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
    // Records deferred from a partition that could not be written wait for that
    // partition's next attempt; the others are delivered as if it were not failing.
    auto waiting = [&](const Buffered& entry) {
      return !everything && HeldBack(state, entry, now);
    };
    auto first = std::find_if_not(state.buffer.begin(), state.buffer.end(),
                                  [&](const auto& buffered) { return waiting(buffered.second); });
    if (first == state.buffer.end())
      continue;
    bool old = now - first->second.arrived >= std::chrono::seconds(state.definition.buffer_seconds);
    uint64_t limit = static_cast<uint64_t>(state.definition.buffer_mib) << 20;
    bool large = std::any_of(
        state.partition_bytes.begin(), state.partition_bytes.end(), [&](const auto& partition) {
          return partition.second >= limit && !Waiting(state, partition.first, now);
        });
    if (!everything && !old && !large && id != holding_the_log)
      continue;
    // One delivery takes at most kDeliveryHints times the size hint (oldest first): when
    // delivery falls behind, objects stay near the hint and a delivery's memory (records,
    // staged copy, the engine's work) stays bounded; the rest goes in the next delivery.
    Delivery delivery;
    uint64_t taken = 0;
    for (auto entry = first;
         entry != state.buffer.end() && (taken == 0 || taken < kDeliveryHints * limit);) {
      if (waiting(entry->second)) {
        ++entry;
        continue;
      }
      taken += entry->second.bytes;
      delivery.entries.push_back(std::move(entry->second));
      entry = state.buffer.erase(entry);
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

std::chrono::milliseconds StreamService::NextBackoff(std::chrono::milliseconds previous) const {
  return std::min(options_.max_retry, std::max(options_.first_retry, previous * 2));
}

bool StreamService::Waiting(const StreamState& state, const std::string& partition,
                            std::chrono::steady_clock::time_point now) {
  auto failing = state.failing_partitions.find(partition);
  return failing != state.failing_partitions.end() && now < failing->second.next_attempt;
}

bool StreamService::HeldBack(const StreamState& state, const Buffered& entry,
                             std::chrono::steady_clock::time_point now) {
  if (state.failing_partitions.empty() || entry.records.empty())
    return false;
  return std::all_of(
      entry.records.begin(), entry.records.end(),
      [&](const PartitionedRecord& record) { return Waiting(state, record.partition, now); });
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
        table_turns_[AsciiLower(definition->database + "." + definition->table)];
    if (!turn)
      turn = std::make_unique<std::mutex>();
    table_turn = turn.get();
  }
  Status delivered;
  DeliveryReport report;  // partitions that could not be written; the others were delivered
  {
    std::lock_guard<std::mutex> turn(*table_turn);
    delivered = Deliver(*state, *definition, *state->delivery, &report);
  }
  std::lock_guard<std::mutex> lock(mutex_);
  if (delivered.ok()) {
    for (const Buffered& entry : state->delivery->entries) {
      buffered_bytes_ -= std::min(buffered_bytes_, entry.bytes);
      // A partition written again is no longer failing (a look per record only while
      // some partition is).
      for (const PartitionedRecord& record : entry.records) {
        if (state->failing_partitions.empty())
          break;
        if (!report.deferred_partitions.contains(record.partition))
          state->failing_partitions.erase(record.partition);
      }
    }
    state->delivery.reset();
    state->backoff = std::chrono::milliseconds(0);
    // A partition that could not be written waits for its next attempt (with backoff).
    for (const std::string& partition : report.deferred_partitions) {
      PartitionRetry& retry = state->failing_partitions[partition];
      retry.backoff = NextBackoff(retry.backoff);
      retry.next_attempt = Now() + retry.backoff;
    }
    if (report.deferred_failure.ok()) {
      state->failing_since.reset();
      state->stats.last_delivery_error.clear();
      return Status::OK();
    }
    state->stats.last_delivery_error = CapText(report.deferred_failure.ToString());
    // The stream fails while none of its records can be written (the whole lake is down).
    if (report.delivered_records > 0)
      state->failing_since.reset();
    else if (!state->failing_since)
      state->failing_since = Now();
    return report.deferred_failure;
  }
  log::Warn("stream_delivery_failed",
            {{"stream", definition->name}, {"error", CapText(delivered.ToString())}});
  state->stats.last_delivery_error = CapText(delivered.ToString());
  if (!state->failing_since)
    state->failing_since = Now();
  state->backoff = NextBackoff(state->backoff);
  state->next_attempt = Now() + state->backoff;
  return delivered;
}

}  // namespace basin::delivery
