#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "basin/catalog/catalog.h"
#include "basin/common/result.h"
#include "basin/writer/write_statement.h"

namespace basin::writer {

/// One output column of the statement's query, as DESCRIBE reports it.
struct QueryColumn {
  std::string name;
  std::string type;  // DuckDB's type name
};

/// What a write statement will write, decided before anything is written.
struct WritePlan {
  /// Partitioned: the table's location (partition folders go below it). Unpartitioned: the
  /// base location, below which each write gets its own folder.
  std::string location;
  std::vector<catalog::Column> columns;  // the table's data columns: what the files hold
  std::vector<catalog::PartitionKey> keys;
  /// The statement's query reshaped for the table: data columns in table order, then the
  /// partition keys, cast to the table's types (CREATE TABLE keeps the query's data types).
  std::string select;
};

/// CREATE TABLE: the table's columns are the query's, the partitioned_by columns (matched
/// case-insensitively) become its keys, typed BIGINT (any integer), DATE or VARCHAR.
/// InvalidArgument naming the column when a partitioned_by column is not in the query, has
/// another type or is not a valid name; when the query repeats a name or has no data column.
Result<WritePlan> PlanCreate(const WriteStatement& statement, const std::string& database,
                             const std::vector<QueryColumn>& output);

/// INSERT OVERWRITE: the query must produce exactly the table's columns and partition keys
/// (by name, case-insensitively, in any order); each is cast to the table's type.
/// InvalidArgument naming the first column that is missing or not in the table.
Result<WritePlan> PlanOverwrite(const WriteStatement& statement, const catalog::Table& table,
                                const std::vector<QueryColumn>& output);

}  // namespace basin::writer
