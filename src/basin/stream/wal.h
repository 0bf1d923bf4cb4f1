#pragma once

// The stream write-ahead log: what a record must reach before it is acknowledged.
//
// A folder (home/streams/wal/) of segment files `wal-<first lsn, 20 digits>.log` (format in
// wal_format.h). Every entry gets the next LSN (one per entry; a record is at (lsn, index)).
//
// Group commit: Append queues the entry and sleeps; a committer thread takes everything
// queued, writes it with one pwritev(2) and calls fdatasync(2) once for the whole group,
// then wakes the group's appenders. While it syncs, the next group queues up, so many
// concurrent appenders share each fsync. Append returns only after its entry is durable.
// With sync_depth committers, the next committer may write and sync the next group while
// the previous group's fdatasync is still running; groups are still written in LSN order
// (one committer writes at a time) and are acknowledged in that order: a group counts as
// durable only when it and every earlier group have synced without error.
//
// Recovery (Open): segments are scanned in LSN order and every entry's CRC, LSN sequence and
// length are checked. A bad entry in the LAST segment is a torn tail (a crash before its
// group's fdatasync returned, so none of it was acknowledged): the file is truncated there
// and the dropped bytes are reported. Like PostgreSQL and RocksDB's point-in-time recovery,
// everything from the first bad entry on is dropped, because unsynced pages can reach the
// disk in any order. A bad entry in an earlier segment cannot come from a crash (a segment
// is fsync'ed before the next is created), so Open fails, naming the file and offset.
//
// Bounded disk use: TruncateBefore deletes segments whose entries are all delivered, and
// Append of a record batch fails fast with Unavailable when live segments plus queued
// entries would exceed max_bytes.

#include <sys/uio.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "basin/common/result.h"
#include "basin/stream/wal_format.h"
#include "basin/stream/wal_segment_reader.h"

namespace basin::stream {

struct WalOptions {
  /// A segment is rolled (a new file started) before an entry would take it past this.
  uint64_t segment_bytes = 64ull << 20;
  /// Disk use of live segments plus queued entries above which record batches are refused.
  /// Must be at least twice segment_bytes (the active segment is never deleted).
  uint64_t max_bytes = 1ull << 30;
  /// Largest payload of one record batch; larger appends get PayloadTooLarge. Flush intents
  /// and delivered marks (which may carry a delivery's deferred records) may be larger, up
  /// to kMaxStoredEntryBytes.
  uint32_t max_entry_bytes = 16u << 20;
  /// Committer threads, so up to this many groups' fdatasyncs run at once (1: strictly one
  /// group at a time). Overlapping syncs were much faster on the reference machine (see
  /// docs/benchmarks.md, "Stream write-ahead log").
  uint32_t sync_depth = 2;
};

/// An entry to append. The payload is only read during Append, which blocks until durable.
/// No entry's payload is larger: readers take a larger length for a torn or corrupt entry.
inline constexpr uint32_t kMaxStoredEntryBytes = 1u << 30;

struct Entry {
  EntryKind kind = EntryKind::kRecordBatch;
  uint64_t stream_id = 0;
  std::string_view payload;
};

/// What Open found and repaired.
struct WalRecovery {
  uint64_t segments = 0;
  uint64_t entries = 0;        // valid entries found
  uint64_t dropped_bytes = 0;  // torn tail cut from the last segment
  std::string dropped_reason;  // why, with file and offset ("" when nothing was dropped)
};

/// Counters since Open (entries, bytes, fsyncs) and the current state (disk, LSNs).
struct WalCounters {
  uint64_t appended_entries = 0;
  uint64_t appended_bytes = 0;  // headers included
  uint64_t fsyncs = 0;          // fdatasync calls on segments (one per group, plus rolls)
  uint64_t groups = 0;          // write groups committed
  uint64_t rejected_full = 0;   // appends refused because the log was full
  uint64_t bytes_on_disk = 0;   // live segments
  uint64_t segments = 0;
  Lsn oldest_live_lsn = 0;  // first LSN of the oldest segment
  Lsn next_lsn = 0;         // LSN the next append gets
};

/// Thread-safe: Append, Replay, TruncateBefore and counters may be called from any thread.
/// Owns committer threads, stopped (after writing everything queued) by the destructor.
/// REQUIRES: no call is in progress when the log is destroyed.
class WriteAheadLog {
 public:
  /// Opens (creating if missing) the log in `folder` and recovers it (see the file comment).
  /// Errors: InvalidArgument for bad options, Internal for corruption before the last
  /// segment or broken LSN sequence (message names the file and offset), IOError.
  static Result<std::unique_ptr<WriteAheadLog>> Open(std::string folder, WalOptions options = {});
  ~WriteAheadLog();
  WriteAheadLog(const WriteAheadLog&) = delete;
  WriteAheadLog& operator=(const WriteAheadLog&) = delete;

