#include "basin/query/result_cache.h"

namespace basin::query {

uint64_t ResultCache::RowBytes(const Row& row) {
  uint64_t bytes = sizeof(Row) + row.size() * sizeof(std::optional<std::string>);
  for (const auto& value : row) {
    if (value && value->size() > 15)
      bytes += value->size();  // beyond the small-string buffer
  }
  return bytes;
}

std::shared_ptr<const CachedResult> ResultCache::Find(const std::string& key) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = index_.find(key);
  if (found == index_.end()) {
    ++counters_.misses;
    return nullptr;
  }
  entries_.splice(entries_.begin(), entries_, found->second);
  ++counters_.hits;
  return found->second->second;
}

void ResultCache::Insert(const std::string& key, std::shared_ptr<const CachedResult> result) {
  if (result->bytes > max_entry_bytes_ || result->bytes > capacity_bytes_)
    return;
  std::lock_guard<std::mutex> lock(mutex_);
  if (auto found = index_.find(key); found != index_.end()) {
    counters_.bytes -= found->second->second->bytes;
    entries_.erase(found->second);
    index_.erase(found);
  }
  counters_.bytes += result->bytes;
  entries_.emplace_front(key, std::move(result));
  index_[key] = entries_.begin();
  while (counters_.bytes > capacity_bytes_ && !entries_.empty()) {
    counters_.bytes -= entries_.back().second->bytes;
    index_.erase(entries_.back().first);
    entries_.pop_back();
    ++counters_.evictions;
  }
  counters_.entries = entries_.size();
}

ResultCache::Counters ResultCache::counters() {
  std::lock_guard<std::mutex> lock(mutex_);
  Counters out = counters_;
  out.entries = entries_.size();
  return out;
}

}  // namespace basin::query
