#include "basin/source/source.h"

#include <set>

#include "basin/common/ascii.h"
#include "basin/common/plain_name.h"
#include "basin/common/time_format.h"

namespace basin::source {
namespace {

constexpr size_t kMaxNameLength = 128;

Result<std::string> TextField(const nlohmann::json& json, const char* field) {
  const nlohmann::json& value = json.at(field);
  if (!value.is_string())
    return Status::InvalidArgument(std::string("source field '") + field + "' must be a string");
  return value.get<std::string>();
}

}  // namespace

std::string_view SourceKindName(SourceKind kind) {
  switch (kind) {
    case SourceKind::kPostgres:
      return "postgres";
    case SourceKind::kMariaDb:
      return "mariadb";
    case SourceKind::kSqlite:
      return "sqlite";
  }
  return "postgres";
}

Result<SourceKind> ParseSourceKind(std::string_view name) {
  std::string lower = AsciiLower(name);
  if (lower == "postgres" || lower == "postgresql")
    return SourceKind::kPostgres;
  if (lower == "mariadb" || lower == "mysql")
    return SourceKind::kMariaDb;
  if (lower == "sqlite")
    return SourceKind::kSqlite;
  return Status::InvalidArgument(
      "source kind must be postgres, mariadb (or mysql) or sqlite, got '" + std::string(name) +
      "'");
}

std::string_view TlsModeName(TlsMode mode) {
  switch (mode) {
    case TlsMode::kDisable:
      return "disable";
    case TlsMode::kPrefer:
      return "prefer";
    case TlsMode::kRequire:
      return "require";
    case TlsMode::kVerify:
      return "verify";
  }
  return "prefer";
}

Result<TlsMode> ParseTlsMode(std::string_view name) {
  for (TlsMode mode : {TlsMode::kDisable, TlsMode::kPrefer, TlsMode::kRequire, TlsMode::kVerify}) {
    if (AsciiLower(name) == TlsModeName(mode))
      return mode;
  }
  return Status::InvalidArgument("tls must be disable, prefer, require or verify, got '" +
                                 std::string(name) + "'");
}

Status ValidateSourceDefinition(const SourceDefinition& definition) {
  if (!IsPlainName(definition.name, kMaxNameLength)) {
    return Status::InvalidArgument(
        "a source name is 1-128 letters, digits, '_', '-' or '.', got '" +
        definition.name.substr(0, kMaxNameLength) + "'");
  }
  if (definition.port < 0 || definition.port > 65535)
    return Status::InvalidArgument("source port must be 0-65535, got " +
                                   std::to_string(definition.port));
  if (definition.connect_timeout.count() < 1)
    return Status::InvalidArgument("source connect_timeout_seconds must be at least 1");
  if (definition.kind == SourceKind::kSqlite) {
    if (definition.database.empty())
      return Status::InvalidArgument("a sqlite source needs the path of its file (path)");
    return Status::OK();
  }
  if (definition.host.empty())
    return Status::InvalidArgument("a " + std::string(SourceKindName(definition.kind)) +
                                   " source needs a host");
  if (definition.user.empty())
    return Status::InvalidArgument("a " + std::string(SourceKindName(definition.kind)) +
                                   " source needs a user");
  if (definition.database.empty())
    return Status::InvalidArgument("a " + std::string(SourceKindName(definition.kind)) +
                                   " source needs a database");
  return Status::OK();
}

Result<SourceDefinition> SourceFromJson(const nlohmann::json& json,
                                        std::optional<std::string>* password) {
  if (!json.is_object())
    return Status::InvalidArgument("a source is a JSON object");
  static const std::set<std::string> kFields = {"name",
                                                "kind",
                                                "host",
                                                "port",
                                                "database",
                                                "path",
                                                "user",
                                                "password",
                                                "password_env",
                                                "tls",
                                                "connect_timeout_seconds"};
  for (const auto& [key, value] : json.items()) {
    if (!kFields.contains(key))
      return Status::InvalidArgument("unknown source field '" + key + "'");
  }
  SourceDefinition definition;
  if (!json.contains("name") || !json.contains("kind"))
    return Status::InvalidArgument("a source needs a name and a kind");
  BASIN_ASSIGN_OR_RETURN(definition.name, TextField(json, "name"));
  BASIN_ASSIGN_OR_RETURN(std::string kind, TextField(json, "kind"));
  BASIN_ASSIGN_OR_RETURN(definition.kind, ParseSourceKind(kind));
  for (auto [field, target] :
       {std::pair{"host", &definition.host}, std::pair{"database", &definition.database},
        std::pair{"path", &definition.database}, std::pair{"user", &definition.user},
        std::pair{"password_env", &definition.password_env}}) {
    if (json.contains(field)) {
      BASIN_ASSIGN_OR_RETURN(*target, TextField(json, field));
    }
  }
  if (json.contains("port")) {
    if (!json["port"].is_number_integer())
      return Status::InvalidArgument("source field 'port' must be an integer");
    definition.port = json["port"].get<int>();
  }
  if (json.contains("tls")) {
    BASIN_ASSIGN_OR_RETURN(std::string tls, TextField(json, "tls"));
    BASIN_ASSIGN_OR_RETURN(definition.tls, ParseTlsMode(tls));
  }
  if (json.contains("connect_timeout_seconds")) {
    if (!json["connect_timeout_seconds"].is_number_integer())
      return Status::InvalidArgument("source field 'connect_timeout_seconds' must be an integer");
    definition.connect_timeout = std::chrono::seconds(json["connect_timeout_seconds"].get<int>());
  }
  password->reset();
  if (json.contains("password")) {
    BASIN_ASSIGN_OR_RETURN(std::string text, TextField(json, "password"));
    *password = std::move(text);
  }
  BASIN_RETURN_IF_ERROR(ValidateSourceDefinition(definition));
  return definition;
}

nlohmann::json ToJson(const StoredSource& source) {
  const SourceDefinition& definition = source.definition;
  nlohmann::json json = {{"name", definition.name},
                         {"kind", SourceKindName(definition.kind)},
                         {"has_password", source.has_password},
                         {"created_at", FormatIso8601(source.created_at)},
                         {"updated_at", FormatIso8601(source.updated_at)}};
  if (definition.kind == SourceKind::kSqlite) {
    json["path"] = definition.database;
    return json;
  }
  json["host"] = definition.host;
  json["port"] = definition.port;
  json["database"] = definition.database;
  json["user"] = definition.user;
  json["tls"] = TlsModeName(definition.tls);
  json["connect_timeout_seconds"] = definition.connect_timeout.count();
  if (!definition.password_env.empty())
    json["password_env"] = definition.password_env;
  return json;
}

}  // namespace basin::source