  /// Appends `entry` and returns its LSN once it is fsync'ed. Errors: PayloadTooLarge,
  /// Unavailable when the log is full (record batches only: flush intents and delivered
  /// marks are always admitted, since they are what lets the log shrink), FailedPrecondition
  /// after a write failed (the log refuses further appends until reopened) or when closing,
  /// IOError for the write or fsync failure itself.
  Result<Lsn> Append(const Entry& entry);

  /// Calls `visit` for every durable entry with lsn >= from_lsn, in LSN order, until it
  /// returns an error (which Replay returns). Entries appended during Replay may or may not
  /// be visited. Must not run concurrently with TruncateBefore of the same range (NotFound).
  Status Replay(Lsn from_lsn, const std::function<Status(const EntryView&)>& visit) const;

  /// Deletes every segment whose entries all have lsn < `lsn`, except the active one.
  /// Returns the number of segments deleted.
  Result<uint64_t> TruncateBefore(Lsn lsn);

  WalCounters counters() const;
  const WalRecovery& recovery() const { return recovery_; }
  const std::string& folder() const { return folder_; }

 private:
  struct Segment {
    Lsn first_lsn = 0;
    uint64_t bytes = 0;  // durable bytes
  };
  struct Pending;      // an Append waiting for its group
  struct Group;        // entries written together and synced with one fdatasync
  struct SegmentFile;  // a segment's write descriptor, and one sync descriptor per committer

  WriteAheadLog(std::string folder, WalOptions options);
  Status Recover();
  Result<std::shared_ptr<SegmentFile>> OpenSegmentFile(Lsn first_lsn, bool create);
  void RunCommitter(size_t committer);
  Status WriteGroup(Group& group, size_t committer);                  // REQUIRES: write_mutex_ held
  Status WriteEntries(const Group& group, size_t begin, size_t end);  // REQUIRES: write_mutex_
  Status Sync(const SegmentFile& file, size_t committer);
  void Complete(std::unique_ptr<Group> group);  // REQUIRES: mutex_ held
  void Publish(Group& group);                   // REQUIRES: mutex_ held
  std::string SegmentPath(Lsn first_lsn) const;

  const std::string folder_;
  const WalOptions options_;
  WalRecovery recovery_;

  mutable std::mutex mutex_;
  std::condition_variable committer_wakeup_;
  std::condition_variable group_done_;
  std::vector<Pending*> queue_;   // GUARDED_BY(mutex_)
  std::deque<Segment> segments_;  // GUARDED_BY(mutex_); oldest first, durable sizes
  Lsn next_lsn_ = 1;              // GUARDED_BY(mutex_)
  uint64_t disk_bytes_ = 0;       // GUARDED_BY(mutex_)
  uint64_t queued_bytes_ = 0;     // GUARDED_BY(mutex_); accepted, not yet published
  Status failure_;                // GUARDED_BY(mutex_); sticky write/fsync failure
  bool stopping_ = false;         // GUARDED_BY(mutex_)
  WalCounters counters_;          // GUARDED_BY(mutex_); the cumulative fields
  // Groups whose fdatasync returned before an earlier group's: published in order.
  std::map<uint64_t, std::unique_ptr<Group>> completed_;  // GUARDED_BY(mutex_)
  uint64_t next_to_publish_ = 0;                          // GUARDED_BY(mutex_)

  // Held while a committer takes a group from the queue and writes it, so that file order
  // is LSN order. Lock order: write_mutex_, then mutex_.
  std::mutex write_mutex_;
  std::shared_ptr<SegmentFile> active_;  // GUARDED_BY(write_mutex_)
  uint64_t active_bytes_ = 0;            // GUARDED_BY(write_mutex_); written, maybe not synced
  uint64_t next_group_ = 0;              // GUARDED_BY(write_mutex_)
  // A failed write leaves the file's end unknown: no later group may be written after it
  // (nor start a segment that recovery would find after a gap).
  Status write_failure_;    // GUARDED_BY(write_mutex_)
  std::vector<iovec> iov_;  // GUARDED_BY(write_mutex_)
  std::atomic<uint64_t> fsyncs_ = 0;

  std::vector<std::thread> committers_;
};

}  // namespace basin::stream
