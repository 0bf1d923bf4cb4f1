#include "basin/writer/write_plan.h"

#include <algorithm>
#include <cctype>
#include <optional>

#include "basin/catalog/schema.h"
#include "basin/common/ascii.h"
#include "basin/query/lake_sql.h"
#include "basin/tablewrite/write_layout.h"

namespace basin::writer {
namespace {

// DuckDB binds names case-insensitively, so the writer matches them that way too.
std::optional<size_t> FindColumn(const std::vector<QueryColumn>& output, std::string_view name) {
  for (size_t i = 0; i < output.size(); ++i) {
    if (AsciiLower(output[i].name) == AsciiLower(name))
      return i;
  }
  return std::nullopt;
}

std::string NameList(const std::vector<QueryColumn>& output) {
  std::string names;
  for (const QueryColumn& column : output)
    names += (names.empty() ? "" : ", ") + column.name;
  return names;
}

Status CheckDistinctNames(const std::vector<QueryColumn>& output) {
  for (size_t i = 0; i < output.size(); ++i) {
    if (FindColumn(output, output[i].name) != i) {
      return Status::InvalidArgument("the query has two columns named '" + output[i].name +
                                     "': give them different names with AS");
    }
  }
  return Status::OK();
}

// Partition values live in folder names and in the catalog as text, so keys are the types
// that print and parse exactly (as the crawler infers them).
Result<std::string> KeyType(const QueryColumn& column) {
  static const char* const kIntegers[] = {"TINYINT",  "SMALLINT",  "INTEGER", "BIGINT",
                                          "UTINYINT", "USMALLINT", "UINTEGER"};
  for (const char* type : kIntegers) {
    if (column.type == type)
      return std::string("BIGINT");
  }
  if (column.type == "DATE" || column.type == "VARCHAR")
    return column.type;
  return Status::InvalidArgument(
      "partition column '" + column.name + "' is " + column.type +
      ": partition by a DATE, integer or VARCHAR column (cast it, e.g. CAST(" + column.name +
      " AS DATE))");
}

}  // namespace

Result<WritePlan> PlanCreate(const WriteStatement& statement, const std::string& database,
                             const std::vector<QueryColumn>& output) {
  BASIN_RETURN_IF_ERROR(CheckDistinctNames(output));
  WritePlan plan;
  plan.location = statement.location.empty() ? std::string(tablewrite::kWarehouseRoot) + database +
                                                   "/" + statement.table + "/"
                                             : statement.location;
  std::vector<bool> is_key(output.size(), false);
  for (const std::string& wanted : statement.partitioned_by) {
    std::optional<size_t> found = FindColumn(output, wanted);
    if (!found) {
      return Status::InvalidArgument(
          "partition column '" + wanted +
          "' is not a column of the query (its columns: " + NameList(output) + ")");
    }
    const QueryColumn& column = output[*found];
    BASIN_RETURN_IF_ERROR(catalog::ValidateName(column.name, "partition column"));
    BASIN_ASSIGN_OR_RETURN(std::string type, KeyType(column));
    plan.keys.push_back({column.name, type});
    is_key[*found] = true;
  }
  std::vector<query::Projected> projected;
  for (size_t i = 0; i < output.size(); ++i) {
    if (is_key[i])
      continue;
    plan.columns.push_back({output[i].name, output[i].type, ""});
    projected.push_back({output[i].name, output[i].name, ""});  // typed as the query makes it
  }
  if (plan.columns.empty()) {
    return Status::InvalidArgument(
        "the query has only partition columns: a table needs at least one other column");
  }
  for (const catalog::PartitionKey& key : plan.keys)
    projected.push_back({key.name, key.name, key.type});
  plan.select = query::SelectProjected(statement.query, projected);
  return plan;
}

Result<WritePlan> PlanOverwrite(const WriteStatement& statement, const catalog::Table& table,
                                const std::vector<QueryColumn>& output) {
  BASIN_RETURN_IF_ERROR(CheckDistinctNames(output));
  std::string qualified = table.database + "." + table.name;
  WritePlan plan;
  plan.location =
      table.partition_keys.empty() ? tablewrite::BaseLocation(table.location) : table.location;
  plan.columns = table.columns;
  plan.keys = table.partition_keys;
  std::vector<query::Projected> projected;
  std::vector<bool> used(output.size(), false);
  auto take = [&](const std::string& name, const std::string& type, const char* what) -> Status {
    std::optional<size_t> found = FindColumn(output, name);
    if (!found) {
      return Status::InvalidArgument(
          "table " + qualified + " has " + what + " '" + name +
          "', which the query does not produce (its columns: " + NameList(output) + ")");
    }
    used[*found] = true;
    projected.push_back({output[*found].name, name, type});
    return Status::OK();
  };
  for (const catalog::Column& column : table.columns)
    BASIN_RETURN_IF_ERROR(take(column.name, column.type, "column"));
  for (const catalog::PartitionKey& key : table.partition_keys) {
    BASIN_RETURN_IF_ERROR(take(key.name, key.type, "partition column"));
  }
  for (size_t i = 0; i < output.size(); ++i) {
    if (!used[i]) {
      return Status::InvalidArgument("the query's column '" + output[i].name +
                                     "' is not a column of table " + qualified +
                                     " (drop it, or create a new table)");
    }
  }
  plan.select = query::SelectProjected(statement.query, projected);
  return plan;
}

}  // namespace basin::writer
