#include "basin/stream/wal.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "basin/common/log.h"

namespace basin::stream {
namespace {

namespace fs = std::filesystem;

Status ErrnoStatus(std::string_view what, const std::string& path, int error) {
  return Status::IOError(std::string(what) + ": " + path + " (" + std::strerror(error) + ")");
}

Status FsyncDirectory(const std::string& folder) {
  int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return ErrnoStatus("cannot open write-ahead log folder", folder, errno);
  int rc = ::fsync(fd);
  int error = errno;
  ::close(fd);
  if (rc != 0)
    return ErrnoStatus("cannot sync write-ahead log folder", folder, error);
  return Status::OK();
}

// Writes every byte of `iov` at `offset`, resuming after short writes.
Status WriteFully(int fd, std::vector<iovec>& iov, uint64_t offset, const std::string& path) {
  size_t first = 0;
  while (first < iov.size()) {
    int count = static_cast<int>(std::min<size_t>(iov.size() - first, IOV_MAX));
    ssize_t written = ::pwritev(fd, iov.data() + first, count, static_cast<off_t>(offset));
    if (written < 0 && errno == EINTR)
      continue;
    if (written < 0)
      return ErrnoStatus("write-ahead log write failed", path, errno);
    offset += static_cast<uint64_t>(written);
    auto left = static_cast<size_t>(written);
    while (first < iov.size() && left >= iov[first].iov_len)
      left -= iov[first++].iov_len;
    if (left > 0) {
      iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + left;
      iov[first].iov_len -= left;
    }
  }
  return Status::OK();
}

}  // namespace

struct WriteAheadLog::Pending {
  std::array<char, kEntryHeaderBytes> header{};
  std::string_view payload;
  Lsn lsn = 0;
  uint64_t bytes() const { return kEntryHeaderBytes + payload.size(); }
};

Result<std::unique_ptr<WriteAheadLog>> WriteAheadLog::Open(std::string folder, WalOptions options) {
  if (options.segment_bytes < kEntryHeaderBytes || options.max_bytes < 2 * options.segment_bytes) {
    return Status::InvalidArgument(
        "write-ahead log limits are inconsistent: max_bytes " + std::to_string(options.max_bytes) +
        " must be at least twice segment_bytes " + std::to_string(options.segment_bytes));
  }
  std::unique_ptr<WriteAheadLog> log(new WriteAheadLog(std::move(folder), options));
  BASIN_RETURN_IF_ERROR(log->Recover());
  log->writer_ = std::thread([raw = log.get()] { raw->RunWriter(); });
  return log;
}

WriteAheadLog::WriteAheadLog(std::string folder, WalOptions options)
    : folder_(std::move(folder)), options_(options) {}

WriteAheadLog::~WriteAheadLog() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  writer_wakeup_.notify_one();
  if (writer_.joinable())
    writer_.join();
  if (active_fd_ >= 0)
    ::close(active_fd_);
}

std::string WriteAheadLog::SegmentPath(Lsn first_lsn) const {
  return (fs::path(folder_) / SegmentFileName(first_lsn)).string();
}

