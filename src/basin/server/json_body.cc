#include "basin/server/json_body.h"

namespace basin::server {

Result<nlohmann::json> ParseJsonBody(std::string_view body) {
  nlohmann::json parsed = nlohmann::json::parse(body, nullptr, false);
  if (parsed.is_discarded())
    return Status::InvalidArgument("request body is not valid JSON");
  if (!parsed.is_object())
    return Status::InvalidArgument("request body must be a JSON object");
  return parsed;
}

Result<std::string> RequiredString(const nlohmann::json& object, const char* name) {
  auto found = object.find(name);
  if (found == object.end())
    return Status::InvalidArgument(std::string("missing field '") + name + "'");
  if (!found->is_string())
    return Status::InvalidArgument(std::string("field '") + name + "' must be a string");
  return found->get<std::string>();
}

}  // namespace basin::server
