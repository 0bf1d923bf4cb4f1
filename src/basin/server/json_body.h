#pragma once

#include <optional>
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

/// What a nlohmann::json exception thrown while a handler read its request body means to
/// the caller: InvalidArgument naming the field ("field 'max_rows' has the wrong type: type
/// must be number, but is string", "missing field 'type' in 'columns/0'"), without the
/// library's own wording. nullopt for exceptions that do not come from the shape of a
/// document (serializing, iterators): a server fault, not the caller's.
/// A missing field is named by its key; a mistyped one only when nlohmann's diagnostics
/// (JSON_DIAGNOSTICS) give the path. They are off: they add a parent pointer to every JSON
/// value basin builds. Routes that want a mistyped field named check it themselves.
std::optional<Status> BodyShapeError(const nlohmann::json::exception& error);

/// Whether a request with `content_type` (the Content-Type header, may be empty) may carry
/// a JSON body: none, application/json, application/*+json and text/plain (what browsers
/// send for a string body) may; forms and anything else may not (docs/api.md).
bool AcceptsAsJson(std::string_view content_type);

}  // namespace basin::server
