#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "basin/common/result.h"

/// How the SQL text that callers pass to Database is shown in messages and rewritten for
/// PostgreSQL. Pure functions of the text: no database, thread-safe.
namespace basin::metadata {

/// The statement as it may appear in an error message: whitespace collapsed, truncated
/// to about 100 characters. It holds only SQL text; bound values never reach a message.
std::string DescribeSql(std::string_view sql);

/// A portable statement rewritten for PostgreSQL.
struct PostgresStatement {
  /// The text with each `?` placeholder replaced by `$1`, `$2`, ... in order.
  std::string sql;
  /// How many `?` placeholders it had.
  size_t parameter_count = 0;
  /// Whether its first keyword is INSERT.
  bool is_insert = false;
  /// Whether it has a RETURNING clause (the keyword outside literals and comments).
  bool has_returning = false;
  /// Where in `sql` a clause can be appended: after the last character that is not
  /// whitespace, a comment or a trailing ';'.
  size_t end_of_code = 0;
};

/// Rewrites `sql` for PostgreSQL, following its lexical rules: a `?` inside a string
/// literal ('..', E'..' with backslash escapes), a quoted identifier, a dollar-quoted
/// string ($$..$$, $tag$..$tag$) or a comment (--, nested /* */) is text and stays.
/// Any other `?` is a placeholder, so PostgreSQL operators spelt with `?` (jsonb `?`,
/// `?|`, `?&`) cannot be used; call their functions (jsonb_exists) instead.
/// Internal for numbered placeholders (SQLite's `?1`, PostgreSQL's `$1`): not
/// portable, and `$1` would collide with the first `?`; use plain `?`.
Result<PostgresStatement> TranslateForPostgres(std::string_view sql);

}  // namespace basin::metadata
