#include "basin/catalog/schema.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <memory>

#include "basin/common/ascii.h"

namespace basin::catalog {
namespace {

std::string Upper(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return std::toupper(c); });
  return out;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  return text;
}

// A parsed DuckDB type: a scalar ("BIGINT", "DECIMAL(18,3)"), a LIST (element in
// fields[0]) or a STRUCT (named fields). MAP and other nested types stay scalar text.
struct TypeNode {
  enum class Kind { kScalar, kList, kStruct } kind = Kind::kScalar;
  std::string scalar;
  std::vector<std::pair<std::string, TypeNode>> fields;
};

// Splits "a INT, b STRUCT(x INT, y INT)" at top-level commas.
std::vector<std::string_view> SplitTopLevel(std::string_view text) {
  std::vector<std::string_view> parts;
  int depth = 0;
  bool quoted = false;
  size_t start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '"')
      quoted = !quoted;
    if (quoted)
      continue;
    if (c == '(')
      ++depth;
    if (c == ')')
      --depth;
    if (c == ',' && depth == 0) {
      parts.push_back(Trim(text.substr(start, i - start)));
      start = i + 1;
    }
  }
  parts.push_back(Trim(text.substr(start)));
  return parts;
}

TypeNode Parse(std::string_view text) {
  text = Trim(text);
  TypeNode node;
  if (text.size() > 2 && text.substr(text.size() - 2) == "[]") {
    node.kind = TypeNode::Kind::kList;
    node.fields.emplace_back("", Parse(text.substr(0, text.size() - 2)));
    return node;
  }
  std::string upper = Upper(text.substr(0, std::min<size_t>(text.size(), 7)));
  if (upper == "STRUCT(" && text.back() == ')') {
    node.kind = TypeNode::Kind::kStruct;
    for (std::string_view field : SplitTopLevel(text.substr(7, text.size() - 8))) {
      std::string name;
      std::string_view rest;
      if (!field.empty() && field.front() == '"') {
        size_t i = 1;
        for (; i < field.size(); ++i) {
          if (field[i] == '"' && (i + 1 >= field.size() || field[i + 1] != '"'))
            break;
          if (field[i] == '"')
            ++i;
          name.push_back(field[i]);
        }
        rest = field.substr(std::min(field.size(), i + 1));
      } else {
        size_t space = field.find(' ');
        name = std::string(field.substr(0, space));
        rest = space == std::string_view::npos ? "" : field.substr(space + 1);
      }
      node.fields.emplace_back(name, Parse(rest));
    }
    return node;
  }
  node.scalar = Upper(text);
  return node;
}

std::string Render(const TypeNode& node) {
  switch (node.kind) {
    case TypeNode::Kind::kScalar:
      return node.scalar;
    case TypeNode::Kind::kList:
      return Render(node.fields[0].second) + "[]";
    case TypeNode::Kind::kStruct: {
      std::string out = "STRUCT(";
      for (size_t i = 0; i < node.fields.size(); ++i) {
        if (i > 0)
          out += ", ";
        const std::string& name = node.fields[i].first;
        // Quoted only when needed, as DuckDB prints struct types, so renderings compare equal.
        bool plain = !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0])) &&
                     std::all_of(name.begin(), name.end(),
                                 [](unsigned char c) { return std::isalnum(c) || c == '_'; });
        out += (plain ? name : QuoteIdentifier(name)) + " " + Render(node.fields[i].second);
      }
      return out + ")";
    }
  }
  return "VARCHAR";
}

int IntegerRank(const std::string& type) {
  static const std::map<std::string, int> kRanks = {
      {"TINYINT", 1},  {"UTINYINT", 2}, {"SMALLINT", 2}, {"USMALLINT", 3}, {"INTEGER", 3},
      {"UINTEGER", 4}, {"BIGINT", 4},   {"UBIGINT", 5},  {"HUGEINT", 5}};
  auto found = kRanks.find(type);
  return found == kRanks.end() ? 0 : found->second;
}

