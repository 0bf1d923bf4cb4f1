#include "basin/query/lake_file_system.h"

#include "duckdb/common/exception.hpp"
#include "duckdb/common/file_opener.hpp"
#include "duckdb/main/client_context.hpp"

#include "basin/query/table_scan.h"
#include "basin/storage/glob.h"

namespace basin::query {
namespace {

[[noreturn]] void Throw(const Status& status) {
  if (status.IsNotFound())
    throw duckdb::IOException("%s", status.message());
  if (status.code() == StatusCode::kPermissionDenied)
    throw duckdb::PermissionException("%s", status.message());
  throw duckdb::IOException("%s", status.message());
}

// The URL of `key` in the store that `path` names: "lake://" + key or "s3://bucket/" + key.
std::string SiblingUrl(const std::string& path, const std::string& key) {
  size_t root_end = path.rfind("lake://", 0) == 0 ? 7 : path.find('/', 5);
  std::string root = root_end == std::string::npos
                         ? path + "/"
                         : path.substr(0, root_end + (path[root_end] == '/' ? 1 : 0));
  return root + key;
}

class LakeFileHandle final : public duckdb::FileHandle {
 public:
  LakeFileHandle(duckdb::FileSystem& file_system, const std::string& path,
                 duckdb::FileOpenFlags flags, storage::ObjectInfo info,
                 std::unique_ptr<storage::RandomAccessReader> reader,
                 std::unique_ptr<storage::ObjectWriter> writer, bool remote,
                 std::shared_ptr<ReadCounter> counter)
      : FileHandle(file_system, path, flags),
        info(std::move(info)),
        reader(std::move(reader)),
        writer(std::move(writer)),
        remote(remote),
        counter(std::move(counter)) {}

  ~LakeFileHandle() override {
    // DuckDB treats dropping a handle as closing it (as a local file would be): its
    // compressed writer (COPY ... COMPRESSION gzip) drops the inner handle without calling
    // Close. So what was written is committed here too; aborting lost such files silently.
    // A write that failed midway leaves its partial object, as DuckDB leaves a local file.
    if (!writer)
      return;
    Status closed = writer->Close();
    if (!closed.ok())
      (void)writer->Abort();
  }

  void Close() override {
    if (!writer)
      return;
    Status closed = writer->Close();
    writer.reset();
    if (!closed.ok())
      Throw(closed);
  }

  storage::ObjectInfo info;
  std::unique_ptr<storage::RandomAccessReader> reader;
  std::unique_ptr<storage::ObjectWriter> writer;
  bool remote;
  std::shared_ptr<ReadCounter> counter;
  duckdb::idx_t position = 0;
  duckdb::idx_t written = 0;
};

LakeFileHandle& AsLake(duckdb::FileHandle& handle) {
  return static_cast<LakeFileHandle&>(handle);
}

}  // namespace

void ReadCounter::AddOpened(const std::string& path) {
  std::lock_guard<std::mutex> lock(mutex_);
  opened_.insert(path);
}

void ReadCounter::AddListed(const std::string& url, storage::ObjectInfo info) {
  std::lock_guard<std::mutex> lock(mutex_);
  listed_.emplace(url, std::move(info));
}

std::optional<storage::ObjectInfo> ReadCounter::Listed(const std::string& url) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = listed_.find(url);
  if (found == listed_.end())
    return std::nullopt;
  return found->second;
}

std::set<std::string> ReadCounter::Opened() {
  std::lock_guard<std::mutex> lock(mutex_);
  return opened_;
}

size_t ReadCounter::OpenedCount() {
  std::lock_guard<std::mutex> lock(mutex_);
  return opened_.size();
}

void ReadAccounting::Register(const void* client_context, std::shared_ptr<ReadCounter> counter) {
  std::lock_guard<std::mutex> lock(mutex_);
  counters_[client_context] = std::move(counter);
}

void ReadAccounting::Unregister(const void* client_context) {
  std::lock_guard<std::mutex> lock(mutex_);
  counters_.erase(client_context);
}

std::shared_ptr<ReadCounter> ReadAccounting::Find(const void* client_context) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = counters_.find(client_context);
  return found == counters_.end() ? nullptr : found->second;
}

storage::StoreResolver::Resolved LakeFileSystem::ResolveOrThrow(const std::string& path) {
  // A catalog scan's path carries partition values; the object is the one it names.
  Result<storage::StoreResolver::Resolved> resolved = resolver_->Resolve(ObjectUrlOfScanPath(path));
  if (!resolved.ok())
    Throw(resolved.status());
  return *resolved;
}

