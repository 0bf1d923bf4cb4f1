#pragma once

// Compressing delivered NDJSON objects: gzip (one member) or zstd (one frame).

#include <string>
#include <string_view>

#include "basin/common/result.h"
#include "basin/stream/stream_definition.h"

namespace basin::delivery {

/// `data` compressed as `compression` says (kNone: unchanged). Internal on a library failure.
Result<std::string> Compress(std::string_view data, stream::Compression compression);

}  // namespace basin::delivery
