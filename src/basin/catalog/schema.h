#pragma once

#include <string>
#include <string_view>
#include <vector>

/// Table schemas: columns with DuckDB type names, and the rules for merging the schemas
/// of many files into one table schema. Pure functions; thread-safe.
namespace basin::catalog {

struct Column {
  std::string name;
  std::string type;  // a DuckDB type: "BIGINT", "VARCHAR[]", "STRUCT(id BIGINT, tags VARCHAR[])"
  std::string comment;
  friend bool operator==(const Column&, const Column&) = default;
};

/// The narrowest type that holds values of both `a` and `b`. Integers widen to larger
/// integers, then to DOUBLE (with floats) or DECIMAL (with decimals); DATE and TIMESTAMP
/// widen to TIMESTAMP; structs merge their fields by name (recursively); lists widen their
/// element type; anything else that differs becomes VARCHAR, which holds every value's text.
std::string WidenType(std::string_view a, std::string_view b);

/// The canonical spelling of a type (upper-case, struct fields quoted only when needed).
std::string NormalizeType(std::string_view type);

/// Union of columns by name (case-insensitive, as DuckDB): `base` keeps its order, columns
/// only in `addition` are appended in their order, and shared columns get WidenType.
std::vector<Column> MergeColumns(const std::vector<Column>& base,
                                 const std::vector<Column>& addition);

/// A readable account of what changed from `before` to `after`, one change per line:
/// "+ added discount DOUBLE", "~ changed price INTEGER -> DOUBLE", "- removed legacy_id".
/// Empty when nothing changed.
std::string DescribeSchemaChange(const std::vector<Column>& before,
                                 const std::vector<Column>& after);

/// How many column names two schemas share, and how many distinct names they have together.
struct SchemaOverlap {
  size_t shared = 0;
  size_t total = 0;
  double Similarity() const {
    return total == 0 ? 1.0 : static_cast<double>(shared) / static_cast<double>(total);
  }
};
SchemaOverlap CompareColumns(const std::vector<Column>& a, const std::vector<Column>& b);

/// Quotes an identifier for SQL ("a""b"): the only way names from files reach SQL text.
std::string QuoteIdentifier(std::string_view name);

}  // namespace basin::catalog
