// Which statements a person may run, and what a statement is (docs/query.md).

#include "duckdb/parser/keyword_helper.hpp"
#include "duckdb/parser/parsed_data/create_function_info.hpp"
#include "duckdb/parser/parser.hpp"
#include "duckdb/parser/statement/create_statement.hpp"
#include "duckdb/parser/statement/explain_statement.hpp"

#include "basin/common/ascii.h"
#include "basin/query/engine_internal.h"

namespace basin::query {
namespace internal {
namespace {}  // namespace

Status ToStatus(const duckdb::ErrorData& error) {
  switch (error.Type()) {
    case duckdb::ExceptionType::PARSER:
    case duckdb::ExceptionType::BINDER:
    case duckdb::ExceptionType::CATALOG:
    case duckdb::ExceptionType::CONVERSION:
    case duckdb::ExceptionType::INVALID_INPUT:
    case duckdb::ExceptionType::CONSTRAINT:
    case duckdb::ExceptionType::SYNTAX:
    case duckdb::ExceptionType::OUT_OF_RANGE:
    case duckdb::ExceptionType::DIVIDE_BY_ZERO:
    case duckdb::ExceptionType::NOT_IMPLEMENTED:
      return Status::InvalidArgument(error.Message());
    case duckdb::ExceptionType::PERMISSION:
      return Status::PermissionDenied(error.Message());
    case duckdb::ExceptionType::INTERRUPT:
      return Status::Cancelled("the query was cancelled");
    case duckdb::ExceptionType::OUT_OF_MEMORY:
      return Status::ResourceExhausted(error.Message());
    case duckdb::ExceptionType::IO:
    case duckdb::ExceptionType::HTTP:
      // A query naming objects that are not there is the caller's mistake (404 with the
      // name), not a fault of the server's storage.
      if (error.RawMessage().starts_with("No files found that match the pattern"))
        return Status::NotFound(error.Message());
      return Status::IOError(error.Message());
    default:
      return Status::Internal(error.Message());
  }
}

std::string StatementKind(duckdb::StatementType type) {
  switch (type) {
    case duckdb::StatementType::SELECT_STATEMENT:
      return "select";
    case duckdb::StatementType::EXPLAIN_STATEMENT:
      return "explain";
    case duckdb::StatementType::INSERT_STATEMENT:
    case duckdb::StatementType::UPDATE_STATEMENT:
    case duckdb::StatementType::DELETE_STATEMENT:
    case duckdb::StatementType::CREATE_STATEMENT:
    case duckdb::StatementType::DROP_STATEMENT:
    case duckdb::StatementType::ALTER_STATEMENT:
    case duckdb::StatementType::COPY_STATEMENT:
      return "write";
    default:
      return "other";
  }
}

// Functions whose result changes between runs on the same data: such queries are not cached.
bool MentionsVolatileFunction(std::string_view sql) {
  static constexpr std::string_view kVolatile[] = {
      "random",       "uuid",      "now",     "current_", "today",
      "get_current_", "localtime", "nextval", "setseed",  "transaction_timestamp",
      "epoch_ms()"};
  std::string lower(sql);
  for (char& c : lower)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (std::string_view name : kVolatile) {
    if (lower.find(name) != std::string::npos)
      return true;
  }
  return false;
}

// StatementPolicy::kUser: what a person's statement may do. Temporary objects belong to the
// statement's own connection (Execute makes one per call), so they end with it.
Status CheckUserStatement(const duckdb::SQLStatement& statement, duckdb::Connection& connection) {
  static const std::string kRule =
      "; a query may run SELECT, EXPLAIN, COPY, and CREATE TEMPORARY TABLE/VIEW/MACRO (which end "
      "with the query); lake tables are written with CREATE TABLE ... AS SELECT or INSERT "
      "OVERWRITE";
  switch (statement.type) {
    case duckdb::StatementType::SELECT_STATEMENT:
      return Status();
    // Files go to the lake (confined URLs), rows into temporary tables: no other table exists
    // in a people's engine, since nothing else can be created there.
    case duckdb::StatementType::COPY_STATEMENT:
    case duckdb::StatementType::INSERT_STATEMENT:
    case duckdb::StatementType::UPDATE_STATEMENT:
    case duckdb::StatementType::DELETE_STATEMENT:
      return Status();
    case duckdb::StatementType::EXPLAIN_STATEMENT:
      return CheckUserStatement(*statement.Cast<duckdb::ExplainStatement>().stmt, connection);
    case duckdb::StatementType::CREATE_STATEMENT: {
      const duckdb::CreateInfo& info = *statement.Cast<duckdb::CreateStatement>().info;
      bool temporary = info.temporary || info.catalog == TEMP_CATALOG;
      bool kind_allowed = info.type == duckdb::CatalogType::TABLE_ENTRY ||
                          info.type == duckdb::CatalogType::VIEW_ENTRY ||
                          info.type == duckdb::CatalogType::TYPE_ENTRY ||  // PIVOT makes one
                          info.type == duckdb::CatalogType::MACRO_ENTRY ||
                          info.type == duckdb::CatalogType::TABLE_MACRO_ENTRY;
      if (!temporary || !kind_allowed) {
        return Status::PermissionDenied(
            "CREATE " + std::string(duckdb::CatalogTypeToString(info.type)) + " is refused" +
            (kind_allowed ? " unless TEMPORARY" : "") + kRule);
      }
      if (info.type == duckdb::CatalogType::MACRO_ENTRY ||
          info.type == duckdb::CatalogType::TABLE_MACRO_ENTRY) {
        const std::string name = AsciiLower(info.Cast<duckdb::CreateFunctionInfo>().name);
        auto found = connection.Query(
            "SELECT count(*) FROM duckdb_functions() WHERE lower(function_name) = " +
            duckdb::KeywordHelper::WriteQuoted(name, '\''));
        if (found->HasError())
          return Status::Internal("checking the macro name failed: " + found->GetError());
        if (found->GetValue(0, 0).GetValue<int64_t>() > 0) {
          return Status::PermissionDenied("a macro may not be named '" + name +
                                          "': DuckDB already has a function of that name");
        }
      }
      return Status();
    }
    default:
      return Status::PermissionDenied("this statement (" +
                                      AsciiLower(duckdb::StatementTypeToString(statement.type)) +
                                      ") is refused" + kRule);
  }
}

}  // namespace internal

Result<bool> IsReadOnlySql(const std::string& sql) {
  duckdb::Parser parser;
  try {
    parser.ParseQuery(sql);
  } catch (const std::exception& error) {
    return Status::InvalidArgument(duckdb::ErrorData(error).Message());
  }
  for (const auto& statement : parser.statements) {
    // EXPLAIN ANALYZE runs its statement, so an EXPLAIN is only as read-only as the plain SELECT.
    if (statement->type == duckdb::StatementType::EXPLAIN_STATEMENT) {
      auto& explain = statement->Cast<duckdb::ExplainStatement>();
      if (explain.stmt->type != duckdb::StatementType::SELECT_STATEMENT)
        return false;
      continue;
    }
    if (statement->type != duckdb::StatementType::SELECT_STATEMENT)
      return false;
  }
  return !parser.statements.empty();
}

Result<std::vector<std::string>> StatementKinds(const std::string& sql) {
  duckdb::Parser parser;
  try {
    parser.ParseQuery(sql);
  } catch (const std::exception& error) {
    return Status::InvalidArgument(duckdb::ErrorData(error).Message());
  }
  std::vector<std::string> kinds;
  for (const auto& statement : parser.statements)
    kinds.push_back(internal::StatementKind(statement->type));
  return kinds;
}

}  // namespace basin::query
