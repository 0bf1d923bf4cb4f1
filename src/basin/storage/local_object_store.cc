#include "basin/storage/local_object_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <utility>
#include <vector>

#include "basin/common/crypto.h"

namespace basin::storage {
namespace {

namespace fs = std::filesystem;
constexpr std::string_view kTempPrefix = ".basin-tmp-";

Status ErrnoStatus(std::string_view what, const std::string& path, int error) {
  std::string message = std::string(what) + ": " + path + " (" + std::strerror(error) + ")";
  if (error == ENOENT)
    return Status::NotFound(message);
  if (error == EACCES || error == EPERM)
    return Status::PermissionDenied(message);
  if (error == ENOSPC)
    return Status::ResourceExhausted(message);
  // A key that is a folder, or runs through a file: the caller's conflict, not an I/O fault.
  if (error == EISDIR || error == ENOTDIR || error == EEXIST) {
    return Status::FailedPrecondition(message +
                                      "; an object key cannot also be a folder of other objects");
  }
  return Status::IOError(message);
}

std::chrono::system_clock::time_point ModifiedTime(const struct stat& st) {
  auto since_epoch =
      std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec);
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

class LocalReader final : public RandomAccessReader {
 public:
  LocalReader(int fd, ObjectInfo info, std::string path,
              std::shared_ptr<std::atomic<uint64_t>> bytes,
              std::shared_ptr<std::atomic<uint64_t>> requests)
      : fd_(fd),
        size_(info.size),
        info_(std::move(info)),
        path_(std::move(path)),
        bytes_(std::move(bytes)),
        requests_(std::move(requests)) {}
  ~LocalReader() override { ::close(fd_); }

  uint64_t size() const override { return size_; }
  const ObjectInfo& info() const override { return info_; }

