#pragma once

#include <string>
#include <string_view>

namespace basin::query {

/// The escape character of ContainsPattern's patterns; the SQL says
/// `lower(column) LIKE ? ESCAPE '!'`.
inline constexpr char kLikeEscape = '!';

/// A LIKE pattern that matches text containing `needle` as plain text: its wildcards
/// ('%', '_') are escaped, and ASCII letters are lowered (compare with lower(column):
/// LIKE's case rules differ between SQLite and PostgreSQL).
inline std::string ContainsPattern(std::string_view needle) {
  std::string pattern = "%";
  for (char c : needle) {
    if (c == '%' || c == '_' || c == kLikeEscape)
      pattern += kLikeEscape;
    pattern += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return pattern + "%";
}

}  // namespace basin::query
