#include "basin/stream/wal_segment_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace basin::stream {
namespace {

constexpr size_t kReadChunkBytes = 1 << 20;

Status ReadError(std::string_view what, const std::string& path, int error) {
  return Status::IOError(std::string(what) + ": " + path + " (" + std::strerror(error) + ")");
}

}  // namespace

Result<std::unique_ptr<SegmentReader>> SegmentReader::Open(std::string path, uint64_t limit,
                                                           uint32_t max_entry_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int error = errno;
    if (error == ENOENT)
      return Status::NotFound("write-ahead log segment is gone: " + path);
    return ReadError("cannot open write-ahead log segment", path, error);
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int error = errno;
    ::close(fd);
    return ReadError("cannot stat write-ahead log segment", path, error);
  }
  uint64_t size = std::min<uint64_t>(limit, static_cast<uint64_t>(st.st_size));
  return std::unique_ptr<SegmentReader>(
      new SegmentReader(std::move(path), fd, size, max_entry_bytes));
}

SegmentReader::SegmentReader(std::string path, int fd, uint64_t size, uint32_t max_entry_bytes)
    : path_(std::move(path)), fd_(fd), size_(size), max_entry_bytes_(max_entry_bytes) {}

SegmentReader::~SegmentReader() {
  ::close(fd_);
}

Result<bool> SegmentReader::Fill(size_t count) {
  if (size_ - offset_ < count)
    return false;
  uint64_t have_from = offset_ - buffer_offset_;
  if (buffer_.size() - have_from >= count)
    return true;
  // Keep only the unread tail, then read at least a chunk after it.
  buffer_.erase(0, have_from);
  buffer_offset_ = offset_;
  size_t want = std::max(count, kReadChunkBytes);
  size_t target = static_cast<size_t>(std::min<uint64_t>(want, size_ - buffer_offset_));
  size_t have = buffer_.size();
  buffer_.resize(target);
  while (have < target) {
    ssize_t n = ::pread(fd_, buffer_.data() + have, target - have,
                        static_cast<off_t>(buffer_offset_ + have));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return ReadError("cannot read write-ahead log segment", path_, errno);
    if (n == 0)
      break;  // the file shrank under us: treat the rest as missing
    have += static_cast<size_t>(n);
  }
  buffer_.resize(have);
  return have >= count;
}

SegmentReader::Outcome SegmentReader::Bad(std::string reason) {
  bad_reason_ = std::move(reason);  // sticky: later calls return kBad
  return Outcome::kBad;
}

Result<SegmentReader::Outcome> SegmentReader::Next() {
  if (!bad_reason_.empty())
    return Outcome::kBad;
  if (offset_ == size_)
    return Outcome::kEnd;
  BASIN_ASSIGN_OR_RETURN(bool have_header, Fill(kEntryHeaderBytes));
  if (!have_header)
    return Bad("file ends inside an entry header");
  std::string_view header_bytes(buffer_.data() + (offset_ - buffer_offset_), kEntryHeaderBytes);
  std::optional<EntryHeader> header = DecodeEntryHeader(header_bytes);
  if (!header)
    return Bad("bad entry magic");
  if (header->version != kFormatVersion) {
    return Bad("unknown entry format version " + std::to_string(header->version));
  }
  if (header->payload_bytes > max_entry_bytes_) {
    return Bad("entry length " + std::to_string(header->payload_bytes) + " is over the limit of " +
               std::to_string(max_entry_bytes_));
  }
  BASIN_ASSIGN_OR_RETURN(bool have_entry, Fill(kEntryHeaderBytes + header->payload_bytes));
  if (!have_entry)
    return Bad("file ends inside an entry");
  // Fill may have moved the buffer.
  const char* start = buffer_.data() + (offset_ - buffer_offset_);
  header_bytes = std::string_view(start, kEntryHeaderBytes);
  std::string_view payload(start + kEntryHeaderBytes, header->payload_bytes);
  if (!EntryChecksumMatches(header_bytes, payload))
    return Bad("entry checksum mismatch");
  entry_ = EntryView{.lsn = header->lsn,
                     .kind = header->kind,
                     .stream_id = header->stream_id,
                     .payload = payload,
                     .offset = offset_};
  offset_ += kEntryHeaderBytes + header->payload_bytes;
  return Outcome::kEntry;
}

}  // namespace basin::stream
