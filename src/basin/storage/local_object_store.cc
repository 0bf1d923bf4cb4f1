#include "basin/storage/local_object_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "basin/common/crypto.h"

namespace basin::storage {
namespace {

namespace fs = std::filesystem;
constexpr std::string_view kTempPrefix = ".basin-tmp-";

Status ErrnoStatus(std::string_view what, const std::string& path, int error) {
  std::string message = std::string(what) + ": " + path + " (" + std::strerror(error) + ")";
  if (error == ENOENT) return Status::NotFound(message);
  if (error == EACCES || error == EPERM) return Status::PermissionDenied(message);
  if (error == ENOSPC) return Status::ResourceExhausted(message);
  // A key that is a folder, or runs through a file: the caller's conflict, not an I/O fault.
  if (error == EISDIR || error == ENOTDIR || error == EEXIST) {
    return Status::FailedPrecondition(message + "; an object key cannot also be a folder of other objects");
  }
  return Status::IOError(message);
}

std::chrono::system_clock::time_point ModifiedTime(const struct stat& st) {
  auto since_epoch = std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec);
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(since_epoch));
}

// Cheap and changes whenever a write replaces the file (new inode and mtime).
std::string LocalEtag(const struct stat& st) {
  std::string seed = std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) + "." +
                     std::to_string(st.st_mtim.tv_nsec) + ":" + std::to_string(st.st_ino);
  return Sha256Hex(seed).substr(0, 32);
}

ObjectInfo InfoOf(std::string key, const struct stat& st) {
  ObjectInfo info;
  info.key = std::move(key);
  info.size = static_cast<uint64_t>(st.st_size);
  info.modified = ModifiedTime(st);
  info.etag = LocalEtag(st);
  return info;
}

Status FsyncDirectory(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("cannot open folder", dir, errno);
  int rc = ::fsync(fd);
  int error = errno;
  ::close(fd);
  if (rc != 0) return ErrnoStatus("cannot sync folder", dir, error);
  return Status::OK();
}

class LocalReader final : public RandomAccessReader {
 public:
  LocalReader(int fd, ObjectInfo info, std::string path, std::shared_ptr<std::atomic<uint64_t>> bytes,
              std::shared_ptr<std::atomic<uint64_t>> requests)
      : fd_(fd), size_(info.size), info_(std::move(info)), path_(std::move(path)), bytes_(std::move(bytes)),
        requests_(std::move(requests)) {}
  ~LocalReader() override { ::close(fd_); }

  uint64_t size() const override { return size_; }
  const ObjectInfo& info() const override { return info_; }

  Result<size_t> ReadAt(uint64_t offset, size_t length, char* out) override {
    size_t done = 0;
    while (done < length) {
      ssize_t got = ::pread(fd_, out + done, length - done, static_cast<off_t>(offset + done));
      if (got < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus("read failed", path_, errno);
      }
      if (got == 0) break;
      done += static_cast<size_t>(got);
    }
    bytes_->fetch_add(done, std::memory_order_relaxed);
    requests_->fetch_add(1, std::memory_order_relaxed);
    return done;
  }

 private:
  int fd_;
  uint64_t size_;
  ObjectInfo info_;
  std::string path_;
  std::shared_ptr<std::atomic<uint64_t>> bytes_;
  std::shared_ptr<std::atomic<uint64_t>> requests_;
};

class LocalWriter final : public ObjectWriter {
 public:
  LocalWriter(int fd, std::string temp_path, std::string final_path)
      : fd_(fd), temp_path_(std::move(temp_path)), final_path_(std::move(final_path)) {}
  ~LocalWriter() override { (void)Abort(); }

  Status Append(std::string_view data) override {
    if (fd_ < 0) return Status::FailedPrecondition("write after close: " + final_path_);
    while (!data.empty()) {
      ssize_t put = ::write(fd_, data.data(), data.size());
      if (put < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus("write failed", final_path_, errno);
      }
      data.remove_prefix(static_cast<size_t>(put));
    }
    return Status::OK();
  }

