#include "basin/query/table_scan.h"

#include <algorithm>

namespace basin::query {
namespace {

bool IsDataObject(const std::string& relative_key, uint64_t size) {
  if (size == 0)
    return false;
  size_t start = 0;
  while (start < relative_key.size()) {
    if (relative_key[start] == '.' || relative_key[start] == '_')
      return false;
    size_t slash = relative_key.find('/', start);
    if (slash == std::string::npos)
      break;
    start = slash + 1;
  }
  return true;
}

bool AllHive(const catalog::Table& table) {
  return !table.partition_keys.empty() &&
         std::none_of(
             table.partition_keys.begin(), table.partition_keys.end(),
             [](const catalog::PartitionKey& key) { return key.name.rfind("partition_", 0) == 0; });
}

std::string Option(const catalog::Table& table, const std::string& name,
                   const std::string& fallback) {
  auto found = table.format_options.find(name);
  return found == table.format_options.end() ? fallback : found->second;
}

}  // namespace

std::string QuoteLiteral(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'')
      out += '\'';
    out += c;
  }
  return out + "'";
}

Result<std::string> TableScanSql(const catalog::Table& table, storage::StoreResolver& stores, bool uniform_schema,
                                 const std::set<std::string>& excluded) {
  BASIN_ASSIGN_OR_RETURN(storage::StoreResolver::Resolved resolved, stores.Resolve(table.location));
  BASIN_ASSIGN_OR_RETURN(std::vector<storage::ObjectInfo> objects,
                         resolved.store->List(resolved.key));
  std::string root = table.location;  // URL prefix ending in '/'
  std::vector<std::string> files;
  for (const storage::ObjectInfo& object : objects) {
    std::string relative = object.key.substr(resolved.key.size());
    if (IsDataObject(relative, object.size) && !excluded.count(root + relative)) files.push_back(root + relative);
  }

  // Projection: catalog columns with catalog types, then partition columns.
  std::string projection;
  auto add = [&](const std::string& expression) {
    projection += (projection.empty() ? "" : ", ") + expression;
  };
  for (const catalog::Column& column : table.columns) {
    std::string name = catalog::QuoteIdentifier(column.name);
    add("CAST(" + name + " AS " + column.type + ") AS " + name);
  }
  bool hive = AllHive(table);
  for (size_t i = 0; i < table.partition_keys.size(); ++i) {
    const catalog::PartitionKey& key = table.partition_keys[i];
    std::string name = catalog::QuoteIdentifier(key.name);
    if (hive) {
      add(name);
    } else {
      // Plain folder levels: the i-th folder below the table's location.
      add("CAST(string_split(substr(filename, " + std::to_string(root.size() + 1) + "), '/')[" +
          std::to_string(i + 1) + "] AS " + key.type + ") AS " + name);
    }
  }
  if (files.empty()) {
    std::string empty;
    for (const catalog::Column& column : table.columns) {
      empty += (empty.empty() ? "" : ", ") + std::string("CAST(NULL AS ") + column.type + ") AS " +
               catalog::QuoteIdentifier(column.name);
    }
    for (const catalog::PartitionKey& key : table.partition_keys) {
      empty += (empty.empty() ? "" : ", ") + std::string("CAST(NULL AS ") + key.type + ") AS " +
               catalog::QuoteIdentifier(key.name);
    }
    return "SELECT " + empty + " WHERE false";
  }

  std::string list = "[";
  for (size_t i = 0; i < files.size(); ++i)
    list += (i ? ", " : "") + QuoteLiteral(files[i]);
  list += "]";
  std::string options =
      std::string(uniform_schema ? "" : ", union_by_name = true") + ", filename = true";
  std::string columns;  // the catalog's schema, for readers that take one
  for (const catalog::Column& column : table.columns) {
    columns += (columns.empty() ? "" : ", ") + QuoteLiteral(column.name) + ": " +
               QuoteLiteral(column.type);
  }
  std::string schema = uniform_schema ? ", columns = {" + columns + "}" : "";
  // With the schema known, DuckDB need not sniff each file (which reads it) before pruning.
  std::string csv_detect = uniform_schema ? ", auto_detect = false" : "";
  if (hive) {
    std::string types;
    for (const catalog::PartitionKey& key : table.partition_keys) {
      types += (types.empty() ? "" : ", ") + QuoteLiteral(key.name) + ": " + QuoteLiteral(key.type);
    }
    options += ", hive_partitioning = true, hive_types = {" + types + "}";
  } else {
    options += ", hive_partitioning = false";
  }
  std::string compression = Option(table, "compression", "");
  std::string reader;
  if (table.format == "parquet") {
    reader = "read_parquet(" + list + options + ")";
  } else if (table.format == "json") {
    reader = "read_json(" + list + options + schema + ", format = 'auto'" +
             (compression.empty() ? "" : ", compression = " + QuoteLiteral(compression)) + ")";
  } else {
    reader = "read_csv(" + list + options + schema + csv_detect +
             ", delim = " + QuoteLiteral(Option(table, "delimiter", ",")) +
             ", header = " + (Option(table, "header", "true") == "true" ? "true" : "false") +
             (Option(table, "quote", "").empty()
                  ? ""
                  : ", quote = " + QuoteLiteral(Option(table, "quote", ""))) +
             (Option(table, "escape", "").empty()
                  ? ""
                  : ", escape = " + QuoteLiteral(Option(table, "escape", ""))) +
             (compression.empty() ? "" : ", compression = " + QuoteLiteral(compression)) + ")";
  }
  return "SELECT " + projection + " FROM " + reader;
}

}  // namespace basin::query
