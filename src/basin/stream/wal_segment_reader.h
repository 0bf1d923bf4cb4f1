#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "basin/common/result.h"
#include "basin/stream/wal_format.h"

namespace basin::stream {

/// One entry read back from a segment. The payload is valid until the reader's next call.
struct EntryView {
  Lsn lsn = 0;
  EntryKind kind = EntryKind::kRecordBatch;
  uint64_t stream_id = 0;
  std::string_view payload;
  uint64_t offset = 0;  // of the entry's header in its segment file
};

/// Reads the entries of one segment file in order, through a buffer (memory: the larger of
/// 1 MiB and the largest entry). Used by recovery and by WriteAheadLog::Replay.
/// Thread-compatible; owns its file descriptor.
class SegmentReader {
 public:
  enum class Outcome {
    kEntry,  // entry() holds the next entry
    kEnd,    // clean end: the limit was reached exactly at an entry boundary
    kBad,    // the bytes at offset() are not a valid entry; bad_reason() says why
  };

  /// Opens `path` to read its first `limit` bytes (the whole file when limit is UINT64_MAX).
  /// Entries whose payload exceeds max_entry_bytes are reported as bad.
  static Result<std::unique_ptr<SegmentReader>> Open(std::string path, uint64_t limit,
                                                     uint32_t max_entry_bytes);
  ~SegmentReader();
  SegmentReader(const SegmentReader&) = delete;
  SegmentReader& operator=(const SegmentReader&) = delete;

  /// Reads the next entry. Errors are I/O failures only; a torn or corrupt entry is kBad.
  /// After kEnd or kBad, further calls return the same outcome.
  Result<Outcome> Next();

  const EntryView& entry() const { return entry_; }
  /// The file offset of the next unread entry; after kBad, of the bad entry.
  uint64_t offset() const { return offset_; }
  const std::string& bad_reason() const { return bad_reason_; }
  /// The bytes the reader may read (the limit, or the file size when that is smaller).
  uint64_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  SegmentReader(std::string path, int fd, uint64_t size, uint32_t max_entry_bytes);
  /// Makes `count` bytes from offset_ available in buffer_; false when the file ends first.
  Result<bool> Fill(size_t count);
  Outcome Bad(std::string reason);

  std::string path_;
  int fd_;
  uint64_t size_;
  uint32_t max_entry_bytes_;
  uint64_t offset_ = 0;
  std::string buffer_;  // file bytes from buffer_offset_
  uint64_t buffer_offset_ = 0;
  EntryView entry_;
  std::string bad_reason_;
};

}  // namespace basin::stream
