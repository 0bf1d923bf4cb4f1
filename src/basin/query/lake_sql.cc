#include "basin/query/lake_sql.h"

#include <cctype>
#include <set>

#include "basin/catalog/schema.h"

namespace basin::query {
namespace {

std::string Upper(std::string_view text) {
  std::string upper(text);
  for (char& c : upper)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return upper;
}

// "BIGINT", "DECIMAL(18,3)" -> "BIGINT", "DECIMAL"; "" for nested types (any value goes).
std::string ScalarBase(std::string_view type) {
  std::string upper = Upper(type);
  std::string base = upper.substr(0, upper.find_first_of("(<[ "));
  bool nested = upper.find_first_of("[<") != std::string::npos || base == "STRUCT" ||
                base == "MAP" || base == "LIST" || base == "UNION";
  return nested ? "" : base;
}

bool IsText(const std::string& base) {
  return base == "VARCHAR" || base == "TEXT" || base == "STRING" || base == "JSON" ||
         base == "BLOB" || base == "ENUM";
}

bool IsInteger(const std::string& base) {
  static const std::set<std::string> kIntegers = {
      "TINYINT", "SMALLINT", "INTEGER",  "INT",       "BIGINT",   "HUGEINT", "INT1",    "INT2",
      "INT4",    "INT8",     "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT"};
  return kIntegers.contains(base);
}

// "{'a': 'BIGINT', ...}" for read_json's columns option.
std::string ColumnsOption(const std::vector<catalog::Column>& columns) {
  std::string option = "{";
  for (size_t i = 0; i < columns.size(); ++i) {
    option +=
        (i ? ", " : "") + QuoteLiteral(columns[i].name) + ": " + QuoteLiteral(columns[i].type);
  }
  return option + "}";
}

const std::optional<std::string>& Cell(const Row& row, size_t index) {
  static const std::optional<std::string> kNull;
  return index < row.size() ? row[index] : kNull;
}

ExecuteOptions Basin(const std::atomic<bool>* cancel) {
  return {.policy = StatementPolicy::kBasin, .cancel = cancel, .use_cache = false};
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

std::string SelectFromJson(const JsonSource& source) {
  std::string sql = "SELECT * FROM read_json(" + QuoteLiteral(source.url) +
                    ", format = " + (source.newline_delimited ? "'newline_delimited'" : "'auto'");
  if (!source.columns.empty())
    sql += ", columns = " + ColumnsOption(source.columns);
  // read_json spells "no compression" differently from read_csv.
  if (!source.compression.empty())
    sql += ", compression = " +
           QuoteLiteral(source.compression == "none" ? "uncompressed" : source.compression);
  if (source.sample_rows > 0)
    sql += ", sample_size = " + std::to_string(source.sample_rows);
  if (!source.hive_partitioning)
    sql += ", hive_partitioning = false";
  return sql + ")";
}

std::string SelectFromParquet(std::string_view url, bool hive_partitioning) {
  return "SELECT * FROM read_parquet(" + QuoteLiteral(url) +
         (hive_partitioning ? "" : ", hive_partitioning = false") + ")";
}

std::string SelectProjected(std::string_view input, const std::vector<Projected>& columns) {
  std::string out;
  for (const Projected& column : columns) {
    std::string value =
        column.source.empty() ? "NULL" : "q." + catalog::QuoteIdentifier(column.source);
    if (!column.type.empty())
      value = "CAST(" + value + " AS " + column.type + ")";
    out += (out.empty() ? "" : ", ") + value + " AS " + catalog::QuoteIdentifier(column.name);
  }
  return "SELECT " + out + " FROM (\n" + std::string(input) + "\n) AS q";
}

std::string CopySql(std::string_view select, std::string_view target, const CopyOptions& options) {
  std::string sql = "COPY (\n" + std::string(select) + "\n) TO " + QuoteLiteral(target) + " (" +
                    (options.format == ObjectFormat::kParquet ? "FORMAT parquet" : "FORMAT json");
  if (!options.partition_by.empty()) {
    std::string keys;
    for (const std::string& key : options.partition_by)
      keys += (keys.empty() ? "" : ", ") + catalog::QuoteIdentifier(key);
    // OVERWRITE_OR_IGNORE lets DuckDB write into a folder that already holds other
    // partitions; callers make every object name new (FILENAME_PATTERN).
    sql += ", PARTITION_BY (" + keys + ")";
    if (!options.filename_pattern.empty())
      sql += ", FILENAME_PATTERN " + QuoteLiteral(options.filename_pattern);
    sql += ", OVERWRITE_OR_IGNORE true";
  } else if (options.in_place) {
    sql += ", USE_TMP_FILE false";
  }
  return sql + ")";
}

Result<int64_t> CopySelect(Engine& engine, std::string_view select, std::string_view target,
                           const CopyOptions& options, const ExecuteOptions& execute) {
  BASIN_ASSIGN_OR_RETURN(QueryResult copied,
                         engine.Execute(CopySql(select, target, options), execute));
  if (copied.rows.empty() || !Cell(copied.rows[0], 0))
    return int64_t{0};
  return std::stoll(*copied.rows[0][0]);
}

Result<std::vector<catalog::Column>> DescribeSelect(Engine& engine, std::string_view select,
                                                    const ExecuteOptions& execute) {
  BASIN_ASSIGN_OR_RETURN(
      QueryResult described,
      engine.Execute("DESCRIBE SELECT * FROM (\n" + std::string(select) + "\n)", execute));
  std::vector<catalog::Column> columns;
  for (const Row& row : described.rows) {
    if (!Cell(row, 0) || !Cell(row, 1))
      return Status::Internal("DESCRIBE returned a row without name or type");
    columns.push_back({.name = *row[0], .type = *row[1]});
  }
  return columns;
}

Result<std::vector<catalog::Column>> DescribeSelect(Engine& engine, std::string_view select,
                                                    const std::atomic<bool>* cancel) {
  return DescribeSelect(engine, select, Basin(cancel));
}

Result<CsvSniff> SniffCsv(Engine& engine, std::string_view url, int sample_rows,
                          std::string_view compression) {
  std::string sniff = "sniff_csv(" + QuoteLiteral(url) +
                      ", sample_size=" + std::to_string(sample_rows) +
                      ", compression=" + QuoteLiteral(compression) + ")";
  // One query for dialect and columns: the per-query overhead is most of a small file's cost.
  BASIN_ASSIGN_OR_RETURN(
      QueryResult sniffed,
      engine.Execute("SELECT Delimiter, Quote, Escape, HasHeader, c.name, c.type FROM (SELECT *, "
                     "unnest(Columns) AS c FROM " +
                     sniff + ")"));
  if (sniffed.rows.empty())
    return Status::InvalidArgument("the CSV sniffer found no columns");
  auto text = [](const std::optional<std::string>& value) {
    return value.value_or("");
  };
  const Row& first = sniffed.rows[0];
  CsvSniff found{.delimiter = text(Cell(first, 0)),
                 .quote = text(Cell(first, 1)),
                 .escape = text(Cell(first, 2)),
                 .header = text(Cell(first, 3))};
  for (const Row& row : sniffed.rows)
    found.columns.push_back({.name = text(Cell(row, 4)), .type = text(Cell(row, 5))});
  return found;
}

Result<std::optional<int64_t>> ParquetRows(Engine& engine, std::string_view url) {
  BASIN_ASSIGN_OR_RETURN(
      QueryResult rows,
      engine.Execute("SELECT sum(num_rows) FROM parquet_file_metadata(" + QuoteLiteral(url) + ")"));
  if (rows.rows.empty() || !Cell(rows.rows[0], 0))
    return std::optional<int64_t>();
  return std::optional<int64_t>(std::stoll(*rows.rows[0][0]));
}

Result<std::vector<UncastableValue>> FindUncastable(Engine& engine, std::string_view staged_url,
                                                    std::string_view row_field,
                                                    const std::vector<catalog::Column>& columns,
                                                    const std::atomic<bool>* cancel) {
  std::vector<catalog::Column> read = {{.name = std::string(row_field), .type = "BIGINT"}};
  std::string checks;
  for (const catalog::Column& column : columns) {
    std::string base = ScalarBase(column.type);
    if (base.empty() || IsText(base))
      continue;
    // Read as text (a number as its digits, an object as its JSON), then cast as the
    // delivery will; for integers, a fraction would be rounded: refused instead.
    std::string name = catalog::QuoteIdentifier(column.name);
    std::string bad = "TRY_CAST(" + name + " AS " + column.type + ") IS NULL";
    if (IsInteger(base))
      bad += " OR (TRY_CAST(" + name + " AS DOUBLE) IS NOT NULL AND TRY_CAST(" + name +
             " AS DOUBLE) <> floor(TRY_CAST(" + name + " AS DOUBLE)))";
    read.push_back({.name = column.name, .type = "VARCHAR"});
    checks += std::string(checks.empty() ? "" : " UNION ALL ") + "SELECT " +
              catalog::QuoteIdentifier(row_field) + " AS row, " + QuoteLiteral(column.name) +
              " AS name, " + name + " AS value FROM staged WHERE " + name + " IS NOT NULL AND (" +
              bad + ")";
  }
  std::vector<UncastableValue> found;
  if (checks.empty())
    return found;
  std::string staged = SelectFromJson({.url = std::string(staged_url), .columns = read});
  BASIN_ASSIGN_OR_RETURN(QueryResult bad,
                         engine.Execute("WITH staged AS (" + staged + ") " + checks, cancel));
  for (const Row& row : bad.rows) {
    if (!Cell(row, 0) || !Cell(row, 1) || !Cell(row, 2))
      continue;
    found.push_back({.row = std::stoll(*row[0]), .column = *row[1], .value = *row[2]});
  }
  return found;
}

std::string StorableSelect(std::string_view select, const std::vector<std::string>& names,
                           std::vector<std::string>& types) {
  std::string replace;
  for (size_t i = 0; i < types.size() && i < names.size(); ++i) {
    if (types[i] != "HUGEINT" && types[i] != "UHUGEINT")
      continue;
    types[i] = "DECIMAL(38,0)";
    std::string name = catalog::QuoteIdentifier(names[i]);
    replace += (replace.empty() ? "" : ", ") + std::string("CAST(") + name +
               " AS DECIMAL(38,0)) AS " + name;
  }
  if (replace.empty())
    return std::string(select);
  return "SELECT * REPLACE (" + replace + ") FROM (\n" + std::string(select) + "\n)";
}

std::string SelectPage(std::string_view url, int64_t offset, int64_t limit) {
  std::string sql = SelectFromParquet(url);
  if (limit >= 0)
    sql += " LIMIT " + std::to_string(limit);
  if (offset > 0)
    sql += " OFFSET " + std::to_string(offset);
  return sql;
}

}  // namespace basin::query
