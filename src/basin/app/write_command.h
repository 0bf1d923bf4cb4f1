#pragma once

#include <optional>
#include <string>

#include "basin/app/home.h"
#include "basin/service/query_service.h"

namespace basin::app {

/// `basin query` with a write statement (CREATE TABLE ... AS, INSERT OVERWRITE): runs it with
/// the home's writer as the local user, records it in the query history and prints a one-line
/// summary, or the result as JSON. nullopt when `sql` is not a write statement (the caller
/// runs it on the engine); otherwise the command's exit code.
std::optional<int> RunIfWriteStatement(Home& home, bool json, const std::string& sql);

/// The server's runner of write statements: the writer's result as one row, its fields as
/// columns (writer::ToJson).
service::WriteStatementRunner WriteStatementRunnerFor(writer::TableWriter& table_writer);

}  // namespace basin::app
