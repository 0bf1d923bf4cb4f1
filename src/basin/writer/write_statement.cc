#include "basin/writer/write_statement.h"

#include <algorithm>
#include <cctype>

#include "basin/catalog/catalog.h"
#include "basin/common/ascii.h"
#include "basin/storage/store_resolver.h"

namespace basin::writer {
namespace {

const std::optional<WriteStatement> kNotAWriteStatement;

struct Token {
  enum class Type { kWord, kQuotedName, kString, kSymbol };
  Type type = Type::kSymbol;
  std::string text;  // a word as written, a quoted name or string without its quotes, a symbol
  size_t begin = 0;  // byte offsets in the SQL
  size_t end = 0;
};

bool IsWordStart(unsigned char c) {
  return std::isalpha(c) || c == '_' || c >= 0x80;
}
bool IsWordPart(unsigned char c) {
  return std::isalnum(c) || c == '_' || c == '$' || c >= 0x80;
}

// Splits SQL into the tokens this parser needs: enough of DuckDB's lexical rules (comments,
// 'strings' with '' and E'\'' escapes, $tag$ strings, "names") that a ';' or a parenthesis
// inside one of them is never mistaken for structure.
class Lexer {
 public:
  explicit Lexer(std::string_view sql) : sql_(sql) {}

  /// All tokens; stops at the first lexical error, which is returned beside the tokens so far.
  std::pair<std::vector<Token>, Status> Tokenize() {
    std::vector<Token> tokens;
    while (true) {
      Status skipped = SkipSpaceAndComments();
      if (!skipped.ok())
        return {std::move(tokens), skipped};
      if (at_ >= sql_.size())
        return {std::move(tokens), Status::OK()};
      Result<Token> token = NextToken();
      if (!token.ok())
        return {std::move(tokens), token.status()};
      tokens.push_back(std::move(token).value());
    }
  }

 private:
  Status SkipSpaceAndComments() {
    while (at_ < sql_.size()) {
      if (std::isspace(static_cast<unsigned char>(sql_[at_]))) {
        ++at_;
      } else if (sql_.compare(at_, 2, "--") == 0) {
        size_t newline = sql_.find('\n', at_);
        at_ = newline == std::string_view::npos ? sql_.size() : newline + 1;
      } else if (sql_.compare(at_, 2, "/*") == 0) {
        size_t close = sql_.find("*/", at_ + 2);
        if (close == std::string_view::npos)
          return Status::InvalidArgument("unterminated /* comment in the SQL");
        at_ = close + 2;
      } else {
        break;
      }
    }
    return Status::OK();
  }

  // Text up to the closing `quote`, where a doubled quote (or, with `backslash`, \x) escapes.
  Result<Token> Quoted(Token::Type type, char quote, size_t begin, size_t content, bool backslash) {
    std::string text;
    size_t i = content;
    while (i < sql_.size()) {
      char c = sql_[i];
      if (backslash && c == '\\' && i + 1 < sql_.size()) {
        text += sql_[i + 1];
        i += 2;
      } else if (c == quote && i + 1 < sql_.size() && sql_[i + 1] == quote) {
        text += quote;
        i += 2;
      } else if (c == quote) {
        at_ = i + 1;
        return Token{type, std::move(text), begin, at_};
      } else {
        text += c;
        ++i;
      }
    }
    return Status::InvalidArgument(std::string("unterminated ") +
                                   (quote == '"' ? "quoted name" : "string") +
                                   " in the SQL, starting at offset " + std::to_string(begin));
  }

