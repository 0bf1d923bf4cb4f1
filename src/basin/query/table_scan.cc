#include "basin/query/table_scan.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <unordered_map>

#include "basin/query/lake_sql.h"

namespace basin::query {
namespace {

constexpr std::string_view kScanMarker = "/~basin/";

std::string Option(const catalog::Table& table, const std::string& name,
                   const std::string& fallback) {
  auto found = table.format_options.find(name);
  return found == table.format_options.end() ? fallback : found->second;
}

std::string Join(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& part : parts)
    out += (out.empty() ? "" : ", ") + part;
  return out;
}

std::string PercentEncode(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if (c == '/' || c == '%' || c == '=' || c == '\\' || c == '?' || c < 0x20) {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// The reader call for one group of files that share a schema (`columns`; empty: unknown,
// match by name across files).
std::string ReaderSql(const catalog::Table& table, const std::vector<std::string>& paths,
                      const std::vector<catalog::Column>& columns) {
  std::vector<std::string> quoted;
  quoted.reserve(paths.size());
  for (const std::string& path : paths)
    quoted.push_back(QuoteLiteral(path));
  std::string options = "[" + Join(quoted) + "]";
  if (columns.empty())
    options += ", union_by_name = true";
  if (table.partition_keys.empty()) {
    options += ", hive_partitioning = false";
  } else {
    std::vector<std::string> types;
    for (const catalog::PartitionKey& key : table.partition_keys) {
      types.push_back(QuoteLiteral(key.name) + ": " + QuoteLiteral(key.type));
    }
    options += ", hive_partitioning = true, hive_types = {" + Join(types) + "}";
  }
  std::vector<std::string> schema;
  for (const catalog::Column& column : columns)
    schema.push_back(QuoteLiteral(column.name) + ": " + QuoteLiteral(column.type));
  // With the schema given, DuckDB need not open each file (to sniff it) before pruning.
  std::string with_schema = columns.empty() ? "" : ", columns = {" + Join(schema) + "}";
  std::string compression = Option(table, "compression", "");
  std::string compression_option =
      compression.empty() ? "" : ", compression = " + QuoteLiteral(compression);
  if (table.format == catalog::TableFormat::kParquet)
    return "read_parquet(" + options + ")";
  if (table.format == catalog::TableFormat::kJson)
    return "read_json(" + options + with_schema + ", format = 'auto'" + compression_option + ")";
  std::string quote = Option(table, "quote", "");
  std::string escape = Option(table, "escape", "");
  return "read_csv(" + options + with_schema + (columns.empty() ? "" : ", auto_detect = false") +
         ", delim = " + QuoteLiteral(Option(table, "delimiter", ",")) +
         ", header = " + (Option(table, "header", "true") == "true" ? "true" : "false") +
         (quote.empty() ? "" : ", quote = " + QuoteLiteral(quote)) +
         (escape.empty() ? "" : ", escape = " + QuoteLiteral(escape)) + compression_option + ")";
}

// A data column named like a partition key is the partition's value (as in Hive and Glue,
// and as DuckDB's hive_partitioning reads such files): listing both would add a "_1" copy.
bool IsPartitionKey(const catalog::Table& table, std::string_view column) {
  return std::any_of(table.partition_keys.begin(), table.partition_keys.end(),
                     [&](const catalog::PartitionKey& key) {
                       return key.name.size() == column.size() &&
                              std::equal(key.name.begin(), key.name.end(), column.begin(),
                                         [](char a, char b) {
                                           return std::tolower(static_cast<unsigned char>(a)) ==
                                                  std::tolower(static_cast<unsigned char>(b));
                                         });
                     });
}

// The table's columns (cast to the catalog's types; NULL where the group lacks one), then
// its partition columns.
std::string ProjectionSql(const catalog::Table& table,
                          const std::vector<catalog::Column>& group_columns) {
  std::vector<std::string> projection;
  for (const catalog::Column& column : table.columns) {
    if (IsPartitionKey(table, column.name))
      continue;
    std::string name = catalog::QuoteIdentifier(column.name);
    bool present = group_columns.empty() || std::any_of(group_columns.begin(), group_columns.end(),
                                                        [&](const catalog::Column& other) {
                                                          return other.name == column.name;
                                                        });
    projection.push_back("CAST(" + (present ? name : std::string("NULL")) + " AS " + column.type +
                         ") AS " + name);
  }
  for (const catalog::PartitionKey& key : table.partition_keys)
    projection.push_back(catalog::QuoteIdentifier(key.name));
  return Join(projection);
}

std::string EmptySql(const catalog::Table& table) {
  std::vector<std::string> projection;
  for (const catalog::Column& column : table.columns) {
    if (IsPartitionKey(table, column.name))
      continue;
    projection.push_back("CAST(NULL AS " + column.type + ") AS " +
                         catalog::QuoteIdentifier(column.name));
  }
  for (const catalog::PartitionKey& key : table.partition_keys) {
    projection.push_back("CAST(NULL AS " + key.type + ") AS " + catalog::QuoteIdentifier(key.name));
  }
  return "SELECT " + Join(projection) + " WHERE false";
}

std::string SchemaKey(const std::vector<catalog::Column>& columns) {
  std::string key;
  for (const catalog::Column& column : columns)
    key += column.name + '\x1f' + column.type + '\x1e';
  return key;
}

}  // namespace

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

std::string ScanPath(std::string_view object_url,
                     const std::vector<std::pair<std::string, std::string>>& values) {
  size_t slash = object_url.rfind('/');
  std::string out(object_url.substr(0, slash));
  out += kScanMarker;
  for (const auto& [key, value] : values)
    out += PercentEncode(key) + "=" + PercentEncode(value) + "/";
  out += object_url.substr(slash + 1);
  return out;
}

bool IsScanPath(std::string_view path) {
  return path.find(kScanMarker) != std::string_view::npos;
}

std::string ObjectUrlOfScanPath(std::string_view path) {
  size_t marker = path.find(kScanMarker);
  if (marker == std::string_view::npos)
    return std::string(path);
  size_t name = path.rfind('/');
  return std::string(path.substr(0, marker + 1)) + std::string(path.substr(name + 1));
}

Result<TableScan> PlanTableScan(const catalog::Table& table,
                                const std::vector<catalog::Partition>& partitions,
                                storage::StoreResolver& stores,
                                const std::set<std::string>& excluded) {
  TableScan scan;
  scan.table = table.database + "." + table.name;
  scan.database = table.database;
  scan.name = table.name;
  scan.location = table.location;
  bool partitioned = !table.partition_keys.empty();
  // Partition by location; a file belongs to the deepest registered location above it.
  std::unordered_map<std::string, int> partition_of_location;
  for (size_t i = 0; i < partitions.size(); ++i) {
    std::string name;
    for (size_t k = 0; k < table.partition_keys.size() && k < partitions[i].values.size(); ++k) {
      name += (k ? "/" : "") + table.partition_keys[k].name + "=" + partitions[i].values[k];
    }
    scan.partitions.push_back(std::move(name));
    scan.partition_locations.push_back(partitions[i].location);
    partition_of_location.emplace(partitions[i].location, static_cast<int>(i));
  }
  if (!partitioned || !partitions.empty()) {
    BASIN_ASSIGN_OR_RETURN(storage::StoreResolver::Resolved resolved,
                           stores.Resolve(table.location));
    BASIN_ASSIGN_OR_RETURN(std::vector<storage::ObjectInfo> objects,
                           resolved.store->List(resolved.key));
    for (const storage::ObjectInfo& object : objects) {
      std::string relative = object.key.substr(resolved.key.size());
      std::string url = table.location + relative;
      if (!IsDataObject(relative, object.size) || excluded.count(url))
        continue;
      ScanFile file{.size = object.size,
                    .etag = object.etag,
                    .modified_us = std::chrono::duration_cast<std::chrono::microseconds>(
                                       object.modified.time_since_epoch())
                                       .count()};
      std::vector<std::pair<std::string, std::string>> values;
      if (partitioned) {
        for (size_t end = url.rfind('/');
             end != std::string::npos && end >= table.location.size() - 1;
             end = end == 0 ? std::string::npos : url.rfind('/', end - 1)) {
          auto found = partition_of_location.find(url.substr(0, end + 1));
          if (found != partition_of_location.end()) {
            file.partition = found->second;
            break;
          }
        }
        if (file.partition < 0)
          continue;  // not (yet) in the catalog
        const catalog::Partition& partition = partitions[file.partition];
        for (size_t k = 0; k < table.partition_keys.size() && k < partition.values.size(); ++k) {
          values.emplace_back(table.partition_keys[k].name, partition.values[k]);
        }
      }
      file.path = ScanPath(url, values);
      scan.files.push_back(std::move(file));
    }
  }
  if (scan.files.empty()) {
    scan.sql = EmptySql(table);
    return scan;
  }
  // Newest partition first: DuckDB reads the first object's footer to bind a Parquet
  // scan, and queries mostly ask for recent partitions, so that read is rarely wasted.
  std::stable_sort(scan.files.begin(), scan.files.end(), [&](const ScanFile& a, const ScanFile& b) {
    if (a.partition < 0 || b.partition < 0)
      return false;
    return scan.partitions[a.partition] > scan.partitions[b.partition];
  });

  // Group the files by the schema their partition recorded (the table's when it recorded none).
  std::map<std::string, std::pair<std::vector<catalog::Column>, std::vector<std::string>>> groups;
  for (const ScanFile& file : scan.files) {
    const std::vector<catalog::Column>* columns = &table.columns;
    if (file.partition >= 0 && !partitions[file.partition].columns.empty())
      columns = &partitions[file.partition].columns;
    // Unpartitioned: per-file schemas are not in the catalog, so match by name (empty schema).
    std::vector<catalog::Column> schema = partitioned ? *columns : std::vector<catalog::Column>{};
    auto& group = groups[SchemaKey(schema)];
    group.first = std::move(schema);
    group.second.push_back(file.path);
  }
  std::vector<std::string> selects;
  for (const auto& [key, group] : groups) {
    selects.push_back("SELECT " + ProjectionSql(table, group.first) + " FROM " +
                      ReaderSql(table, group.second, group.first));
  }
  scan.sql = selects.size() == 1 ? selects.front() : "SELECT * FROM (" + [&] {
    std::string all;
    for (const std::string& select : selects)
      all += (all.empty() ? "(" : " UNION ALL (") + select + ")";
    return all;
  }() + ")";
  return scan;
}

}  // namespace basin::query
