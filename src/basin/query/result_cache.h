#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "basin/query/engine.h"

namespace basin::query {

/// One cached result: the rows of a read query, and what it scanned when it ran.
struct CachedResult {
  std::vector<std::string> column_names;
  std::vector<std::string> column_types;
  std::vector<Row> rows;
  std::vector<TableScanReport> scans;
  uint64_t bytes = 0;  // approximate memory held
};

/// Results of read queries, in memory, least recently used evicted first.
///
/// The engine keys an entry by the SQL text, the default database and the exact objects the
/// query reads after partition pruning, each with its size, ETag and modification time. New
/// or changed data in a partition changes the key of exactly the queries that read that
/// partition: those miss (and their stale entries age out); every other entry still hits.
/// Thread-safe.
class ResultCache {
 public:
  /// `capacity_bytes`: all entries together; `max_entry_bytes`: larger results are not kept.
  ResultCache(uint64_t capacity_bytes, uint64_t max_entry_bytes)
      : capacity_bytes_(capacity_bytes), max_entry_bytes_(max_entry_bytes) {}

  std::shared_ptr<const CachedResult> Find(const std::string& key);
  void Insert(const std::string& key, std::shared_ptr<const CachedResult> result);

  uint64_t max_entry_bytes() const { return max_entry_bytes_; }

  struct Counters {
    uint64_t hits = 0, misses = 0, entries = 0, bytes = 0, evictions = 0;
  };
  Counters counters();

  /// Memory a row takes in an entry (approximately).
  static uint64_t RowBytes(const Row& row);

 private:
  using Entry = std::pair<std::string, std::shared_ptr<const CachedResult>>;

  const uint64_t capacity_bytes_;
  const uint64_t max_entry_bytes_;
  std::mutex mutex_;
  std::list<Entry> entries_;  // most recently used first; GUARDED_BY(mutex_)
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
  Counters counters_;
};

}  // namespace basin::query