  Result<Token> NextToken() {
    size_t begin = at_;
    unsigned char c = static_cast<unsigned char>(sql_[at_]);
    if (c == '\'')
      return Quoted(Token::Type::kString, '\'', begin, begin + 1, false);
    if (c == '"')
      return Quoted(Token::Type::kQuotedName, '"', begin, begin + 1, false);
    if ((c == 'e' || c == 'E') && at_ + 1 < sql_.size() && sql_[at_ + 1] == '\'') {
      return Quoted(Token::Type::kString, '\'', begin, begin + 2, true);
    }
    if (c == '$') {
      // $tag$ ... $tag$ (tag possibly empty); a lone $1 is a parameter.
      size_t close = at_ + 1;
      while (close < sql_.size() && IsWordPart(static_cast<unsigned char>(sql_[close])) &&
             sql_[close] != '$')
        ++close;
      bool tag = close < sql_.size() && sql_[close] == '$' &&
                 (close == at_ + 1 || !std::isdigit(static_cast<unsigned char>(sql_[at_ + 1])));
      if (tag) {
        std::string_view delimiter = sql_.substr(at_, close - at_ + 1);
        size_t end = sql_.find(delimiter, close + 1);
        if (end == std::string_view::npos) {
          return Status::InvalidArgument("unterminated " + std::string(delimiter) +
                                         " string in the SQL");
        }
        at_ = end + delimiter.size();
        return Token{Token::Type::kString, std::string(sql_.substr(close + 1, end - close - 1)),
                     begin, at_};
      }
    }
    if (IsWordStart(c) || std::isdigit(c)) {
      while (at_ < sql_.size() && IsWordPart(static_cast<unsigned char>(sql_[at_])))
        ++at_;
      return Token{Token::Type::kWord, std::string(sql_.substr(begin, at_ - begin)), begin, at_};
    }
    ++at_;
    return Token{Token::Type::kSymbol, std::string(1, static_cast<char>(c)), begin, at_};
  }

  std::string_view sql_;
  size_t at_ = 0;
};

// Reads tokens front to back. Past the end, tokens read as an empty symbol.
class Cursor {
 public:
  explicit Cursor(const std::vector<Token>& tokens) : tokens_(tokens) {}

  const Token& Peek(size_t ahead = 0) const {
    static const Token kEnd;
    return index_ + ahead < tokens_.size() ? tokens_[index_ + ahead] : kEnd;
  }
  bool AtEnd() const { return index_ >= tokens_.size(); }
  size_t index() const { return index_; }
  void Advance() { ++index_; }

  bool IsKeyword(std::string_view keyword, size_t ahead = 0) const {
    const Token& token = Peek(ahead);
    return token.type == Token::Type::kWord && AsciiLower(token.text) == keyword;
  }
  bool IsSymbol(std::string_view symbol) const {
    return !AtEnd() && Peek().type == Token::Type::kSymbol && Peek().text == symbol;
  }
  bool TakeKeyword(std::string_view keyword) {
    if (!IsKeyword(keyword))
      return false;
    Advance();
    return true;
  }
  bool TakeSymbol(std::string_view symbol) {
    if (!IsSymbol(symbol))
      return false;
    Advance();
    return true;
  }
  /// How the next token reads in a message: "'WITH'" or "the end of the statement".
  std::string Describe() const {
    return AtEnd() ? "the end of the statement" : "'" + Peek().text + "'";
  }

