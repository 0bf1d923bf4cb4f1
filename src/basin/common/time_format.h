#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "basin/common/result.h"

namespace basin {

/// "2026-11-25T01:02:03.456Z" (UTC, milliseconds).
std::string FormatIso8601(std::chrono::system_clock::time_point time);

/// "2026-11-25T01:02:03.000Z": the same for whole seconds, whose range is wider. Stored
/// timestamps (sys_seconds) go here rather than through system_clock::time_point, whose
/// nanoseconds end in 2262: converting a later time would overflow.
std::string FormatIso8601(std::chrono::sys_seconds time);

/// Parses an ISO 8601 date ("2026-11-25", midnight UTC) or date and time
/// ("2026-11-25T01:02", "2026-11-25T01:02:03.456Z", "2026-11-25 01:02:03+09:00"; 'T' or a
/// space between them; no zone means UTC; fractions beyond milliseconds are cut).
/// InvalidArgument naming the text otherwise.
Result<std::chrono::system_clock::time_point> ParseIso8601(std::string_view text);

}  // namespace basin
