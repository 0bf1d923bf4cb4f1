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
  bool done = false;  // GUARDED_BY(mutex_); no committer uses this Pending any more
  Status status;      // GUARDED_BY(mutex_); set with done
  uint64_t bytes() const { return kEntryHeaderBytes + payload.size(); }
};

struct WriteAheadLog::Group {
  uint64_t sequence = 0;
  std::vector<Pending*> entries;
  std::vector<Segment> written;       // each touched segment's size after this group, in order
  std::shared_ptr<SegmentFile> file;  // where the group's last entries went: what to sync
  Status status;
  uint64_t bytes() const {
    uint64_t total = 0;
    for (const Pending* pending : entries)
      total += pending->bytes();
    return total;
  }
};

// Each committer syncs through its own open file description: write-back errors are
// reported once per description, so a shared one could hand one committer's error to
// another and let a failed group look durable.
struct WriteAheadLog::SegmentFile {
  Lsn first_lsn = 0;
  int write_fd = -1;
  std::vector<int> sync_fds;
  ~SegmentFile() {
    if (write_fd >= 0)
      ::close(write_fd);
    for (int fd : sync_fds)
      ::close(fd);
  }
};

Result<std::unique_ptr<WriteAheadLog>> WriteAheadLog::Open(std::string folder, WalOptions options) {
  if (options.sync_depth < 1 || options.sync_depth > 64) {
    return Status::InvalidArgument("write-ahead log sync_depth must be 1 to 64, not " +
                                   std::to_string(options.sync_depth));
  }
  if (options.segment_bytes < kEntryHeaderBytes || options.max_bytes < 2 * options.segment_bytes) {
    return Status::InvalidArgument(
        "write-ahead log limits are inconsistent: max_bytes " + std::to_string(options.max_bytes) +
        " must be at least twice segment_bytes " + std::to_string(options.segment_bytes));
  }
  std::unique_ptr<WriteAheadLog> log(new WriteAheadLog(std::move(folder), options));
  BASIN_RETURN_IF_ERROR(log->Recover());
  for (size_t committer = 0; committer < options.sync_depth; ++committer) {
    log->committers_.emplace_back([raw = log.get(), committer] { raw->RunCommitter(committer); });
  }
  return log;
}

WriteAheadLog::WriteAheadLog(std::string folder, WalOptions options)
    : folder_(std::move(folder)), options_(options) {}

WriteAheadLog::~WriteAheadLog() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  committer_wakeup_.notify_all();
  for (std::thread& committer : committers_)
    committer.join();
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
                           SegmentReader::Open(path, UINT64_MAX, kMaxStoredEntryBytes));
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

  // No committer runs yet: write_mutex_ is not needed.
  bool create = segments_.empty();
  if (create)
    segments_.push_back(Segment{.first_lsn = next_lsn_, .bytes = 0});
  BASIN_ASSIGN_OR_RETURN(active_, OpenSegmentFile(segments_.back().first_lsn, create));
  active_bytes_ = segments_.back().bytes;
  return Status::OK();
}

Result<std::shared_ptr<WriteAheadLog::SegmentFile>> WriteAheadLog::OpenSegmentFile(Lsn first_lsn,
                                                                                   bool create) {
  std::string path = SegmentPath(first_lsn);
  auto file = std::make_shared<SegmentFile>();
  file->first_lsn = first_lsn;
  file->write_fd =
      ::open(path.c_str(), O_WRONLY | O_CLOEXEC | (create ? O_CREAT | O_EXCL : 0), 0644);
  if (file->write_fd < 0) {
    return ErrnoStatus(
        create ? "cannot create write-ahead log segment" : "cannot open write-ahead log segment",
        path, errno);
  }
  for (uint32_t i = 0; i < options_.sync_depth; ++i) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0)
      return ErrnoStatus("cannot open write-ahead log segment", path, errno);
    file->sync_fds.push_back(fd);
  }
  if (create) {
    // The new name must survive a crash, or recovery would miss the entries written to it.
    BASIN_RETURN_IF_ERROR(FsyncDirectory(folder_));
    ++fsyncs_;
  }
  return file;
}

