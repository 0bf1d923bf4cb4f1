#pragma once

#include <nlohmann/json.hpp>

#include "basin/catalog/catalog.h"

/// The catalog's JSON shapes, shared by the CLI (--json) and the HTTP API.
namespace basin::catalog {

nlohmann::json ToJson(const Table& table);
nlohmann::json ToJson(const Partition& partition);
nlohmann::json ToJson(const SchemaVersion& version);
nlohmann::json ToJson(const std::vector<Column>& columns);

/// Parses "name:TYPE" (the CLI's --column). InvalidArgument otherwise.
Result<Column> ParseColumnSpec(std::string_view spec);

}  // namespace basin::catalog
