#pragma once

#include <chrono>
#include <string>

namespace basin {

/// "2026-11-25T01:02:03.456Z" (UTC, milliseconds).
std::string FormatIso8601(std::chrono::system_clock::time_point time);

}  // namespace basin
