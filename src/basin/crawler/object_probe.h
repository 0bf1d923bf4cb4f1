#pragma once

#include <optional>
#include <string>

#include "basin/common/result.h"
#include "basin/crawler/classifier.h"
#include "basin/storage/object_store.h"

namespace basin::crawler {

/// Classifies one object from two small ranged reads (its first 4 KiB and last 4 bytes),
/// decompressing the head of a gzip or zstd object first. IOError when the reads fail.
Result<Classification> ProbeObject(storage::ObjectStore& store, const std::string& key,
                                   uint64_t size);

/// Scans an uncompressed object from the start for the first byte that breaks UTF-8,
/// reading at most `limit` bytes. Returns its offset, or nullopt when none was found.
Result<std::optional<uint64_t>> FindInvalidUtf8InObject(storage::ObjectStore& store,
                                                        const std::string& key, uint64_t limit);

/// Decompresses as much of `compressed` (the start of a stream) as it can, up to
/// `limit` bytes. A truncated stream is fine: this only feeds the classifier.
std::string InflatePrefix(std::string_view compressed, Compression compression, size_t limit);

}  // namespace basin::crawler
