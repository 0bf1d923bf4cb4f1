#pragma once

// Included only by the engine's translation units: it pulls in DuckDB's headers.

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "duckdb/common/file_system.hpp"

#include "basin/storage/store_resolver.h"

namespace basin::query {

/// What one query's file handles read from storage, and its bytes-scanned limit.
struct ReadCounter {
  std::atomic<uint64_t> bytes{0};
  std::atomic<uint64_t> requests{0};
  /// 0: no limit. A read that would pass it fails the query (and sets `over_limit`).
  uint64_t max_bytes = 0;
  std::atomic<bool> over_limit{false};

  /// People's SQL (EngineOptions::confine_urls) reaches only the lake outside basin's own
  /// `_basin/` area, the objects of catalog tables it names, the engine's allowed prefixes and
  /// `own_urls` (a basin-made statement's own result). Set before the query runs.
  bool confined = false;
  std::vector<std::string> allowed_prefixes;
  std::set<std::string> own_urls;

  void AddOpened(const std::string& path);
  /// Objects the query's catalog scans listed while binding (URL → what the listing said).
  void AddListed(const std::string& url, storage::ObjectInfo info);
  std::optional<storage::ObjectInfo> Listed(const std::string& url);
  size_t OpenedCount();
  std::set<std::string> Opened();

 private:
  std::mutex mutex_;
  std::map<std::string, storage::ObjectInfo> listed_;  // GUARDED_BY(mutex_)
  std::set<std::string>
      opened_;  // paths opened for reading, as DuckDB named them; GUARDED_BY(mutex_)
};

/// Which query (DuckDB client context) is charged for a file opened by that context.
/// The engine registers a counter before running a query and removes it afterwards.
class ReadAccounting {
 public:
  void Register(const void* client_context, std::shared_ptr<ReadCounter> counter);
  void Unregister(const void* client_context);
  /// The context's counter, or nullptr when none is registered.
  std::shared_ptr<ReadCounter> Find(const void* client_context);

 private:
  std::mutex mutex_;
  std::map<const void*, std::shared_ptr<ReadCounter>> counters_;  // GUARDED_BY(mutex_)
};

/// DuckDB's view of the lake: "lake://key" and "s3://bucket/key" paths read and write
/// through basin's storage with ranged reads (so projection and row-group skipping save
/// real bytes), and globs list the store. DuckDB calls reads from worker threads; every
/// read is a positional ReadAt on a thread-safe reader, so this is thread-safe.
class LakeFileSystem final : public duckdb::FileSystem {
 public:
  LakeFileSystem(std::shared_ptr<storage::StoreResolver> resolver,
                 std::shared_ptr<ReadAccounting> accounting)
      : resolver_(std::move(resolver)), accounting_(std::move(accounting)) {}

  using duckdb::FileSystem::ListFiles;
  using duckdb::FileSystem::OpenFile;

  duckdb::unique_ptr<duckdb::FileHandle> OpenFile(
      const std::string& path, duckdb::FileOpenFlags flags,
      duckdb::optional_ptr<duckdb::FileOpener> opener) override;
  void Read(duckdb::FileHandle& handle, void* buffer, int64_t nr_bytes,
            duckdb::idx_t location) override;
  int64_t Read(duckdb::FileHandle& handle, void* buffer, int64_t nr_bytes) override;
  void Write(duckdb::FileHandle& handle, void* buffer, int64_t nr_bytes,
             duckdb::idx_t location) override;
  int64_t Write(duckdb::FileHandle& handle, void* buffer, int64_t nr_bytes) override;
  int64_t GetFileSize(duckdb::FileHandle& handle) override;
  duckdb::timestamp_t GetLastModifiedTime(duckdb::FileHandle& handle) override;
  std::string GetVersionTag(duckdb::FileHandle& handle) override;
  duckdb::FileType GetFileType(duckdb::FileHandle& handle) override;
  void FileSync(duckdb::FileHandle& handle) override;
  bool FileExists(const std::string& filename,
                  duckdb::optional_ptr<duckdb::FileOpener> opener) override;
  bool DirectoryExists(const std::string& directory,
                       duckdb::optional_ptr<duckdb::FileOpener> opener) override;
  void CreateDirectory(const std::string& directory,
                       duckdb::optional_ptr<duckdb::FileOpener> opener) override;
  void CreateDirectoriesRecursive(const std::string& path,
                                  duckdb::optional_ptr<duckdb::FileOpener> opener) override;
  void RemoveFile(const std::string& filename,
                  duckdb::optional_ptr<duckdb::FileOpener> opener) override;
  bool TryRemoveFile(const std::string& filename,
                     duckdb::optional_ptr<duckdb::FileOpener> opener) override;
  void MoveFile(const std::string& source, const std::string& target,
                duckdb::optional_ptr<duckdb::FileOpener> opener) override;
  bool ListFiles(const std::string& directory,
                 const std::function<void(const std::string&, bool)>& callback,
                 duckdb::FileOpener* opener) override;
  duckdb::vector<duckdb::OpenFileInfo> Glob(const std::string& path,
                                            duckdb::FileOpener* opener) override;
  void Seek(duckdb::FileHandle& handle, duckdb::idx_t location) override;
  duckdb::idx_t SeekPosition(duckdb::FileHandle& handle) override;
  bool CanSeek() override { return true; }
  bool OnDiskFile(duckdb::FileHandle& handle) override;
  bool CanHandleFile(const std::string& path) override {
    return storage::StoreResolver::Handles(path);
  }
  std::string GetName() const override { return "LakeFileSystem"; }

 private:
  storage::StoreResolver::Resolved ResolveOrThrow(const std::string& path);
  /// Resolves `path` and, for a confined query (ReadCounter::confined), refuses URLs it may
  /// not reach with a PermissionException.
  storage::StoreResolver::Resolved ResolveAllowed(const std::string& path,
                                                  duckdb::optional_ptr<duckdb::FileOpener> opener);
  /// Whether a confined query may reach `url` (resolved as `resolved`).
  bool Reachable(ReadCounter& counter, const std::string& url,
                 const storage::StoreResolver::Resolved& resolved);
  std::shared_ptr<ReadCounter> CounterOf(duckdb::optional_ptr<duckdb::FileOpener> opener);

  std::shared_ptr<storage::StoreResolver> resolver_;
  std::shared_ptr<ReadAccounting> accounting_;
};

}  // namespace basin::query
