#pragma once

#include <optional>
#include <string>
#include <vector>

// Rows as CSV text (RFC 4180 quoting; NULL is an empty field), for every place that
// writes a result as CSV: the CLI and the HTTP downloads.
namespace basin::query {

inline std::string CsvField(const std::optional<std::string>& value) {
  if (!value)
    return "";
  if (value->find_first_of(",\"\r\n") == std::string::npos)
    return *value;
  std::string out = "\"";
  for (char c : *value) {
    if (c == '"')
      out += '"';
    out += c;
  }
  return out + "\"";
}

/// One line, with its '\n'.
template <typename Values>
std::string CsvLine(const Values& values) {
  std::string line;
  for (size_t i = 0; i < values.size(); ++i)
    line += (i ? "," : "") + CsvField(values[i]);
  return line + "\n";
}

}  // namespace basin::query