std::string WidenScalar(const std::string& a, const std::string& b) {
  if (a == b)
    return a;
  if (a == "NULL" || a.empty())
    return b;  // a column seen only as nulls says nothing
  if (b == "NULL" || b.empty())
    return a;
  int rank_a = IntegerRank(a), rank_b = IntegerRank(b);
  if (rank_a > 0 && rank_b > 0) {
    int rank = std::max(rank_a, rank_b);
    return rank >= 5 ? "HUGEINT" : rank == 4 ? "BIGINT" : rank == 3 ? "INTEGER" : "SMALLINT";
  }
  auto is_float = [](const std::string& t) {
    return t == "FLOAT" || t == "DOUBLE";
  };
  auto is_decimal = [](const std::string& t) {
    return t.rfind("DECIMAL", 0) == 0;
  };
  if ((is_float(a) || rank_a > 0) && (is_float(b) || rank_b > 0))
    return "DOUBLE";
  if ((is_decimal(a) || rank_a > 0) && (is_decimal(b) || rank_b > 0))
    return "DECIMAL(38,9)";
  if ((is_decimal(a) || is_float(a)) && (is_decimal(b) || is_float(b)))
    return "DOUBLE";
  auto is_time = [](const std::string& t) {
    return t == "DATE" || t.rfind("TIMESTAMP", 0) == 0;
  };
  if (is_time(a) && is_time(b)) {
    bool zoned = a == "TIMESTAMP WITH TIME ZONE" || b == "TIMESTAMP WITH TIME ZONE";
    return zoned ? "TIMESTAMP WITH TIME ZONE" : "TIMESTAMP";
  }
  return "VARCHAR";
}

TypeNode Widen(const TypeNode& a, const TypeNode& b) {
  if (a.kind == TypeNode::Kind::kScalar && a.scalar == "NULL")
    return b;
  if (b.kind == TypeNode::Kind::kScalar && b.scalar == "NULL")
    return a;
  if (a.kind != b.kind)
    return TypeNode{TypeNode::Kind::kScalar, "VARCHAR", {}};
  TypeNode out;
  out.kind = a.kind;
  switch (a.kind) {
    case TypeNode::Kind::kScalar:
      out.scalar = WidenScalar(a.scalar, b.scalar);
      break;
    case TypeNode::Kind::kList:
      out.fields.emplace_back("", Widen(a.fields[0].second, b.fields[0].second));
      break;
    case TypeNode::Kind::kStruct: {
      out.fields = a.fields;
      for (const auto& [name, type] : b.fields) {
        auto same = std::find_if(out.fields.begin(), out.fields.end(), [&](const auto& field) {
          return AsciiLower(field.first) == AsciiLower(name);
        });
        if (same == out.fields.end()) {
          out.fields.emplace_back(name, type);
        } else {
          same->second = Widen(same->second, type);
        }
      }
      break;
    }
  }
  return out;
}

}  // namespace

std::string WidenType(std::string_view a, std::string_view b) {
  return Render(Widen(Parse(a), Parse(b)));
}

std::string NormalizeType(std::string_view type) {
  return Render(Parse(type));
}

std::vector<Column> MergeColumns(const std::vector<Column>& base,
                                 const std::vector<Column>& addition) {
  std::vector<Column> merged = base;
  for (const Column& column : addition) {
    auto same = std::find_if(merged.begin(), merged.end(), [&](const Column& existing) {
      return AsciiLower(existing.name) == AsciiLower(column.name);
    });
    if (same == merged.end()) {
      merged.push_back(column);
    } else {
      same->type = WidenType(same->type, column.type);
      if (same->comment.empty())
        same->comment = column.comment;
    }
  }
  return merged;
}

std::string DescribeSchemaChange(const std::vector<Column>& before,
                                 const std::vector<Column>& after) {
  std::string out;
  auto find = [](const std::vector<Column>& columns, const std::string& name) {
    return std::find_if(columns.begin(), columns.end(), [&](const Column& column) {
      return AsciiLower(column.name) == AsciiLower(name);
    });
  };
  for (const Column& column : after) {
    auto old = find(before, column.name);
    if (old == before.end()) {
      out += "+ added " + column.name + " " + column.type + "\n";
    } else if (old->type != column.type) {
      out += "~ changed " + column.name + " " + old->type + " -> " + column.type + "\n";
    }
  }
  for (const Column& column : before) {
    if (find(after, column.name) == after.end())
      out += "- removed " + column.name + " " + column.type + "\n";
  }
  return out;
}

SchemaOverlap CompareColumns(const std::vector<Column>& a, const std::vector<Column>& b) {
  SchemaOverlap overlap;
  std::vector<std::string> names_a, names_b;
  for (const Column& column : a)
    names_a.push_back(AsciiLower(column.name));
  for (const Column& column : b)
    names_b.push_back(AsciiLower(column.name));
  std::sort(names_a.begin(), names_a.end());
  std::sort(names_b.begin(), names_b.end());
  names_a.erase(std::unique(names_a.begin(), names_a.end()), names_a.end());
  names_b.erase(std::unique(names_b.begin(), names_b.end()), names_b.end());
  std::vector<std::string> shared;
  std::set_intersection(names_a.begin(), names_a.end(), names_b.begin(), names_b.end(),
                        std::back_inserter(shared));
  overlap.shared = shared.size();
  overlap.total = names_a.size() + names_b.size() - shared.size();
  return overlap;
}

std::string QuoteIdentifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"')
      out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace basin::catalog
