#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "basin/common/result.h"

namespace basin::server {

/// Parses a request body that must be a JSON object. InvalidArgument with the parser's
/// position otherwise.
Result<nlohmann::json> ParseJsonBody(std::string_view body);

/// The string field `name` of `object`. InvalidArgument naming the field when it is
/// missing or not a string.
Result<std::string> RequiredString(const nlohmann::json& object, const char* name);

}  // namespace basin::server
