#pragma once

// Stream ingest and delivery (docs/streams.md, "Delivery and the guarantee").
//
// Ingest checks each record, appends a request's good records to the write-ahead log as
// ONE record batch entry (group commit) and returns once that entry is durable. Records
// that cannot be delivered (not a JSON object, too large, no value for the prefix
// expression) are not appended: they are written at once to the stream's error prefix, one
// NDJSON object per request (`ingest-...json`, a line {index, code, reason, raw} each).
//
// A ticker thread watches the buffers (the appended records per stream, grouped by partition)
// and hands a stream's buffer to a pool of delivery workers when its oldest record is
// buffer_seconds old or a partition holds buffer_mib, so a slow destination holds up only
// its own stream (deliveries into the same table take turns: the catalog update reads and
// writes the whole table). A delivery is: a kFlushIntent entry naming the batch entries (LSNs) it
// covers, then one object per partition named from the first and last LSN (so a repeated delivery
// replaces its objects), then the catalog registration, then a kDeliveredMark. A failed
// delivery is retried with backoff, exactly as it was (same entries, same names); records of a
// partition whose object could not be written are deferred to a later delivery instead, with
// that partition's own backoff (docs/streams.md, "Delivery").
//
// Open replays the log: entries of intents with a mark are delivered, an intent without a
// mark is delivered again exactly, later batch entries are buffered again.
//
// A failing stream's records are moved forward in the shared log when they hold it over
// half full (MoveForward), so that they do not keep the others' entries from truncation.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "basin/catalog/catalog.h"
#include "basin/common/result.h"
#include "basin/delivery/delivery_format.h"
#include "basin/delivery/delivery_writer.h"
#include "basin/query/engine.h"
#include "basin/storage/store_resolver.h"
#include "basin/stream/prefix_expression.h"
#include "basin/stream/stream_store.h"
#include "basin/stream/wal.h"

namespace basin::delivery {

struct StreamServiceOptions {
  std::string wal_folder;  // home/streams/wal
  stream::WalOptions wal;
  /// How often the delivery thread looks at the buffers' ages.
  std::chrono::milliseconds tick{100};
  /// Retry backoff of a failed delivery: doubles from the first to the most.
  std::chrono::milliseconds first_retry{500};
  std::chrono::milliseconds max_retry{30000};
  /// Acknowledged records held in memory (they are also in the log) above which Ingest
  /// refuses with Unavailable: memory stays bounded when delivery falls behind.
  uint64_t max_buffered_bytes = 256ull << 20;
  /// A stream whose deliveries have failed for this long (its lake or table unreachable)
  /// refuses records with Unavailable until a delivery succeeds; until then the log absorbs
  /// them. 0: refuse after the first failure.
  std::chrono::milliseconds refuse_when_failing_for{60000};
  /// A failing stream's records are moved forward in the log (when they hold it over half
  /// full) at most this often: each move writes them again.
  std::chrono::milliseconds min_move_interval{1000};
  /// Deliveries that may run at once (different streams).
  int delivery_workers = 2;
  /// Records nested deeper are refused at ingest (and at delivery, if logged before).
  int max_record_depth = kDefaultMaxRecordDepth;
  /// How long Ingest uses a stream definition it has read before reading it again: a change
  /// made by another process (the CLI) counts within this.
  std::chrono::milliseconds definition_ttl{1000};
  /// The clock buffer ages, backoff and retries are measured with (tests may step it).
  std::function<std::chrono::steady_clock::time_point()> clock = std::chrono::steady_clock::now;
};

/// Per record: OK, or why it was refused (then it went to the error prefix).
struct IngestResult {
  std::vector<Status> records;
  int64_t accepted = 0;
  int64_t failed = 0;
};

/// Counters of one stream since the service opened.
struct StreamStats {
  int64_t incoming_records = 0;  // accepted and refused
  int64_t incoming_bytes = 0;
  int64_t delivered_records = 0;
  int64_t delivered_objects = 0;
  int64_t delivered_bytes = 0;
  int64_t failed_records = 0;    // sent to the error prefix
  int64_t buffered_records = 0;  // acknowledged, not yet delivered
  double oldest_undelivered_age_seconds = 0;
  std::string last_delivery_error;  // "" after a delivery succeeds
  double failing_for_seconds = 0;   // since the first of the failures in a row
  bool refusing = false;            // Ingest answers Unavailable (see refuse_when_failing_for)
};
nlohmann::json ToJson(const StreamStats& stats);

/// One per server process. Thread-safe. The references must outlive the service.
class StreamService {
 public:
  /// Opens the log, recovers it (see the file comment) and starts the delivery thread.
  static Result<std::unique_ptr<StreamService>> Open(StreamServiceOptions options,
                                                     stream::StreamStore& streams,
                                                     catalog::Catalog& catalog,
                                                     storage::StoreResolver& stores,
                                                     query::Engine& engine);
  /// Stops the delivery threads WITHOUT delivering the buffers (they stay in the log and are
  /// delivered after the next Open). Call Stop first for a graceful shutdown.
  ~StreamService();
  StreamService(const StreamService&) = delete;
  StreamService& operator=(const StreamService&) = delete;

