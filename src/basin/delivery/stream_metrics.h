#pragma once

// The streams' counters in the Prometheus text exposition format (GET /metrics).

#include <cstdint>
#include <map>
#include <string>

#include "basin/delivery/stream_service.h"

namespace basin::delivery {

/// `stats` by stream name (every defined stream; zeros for one without traffic); the bytes
/// held in memory by all buffers and their limit.
std::string PrometheusText(const std::map<std::string, StreamStats>& stats, uint64_t buffered_bytes,
                           uint64_t buffer_limit_bytes);

}  // namespace basin::delivery
