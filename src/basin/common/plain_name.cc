#include "basin/common/plain_name.h"

namespace basin {

bool IsPlainName(std::string_view name, size_t max_length) {
  if (name.empty() || name.size() > max_length)
    return false;
  for (char c : name) {
    bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '_' || c == '-' || c == '.';
    if (!allowed)
      return false;
  }
  return true;
}

}  // namespace basin