  Status Close() override {
    if (fd_ < 0) return Status::FailedPrecondition("object already closed: " + final_path_);
    if (::fsync(fd_) != 0) {
      Status failed = ErrnoStatus("fsync failed", final_path_, errno);
      (void)Abort();
      return failed;
    }
    ::close(fd_);
    fd_ = -1;
    if (::rename(temp_path_.c_str(), final_path_.c_str()) != 0) {
      Status failed = ErrnoStatus("rename failed", final_path_, errno);
      ::unlink(temp_path_.c_str());
      return failed;
    }
    return FsyncDirectory(fs::path(final_path_).parent_path().string());
  }

  Status Abort() override {
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
      ::unlink(temp_path_.c_str());
    }
    return Status::OK();
  }

 private:
  int fd_;
  std::string temp_path_;
  std::string final_path_;
};

}  // namespace

Result<std::unique_ptr<LocalObjectStore>> LocalObjectStore::Make(const std::string& root) {
  std::error_code error;
  fs::create_directories(root, error);
  if (error) return Status::IOError("cannot create lake folder: " + root + " (" + error.message() + ")");
  fs::path absolute = fs::canonical(root, error);
  if (error) return Status::IOError("cannot resolve lake folder: " + root + " (" + error.message() + ")");
  return std::unique_ptr<LocalObjectStore>(new LocalObjectStore(absolute.string()));
}

std::string LocalObjectStore::Describe() const { return "file://" + root_; }

Result<std::vector<ObjectInfo>> LocalObjectStore::List(std::string_view prefix,
                                                       const ListOptions& options) {
  BASIN_ASSIGN_OR_RETURN(std::string normalized, NormalizePrefix(prefix));
  // Walk only the folder that holds the prefix: "a/b" walks "a/" and keeps "a/b*".
  size_t slash = normalized.rfind('/');
  std::string folder_key = slash == std::string::npos ? "" : normalized.substr(0, slash + 1);
  std::string folder = folder_key.empty() ? root_ : PathOf(folder_key);
  std::vector<ObjectInfo> out;
  std::error_code error;
  if (!fs::is_directory(folder, error)) return out;

  auto key_of = [&](const fs::path& path) {
    return path.lexically_relative(root_).generic_string();
  };
  auto visible = [&](const fs::path& path) {
    return path.filename().string().rfind(kTempPrefix, 0) != 0;
  };
  auto add_file = [&](const fs::path& path, std::string key) -> Status {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) {
      if (errno == ENOENT) return Status::OK();  // removed while listing
      return ErrnoStatus("cannot stat", path.string(), errno);
    }
    out.push_back(InfoOf(std::move(key), st));
    return Status::OK();
  };

  if (options.recursive) {
    fs::recursive_directory_iterator it(folder, fs::directory_options::skip_permission_denied, error);
    if (error) return Status::IOError("cannot list " + folder + " (" + error.message() + ")");
    for (; it != fs::recursive_directory_iterator(); it.increment(error)) {
      if (error) return Status::IOError("cannot list " + folder + " (" + error.message() + ")");
      const fs::directory_entry& entry = *it;
      if (entry.is_directory(error)) {
        // Descend only where keys can still match the prefix.
        std::string dir_key = key_of(entry.path()) + "/";
        if (dir_key.compare(0, std::min(dir_key.size(), normalized.size()), normalized, 0,
                            std::min(dir_key.size(), normalized.size())) != 0) {
          it.disable_recursion_pending();
        }
        continue;
      }
      if (!entry.is_regular_file(error) || !visible(entry.path())) continue;
      std::string key = key_of(entry.path());
      if (key.rfind(normalized, 0) != 0) continue;
      BASIN_RETURN_IF_ERROR(add_file(entry.path(), std::move(key)));
    }
  } else {
    fs::directory_iterator it(folder, fs::directory_options::skip_permission_denied, error);
    if (error) return Status::IOError("cannot list " + folder + " (" + error.message() + ")");
    for (; it != fs::directory_iterator(); it.increment(error)) {
      if (error) return Status::IOError("cannot list " + folder + " (" + error.message() + ")");
      const fs::directory_entry& entry = *it;
      if (!visible(entry.path())) continue;
      std::string key = key_of(entry.path());
      if (key.rfind(normalized, 0) != 0) continue;
      if (entry.is_directory(error)) {
        ObjectInfo info;
        info.key = key + "/";
        info.is_prefix = true;
        out.push_back(std::move(info));
      } else if (entry.is_regular_file(error)) {
        BASIN_RETURN_IF_ERROR(add_file(entry.path(), std::move(key)));
      }
    }
  }
  std::sort(out.begin(), out.end(), [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
  return out;
}

Result<ObjectInfo> LocalObjectStore::Stat(std::string_view key) {
  BASIN_ASSIGN_OR_RETURN(std::string normalized, NormalizeKey(key));
  std::string path = PathOf(normalized);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return ErrnoStatus("no such object", Describe() + "/" + normalized, errno);
  if (!S_ISREG(st.st_mode)) return Status::NotFound("no such object (a folder): " + Describe() + "/" + normalized);
  return InfoOf(normalized, st);
}

Result<std::unique_ptr<RandomAccessReader>> LocalObjectStore::OpenForRead(std::string_view key) {
  BASIN_ASSIGN_OR_RETURN(std::string normalized, NormalizeKey(key));
  std::string path = PathOf(normalized);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("cannot open object", Describe() + "/" + normalized, errno);
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status::NotFound("no such object: " + Describe() + "/" + normalized);
  }
  return std::unique_ptr<RandomAccessReader>(new LocalReader(fd, InfoOf(normalized, st), path, bytes_read_, read_requests_));
}