  /// Errors for the whole request: NotFound (no such stream), Unavailable when nothing was
  /// taken and a retry may succeed (the log or the buffers are full, the stream keeps
  /// failing, the service is stopping, the log refuses appends after a failed write), and
  /// other log write errors.
  Result<IngestResult> Ingest(std::string_view stream_name, const std::vector<std::string>& records,
                              std::chrono::system_clock::time_point arrival);

  /// Stops the delivery threads, then delivers every buffer (one attempt each). Returns the
  /// first delivery failure (those records stay in the log). Later Ingest calls fail.
  /// Past `give_up_after`, the engine work of deliveries under way is interrupted (a rewrite
  /// of big older objects can take minutes): their records stay in the log and are
  /// delivered after the next Open, and Stop returns Cancelled.
  Status Stop(std::chrono::milliseconds give_up_after = std::chrono::milliseconds::max());

  /// NotFound when no stream has this name; zeros for a stream without traffic.
  Result<StreamStats> Stats(std::string_view stream_name);
  /// Every stream with traffic since Open, by name (for /metrics).
  std::map<std::string, StreamStats> AllStats();
  /// Bytes of records held in memory (buffers and deliveries under way).
  uint64_t BufferedBytes();
  uint64_t max_buffered_bytes() const { return options_.max_buffered_bytes; }

  /// Drops the definition Ingest keeps of a stream (after a change through this process).
  void Forget(std::string_view stream_name);

  /// When a refused producer should try again: the stream's next delivery attempt when it is
  /// failing, else one second.
  std::chrono::seconds RetryAfter(std::string_view stream_name);

 private:
  struct Buffered {
    stream::Lsn lsn = 0;
    std::chrono::steady_clock::time_point arrived;
    std::vector<PartitionedRecord> records;
    uint64_t bytes = 0;
  };
  // A delivery under way (or to retry): its intent is in the log once intent_lsn != 0.
  struct Delivery {
    stream::Lsn intent_lsn = 0;
    int64_t intent_time = 0;        // UTC seconds in the intent: part of the object names
    std::vector<Buffered> entries;  // ascending LSN
    // The definition read when the delivery was first tried; its retries use the same one, so
    // they write the same objects (a recovered delivery uses the definition at the restart).
    std::optional<stream::StreamDefinition> definition;
    int attempts = 0;
    int error_write_failures = 0;  // of its refused records' object (see kErrorWriteAttempts)
    bool recovered = false;        // its intent was found in the log at Open: a repeat
    // The names of a delivery moved forward in the log (DeliveredMark::moved): kept from its
    // first place, not taken from its entries (now one, at the mark's LSN).
    std::optional<DeliveryName> name;
  };
  // A partition whose objects could not be written: its deferred records wait for its next
  // attempt, while the stream's other partitions are delivered as usual.
  struct PartitionRetry {
    std::chrono::steady_clock::time_point next_attempt{};
    std::chrono::milliseconds backoff{0};
  };
  // What a delivery that was marked did: the partitions it deferred, the records it wrote.
  struct DeliveryReport {
    Status deferred_failure;  // the first partition's failure; OK when nothing was deferred
    std::set<std::string> deferred_partitions;
    int64_t delivered_records = 0;
  };
  struct StreamState {
    int64_t id = 0;
    stream::StreamDefinition definition;
    std::map<stream::Lsn, Buffered> buffer;
    std::map<std::string, uint64_t> partition_bytes;
    std::optional<Delivery> delivery;  // taken from the buffer, not yet marked delivered
    bool delivering = false;           // a worker is running (or will run) `delivery`
    std::chrono::steady_clock::time_point next_attempt{};
    std::chrono::milliseconds backoff{0};  // of `delivery`, which failed as a whole
    std::map<std::string, PartitionRetry> failing_partitions;
    std::optional<std::chrono::steady_clock::time_point> failing_since;
    // Set with `delivering`: the worker moves the stream's records forward in the log
    // instead of delivering (see MoveForward).
    bool move_forward = false;
    std::chrono::steady_clock::time_point moved_at{};
    StreamStats stats;
  };

