#pragma once

#include <cstddef>
#include <string_view>

namespace basin {

/// True for 1..max_length ASCII letters, digits, '_', '-' and '.': the names of saved
/// queries, streams and workgroups, safe in URLs, object keys and log lines as they are.
bool IsPlainName(std::string_view name, size_t max_length);

}  // namespace basin
