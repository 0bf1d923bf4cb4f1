#pragma once

#include <functional>
#include <optional>
#include <string>

#include "basin/app/home.h"
#include "basin/service/query_service.h"

namespace basin::app {

/// The runner of write statements (CREATE TABLE ... AS, INSERT OVERWRITE) that the server's
/// and the CLI's QueryService use: the writer's result as one row, its fields as columns
/// (writer::ToJson), also handed to `on_written` (the CLI prints its own summary).
service::WriteStatementRunner WriteStatementRunnerFor(
    writer::TableWriter& table_writer,
    std::function<void(const writer::WriteResult&)> on_written = {});

}  // namespace basin::app