  Result<size_t> ReadAt(uint64_t offset, size_t length, char* out) override {
    size_t done = 0;
    while (done < length) {
      ssize_t got = ::pread(fd_, out + done, length - done, static_cast<off_t>(offset + done));
      if (got < 0) {
        if (errno == EINTR)
          continue;
        return ErrnoStatus("read failed", path_, errno);
      }
      if (got == 0)
        break;
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

// A file descriptor, closed when this goes.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      Reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  ~UniqueFd() { Reset(); }
  int get() const { return fd_; }
  int Release() { return std::exchange(fd_, -1); }
  void Reset() {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

Status SymlinkRefused(const std::string& display) {
  return Status::PermissionDenied("refusing to follow a symbolic link in the lake: " + display +
                                  " (lake objects and folders cannot be symbolic links)");
}

// Why opening `name` in `folder` with O_NOFOLLOW failed with `error`: a symbolic link, or
// `error` itself.
Status OpenFailure(int folder, const std::string& name, int error, std::string_view what,
                   const std::string& display) {
  struct stat st;
  if ((error == ELOOP || error == ENOTDIR || error == EMLINK) &&
      ::fstatat(folder, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
    return SymlinkRefused(display);
  }
  return ErrnoStatus(what, display, error);
}

// The folders from the root down to one folder of the lake, each opened without following
// a symbolic link: what is opened through them stays inside the lake even when someone
// swaps a folder for a link meanwhile.
struct FolderChain {
  std::vector<UniqueFd> fds;  // fds[0]: the root; fds[i]: the folder names[i - 1] in fds[i - 1]
  std::vector<std::string> names;  // the folders' names, root first
  int last() const { return fds.back().get(); }
};

// Opens `root` and the folders of `folder_key` ("a/b/", or "" for the root) below it.
// `create`: makes missing folders. NotFound when one is missing, PermissionDenied when one is
// a symbolic link, FailedPrecondition when one is a file.
Result<FolderChain> OpenFolders(const std::string& root, std::string_view folder_key, bool create,
                                const std::string& display) {
  FolderChain chain;
  int root_fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0)
    return ErrnoStatus("cannot open the lake folder", root, errno);
  chain.fds.emplace_back(root_fd);
  size_t start = 0;
  while (start < folder_key.size()) {
    size_t slash = folder_key.find('/', start);
    if (slash == std::string_view::npos)
      slash = folder_key.size();
    std::string name(folder_key.substr(start, slash - start));
    start = slash + 1;
    int parent = chain.last();
    int fd = ::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && create) {
      if (::mkdirat(parent, name.c_str(), 0777) != 0 && errno != EEXIST)
        return ErrnoStatus("cannot create the folder of object", display, errno);
      fd = ::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0)
      return OpenFailure(parent, name, errno, "no such object", display);
    chain.fds.emplace_back(fd);
    chain.names.push_back(std::move(name));
  }
  return chain;
}

// "a/b/c.csv" -> {"a/b/", "c.csv"}.
std::pair<std::string_view, std::string> SplitKey(std::string_view key) {
  size_t slash = key.rfind('/');
  if (slash == std::string_view::npos)
    return {"", std::string(key)};
  return {key.substr(0, slash + 1), std::string(key.substr(slash + 1))};
}

class LocalWriter final : public ObjectWriter {
 public:
  LocalWriter(int fd, UniqueFd folder, std::string temp_name, std::string name, std::string display)
      : fd_(fd),
        folder_(std::move(folder)),
        temp_name_(std::move(temp_name)),
        name_(std::move(name)),
        display_(std::move(display)) {}
  ~LocalWriter() override { (void)Abort(); }

  Status Append(std::string_view data) override {
    if (fd_ < 0)
      return Status::FailedPrecondition("write after close: " + display_);
    while (!data.empty()) {
      ssize_t put = ::write(fd_, data.data(), data.size());
      if (put < 0) {
        if (errno == EINTR)
          continue;
        return ErrnoStatus("write failed", display_, errno);
      }
      data.remove_prefix(static_cast<size_t>(put));
    }
    return Status::OK();
  }

  Status Close() override {
    if (fd_ < 0)
      return Status::FailedPrecondition("object already closed: " + display_);
    if (::fsync(fd_) != 0) {
      Status failed = ErrnoStatus("fsync failed", display_, errno);
      (void)Abort();
      return failed;
    }
    ::close(fd_);
    fd_ = -1;
    // Within the folder opened when the write began: a link put in its place meanwhile
    // cannot redirect the object out of the lake. A link at the object's own name is
    // replaced, not followed.
    if (::renameat(folder_.get(), temp_name_.c_str(), folder_.get(), name_.c_str()) != 0) {
      Status failed = ErrnoStatus("rename failed", display_, errno);
      ::unlinkat(folder_.get(), temp_name_.c_str(), 0);
      return failed;
    }
    if (::fsync(folder_.get()) != 0)
      return ErrnoStatus("cannot sync the folder of", display_, errno);
    return Status::OK();
  }

  Status Abort() override {
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
      ::unlinkat(folder_.get(), temp_name_.c_str(), 0);
    }
    return Status::OK();
  }

 private:
  int fd_;
  UniqueFd folder_;
  std::string temp_name_;
  std::string name_;
  std::string display_;
};

// What List collects: the keys under `prefix`, walking one open folder at a time.
struct Listing {
  std::string_view prefix;
  bool recursive;
  std::vector<ObjectInfo> out;

  // Adds the entries of the open folder `fd` whose key is `folder_key` + name; takes `fd`.
  // Symbolic links are neither listed nor followed; nor are other non-files (FIFOs, sockets).
  Status Walk(UniqueFd fd, const std::string& folder_key, const std::string& display) {
    DIR* dir = ::fdopendir(fd.get());
    if (dir == nullptr)
      return ErrnoStatus("cannot list", display + folder_key, errno);
    fd.Release();  // the DIR owns it now
    std::unique_ptr<DIR, int (*)(DIR*)> closer(dir, ::closedir);
    for (errno = 0; struct dirent* entry = ::readdir(dir); errno = 0) {
      std::string name = entry->d_name;
      if (name == "." || name == ".." || name.rfind(kTempPrefix, 0) == 0)
        continue;
      std::string key = folder_key + name;
      struct stat st;
      if (::fstatat(::dirfd(dir), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT)
          continue;  // removed while listing
        return ErrnoStatus("cannot stat", display + key, errno);
      }
      if (S_ISDIR(st.st_mode)) {
        BASIN_RETURN_IF_ERROR(AddFolder(::dirfd(dir), name, key, display));
      } else if (S_ISREG(st.st_mode) && key.rfind(prefix, 0) == 0) {
        out.push_back(InfoOf(std::move(key), st));
      }
    }
    if (errno != 0)
      return ErrnoStatus("cannot list", display + folder_key, errno);
    return Status::OK();
  }

  // The folder `name` in `parent`, whose key is `key`: a prefix in a delimited listing, or
  // walked in a recursive one.
  Status AddFolder(int parent, const std::string& name, const std::string& key,
                   const std::string& display) {
    if (!recursive) {
      if (key.rfind(prefix, 0) == 0) {
        ObjectInfo info;
        info.key = key + "/";
        info.is_prefix = true;
        out.push_back(std::move(info));
      }
      return Status::OK();
    }
    // Descend only where keys can still match the prefix.
    std::string folder_key = key + "/";
    size_t common = std::min(folder_key.size(), prefix.size());
    if (folder_key.compare(0, common, prefix, 0, common) != 0)
      return Status::OK();
    int fd = ::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      // Unreadable or gone: skipped, as a listing of what can be read.
      if (errno == EACCES || errno == ENOENT || errno == ELOOP || errno == ENOTDIR)
        return Status::OK();
      return ErrnoStatus("cannot list", display + folder_key, errno);
    }
    return Walk(UniqueFd(fd), folder_key, display);
  }
};

}  // namespace

Result<std::unique_ptr<LocalObjectStore>> LocalObjectStore::Make(const std::string& root) {
  std::error_code error;
  fs::create_directories(root, error);
  if (error)
    return Status::IOError("cannot create lake folder: " + root + " (" + error.message() + ")");
  fs::path absolute = fs::canonical(root, error);
  if (error)
    return Status::IOError("cannot resolve lake folder: " + root + " (" + error.message() + ")");
  return std::unique_ptr<LocalObjectStore>(new LocalObjectStore(absolute.string()));
}

std::string LocalObjectStore::Describe() const {
  return "file://" + root_;
}

Result<std::vector<ObjectInfo>> LocalObjectStore::List(std::string_view prefix,
                                                       const ListOptions& options) {
  BASIN_ASSIGN_OR_RETURN(std::string normalized, NormalizePrefix(prefix));
  // Walk only the folder that holds the prefix: "a/b" walks "a/" and keeps "a/b*".
  std::string folder_key(SplitKey(normalized).first);
  Result<FolderChain> folders =
      OpenFolders(root_, folder_key, false, Describe() + "/" + normalized);
  if (!folders.ok()) {
    // No such folder (or a file in its place): nothing under the prefix.
    StatusCode code = folders.status().code();
    if (code == StatusCode::kNotFound || code == StatusCode::kFailedPrecondition)
      return std::vector<ObjectInfo>();
    return folders.status();
  }
  Listing listing{.prefix = normalized, .recursive = options.recursive};
  BASIN_RETURN_IF_ERROR(listing.Walk(std::move(folders->fds.back()), folder_key, Describe() + "/"));
  std::sort(listing.out.begin(), listing.out.end(),
            [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
  return std::move(listing.out);
}

Result<ObjectInfo> LocalObjectStore::Stat(std::string_view key) {
  BASIN_ASSIGN_OR_RETURN(std::string normalized, NormalizeKey(key));
  std::string display = Describe() + "/" + normalized;
  auto [folder_key, name] = SplitKey(normalized);
  BASIN_ASSIGN_OR_RETURN(FolderChain folders, OpenFolders(root_, folder_key, false, display));
  struct stat st;
  if (::fstatat(folders.last(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
    return ErrnoStatus("no such object", display, errno);
  if (S_ISLNK(st.st_mode))
    return SymlinkRefused(display);
  if (!S_ISREG(st.st_mode))
    return Status::NotFound("no such object (a folder): " + display);
  return InfoOf(normalized, st);
}

Result<std::unique_ptr<RandomAccessReader>> LocalObjectStore::OpenForRead(std::string_view key) {
  BASIN_ASSIGN_OR_RETURN(std::string normalized, NormalizeKey(key));
  std::string display = Describe() + "/" + normalized;
  auto [folder_key, name] = SplitKey(normalized);
  BASIN_ASSIGN_OR_RETURN(FolderChain folders, OpenFolders(root_, folder_key, false, display));
  // O_NONBLOCK: a FIFO in the lake must not block the opening thread (reads of files ignore it).
  int fd = ::openat(folders.last(), name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0)
    return OpenFailure(folders.last(), name, errno, "cannot open object", display);
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status::NotFound("no such object: " + display);
  }
  return std::unique_ptr<RandomAccessReader>(
      new LocalReader(fd, InfoOf(normalized, st), PathOf(normalized), bytes_read_, read_requests_));
}

Result<std::unique_ptr<ObjectWriter>> LocalObjectStore::OpenForWrite(std::string_view key) {
  BASIN_ASSIGN_OR_RETURN(std::string normalized, NormalizeKey(key));
  if (normalized.back() == '/')
    return Status::InvalidArgument("object key ends with '/': " + normalized);
  // Named by key, not by path: a conflicting key is the caller's error and reaches them
  // (4xx), and the lake's place on the server's disk is not theirs to learn.
  const std::string& display = normalized;
  auto [folder_key, name] = SplitKey(normalized);
  BASIN_ASSIGN_OR_RETURN(FolderChain folders, OpenFolders(root_, folder_key, true, display));
  struct stat st;
  if (::fstatat(folders.last(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (S_ISLNK(st.st_mode))
      return SymlinkRefused(display);
    if (S_ISDIR(st.st_mode))
      return ErrnoStatus("cannot write object", display, EISDIR);
  }
  std::string temp_name = std::string(kTempPrefix) + RandomAlphanumeric(12);
  int fd = ::openat(folders.last(), temp_name.c_str(),
                    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0)
    return ErrnoStatus("cannot create object", display, errno);
  return std::unique_ptr<ObjectWriter>(
      new LocalWriter(fd, std::move(folders.fds.back()), temp_name, name, display));
}

Status LocalObjectStore::Delete(std::string_view key) {
  BASIN_ASSIGN_OR_RETURN(std::string normalized, NormalizeKey(key));
  std::string display = Describe() + "/" + normalized;
  auto [folder_key, name] = SplitKey(normalized);
  Result<FolderChain> folders = OpenFolders(root_, folder_key, false, display);
  if (folders.status().IsNotFound())
    return Status::OK();  // already gone, with its folder
  BASIN_RETURN_IF_ERROR(folders.status());
  struct stat st;
  if (::fstatat(folders->last(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
      S_ISLNK(st.st_mode))
    return SymlinkRefused(display);
  if (::unlinkat(folders->last(), name.c_str(), 0) != 0 && errno != ENOENT)
    return ErrnoStatus("cannot delete", display, errno);
  // Remove folders left empty, as S3 has no folders: keeps listings and the tree tidy.
  // Never the root: fds[0] is the root, and only folders named below it are removed.
  for (size_t i = folders->names.size(); i > 0; --i) {
    if (::unlinkat(folders->fds[i - 1].get(), folders->names[i - 1].c_str(), AT_REMOVEDIR) != 0)
      break;
  }
  return Status::OK();
}

Status LocalObjectStore::Copy(std::string_view source_key, std::string_view target_key) {
  BASIN_ASSIGN_OR_RETURN(auto reader, OpenForRead(source_key));
  BASIN_ASSIGN_OR_RETURN(auto writer, OpenForWrite(target_key));
  std::string buffer(std::min<uint64_t>(reader->size(), 8 << 20), '\0');
  uint64_t offset = 0;
  while (offset < reader->size()) {
    BASIN_ASSIGN_OR_RETURN(size_t got, reader->ReadAt(offset, buffer.size(), buffer.data()));
    if (got == 0)
      break;
    BASIN_RETURN_IF_ERROR(writer->Append(std::string_view(buffer.data(), got)));
    offset += got;
  }
  return writer->Close();
}

StoreCounters LocalObjectStore::counters() const {
  return {bytes_read_->load(std::memory_order_relaxed),
          read_requests_->load(std::memory_order_relaxed)};
}

}  // namespace basin::storage
