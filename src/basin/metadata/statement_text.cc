#include "basin/metadata/statement_text.h"

namespace basin::metadata {
namespace {

constexpr size_t kMaxSqlInMessage = 100;

bool IsAsciiLetter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

// PostgreSQL identifiers: letters, '_' and any non-ASCII byte start one; digits and
// '$' may follow.
bool IsIdentifierStart(char c) {
  return IsAsciiLetter(c) || c == '_' || static_cast<unsigned char>(c) >= 0x80;
}

bool IsIdentifierPart(char c) {
  return IsIdentifierStart(c) || IsDigit(c) || c == '$';
}

bool EqualsIgnoringCase(std::string_view word, std::string_view upper) {
  if (word.size() != upper.size())
    return false;
  for (size_t i = 0; i < word.size(); ++i) {
    const char c =
        word[i] >= 'a' && word[i] <= 'z' ? static_cast<char>(word[i] - 'a' + 'A') : word[i];
    if (c != upper[i])
      return false;
  }
  return true;
}

// The end of a quoted token that starts at `start` (the opening quote): a doubled quote
// stands for itself; with `backslash_escapes` (E'...'), a backslash escapes the next
// character. An unterminated token runs to the end; the server reports the error.
size_t EndOfQuoted(std::string_view sql, size_t start, bool backslash_escapes) {
  const char quote = sql[start];
  size_t i = start + 1;
  while (i < sql.size()) {
    if (backslash_escapes && sql[i] == '\\') {
      i += 2;
    } else if (sql[i] == quote) {
      if (i + 1 < sql.size() && sql[i + 1] == quote) {
        i += 2;
      } else {
        return i + 1;
      }
    } else {
      ++i;
    }
  }
  return sql.size();
}

// The end of the nested /* */ comment that starts at `start`.
size_t EndOfBlockComment(std::string_view sql, size_t start) {
  int depth = 0;
  size_t i = start;
  while (i < sql.size()) {
    if (sql.substr(i, 2) == "/*") {
      ++depth;
      i += 2;
    } else if (sql.substr(i, 2) == "*/") {
      i += 2;
      if (--depth == 0)
        return i;
    } else {
      ++i;
    }
  }
  return sql.size();
}

// The length of the dollar-quote opening tag ($$ or $tag$) at `start`, or 0 when the
// '$' there does not open one ($1 is a parameter, not a tag).
size_t DollarTagLength(std::string_view sql, size_t start) {
  size_t i = start + 1;
  if (i < sql.size() && IsIdentifierStart(sql[i])) {
    while (i < sql.size() && IsIdentifierPart(sql[i]) && sql[i] != '$')
      ++i;
  }
  if (i < sql.size() && sql[i] == '$')
    return i + 1 - start;
  return 0;
}

}  // namespace

std::string DescribeSql(std::string_view sql) {
  std::string out;
  for (char c : sql) {
    const bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r';
    if (space && (out.empty() || out.back() == ' '))
      continue;
    out.push_back(space ? ' ' : c);
    if (out.size() >= kMaxSqlInMessage) {
      out += "...";
      break;
    }
  }
  while (!out.empty() && out.back() == ' ')
    out.pop_back();
  return out;
}

Result<PostgresStatement> TranslateForPostgres(std::string_view sql) {
  PostgresStatement out;
  std::string& text = out.sql;
  text.reserve(sql.size() + 8);
  bool seen_word = false;
  size_t i = 0;
  // Copies sql[i, end) to the output; `code` says whether it is more than layout.
  auto copy = [&](size_t end, bool code) {
    text.append(sql.substr(i, end - i));
    if (code)
      out.end_of_code = text.size();
    i = end;
  };
  while (i < sql.size()) {
    const char c = sql[i];
    const bool after_identifier = i > 0 && IsIdentifierPart(sql[i - 1]);
    if (sql.substr(i, 2) == "--") {
      const size_t newline = sql.find('\n', i);
      copy(newline == std::string_view::npos ? sql.size() : newline, false);
    } else if (sql.substr(i, 2) == "/*") {
      copy(EndOfBlockComment(sql, i), false);
    } else if (c == '\'') {
      // E'...' (or e'...'): the "E" was copied as a one-letter word just before.
      const bool escapes = i > 0 && (sql[i - 1] == 'E' || sql[i - 1] == 'e') &&
                           (i < 2 || !IsIdentifierPart(sql[i - 2]));
      copy(EndOfQuoted(sql, i, escapes), true);
    } else if (c == '"') {
      copy(EndOfQuoted(sql, i, false), true);
    } else if (c == '$' && !after_identifier && DollarTagLength(sql, i) > 0) {
      const std::string_view tag = sql.substr(i, DollarTagLength(sql, i));
      const size_t close = sql.find(tag, i + tag.size());
      copy(close == std::string_view::npos ? sql.size() : close + tag.size(), true);
    } else if ((c == '?' || c == '$') && i + 1 < sql.size() && IsDigit(sql[i + 1]) &&
               !after_identifier) {
      return Status::Internal(
          "metadata statement uses a numbered placeholder (?N or $N), which is not portable; "
          "use ?: " +
          DescribeSql(sql));
    } else if (c == '?') {
      text += "$" + std::to_string(++out.parameter_count);
      out.end_of_code = text.size();
      ++i;
    } else if (IsIdentifierStart(c) && !after_identifier) {
      size_t end = i + 1;
      while (end < sql.size() && IsIdentifierPart(sql[end]))
        ++end;
      const std::string_view word = sql.substr(i, end - i);
      if (!seen_word)
        out.is_insert = EqualsIgnoringCase(word, "INSERT");
      seen_word = true;
      if (EqualsIgnoringCase(word, "RETURNING"))
        out.has_returning = true;
      copy(end, true);
    } else {
      const bool layout = c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == ';';
      copy(i + 1, !layout);
    }
  }
  return out;
}

}  // namespace basin::metadata
