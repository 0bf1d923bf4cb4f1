#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "basin/storage/object_store.h"

namespace basin::storage {

/// An ObjectStore over a local directory (the embedded default lake). Writes go to a
/// hidden temp file in the target's folder, are fsync'ed and renamed into place, so a
/// reader or a crash sees the old object or the new one, never a mix. Temp files
/// (".basin-tmp-*") are invisible to List. ETags derive from size and nanosecond mtime.
///
/// Symbolic links below the root are never followed: Stat, OpenForRead, OpenForWrite and
/// Delete answer PermissionDenied for a key that is a link or runs through a linked folder,
/// and List leaves links out (neither listed nor descended into). Every path is opened one
/// folder at a time from the root with O_NOFOLLOW, so a link made between a check and the use
/// cannot lead outside the lake either. Links that stay inside the lake are refused as well:
/// telling them apart means resolving paths that can change after the check, and basin never
/// makes links. The root itself may be a link: it is resolved once, by Make.
class LocalObjectStore final : public ObjectStore {
 public:
  /// Creates `root` if it does not exist. IOError when it cannot be created.
  static Result<std::unique_ptr<LocalObjectStore>> Make(const std::string& root);

  std::string Describe() const override;
  Result<std::vector<ObjectInfo>> List(std::string_view prefix,
                                       const ListOptions& options) override;
  Result<ObjectInfo> Stat(std::string_view key) override;
  Result<std::unique_ptr<RandomAccessReader>> OpenForRead(std::string_view key) override;
  Result<std::unique_ptr<ObjectWriter>> OpenForWrite(std::string_view key) override;
  Status Delete(std::string_view key) override;
  Status Copy(std::string_view source_key, std::string_view target_key) override;
  StoreCounters counters() const override;
  bool is_remote() const override { return false; }

  /// The absolute path of the root directory.
  const std::string& root() const { return root_; }

 private:
  explicit LocalObjectStore(std::string root) : root_(std::move(root)) {}
  std::string PathOf(const std::string& normalized_key) const {
    return root_ + "/" + normalized_key;
  }

  std::string root_;
  std::shared_ptr<std::atomic<uint64_t>> bytes_read_ = std::make_shared<std::atomic<uint64_t>>(0);
  std::shared_ptr<std::atomic<uint64_t>> read_requests_ =
      std::make_shared<std::atomic<uint64_t>>(0);
};

}  // namespace basin::storage