std::shared_ptr<ReadCounter> LakeFileSystem::CounterOf(
    duckdb::optional_ptr<duckdb::FileOpener> opener) {
  if (auto context = duckdb::FileOpener::TryGetClientContext(opener))
    return accounting_->Find(context.get());
  return nullptr;
}

bool LakeFileSystem::Reachable(ReadCounter& counter, const std::string& url,
                               const storage::StoreResolver::Resolved& resolved) {
  if (counter.own_urls.count(url) || counter.Listed(url))
    return true;
  if (resolved.store == &resolver_->lake())
    return resolved.key != "_basin" && resolved.key.rfind("_basin/", 0) != 0;
  for (const std::string& prefix : counter.allowed_prefixes) {
    if (url.rfind(prefix, 0) == 0)
      return true;
  }
  return false;
}

storage::StoreResolver::Resolved LakeFileSystem::ResolveAllowed(
    const std::string& path, duckdb::optional_ptr<duckdb::FileOpener> opener) {
  auto resolved = ResolveOrThrow(path);
  std::shared_ptr<ReadCounter> counter = CounterOf(opener);
  if (!counter || !counter->confined)
    return resolved;
  std::string url = ObjectUrlOfScanPath(path);
  if (Reachable(*counter, url, resolved))
    return resolved;
  if (resolved.store == &resolver_->lake()) {
    throw duckdb::PermissionException(
        "%s is in basin's own area of the lake (lake://_basin/); query results are read "
        "through /api/queries/{id}/results",
        url);
  }
  throw duckdb::PermissionException(
      "SQL reads the lake (lake://...) and catalog tables; %s is outside them and not under "
      "query.allowed_urls, which an admin sets in basin.yaml",
      url);
}

duckdb::unique_ptr<duckdb::FileHandle> LakeFileSystem::OpenFile(
    const std::string& path, duckdb::FileOpenFlags flags,
    duckdb::optional_ptr<duckdb::FileOpener> opener) {
  auto resolved = ResolveAllowed(path, opener);
  std::shared_ptr<ReadCounter> counter = CounterOf(opener);
  bool remote = resolved.store->is_remote();
  if (flags.OpenForWriting()) {
    if (flags.OpenForReading())
      throw duckdb::NotImplementedException("lake objects are read or written, not both: %s", path);
    Result<std::unique_ptr<storage::ObjectWriter>> writer =
        resolved.store->OpenForWrite(resolved.key);
    if (!writer.ok())
      Throw(writer.status());
    storage::ObjectInfo info;
    info.key = resolved.key;
    return duckdb::make_uniq<LakeFileHandle>(*this, path, flags, std::move(info), nullptr,
                                             std::move(writer).value(), remote, std::move(counter));
  }
  // One request: the reader knows the object's size, time and ETag (a Stat first would
  // double the HEAD requests per open on S3).
  // An object the query's catalog scan listed opens with what the listing said: no request.
  std::optional<storage::ObjectInfo> listed;
  if (counter)
    listed = counter->Listed(ObjectUrlOfScanPath(path));
  Result<std::unique_ptr<storage::RandomAccessReader>> reader = [&] {
    if (!listed)
      return resolved.store->OpenForRead(resolved.key);
    listed->key = resolved.key;
    return resolved.store->OpenListedForRead(*listed);
  }();
  if (!reader.ok()) {
    if (reader.status().IsNotFound() && flags.ReturnNullIfNotExists())
      return nullptr;
    Throw(reader.status());
  }
  storage::ObjectInfo info = (*reader)->info();
  if (counter)
    counter->AddOpened(resolved.key);
  return duckdb::make_uniq<LakeFileHandle>(*this, path, flags, std::move(info),
                                           std::move(reader).value(), nullptr, remote,
                                           std::move(counter));
}

