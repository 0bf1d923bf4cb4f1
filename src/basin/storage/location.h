#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "basin/common/result.h"
#include "basin/storage/object_store.h"
#include "basin/storage/s3_object_store.h"

namespace basin::storage {

/// Where data lives: a local folder or an S3 bucket, plus a key inside it.
struct Location {
  enum class Kind { kLocal, kS3 };
  Kind kind = Kind::kLocal;
  std::string root;  // local: absolute folder path; S3: the bucket
  std::string key;   // normalised key or prefix inside the root (may be empty)

  std::string ToString() const;
};

/// Parses "s3://bucket/key", "file:///abs/path" or a plain local path (made absolute).
/// InvalidArgument for other schemes, an S3 URL without bucket, or a key that escapes.
Result<Location> ParseLocation(std::string_view url);

/// Opens the store for a location's root (a local folder, or the bucket with `s3` for
/// endpoint, region and credentials). The location's key stays relative to it.
Result<std::unique_ptr<ObjectStore>> OpenStore(const Location& location, const S3Options& s3);

}  // namespace basin::storage
