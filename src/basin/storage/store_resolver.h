#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "basin/storage/object_store.h"
#include "basin/storage/s3_object_store.h"

namespace basin::storage {

/// Maps lake URLs to a store and a key: "lake://dt=1/a.parquet" to the basin home's lake,
/// "s3://bucket/key" to a store for that bucket (made on first use with the configured
/// endpoint, region and credentials, then kept). Thread-safe.
class StoreResolver {
 public:
  StoreResolver(std::shared_ptr<ObjectStore> lake, S3Options s3)
      : lake_(std::move(lake)), s3_(std::move(s3)) {}

  struct Resolved {
    ObjectStore* store;  // owned by the resolver; lives as long as it does
    std::string key;     // normalised; may be empty or end with '/' for prefixes
  };

  /// InvalidArgument for a URL that is not lake:// or s3://, or whose key escapes the root.
  Result<Resolved> Resolve(std::string_view url);

  /// True for URLs this resolver serves ("lake://", "s3://").
  static bool Handles(std::string_view url);

  ObjectStore& lake() { return *lake_; }

 private:
  std::shared_ptr<ObjectStore> lake_;
  S3Options s3_;
  std::mutex mutex_;
  std::map<std::string, std::unique_ptr<ObjectStore>> buckets_;  // GUARDED_BY(mutex_)
};

}  // namespace basin::storage
