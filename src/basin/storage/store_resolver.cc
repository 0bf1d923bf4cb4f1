#include "basin/storage/store_resolver.h"

namespace basin::storage {

bool StoreResolver::Handles(std::string_view url) {
  return url.rfind("lake://", 0) == 0 || url.rfind("s3://", 0) == 0;
}

Result<StoreResolver::Resolved> StoreResolver::Resolve(std::string_view url) {
  if (url.rfind("lake://", 0) == 0) {
    BASIN_ASSIGN_OR_RETURN(std::string key, NormalizePrefix(url.substr(7)));
    return Resolved{lake_.get(), std::move(key)};
  }
  if (url.rfind("s3://", 0) != 0) {
    return Status::InvalidArgument("not a lake URL (lake://key or s3://bucket/key): '" +
                                   std::string(url) + "'");
  }
  std::string_view rest = url.substr(5);
  size_t slash = rest.find('/');
  std::string bucket(rest.substr(0, slash));
  if (bucket.empty())
    return Status::InvalidArgument("S3 URL has no bucket: '" + std::string(url) + "'");
  std::string key;
  if (slash != std::string_view::npos) {
    BASIN_ASSIGN_OR_RETURN(key, NormalizePrefix(rest.substr(slash + 1)));
  }
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = buckets_.find(bucket);
  if (found == buckets_.end()) {
    S3Options options = s3_;
    options.bucket = bucket;
    options.prefix.clear();
    BASIN_ASSIGN_OR_RETURN(auto store, S3ObjectStore::Make(std::move(options)));
    found = buckets_.emplace(bucket, std::move(store)).first;
  }
  return Resolved{found->second.get(), std::move(key)};
}

}  // namespace basin::storage
