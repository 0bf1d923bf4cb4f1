#pragma once

#include <cctype>
#include <string>
#include <string_view>

namespace basin {

/// `text` with ASCII letters in lower case: SQL names compare case-insensitively as DuckDB
/// compares them; other bytes (UTF-8) are kept.
inline std::string AsciiLower(std::string_view text) {
  std::string lower(text);
  for (char& c : lower)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower;
}

}  // namespace basin
