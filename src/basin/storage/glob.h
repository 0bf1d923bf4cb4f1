#pragma once

#include <string>
#include <string_view>

namespace basin::storage {

/// Matches an object key against a glob pattern as DuckDB understands them over object
/// stores: '*' and '?' and '[abc]' within one path segment, '**' across any number of
/// segments (including none).
bool GlobMatch(std::string_view pattern, std::string_view key);

/// The part of `pattern` before its first wildcard, cut back to the last '/': the prefix
/// to list ("t/dt=*/x.csv" -> "t/").
std::string GlobListingPrefix(std::string_view pattern);

/// True when `text` has glob wildcards.
bool HasGlob(std::string_view text);

}  // namespace basin::storage
