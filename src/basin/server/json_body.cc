#include "basin/server/json_body.h"

#include <algorithm>
#include <cctype>

namespace basin::server {
namespace {

// "[json.exception.type_error.302] (/columns/0/type) type must be string, but is number"
// -> {"columns/0/type", "type must be string, but is number"}.
std::pair<std::string, std::string> PathAndMessage(std::string_view what) {
  if (size_t bracket = what.find("] ");
      !what.empty() && what.front() == '[' && bracket != std::string_view::npos) {
    what.remove_prefix(bracket + 2);
  }
  std::string path;
  if (what.starts_with("(")) {
    size_t close = what.find(") ");
    if (close != std::string_view::npos) {
      path = std::string(what.substr(1, close - 1));
      what.remove_prefix(close + 2);
    }
  }
  if (path.starts_with("/"))
    path.erase(0, 1);
  return {path, std::string(what)};
}

}  // namespace

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

std::optional<Status> BodyShapeError(const nlohmann::json::exception& error) {
  auto [path, message] = PathAndMessage(error.what());
  std::string in_path = path.empty() ? "" : " in '" + path + "'";
  if (dynamic_cast<const nlohmann::json::type_error*>(&error) != nullptr) {
    switch (error.id) {
      case 302:  // get<T>() of another type
      case 303:  // get_ref<T>() of another type
      case 304:  // at() of a value that is no object or array
      case 305:  // operator[] of a value that is no object or array
      case 306:  // value() of a value that is no object
        if (path.empty())
          return Status::InvalidArgument("a field of the request body has the wrong type: " +
                                         message);
        return Status::InvalidArgument("field '" + path + "' has the wrong type: " + message);
      default:
        return std::nullopt;
    }
  }
  if (dynamic_cast<const nlohmann::json::out_of_range*>(&error) != nullptr) {
    // 403: "key 'name' not found", of the object at `path`.
    if (error.id == 403 && message.starts_with("key '")) {
      std::string key = message.substr(5, message.rfind('\'') - 5);
      return Status::InvalidArgument("missing field '" + key + "'" + in_path);
    }
    if (error.id == 401)  // array index out of range
      return Status::InvalidArgument("too few elements" + in_path + ": " + message);
    return std::nullopt;
  }
  return std::nullopt;
}

bool AcceptsAsJson(std::string_view content_type) {
  std::string type(content_type.substr(0, content_type.find(';')));
  type.erase(std::remove_if(type.begin(), type.end(),
                            [](unsigned char c) { return std::isspace(c) != 0; }),
             type.end());
  std::transform(type.begin(), type.end(), type.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return type.empty() || type == "application/json" || type == "text/plain" ||
         (type.starts_with("application/") && type.ends_with("+json"));
}

}  // namespace basin::server