void LakeFileSystem::Read(duckdb::FileHandle& handle, void* buffer, int64_t nr_bytes,
                          duckdb::idx_t location) {
  LakeFileHandle& lake = AsLake(handle);
  if (!lake.reader)
    throw duckdb::IOException("lake object is open for writing: %s", handle.path);
  char* out = static_cast<char*>(buffer);
  size_t done = 0;
  size_t wanted = static_cast<size_t>(nr_bytes);
  while (done < wanted) {
    Result<size_t> got = lake.reader->ReadAt(location + done, wanted - done, out + done);
    if (!got.ok())
      Throw(got.status());
    if (*got == 0) {
      throw duckdb::IOException("read past the end of %s (offset %llu, %llu bytes)", handle.path,
                                static_cast<unsigned long long>(location),
                                static_cast<unsigned long long>(wanted));
    }
    done += *got;
    if (lake.counter)
      lake.counter->requests.fetch_add(1, std::memory_order_relaxed);
  }
  if (lake.counter) {
    uint64_t total = lake.counter->bytes.fetch_add(done, std::memory_order_relaxed) + done;
    if (lake.counter->max_bytes != 0 && total > lake.counter->max_bytes) {
      lake.counter->over_limit = true;
      throw duckdb::IOException("the query read more than its limit of %llu bytes",
                                static_cast<unsigned long long>(lake.counter->max_bytes));
    }
  }
}

int64_t LakeFileSystem::Read(duckdb::FileHandle& handle, void* buffer, int64_t nr_bytes) {
  LakeFileHandle& lake = AsLake(handle);
  if (!lake.reader)
    throw duckdb::IOException("lake object is open for writing: %s", handle.path);
  uint64_t left = lake.info.size > lake.position ? lake.info.size - lake.position : 0;
  int64_t take = static_cast<int64_t>(std::min<uint64_t>(left, static_cast<uint64_t>(nr_bytes)));
  if (take > 0)
    Read(handle, buffer, take, lake.position);
  lake.position += static_cast<duckdb::idx_t>(take);
  return take;
}

void LakeFileSystem::Write(duckdb::FileHandle& handle, void* buffer, int64_t nr_bytes,
                           duckdb::idx_t location) {
  LakeFileHandle& lake = AsLake(handle);
  if (!lake.writer)
    throw duckdb::IOException("lake object is not open for writing: %s", handle.path);
  // Objects are written front to back (as DuckDB's COPY does); S3 cannot patch bytes.
  if (location != lake.written) {
    throw duckdb::NotImplementedException(
        "lake objects are written sequentially: %s (offset %llu, expected %llu)", handle.path,
        static_cast<unsigned long long>(location), static_cast<unsigned long long>(lake.written));
  }
  Status appended =
      lake.writer->Append(std::string_view(static_cast<const char*>(buffer), nr_bytes));
  if (!appended.ok())
    Throw(appended);
  lake.written += static_cast<duckdb::idx_t>(nr_bytes);
}

int64_t LakeFileSystem::Write(duckdb::FileHandle& handle, void* buffer, int64_t nr_bytes) {
  Write(handle, buffer, nr_bytes, AsLake(handle).written);
  return nr_bytes;
}

int64_t LakeFileSystem::GetFileSize(duckdb::FileHandle& handle) {
  LakeFileHandle& lake = AsLake(handle);
  return static_cast<int64_t>(lake.writer ? lake.written : lake.info.size);
}

duckdb::timestamp_t LakeFileSystem::GetLastModifiedTime(duckdb::FileHandle& handle) {
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
      AsLake(handle).info.modified.time_since_epoch());
  return duckdb::timestamp_t(micros.count());
}

std::string LakeFileSystem::GetVersionTag(duckdb::FileHandle& handle) {
  return AsLake(handle).info.etag;
}

duckdb::FileType LakeFileSystem::GetFileType(duckdb::FileHandle&) {
  return duckdb::FileType::FILE_TYPE_REGULAR;
}

void LakeFileSystem::FileSync(duckdb::FileHandle&) {
  // Nothing to do: an object becomes durable and visible when its handle is closed.
}

bool LakeFileSystem::FileExists(const std::string& filename,
                                duckdb::optional_ptr<duckdb::FileOpener> opener) {
  auto resolved = ResolveAllowed(filename, opener);
  if (resolved.key.empty() || resolved.key.back() == '/')
    return false;
  Result<storage::ObjectInfo> info = resolved.store->Stat(resolved.key);
  if (info.ok())
    return true;
  if (info.status().IsNotFound())
    return false;
  Throw(info.status());
}

bool LakeFileSystem::DirectoryExists(const std::string& directory,
                                     duckdb::optional_ptr<duckdb::FileOpener> opener) {
  auto resolved = ResolveAllowed(directory, opener);
  std::string prefix = resolved.key;
  if (!prefix.empty() && prefix.back() != '/')
    prefix.push_back('/');
  auto listed = resolved.store->List(prefix, {.recursive = false});
  if (!listed.ok())
    Throw(listed.status());
  return !listed->empty();
}

void LakeFileSystem::CreateDirectory(const std::string&, duckdb::optional_ptr<duckdb::FileOpener>) {
  // Object stores have no folders: a prefix exists once an object is written under it.
}

