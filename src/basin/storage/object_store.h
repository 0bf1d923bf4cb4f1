#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "basin/common/result.h"
#include "basin/common/status.h"

/// Lake storage: one interface over a local directory and S3-compatible object stores.
namespace basin::storage {

/// One object, or (in delimited listings) one common prefix.
struct ObjectInfo {
  std::string key;  // relative to the store's root; a common prefix ends with '/'
  uint64_t size = 0;
  std::chrono::system_clock::time_point modified;
  std::string etag;        // changes whenever the content changes; empty for prefixes
  bool is_prefix = false;  // a "directory" in a delimited listing
};

struct ListOptions {
  /// true: every object under the prefix. false: S3 delimiter '/' semantics, objects
  /// directly under the prefix plus common prefixes ("dir/") for deeper ones.
  bool recursive = true;
};

/// Reads byte ranges of one object. Thread-safe: DuckDB reads from worker threads.
class RandomAccessReader {
 public:
  virtual ~RandomAccessReader() = default;
  /// Size of the object when it was opened.
  virtual uint64_t size() const = 0;
  /// Key, size, modification time and ETag of the object when it was opened (no request).
  virtual const ObjectInfo& info() const = 0;
  /// Reads up to `length` bytes at `offset` into `out`; returns the count read, which is
  /// less than `length` only at the end of the object.
  virtual Result<size_t> ReadAt(uint64_t offset, size_t length, char* out) = 0;
};

/// Writes one object; nothing is visible under the key until Close() succeeds, and a
/// writer destroyed without Close() aborts (local: temp file removed; S3: multipart
/// upload aborted). Not thread-safe.
class ObjectWriter {
 public:
  virtual ~ObjectWriter() = default;
  virtual Status Append(std::string_view data) = 0;
  /// Makes the object visible atomically, replacing any previous one.
  virtual Status Close() = 0;
  /// Discards everything written; safe to call more than once.
  virtual Status Abort() = 0;
};

/// Byte counts of a store, for benchmarks and per-query accounting.
struct StoreCounters {
  uint64_t bytes_read = 0;
  uint64_t read_requests = 0;
};

/// Object storage rooted at a location ("file:///srv/lake", "s3://bucket/prefix").
/// Keys are relative '/'-separated paths; every method normalises its keys with
/// NormalizeKey and refuses those that would escape the root. "Not found" is a NotFound
/// status, never an exception. Implementations are thread-safe.
class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  /// The root as a URL, for messages: "file:///srv/lake", "s3://bucket/prefix".
  virtual std::string Describe() const = 0;

  /// Objects whose key starts with `prefix` (a plain string prefix, as in S3), sorted by
  /// key in byte order. An empty result is OK, not NotFound.
  virtual Result<std::vector<ObjectInfo>> List(std::string_view prefix,
                                               const ListOptions& options = {}) = 0;

  /// Size, time and ETag of one object. NotFound when it does not exist.
  virtual Result<ObjectInfo> Stat(std::string_view key) = 0;

  /// Opens an object for ranged reads. NotFound when it does not exist.
  virtual Result<std::unique_ptr<RandomAccessReader>> OpenForRead(std::string_view key) = 0;

  /// Opens an object a listing has just described, trusting its size, time and ETag: a
  /// remote store then needs no request to open it (a query over a listed table would
  /// otherwise pay one HEAD per object per open).
  virtual Result<std::unique_ptr<RandomAccessReader>> OpenListedForRead(const ObjectInfo& listed) {
    return OpenForRead(listed.key);
  }

  /// Starts an atomic write of `key` (see ObjectWriter).
  virtual Result<std::unique_ptr<ObjectWriter>> OpenForWrite(std::string_view key) = 0;

  /// Removes one object. Removing an absent object is OK (as in S3).
  virtual Status Delete(std::string_view key) = 0;

  /// Copies one object within this store, replacing the target. NotFound for a missing source.
  virtual Status Copy(std::string_view source_key, std::string_view target_key) = 0;

  /// Bytes read through this store since it was made.
  virtual StoreCounters counters() const = 0;

  /// True when reads cross a network (each read is a request): callers then batch and
  /// prefetch; a local store is read directly.
  virtual bool is_remote() const = 0;

  // Conveniences built on the operations above.
  Result<std::string> ReadAll(std::string_view key);
  Status Write(std::string_view key, std::string_view data);
};

/// Normalises a key: strips leading '/', collapses repeated '/', and refuses empty
/// segments' tricks: ".." and "." segments, NUL and control characters, backslashes.
/// A trailing '/' is kept (a prefix). InvalidArgument names the offending key.
Result<std::string> NormalizeKey(std::string_view key);

/// As NormalizeKey, but the empty key (the whole store) is allowed: for listing prefixes.
Result<std::string> NormalizePrefix(std::string_view prefix);

}  // namespace basin::storage
