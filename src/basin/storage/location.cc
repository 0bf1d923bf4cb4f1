#include "basin/storage/location.h"

#include <filesystem>

#include "basin/storage/local_object_store.h"

namespace basin::storage {

std::string Location::ToString() const {
  if (kind == Kind::kS3)
    return "s3://" + root + (key.empty() ? "" : "/" + key);
  return key.empty() ? root : root + "/" + key;
}

Result<Location> ParseLocation(std::string_view url) {
  Location location;
  if (url.rfind("s3://", 0) == 0) {
    std::string_view rest = url.substr(5);
    size_t slash = rest.find('/');
    location.kind = Location::Kind::kS3;
    location.root = std::string(rest.substr(0, slash));
    if (location.root.empty())
      return Status::InvalidArgument("S3 URL has no bucket: '" + std::string(url) + "'");
    if (slash != std::string_view::npos) {
      BASIN_ASSIGN_OR_RETURN(location.key, NormalizePrefix(rest.substr(slash + 1)));
    }
    return location;
  }
  std::string_view path = url;
  if (path.rfind("file://", 0) == 0)
    path.remove_prefix(7);
  if (path.find("://") != std::string_view::npos) {
    return Status::InvalidArgument("unsupported location (use a path or s3://bucket/key): '" +
                                   std::string(url) + "'");
  }
  if (path.empty())
    return Status::InvalidArgument("empty location");
  // A local path names a file or folder; its parent is the root and the last part the key,
  // so the same code serves "cp a.csv lake/x" and "ls /data".
  std::filesystem::path absolute = std::filesystem::absolute(std::string(path)).lexically_normal();
  if (!absolute.has_filename())
    absolute = absolute.parent_path();  // "/data/" -> "/data"
  location.kind = Location::Kind::kLocal;
  location.root = absolute.parent_path().string();
  location.key = absolute.filename().string();
  if (location.key.empty())
    return Status::InvalidArgument("location is the file system root: '" + std::string(url) + "'");
  return location;
}

Result<std::unique_ptr<ObjectStore>> OpenStore(const Location& location, const S3Options& s3) {
  if (location.kind == Location::Kind::kS3) {
    S3Options options = s3;
    options.bucket = location.root;
    options.prefix.clear();
    BASIN_ASSIGN_OR_RETURN(auto store, S3ObjectStore::Make(std::move(options)));
    return std::unique_ptr<ObjectStore>(std::move(store));
  }
  BASIN_ASSIGN_OR_RETURN(auto store, LocalObjectStore::Make(location.root));
  return std::unique_ptr<ObjectStore>(std::move(store));
}

}  // namespace basin::storage
