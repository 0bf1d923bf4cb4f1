#include "basin/tablewrite/write_layout.h"

#include <cctype>
#include <ctime>

#include "basin/common/crypto.h"

namespace basin::tablewrite {
namespace {

std::vector<std::string_view> Levels(std::string_view path) {
  std::vector<std::string_view> levels;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos)
      slash = path.size();
    levels.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return levels;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && HexValue(text[i + 1]) >= 0 &&
        HexValue(text[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

}  // namespace

std::string NewWriteId(std::chrono::system_clock::time_point now) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &utc);
  return std::string(stamp) + "-" + HexEncode(RandomBytes(3));
}

std::string WriteFolder(std::string_view write_id) {
  return "w-" + std::string(write_id);
}

bool IsWriteFolder(std::string_view name) {
  // "w-" + yyyymmdd + "T" + hhmmss + "Z-" + 6 hex digits.
  if (name.size() != 25 || name.substr(0, 2) != "w-" || name[10] != 'T' || name[17] != 'Z' ||
      name[18] != '-') {
    return false;
  }
  for (size_t i = 2; i < 17; ++i) {
    if (i != 10 && !std::isdigit(static_cast<unsigned char>(name[i])))
      return false;
  }
  for (size_t i = 19; i < 25; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(name[i])) && !(name[i] >= 'a' && name[i] <= 'f'))
      return false;
  }
  return true;
}

std::string BaseLocation(const std::string& table_location) {
  if (table_location.size() < 2 || table_location.back() != '/')
    return table_location;
  size_t slash = table_location.rfind('/', table_location.size() - 2);
  if (slash == std::string::npos)
    return table_location;
  std::string_view last =
      std::string_view(table_location).substr(slash + 1, table_location.size() - slash - 2);
  return IsWriteFolder(last) ? table_location.substr(0, slash + 1) : table_location;
}

Result<std::optional<std::vector<std::string>>> PartitionValuesOf(
    std::string_view relative_path, std::string_view write_folder,
    const std::vector<std::string>& keys) {
  std::vector<std::string_view> levels = Levels(relative_path);
  size_t folder = 0;
  while (folder < levels.size() && levels[folder] != write_folder)
    ++folder;
  if (folder == levels.size())
    return std::optional<std::vector<std::string>>();
  if (folder != keys.size()) {
    return Status::Internal("written object " + std::string(relative_path) + " is not " +
                            std::to_string(keys.size()) + " partition level(s) deep");
  }
  std::vector<std::string> values;
  for (size_t i = 0; i < keys.size(); ++i) {
    size_t equals = levels[i].find('=');
    if (equals == std::string_view::npos || PercentDecode(levels[i].substr(0, equals)) != keys[i]) {
      return Status::Internal("written object " + std::string(relative_path) + " has level '" +
                              std::string(levels[i]) + "' where partition column " + keys[i] +
                              " was expected");
    }
    values.push_back(PercentDecode(levels[i].substr(equals + 1)));
  }
  return std::optional<std::vector<std::string>>(std::move(values));
}

bool IsOutsideTableData(std::string_view relative_path) {
  for (std::string_view level : Levels(relative_path)) {
    if (IsWriteFolder(level) || (!level.empty() && (level[0] == '.' || level[0] == '_')))
      return true;
  }
  return false;
}

}  // namespace basin::tablewrite