Status WriteAheadLog::Recover() {
  std::error_code error;
  fs::create_directories(folder_, error);
  if (error)
    return Status::IOError("cannot create write-ahead log folder: " + folder_ + " (" +
                           error.message() + ")");
  std::vector<Lsn> names;
  for (fs::directory_iterator it(folder_, error), end; !error && it != end; it.increment(error)) {
    if (std::optional<Lsn> lsn = ParseSegmentFileName(it->path().filename().string()))
      names.push_back(*lsn);
  }
  if (error)
    return Status::IOError("cannot list write-ahead log folder: " + folder_ + " (" +
                           error.message() + ")");
  std::sort(names.begin(), names.end());

  Lsn next_lsn = names.empty() ? 1 : names.front();
  for (size_t i = 0; i < names.size(); ++i) {
    std::string path = SegmentPath(names[i]);
    bool last = i + 1 == names.size();
    if (names[i] != next_lsn) {
      return Status::Internal("write-ahead log segments are not contiguous: " + path +
                              " follows entries up to " + std::to_string(next_lsn - 1));
    }
    BASIN_ASSIGN_OR_RETURN(std::unique_ptr<SegmentReader> reader,
                           SegmentReader::Open(path, UINT64_MAX, options_.max_entry_bytes));
    std::string bad_reason;
    uint64_t valid_end = 0;
    while (bad_reason.empty()) {
      BASIN_ASSIGN_OR_RETURN(SegmentReader::Outcome outcome, reader->Next());
      if (outcome == SegmentReader::Outcome::kEnd)
        break;
      if (outcome == SegmentReader::Outcome::kBad) {
        bad_reason = reader->bad_reason();
      } else if (reader->entry().lsn != next_lsn) {
        bad_reason = "entry has lsn " + std::to_string(reader->entry().lsn) + " where " +
                     std::to_string(next_lsn) + " was expected";
      } else {
        ++next_lsn;
        ++recovery_.entries;
      }
      valid_end = bad_reason.empty() ? reader->offset() : valid_end;
    }
    if (!bad_reason.empty()) {
      std::string where =
          path + " at offset " + std::to_string(valid_end) + " (" + bad_reason + ")";
      if (!last) {
        return Status::Internal("write-ahead log is corrupt: " + where +
                                "; only the last segment may have a torn tail");
      }
      // A crash before the last group's fdatasync returned: none of it was acknowledged.
      recovery_.dropped_bytes = reader->size() - valid_end;
      recovery_.dropped_reason = where;
      int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
      if (fd < 0)
        return ErrnoStatus("cannot open write-ahead log segment to cut its torn tail", path, errno);
      bool cut = ::ftruncate(fd, static_cast<off_t>(valid_end)) == 0 && ::fdatasync(fd) == 0;
      int cut_error = errno;
      ::close(fd);
      if (!cut)
        return ErrnoStatus("cannot cut the torn tail of write-ahead log segment", path, cut_error);
      log::Warn("wal_torn_tail_dropped", {{"segment", path},
                                          {"offset", valid_end},
                                          {"dropped_bytes", recovery_.dropped_bytes},
                                          {"reason", bad_reason}});
    }
    segments_.push_back(Segment{.first_lsn = names[i], .bytes = valid_end});
    disk_bytes_ += valid_end;
  }
  recovery_.segments = names.size();
  next_lsn_ = next_lsn;
  durable_lsn_ = next_lsn - 1;
  synced_lsn_ = durable_lsn_;

  if (segments_.empty())
    return StartSegment(next_lsn_);
  const Segment& active = segments_.back();
  std::string path = SegmentPath(active.first_lsn);
  active_fd_ = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (active_fd_ < 0)
    return ErrnoStatus("cannot open write-ahead log segment", path, errno);
  active_first_lsn_ = active.first_lsn;
  active_bytes_ = active.bytes;
  synced_active_bytes_ = active.bytes;
  return Status::OK();
}

Status WriteAheadLog::StartSegment(Lsn first_lsn) {
  std::string path = SegmentPath(first_lsn);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0)
    return ErrnoStatus("cannot create write-ahead log segment", path, errno);
  // The new name must survive a crash, or recovery would miss the entries written to it.
  Status synced = FsyncDirectory(folder_);
  if (!synced.ok()) {
    ::close(fd);
    return synced;
  }
  ++fsyncs_;
  if (active_fd_ >= 0) {
    ::close(active_fd_);
    rolled_.push_back(Segment{.first_lsn = active_first_lsn_, .bytes = active_bytes_});
  } else {
    // Only Open starts a segment without an active one; the writer thread is not running yet.
    segments_.push_back(Segment{.first_lsn = first_lsn, .bytes = 0});
  }
  active_fd_ = fd;
  active_first_lsn_ = first_lsn;
  active_bytes_ = 0;
  return Status::OK();
}

