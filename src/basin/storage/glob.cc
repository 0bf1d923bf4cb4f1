#include "basin/storage/glob.h"

#include <vector>

namespace basin::storage {
namespace {

bool MatchSegment(std::string_view pattern, std::string_view text) {
  size_t p = 0, t = 0, star = std::string_view::npos, resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '[') {
      size_t close = pattern.find(']', p + 1);
      if (close != std::string_view::npos) {
        bool negate = p + 1 < close && (pattern[p + 1] == '!' || pattern[p + 1] == '^');
        bool hit = false;
        for (size_t i = p + 1 + (negate ? 1 : 0); i < close; ++i) {
          if (i + 2 < close && pattern[i + 1] == '-') {
            hit |= text[t] >= pattern[i] && text[t] <= pattern[i + 2];
            i += 2;
          } else {
            hit |= text[t] == pattern[i];
          }
        }
        if (hit != negate) {
          p = close + 1;
          ++t;
          continue;
        }
      }
    } else if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
      continue;
    }
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
      continue;
    }
    if (star == std::string_view::npos)
      return false;
    p = star + 1;
    t = ++resume;
  }
  while (p < pattern.size() && pattern[p] == '*')
    ++p;
  return p == pattern.size();
}

std::vector<std::string_view> Split(std::string_view text) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t slash = text.find('/', start);
    parts.push_back(text.substr(start, slash - start));
    if (slash == std::string_view::npos)
      break;
    start = slash + 1;
  }
  return parts;
}

bool MatchParts(const std::vector<std::string_view>& pattern, size_t p,
                const std::vector<std::string_view>& key, size_t k) {
  if (p == pattern.size())
    return k == key.size();
  if (pattern[p] == "**") {
    for (size_t skip = k; skip <= key.size(); ++skip) {
      if (MatchParts(pattern, p + 1, key, skip))
        return true;
    }
    return false;
  }
  if (k == key.size())
    return false;
  return MatchSegment(pattern[p], key[k]) && MatchParts(pattern, p + 1, key, k + 1);
}

}  // namespace

bool HasGlob(std::string_view text) {
  return text.find_first_of("*?[") != std::string_view::npos;
}

bool GlobMatch(std::string_view pattern, std::string_view key) {
  return MatchParts(Split(pattern), 0, Split(key), 0);
}

std::string GlobListingPrefix(std::string_view pattern) {
  size_t wildcard = pattern.find_first_of("*?[");
  std::string_view literal = pattern.substr(0, wildcard);
  size_t slash = literal.rfind('/');
  return slash == std::string_view::npos ? "" : std::string(literal.substr(0, slash + 1));
}

}  // namespace basin::storage