void LakeFileSystem::CreateDirectoriesRecursive(const std::string&,
                                                duckdb::optional_ptr<duckdb::FileOpener>) {}

void LakeFileSystem::RemoveFile(const std::string& filename,
                                duckdb::optional_ptr<duckdb::FileOpener> opener) {
  auto resolved = ResolveAllowed(filename, opener);
  Status deleted = resolved.store->Delete(resolved.key);
  if (!deleted.ok())
    Throw(deleted);
}

bool LakeFileSystem::TryRemoveFile(const std::string& filename,
                                   duckdb::optional_ptr<duckdb::FileOpener> opener) {
  if (!FileExists(filename, opener))
    return false;
  RemoveFile(filename, opener);
  return true;
}

void LakeFileSystem::MoveFile(const std::string& source, const std::string& target,
                              duckdb::optional_ptr<duckdb::FileOpener> opener) {
  auto from = ResolveAllowed(source, opener);
  auto to = ResolveAllowed(target, opener);
  if (from.store != to.store)
    throw duckdb::NotImplementedException("cannot move between stores: %s -> %s", source, target);
  Status copied = from.store->Copy(from.key, to.key);
  if (!copied.ok())
    Throw(copied);
  Status deleted = from.store->Delete(from.key);
  if (!deleted.ok())
    Throw(deleted);
}

bool LakeFileSystem::ListFiles(const std::string& directory,
                               const std::function<void(const std::string&, bool)>& callback,
                               duckdb::FileOpener* opener) {
  auto resolved = ResolveAllowed(directory, opener);
  std::string prefix = resolved.key;
  if (!prefix.empty() && prefix.back() != '/')
    prefix.push_back('/');
  auto listed = resolved.store->List(prefix, {.recursive = false});
  if (!listed.ok())
    Throw(listed.status());
  for (const storage::ObjectInfo& info : *listed) {
    std::string name = info.key.substr(prefix.size());
    if (info.is_prefix)
      name.pop_back();
    callback(name, info.is_prefix);
  }
  return !listed->empty();
}

duckdb::vector<duckdb::OpenFileInfo> LakeFileSystem::Glob(const std::string& path,
                                                          duckdb::FileOpener* opener) {
  auto resolved = ResolveOrThrow(path);
  std::shared_ptr<ReadCounter> counter = CounterOf(opener);
  bool confined = counter && counter->confined;
  duckdb::vector<duckdb::OpenFileInfo> matches;
  // A catalog scan's objects were listed while binding the query: no request per object.
  if (IsScanPath(path)) {
    matches.emplace_back(path);
    return matches;
  }
  if (!storage::HasGlob(resolved.key)) {
    ResolveAllowed(path, opener);
    // A named object that is not there is an error, not an empty result (read_text of a
    // missing object answered 0 rows).
    Result<storage::ObjectInfo> info =
        resolved.key.empty() ? Result<storage::ObjectInfo>(Status::NotFound("no object at " + path))
                             : resolved.store->Stat(resolved.key);
    if (!info.ok()) {
      if (info.status().IsNotFound())
        throw duckdb::IOException("No files found that match the pattern \"%s\"", path);
      Throw(info.status());
    }
    matches.emplace_back(path);
    return matches;
  }
  // A glob inside basin's area or outside the allowed prefixes is refused as a whole; a
  // glob over the whole lake lists and leaves basin's area out below.
  if (confined)
    ResolveAllowed(storage::GlobListingPrefix(path), opener);
  auto listed = resolved.store->List(storage::GlobListingPrefix(resolved.key));
  if (!listed.ok())
    Throw(listed.status());
  for (const storage::ObjectInfo& info : *listed) {
    if (!storage::GlobMatch(resolved.key, info.key))
      continue;
    std::string url = SiblingUrl(path, info.key);
    // A glob over the lake never reaches basin's own area for people's SQL.
    if (confined && !Reachable(*counter, url, {resolved.store, info.key}))
      continue;
    matches.emplace_back(url);
  }
  return matches;
}

void LakeFileSystem::Seek(duckdb::FileHandle& handle, duckdb::idx_t location) {
  AsLake(handle).position = location;
}

duckdb::idx_t LakeFileSystem::SeekPosition(duckdb::FileHandle& handle) {
  return AsLake(handle).position;
}

bool LakeFileSystem::OnDiskFile(duckdb::FileHandle& handle) {
  return !AsLake(handle).remote;
}

}  // namespace basin::query