Result<Lsn> WriteAheadLog::Append(const Entry& entry) {
  if (entry.payload.size() > options_.max_entry_bytes) {
    return Status::PayloadTooLarge(
        "write-ahead log entry is too large: " + std::to_string(entry.payload.size()) +
        " bytes, the limit is " + std::to_string(options_.max_entry_bytes));
  }
  // The checksum is the costly part of an append: outside the lock.
  uint32_t payload_crc = Crc32c(entry.payload);
  Pending pending;
  pending.payload = entry.payload;
  std::unique_lock lock(mutex_);
  if (!failure_.ok()) {
    return Status::FailedPrecondition(
        "write-ahead log refuses appends after a failed write (reopen it): " + failure_.message());
  }
  if (stopping_)
    return Status::FailedPrecondition("write-ahead log is closed: " + folder_);
  uint64_t in_use = disk_bytes_ + queued_bytes_;
  if (entry.kind == EntryKind::kRecordBatch && in_use + pending.bytes() > options_.max_bytes) {
    ++counters_.rejected_full;
    return Status::Unavailable("write-ahead log is full (" + std::to_string(in_use) + " bytes of " +
                               std::to_string(options_.max_bytes) +
                               "); retry after delivery catches up");
  }
  pending.lsn = next_lsn_++;
  pending.header = EncodeEntryHeader(entry.kind, pending.lsn, entry.stream_id,
                                     static_cast<uint32_t>(entry.payload.size()), payload_crc);
  queued_bytes_ += pending.bytes();
  queue_.push_back(&pending);
  // The writer sleeps only on an empty queue.
  if (queue_.size() == 1)
    writer_wakeup_.notify_one();
  group_done_.wait(lock, [&] { return durable_lsn_ >= pending.lsn || !failure_.ok(); });
  if (durable_lsn_ >= pending.lsn)
    return pending.lsn;
  return failure_;
}

void WriteAheadLog::RunWriter() {
  std::vector<Pending*> group;
  std::unique_lock lock(mutex_);
  while (true) {
    writer_wakeup_.wait(lock, [&] { return !queue_.empty() || stopping_; });
    if (queue_.empty())
      return;  // stopping, and everything queued is written
    group.swap(queue_);
    lock.unlock();
    Status written = WriteGroup(group);
    lock.lock();
    // Publish what reached the disk, successful or not.
    for (const Segment& segment : rolled_) {
      if (segments_.back().first_lsn == segment.first_lsn) {
        disk_bytes_ += segment.bytes - segments_.back().bytes;
        segments_.back().bytes = segment.bytes;
      } else {
        segments_.push_back(segment);
        disk_bytes_ += segment.bytes;
      }
    }
    rolled_.clear();
    if (segments_.back().first_lsn == active_first_lsn_) {
      disk_bytes_ += synced_active_bytes_ - segments_.back().bytes;
      segments_.back().bytes = synced_active_bytes_;
    } else {
      segments_.push_back(Segment{.first_lsn = active_first_lsn_, .bytes = synced_active_bytes_});
      disk_bytes_ += synced_active_bytes_;
    }
    uint64_t group_bytes = 0;
    for (const Pending* pending : group) {
      group_bytes += pending->bytes();
      if (pending->lsn <= synced_lsn_) {
        ++counters_.appended_entries;
        counters_.appended_bytes += pending->bytes();
      }
    }
    queued_bytes_ -= group_bytes;
    durable_lsn_ = synced_lsn_;
    counters_.fsyncs = fsyncs_;
    ++counters_.groups;
    if (!written.ok()) {
      // After a failed write or fsync nothing later can be promised durable: fail every
      // waiter (their entries are dropped from the queue) and refuse new appends.
      failure_ = written;
      for (const Pending* pending : queue_)
        queued_bytes_ -= pending->bytes();
      queue_.clear();
      log::Error("wal_write_failed", {{"folder", folder_}, {"error", written.message()}});
    }
    group.clear();
    group_done_.notify_all();
  }
}

Status WriteAheadLog::WriteGroup(const std::vector<Pending*>& group) {
  size_t begin = 0;
  uint64_t batch_bytes = 0;
  for (size_t i = 0; i < group.size(); ++i) {
    uint64_t bytes = group[i]->bytes();
    uint64_t segment_fill = active_bytes_ + batch_bytes;
    if (segment_fill > 0 && segment_fill + bytes > options_.segment_bytes) {
      BASIN_RETURN_IF_ERROR(WriteAndSync(group, begin, i));
      BASIN_RETURN_IF_ERROR(StartSegment(group[i]->lsn));
      synced_active_bytes_ = 0;
      begin = i;
      batch_bytes = 0;
    }
    batch_bytes += bytes;
  }
  return WriteAndSync(group, begin, group.size());
}