 private:
  const std::vector<Token>& tokens_;
  size_t index_ = 0;
};

// A possibly qualified name: unquoted parts lowered, quoted ones kept. nullopt when the
// cursor is not at a name.
std::optional<std::vector<std::string>> TakeName(Cursor& cursor) {
  std::vector<std::string> parts;
  while (true) {
    const Token& token = cursor.Peek();
    if (cursor.AtEnd() ||
        (token.type != Token::Type::kWord && token.type != Token::Type::kQuotedName)) {
      return std::nullopt;
    }
    parts.push_back(token.type == Token::Type::kWord ? AsciiLower(token.text) : token.text);
    cursor.Advance();
    if (!cursor.TakeSymbol("."))
      return parts;
  }
}

Status SetName(const std::vector<std::string>& parts, WriteStatement& statement) {
  std::string written;
  for (const std::string& part : parts)
    written += (written.empty() ? "" : ".") + part;
  if (parts.size() > 2) {
    return Status::InvalidArgument("table name '" + written +
                                   "' has too many parts: write database.table or table");
  }
  statement.table = parts.back();
  if (parts.size() == 2) {
    statement.database = parts[0];
    BASIN_RETURN_IF_ERROR(catalog::ValidateName(statement.database, "database"));
  }
  return catalog::ValidateName(statement.table, "table");
}

Result<std::string> TakeString(Cursor& cursor, const std::string& option) {
  if (cursor.Peek().type != Token::Type::kString || cursor.AtEnd()) {
    return Status::InvalidArgument("WITH option " + option + " needs a 'quoted string', got " +
                                   cursor.Describe());
  }
  std::string value = cursor.Peek().text;
  cursor.Advance();
  return value;
}

Status ParseOption(Cursor& cursor, WriteStatement& statement, std::vector<std::string>& seen) {
  const Token& key_token = cursor.Peek();
  if (cursor.AtEnd() || key_token.type != Token::Type::kWord) {
    return Status::InvalidArgument("expected a WITH option name, got " + cursor.Describe());
  }
  std::string key = AsciiLower(key_token.text);
  if (key != "format" && key != "partitioned_by" && key != "location") {
    return Status::InvalidArgument("unknown WITH option '" + key_token.text +
                                   "' (basin knows format, partitioned_by and location)");
  }
  if (std::find(seen.begin(), seen.end(), key) != seen.end()) {
    return Status::InvalidArgument("WITH option " + key + " is given twice");
  }
  seen.push_back(key);
  cursor.Advance();
  if (!cursor.TakeSymbol("="))
    return Status::InvalidArgument("expected '=' after " + key + ", got " + cursor.Describe());
  if (key == "format") {
    BASIN_ASSIGN_OR_RETURN(std::string format, TakeString(cursor, key));
    if (AsciiLower(format) != "parquet") {
      return Status::InvalidArgument("format '" + format +
                                     "' is not supported: basin writes tables as 'parquet'");
    }
  } else if (key == "location") {
    BASIN_ASSIGN_OR_RETURN(std::string location, TakeString(cursor, key));
    if (!storage::StoreResolver::Handles(location)) {
      return Status::InvalidArgument("location '" + location +
                                     "' is not a lake URL (lake://... or s3://...)");
    }
    if (location.back() != '/')
      location += '/';
    statement.location = location;
  } else {
    cursor.TakeKeyword("array");
    if (!cursor.TakeSymbol("[")) {
      return Status::InvalidArgument("partitioned_by needs ARRAY['column', ...], got " +
                                     cursor.Describe());
    }
    while (!cursor.TakeSymbol("]")) {
      if (!statement.partitioned_by.empty() && !cursor.TakeSymbol(",")) {
        return Status::InvalidArgument("expected ',' or ']' in partitioned_by, got " +
                                       cursor.Describe());
      }
      BASIN_ASSIGN_OR_RETURN(std::string column, TakeString(cursor, "partitioned_by"));
      for (const std::string& other : statement.partitioned_by) {
        if (AsciiLower(other) == AsciiLower(column)) {
          return Status::InvalidArgument("partitioned_by names column '" + column + "' twice");
        }
      }
      statement.partitioned_by.push_back(column);
    }
  }
  return Status::OK();
}

Status ParseWith(Cursor& cursor, WriteStatement& statement) {
  if (!cursor.TakeSymbol("("))
    return Status::InvalidArgument("expected '(' after WITH, got " + cursor.Describe());
  std::vector<std::string> seen;
  while (!cursor.TakeSymbol(")")) {
    if (!seen.empty() && !cursor.TakeSymbol(",")) {
      return Status::InvalidArgument("expected ',' or ')' between WITH options, got " +
                                     cursor.Describe());
    }
    BASIN_RETURN_IF_ERROR(ParseOption(cursor, statement, seen));
  }
  return Status::OK();
}

// The rest of the statement is the query: it must start like one, keep its parentheses
// balanced (it is wrapped in COPY (...)) and be the only statement.
Status TakeQuery(Cursor& cursor, std::string_view sql, const std::vector<Token>& tokens,
                 WriteStatement& statement) {
  if (cursor.AtEnd() || cursor.IsSymbol(";"))
    return Status::InvalidArgument("the statement has no query to write");
  bool starts_like_query = cursor.IsSymbol("(") || cursor.IsKeyword("select") ||
                           cursor.IsKeyword("with") || cursor.IsKeyword("from") ||
                           cursor.IsKeyword("values");
  if (!starts_like_query) {
    return Status::InvalidArgument("expected a query (SELECT, WITH, FROM or VALUES), got " +
                                   cursor.Describe());
  }
  size_t first = cursor.index();
  size_t last = first;
  int depth = 0;
  for (size_t i = first; i < tokens.size(); ++i) {
    const Token& token = tokens[i];
    if (token.type != Token::Type::kSymbol) {
      last = i;
      continue;
    }
    if (token.text == ";") {
      for (size_t j = i + 1; j < tokens.size(); ++j) {
        if (tokens[j].type != Token::Type::kSymbol || tokens[j].text != ";") {
          return Status::InvalidArgument(
              "a write statement must be the only statement: found more SQL after ';'");
        }
      }
      break;
    }
    if (token.text == "(")
      ++depth;
    if (token.text == ")" && --depth < 0)
      return Status::InvalidArgument("unbalanced ')' in the query");
    last = i;
  }
  if (depth != 0)
    return Status::InvalidArgument("unbalanced '(' in the query");
  statement.query =
      std::string(sql.substr(tokens[first].begin, tokens[last].end - tokens[first].begin));
  return Status::OK();
}

// After "CREATE TABLE": the statement is basin's when the name is followed by WITH or AS.
Result<std::optional<WriteStatement>> ParseCreate(Cursor& cursor, std::string_view sql,
                                                  const std::vector<Token>& tokens,
                                                  const Status& lexed) {
  WriteStatement statement;
  statement.kind = WriteStatement::Kind::kCreateTableAs;
  if (cursor.IsKeyword("if") && cursor.IsKeyword("not", 1) && cursor.IsKeyword("exists", 2)) {
    statement.if_not_exists = true;
    for (int i = 0; i < 3; ++i)
      cursor.Advance();
  }
  std::optional<std::vector<std::string>> name = TakeName(cursor);
  if (!name || !(cursor.IsKeyword("with") || cursor.IsKeyword("as")))
    return kNotAWriteStatement;
  BASIN_RETURN_IF_ERROR(lexed);
  BASIN_RETURN_IF_ERROR(SetName(*name, statement));
  if (cursor.TakeKeyword("with"))
    BASIN_RETURN_IF_ERROR(ParseWith(cursor, statement));
  if (!cursor.TakeKeyword("as")) {
    return Status::InvalidArgument("expected AS <query> after the WITH options, got " +
                                   cursor.Describe());
  }
  BASIN_RETURN_IF_ERROR(TakeQuery(cursor, sql, tokens, statement));
  return std::optional<WriteStatement>(std::move(statement));
}

Result<WriteStatement> ParseInsertOverwrite(Cursor& cursor, std::string_view sql,
                                            const std::vector<Token>& tokens) {
  WriteStatement statement;
  statement.kind = WriteStatement::Kind::kInsertOverwrite;
  cursor.TakeKeyword("table");
  std::optional<std::vector<std::string>> name = TakeName(cursor);
  if (!name)
    return Status::InvalidArgument("expected a table name after INSERT OVERWRITE, got " +
                                   cursor.Describe());
  BASIN_RETURN_IF_ERROR(SetName(*name, statement));
  if (cursor.IsKeyword("partition")) {
    return Status::InvalidArgument(
        "INSERT OVERWRITE ... PARTITION (...) is not supported: basin replaces exactly the "
        "partitions the query "
        "produces, so filter the query instead");
  }
  BASIN_RETURN_IF_ERROR(TakeQuery(cursor, sql, tokens, statement));
  return statement;
}

}  // namespace

Result<std::optional<WriteStatement>> ParseWriteStatement(std::string_view sql) {
  auto [tokens, lexed] = Lexer(sql).Tokenize();
  Cursor cursor(tokens);
  if (cursor.IsKeyword("insert") && cursor.IsKeyword("overwrite", 1)) {
    BASIN_RETURN_IF_ERROR(lexed);
    cursor.Advance();
    cursor.Advance();
    BASIN_ASSIGN_OR_RETURN(WriteStatement statement, ParseInsertOverwrite(cursor, sql, tokens));
    return std::optional<WriteStatement>(std::move(statement));
  }
  if (!cursor.TakeKeyword("create"))
    return kNotAWriteStatement;
  if (cursor.IsKeyword("or") && cursor.IsKeyword("replace", 1) && cursor.IsKeyword("table", 2)) {
    for (int i = 0; i < 3; ++i)
      cursor.Advance();
    Result<std::optional<WriteStatement>> parsed = ParseCreate(cursor, sql, tokens, lexed);
    if (parsed.ok() && !parsed->has_value())
      return kNotAWriteStatement;  // DuckDB's CREATE OR REPLACE TABLE t (...)
    return Status::InvalidArgument(
        "CREATE OR REPLACE TABLE ... AS is not supported: use CREATE TABLE to create a table and "
        "INSERT OVERWRITE "
        "to replace its data");
  }
  if (!cursor.TakeKeyword("table"))
    return kNotAWriteStatement;
  return ParseCreate(cursor, sql, tokens, lexed);
}

bool IsWriteStatement(std::string_view sql) {
  Result<std::optional<WriteStatement>> parsed = ParseWriteStatement(sql);
  return !parsed.ok() || parsed->has_value();
}

}  // namespace basin::writer