Result<std::unique_ptr<ObjectWriter>> LocalObjectStore::OpenForWrite(std::string_view key) {
  BASIN_ASSIGN_OR_RETURN(std::string normalized, NormalizeKey(key));
  if (normalized.back() == '/') return Status::InvalidArgument("object key ends with '/': " + normalized);
  fs::path final_path = PathOf(normalized);
  std::error_code error;
  fs::create_directories(final_path.parent_path(), error);
  if (error) return ErrnoStatus("cannot create the folder of object", normalized, error.value());
  if (fs::is_directory(final_path, error)) return ErrnoStatus("cannot write object", normalized, EISDIR);
  std::string temp_path =
      (final_path.parent_path() / (std::string(kTempPrefix) + RandomAlphanumeric(12))).string();
  int fd = ::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("cannot create object", final_path.string(), errno);
  return std::unique_ptr<ObjectWriter>(new LocalWriter(fd, temp_path, final_path.string()));
}

Status LocalObjectStore::Delete(std::string_view key) {
  BASIN_ASSIGN_OR_RETURN(std::string normalized, NormalizeKey(key));
  std::string path = PathOf(normalized);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoStatus("cannot delete", path, errno);
  // Remove folders left empty, as S3 has no folders: keeps listings and the tree tidy.
  fs::path dir = fs::path(path).parent_path();
  while (dir.string().size() > root_.size() && ::rmdir(dir.c_str()) == 0) dir = dir.parent_path();
  return Status::OK();
}

Status LocalObjectStore::Copy(std::string_view source_key, std::string_view target_key) {
  BASIN_ASSIGN_OR_RETURN(auto reader, OpenForRead(source_key));
  BASIN_ASSIGN_OR_RETURN(auto writer, OpenForWrite(target_key));
  std::string buffer(std::min<uint64_t>(reader->size(), 8 << 20), '\0');
  uint64_t offset = 0;
  while (offset < reader->size()) {
    BASIN_ASSIGN_OR_RETURN(size_t got, reader->ReadAt(offset, buffer.size(), buffer.data()));
    if (got == 0) break;
    BASIN_RETURN_IF_ERROR(writer->Append(std::string_view(buffer.data(), got)));
    offset += got;
  }
  return writer->Close();
}

StoreCounters LocalObjectStore::counters() const {
  return {bytes_read_->load(std::memory_order_relaxed), read_requests_->load(std::memory_order_relaxed)};
}

}  // namespace basin::storage