Status WriteAheadLog::WriteAndSync(const std::vector<Pending*>& group, size_t begin, size_t end) {
  if (begin == end)
    return Status::OK();
  iov_.clear();
  uint64_t bytes = 0;
  for (size_t i = begin; i < end; ++i) {
    Pending* pending = group[i];
    iov_.push_back(iovec{pending->header.data(), kEntryHeaderBytes});
    if (!pending->payload.empty()) {
      iov_.push_back(iovec{const_cast<char*>(pending->payload.data()), pending->payload.size()});
    }
    bytes += pending->bytes();
  }
  std::string path = SegmentPath(active_first_lsn_);
  BASIN_RETURN_IF_ERROR(WriteFully(active_fd_, iov_, active_bytes_, path));
  active_bytes_ += bytes;
  if (::fdatasync(active_fd_) != 0)
    return ErrnoStatus("write-ahead log fdatasync failed", path, errno);
  ++fsyncs_;
  synced_active_bytes_ = active_bytes_;
  synced_lsn_ = group[end - 1]->lsn;
  return Status::OK();
}

Status WriteAheadLog::Replay(Lsn from_lsn,
                             const std::function<Status(const EntryView&)>& visit) const {
  std::vector<Segment> snapshot;
  {
    std::lock_guard lock(mutex_);
    snapshot.assign(segments_.begin(), segments_.end());
  }
  for (size_t i = 0; i < snapshot.size(); ++i) {
    if (i + 1 < snapshot.size() && snapshot[i + 1].first_lsn <= from_lsn)
      continue;
    std::string path = SegmentPath(snapshot[i].first_lsn);
    BASIN_ASSIGN_OR_RETURN(std::unique_ptr<SegmentReader> reader,
                           SegmentReader::Open(path, snapshot[i].bytes, options_.max_entry_bytes));
    while (true) {
      BASIN_ASSIGN_OR_RETURN(SegmentReader::Outcome outcome, reader->Next());
      if (outcome == SegmentReader::Outcome::kEnd)
        break;
      if (outcome == SegmentReader::Outcome::kBad) {
        return Status::Internal("write-ahead log is corrupt: " + path + " at offset " +
                                std::to_string(reader->offset()) + " (" + reader->bad_reason() +
                                ")");
      }
      if (reader->entry().lsn >= from_lsn)
        BASIN_RETURN_IF_ERROR(visit(reader->entry()));
    }
  }
  return Status::OK();
}

Result<uint64_t> WriteAheadLog::TruncateBefore(Lsn lsn) {
  std::vector<Lsn> doomed;
  {
    std::lock_guard lock(mutex_);
    // A segment's entries all precede the next segment's first LSN; the last one is active.
    while (segments_.size() >= 2 && segments_[1].first_lsn <= lsn) {
      doomed.push_back(segments_.front().first_lsn);
      disk_bytes_ -= segments_.front().bytes;
      segments_.pop_front();
    }
  }
  // Oldest first, so a crash midway leaves a contiguous log.
  for (Lsn first_lsn : doomed) {
    std::string path = SegmentPath(first_lsn);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return ErrnoStatus("cannot delete write-ahead log segment", path, errno);
    }
  }
  if (!doomed.empty())
    BASIN_RETURN_IF_ERROR(FsyncDirectory(folder_));
  return static_cast<uint64_t>(doomed.size());
}

WalCounters WriteAheadLog::counters() const {
  std::lock_guard lock(mutex_);
  WalCounters counters = counters_;
  counters.bytes_on_disk = disk_bytes_;
  counters.segments = segments_.size();
  counters.oldest_live_lsn = segments_.empty() ? next_lsn_ : segments_.front().first_lsn;
  counters.next_lsn = next_lsn_;
  return counters;
}

}  // namespace basin::stream