Result<Lsn> WriteAheadLog::Append(const Entry& entry) {
  // Marks may carry a delivery's deferred records, more than one request holds: they have
  // only the bound every reader checks.
  const uint64_t limit =
      entry.kind == EntryKind::kRecordBatch ? options_.max_entry_bytes : kMaxStoredEntryBytes;
  if (entry.payload.size() > limit) {
    return Status::PayloadTooLarge(
        "write-ahead log entry is too large: " + std::to_string(entry.payload.size()) +
        " bytes, the limit is " + std::to_string(limit));
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
  // Committers sleep only on an empty queue.
  if (queue_.size() == 1)
    committer_wakeup_.notify_one();
  group_done_.wait(lock, [&] { return pending.done; });
  if (!pending.status.ok())
    return pending.status;
  return pending.lsn;
}

void WriteAheadLog::RunCommitter(size_t committer) {
  while (true) {
    auto group = std::make_unique<Group>();
    {
      std::lock_guard write_lock(write_mutex_);
      {
        std::unique_lock lock(mutex_);
        committer_wakeup_.wait(lock, [&] { return !queue_.empty() || stopping_; });
        if (queue_.empty())
          return;  // stopping, and everything queued is written
        group->entries.swap(queue_);
      }
      group->sequence = next_group_++;
      group->status = write_failure_.ok() ? WriteGroup(*group, committer) : write_failure_;
      if (!group->status.ok())
        write_failure_ = group->status;
    }
    // Outside write_mutex_: the next committer writes the next group meanwhile.
    if (group->status.ok())
      group->status = Sync(*group->file, committer);
    std::lock_guard lock(mutex_);
    Complete(std::move(group));
  }
}

Status WriteAheadLog::WriteGroup(Group& group, size_t committer) {
  size_t begin = 0;
  uint64_t batch_bytes = 0;
  for (size_t i = 0; i < group.entries.size(); ++i) {
    uint64_t bytes = group.entries[i]->bytes();
    uint64_t segment_fill = active_bytes_ + batch_bytes;
    if (segment_fill > 0 && segment_fill + bytes > options_.segment_bytes) {
      BASIN_RETURN_IF_ERROR(WriteEntries(group, begin, i));
      // Recovery treats a bad entry before the last segment as corruption, not a torn
      // tail: so a segment is complete on disk before the next one exists.
      BASIN_RETURN_IF_ERROR(Sync(*active_, committer));
      group.written.push_back(Segment{.first_lsn = active_->first_lsn, .bytes = active_bytes_});
      BASIN_ASSIGN_OR_RETURN(active_, OpenSegmentFile(group.entries[i]->lsn, /*create=*/true));
      active_bytes_ = 0;
      begin = i;
      batch_bytes = 0;
    }
    batch_bytes += bytes;
  }
  BASIN_RETURN_IF_ERROR(WriteEntries(group, begin, group.entries.size()));
  group.written.push_back(Segment{.first_lsn = active_->first_lsn, .bytes = active_bytes_});
  group.file = active_;
  return Status::OK();
}

Status WriteAheadLog::WriteEntries(const Group& group, size_t begin, size_t end) {
  if (begin == end)
    return Status::OK();
  iov_.clear();
  uint64_t bytes = 0;
  for (size_t i = begin; i < end; ++i) {
    Pending* pending = group.entries[i];
    iov_.push_back(iovec{pending->header.data(), kEntryHeaderBytes});
    if (!pending->payload.empty()) {
      iov_.push_back(iovec{const_cast<char*>(pending->payload.data()), pending->payload.size()});
    }
    bytes += pending->bytes();
  }
  BASIN_RETURN_IF_ERROR(
      WriteFully(active_->write_fd, iov_, active_bytes_, SegmentPath(active_->first_lsn)));
  active_bytes_ += bytes;
  return Status::OK();
}

Status WriteAheadLog::Sync(const SegmentFile& file, size_t committer) {
  if (::fdatasync(file.sync_fds[committer]) != 0) {
    return ErrnoStatus("write-ahead log fdatasync failed", SegmentPath(file.first_lsn), errno);
  }
  ++fsyncs_;
  return Status::OK();
}

void WriteAheadLog::Complete(std::unique_ptr<Group> group) {
  completed_.emplace(group->sequence, std::move(group));
  while (!completed_.empty() && completed_.begin()->first == next_to_publish_) {
    std::unique_ptr<Group> next = std::move(completed_.begin()->second);
    completed_.erase(completed_.begin());
    ++next_to_publish_;
    Publish(*next);
  }
  group_done_.notify_all();
}

void WriteAheadLog::Publish(Group& group) {
  uint64_t group_bytes = group.bytes();
  queued_bytes_ -= group_bytes;
  ++counters_.groups;
  if (failure_.ok() && !group.status.ok()) {
    // After a failed write or fsync nothing later can be promised durable: fail this group,
    // every later one, and everything queued, and refuse new appends.
    failure_ = group.status;
    log::Error("wal_write_failed", {{"folder", folder_}, {"error", failure_.message()}});
    for (Pending* pending : queue_) {
      queued_bytes_ -= pending->bytes();
      pending->status = failure_;
      pending->done = true;
    }
    queue_.clear();
  }
  if (!failure_.ok()) {
    for (Pending* pending : group.entries) {
      pending->status = failure_;
      pending->done = true;
    }
    return;
  }
  for (const Segment& segment : group.written) {
    if (!segments_.empty() && segments_.back().first_lsn == segment.first_lsn) {
      disk_bytes_ += segment.bytes - segments_.back().bytes;
      segments_.back().bytes = segment.bytes;
    } else {
      segments_.push_back(segment);
      disk_bytes_ += segment.bytes;
    }
  }
  counters_.appended_entries += group.entries.size();
  counters_.appended_bytes += group_bytes;
  for (Pending* pending : group.entries)
    pending->done = true;
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
                           SegmentReader::Open(path, snapshot[i].bytes, kMaxStoredEntryBytes));
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
  counters.fsyncs = fsyncs_;
  counters.bytes_on_disk = disk_bytes_;
  counters.segments = segments_.size();
  counters.oldest_live_lsn = segments_.empty() ? next_lsn_ : segments_.front().first_lsn;
  counters.next_lsn = next_lsn_;
  return counters;
}

}  // namespace basin::stream