  StreamService(StreamServiceOptions options, stream::StreamStore& streams,
                catalog::Catalog& catalog, storage::StoreResolver& stores, query::Engine& engine)
      : options_(std::move(options)),
        streams_(streams),
        catalog_(catalog),
        stores_(stores),
        engine_(engine),
        writer_(catalog, stores, engine, options_.max_record_depth, &abandon_) {}
  // A definition as Ingest uses it, read at most every options_.definition_ttl.
  struct KnownStream {
    stream::StoredStream stored;
    stream::PrefixExpression expression;
    std::chrono::steady_clock::time_point read_at;
  };
  Result<std::shared_ptr<const KnownStream>> Known(std::string_view stream_name);
  Status Recover();
  void RunTicker();
  void JoinThreads();  // REQUIRES: stopping_ set
  void RunWorker();
  // Moves due buffers into deliveries and returns the streams to deliver (all with anything
  // to deliver when `everything`); marks them delivering. REQUIRES: mutex_ held.
  std::vector<int64_t> TakeDue(bool everything);
  // Runs the stream's delivery and records the outcome (stats, backoff); then truncates.
  Status DeliverOne(int64_t id);
  // Rewrites a failing stream's records (its buffer, its unfinished delivery) at the end of
  // the log, so the entries before them can be truncated: a stream whose destination keeps
  // failing must not fill the log that every stream shares.
  Status MoveForward(int64_t id);
  // Delivers everything now, one stream after the other (Stop); returns the first failure.
  Status DeliverAll();
  StreamStats StatsOf(const StreamState& state);  // REQUIRES: mutex_ held
  // Delivers `delivery`. When some partitions' objects are written and others' cannot be,
  // the written ones are delivered and the others' records deferred (DeliveredMark):
  // returns OK with report->deferred_failure set.
  Status Deliver(StreamState& state, const stream::StreamDefinition& definition, Delivery& delivery,
                 DeliveryReport* report);
  // The wait after a failure: twice the last, from first_retry up to max_retry.
  std::chrono::milliseconds NextBackoff(std::chrono::milliseconds previous) const;
  // The partition could not be written and its next attempt is not due. REQUIRES: mutex_ held.
  static bool Waiting(const StreamState& state, const std::string& partition,
                      std::chrono::steady_clock::time_point now);
  // Every record of the buffered entry is Waiting. REQUIRES: mutex_ held.
  static bool HeldBack(const StreamState& state, const Buffered& entry,
                       std::chrono::steady_clock::time_point now);
  void TruncateDelivered();
  StreamState& StateFor(const stream::StoredStream& stored);  // REQUIRES: mutex_ held
  std::chrono::steady_clock::time_point Now() const { return options_.clock(); }

  const StreamServiceOptions options_;
  stream::StreamStore& streams_;
  catalog::Catalog& catalog_;
  storage::StoreResolver& stores_;
  query::Engine& engine_;
  std::unique_ptr<stream::WriteAheadLog> wal_;
  // Set when a Stop gives up: every engine call of a delivery is interrupted.
  std::atomic<bool> abandon_{false};
  DeliveryWriter writer_;

  std::mutex known_mutex_;
  std::map<std::string, std::shared_ptr<const KnownStream>, std::less<>> known_;  // by name
  std::mutex mutex_;
  std::condition_variable wakeup_;      // the ticker: a buffer is full, or stopping
  std::condition_variable work_ready_;  // the workers: due_ has work, or stopping
  std::deque<int64_t> due_;             // GUARDED_BY(mutex_); streams to deliver
  uint64_t buffered_bytes_ = 0;         // GUARDED_BY(mutex_); records in buffers and deliveries
  std::map<std::string, std::unique_ptr<std::mutex>> table_turns_;  // GUARDED_BY(mutex_)
  std::map<int64_t, StreamState> states_;  // GUARDED_BY(mutex_); by stream id
  // Lower bounds of the LSNs of appends under way (not yet buffered): the log must keep them.
  std::multiset<stream::Lsn> appending_;  // GUARDED_BY(mutex_)
  bool stopping_ = false;                 // GUARDED_BY(mutex_)
  bool stopped_ = false;                  // GUARDED_BY(mutex_)
  std::thread ticker_;
  std::vector<std::thread> workers_;
};

}  // namespace basin::delivery
