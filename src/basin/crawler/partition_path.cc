#include "basin/crawler/partition_path.h"

#include <cctype>

namespace basin::crawler {
namespace {

std::string Decode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() &&
        std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

bool IsDate(const std::string& value) {
  if (value.size() != 10 || value[4] != '-' || value[7] != '-')
    return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (!std::isdigit(static_cast<unsigned char>(value[i])))
      return false;
  }
  int month = std::stoi(value.substr(5, 2));
  int day = std::stoi(value.substr(8, 2));
  return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

bool IsInteger(const std::string& value) {
  size_t start = !value.empty() && value[0] == '-' ? 1 : 0;
  if (value.size() <= start || value.size() - start > 18)
    return false;  // fits BIGINT
  for (size_t i = start; i < value.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(value[i])))
      return false;
  }
  return true;
}

}  // namespace

std::vector<PartitionLevel> ParsePartitionPath(std::string_view folders) {
  std::vector<PartitionLevel> levels;
  size_t start = 0;
  while (start < folders.size()) {
    size_t end = folders.find('/', start);
    if (end == std::string_view::npos)
      end = folders.size();
    std::string_view segment = folders.substr(start, end - start);
    if (!segment.empty()) {
      size_t equals = segment.find('=');
      if (equals != std::string_view::npos && equals > 0) {
        levels.push_back({Decode(segment.substr(0, equals)), Decode(segment.substr(equals + 1))});
      } else {
        levels.push_back({"", Decode(segment)});
      }
    }
    start = end + 1;
  }
  return levels;
}

std::string InferPartitionType(const std::vector<std::string>& values) {
  bool all_dates = true, all_integers = true, any = false;
  for (const std::string& value : values) {
    if (value == "__HIVE_DEFAULT_PARTITION__")
      continue;
    any = true;
    all_dates = all_dates && IsDate(value);
    all_integers = all_integers && IsInteger(value);
  }
  if (!any)
    return "VARCHAR";
  if (all_dates)
    return "DATE";
  if (all_integers)
    return "BIGINT";
  return "VARCHAR";
}

}  // namespace basin::crawler
