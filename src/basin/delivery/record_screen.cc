#include "basin/delivery/record_screen.h"

#include <cctype>
#include <cmath>
#include <limits>
#include <set>

namespace basin::delivery {
namespace {

std::string Upper(std::string_view text) {
  std::string upper(text);
  for (char& c : upper)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return upper;
}

std::string Lower(std::string_view text) {
  std::string lower(text);
  for (char& c : lower)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower;
}

// The smallest and largest value of an integer type, or nullopt for other types.
std::optional<std::pair<double, double>> IntegerRange(const std::string& base) {
  if (base == "TINYINT" || base == "INT1")
    return std::pair{-128.0, 127.0};
  if (base == "SMALLINT" || base == "INT2")
    return std::pair{-32768.0, 32767.0};
  if (base == "INTEGER" || base == "INT" || base == "INT4")
    return std::pair{-2147483648.0, 2147483647.0};
  if (base == "BIGINT" || base == "INT8" || base == "HUGEINT")
    return std::pair{-9223372036854775808.0, 9223372036854775807.0};
  if (base == "UTINYINT")
    return std::pair{0.0, 255.0};
  if (base == "USMALLINT")
    return std::pair{0.0, 65535.0};
  if (base == "UINTEGER")
    return std::pair{0.0, 4294967295.0};
  if (base == "UBIGINT" || base == "UHUGEINT")
    return std::pair{0.0, 18446744073709551615.0};
  return std::nullopt;
}

std::string Shown(const nlohmann::json& value) {
  std::string text = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return text.size() > 60 ? text.substr(0, 57) + "..." : text;
}

}  // namespace

std::string ValueMisfit(const nlohmann::json& value, std::string_view type, bool* ask_engine) {
  *ask_engine = false;
  if (value.is_null())
    return "";
  std::string upper = Upper(type);
  std::string base = upper.substr(0, upper.find_first_of("(<[ "));
  bool nested = upper.find_first_of("[<") != std::string::npos || base == "STRUCT" ||
                base == "MAP" || base == "LIST" || base == "UNION";
  if (nested)
    return value.is_structured() ? "" : Shown(value) + " is not an object or array";
  if (base == "VARCHAR" || base == "TEXT" || base == "STRING" || base == "JSON" || base == "BLOB" ||
      base == "ENUM")
    return "";
  if (value.is_structured())
    return Shown(value) + " is not a single value";
  if (value.is_string()) {
    *ask_engine = true;  // DuckDB's cast decides ("42", "2026-11-25", "true")
    return "";
  }
  if (std::optional<std::pair<double, double>> range = IntegerRange(base)) {
    if (!value.is_number())
      return Shown(value) + " is not a number";
    if (value.is_number_float()) {
      double number = value.get<double>();
      if (std::floor(number) != number)
        return Shown(value) + " is not a whole number";
    }
    double number = value.is_number_unsigned() ? static_cast<double>(value.get<uint64_t>())
                                               : value.get<double>();
    if (number < range->first || number > range->second)
      return Shown(value) + " is out of range";
    return "";
  }
  if (base == "DOUBLE" || base == "FLOAT" || base == "REAL" || base == "DECIMAL" ||
      base == "NUMERIC" || base == "FLOAT4" || base == "FLOAT8")
    return value.is_number() ? "" : Shown(value) + " is not a number";
  if (base == "BOOLEAN" || base == "BOOL")
    return value.is_boolean() ? "" : Shown(value) + " is not true or false";
  if (base == "DATE" || base.starts_with("TIME") || base == "INTERVAL" || base == "UUID")
    return Shown(value) + " is not a string";
  return "";  // a type basin does not know: DuckDB decides when writing
}

ScreenedRecords ScreenRecords(const std::vector<const PartitionedRecord*>& records,
                              const std::optional<catalog::Table>& table,
                              bool refuse_unknown_fields) {
  ScreenedRecords screened;
  if (!table) {
    for (const PartitionedRecord* record : records)
      screened.by_partition[record->partition].push_back({record->json, {}});
    return screened;
  }
  const std::string qualified = table->database + "." + table->name;
  std::map<std::string, const catalog::Column*> columns;  // by lower-case name
  for (const catalog::Column& column : table->columns)
    columns[Lower(column.name)] = &column;
  std::set<std::string> partition_keys;
  for (const catalog::PartitionKey& key : table->partition_keys)
    partition_keys.insert(Lower(key.name));

  for (const PartitionedRecord* record : records) {
    nlohmann::json parsed = nlohmann::json::parse(record->json, nullptr, false);
    ScreenedRecord kept{record->json, {}};
    std::string reason;
    for (const auto& [key, value] : parsed.items()) {
      std::string name = Lower(key);
      if (partition_keys.contains(name))
        continue;  // the partition's value
      auto column = columns.find(name);
      if (column == columns.end()) {
        if (refuse_unknown_fields) {
          reason = "field '" + key + "' is not a column of " + qualified +
                   " (the stream's unknown_fields is error)";
          break;
        }
        continue;  // a new column
      }
      bool ask_engine = false;
      std::string misfit = ValueMisfit(value, column->second->type, &ask_engine);
      if (!misfit.empty()) {
        reason = "field '" + key + "': " + misfit + ", so it cannot be stored in column " +
                 column->second->name + " " + column->second->type + " of " + qualified;
        break;
      }
      if (ask_engine)
        kept.engine_checks.emplace_back(column->second->name, value.get<std::string>());
    }
    if (!reason.empty()) {
      screened.refused.push_back(
          {{"code", "InvalidArgument"}, {"reason", reason}, {"raw", record->json}});
      continue;
    }
    screened.by_partition[record->partition].push_back(std::move(kept));
  }
  return screened;
}

nlohmann::json EngineRefusal(const ScreenedRecord& record, const std::string& column,
                             const std::string& value, const std::string& type,
                             const std::string& qualified_table) {
  return {{"code", "InvalidArgument"},
          {"reason", "field '" + column + "': " + Shown(nlohmann::json(value)) +
                         " cannot be converted to " + type + ", so it cannot be stored in column " +
                         column + " of " + qualified_table},
          {"raw", record.json}};
}

}  // namespace basin::delivery
