#include "basin/source/source_store.h"

#include <cstdlib>

#include "basin/auth/master_key.h"

namespace basin::source {
namespace {

using Clock = std::chrono::system_clock;

constexpr char kColumns[] =
    "id, name, kind, host, port, database_name, user_name, sealed_password, password_env, tls, "
    "connect_timeout_s, created_at, updated_at";

// Bound to the name: a sealed password copied to another source's row does not open.
std::string AssociatedData(std::string_view name) {
  return "basin source password:" + std::string(name);
}

Result<StoredSource> FromRow(const metadata::Row& row, std::optional<std::string>* sealed) {
  StoredSource stored;
  SourceDefinition& definition = stored.definition;
  BASIN_ASSIGN_OR_RETURN(stored.id, row.Int(0));
  BASIN_ASSIGN_OR_RETURN(definition.name, row.Text(1));
  BASIN_ASSIGN_OR_RETURN(std::string kind, row.Text(2));
  BASIN_ASSIGN_OR_RETURN(definition.kind, ParseSourceKind(kind));
  BASIN_ASSIGN_OR_RETURN(definition.host, row.Text(3));
  BASIN_ASSIGN_OR_RETURN(int64_t port, row.Int(4));
  definition.port = static_cast<int>(port);
  BASIN_ASSIGN_OR_RETURN(definition.database, row.Text(5));
  BASIN_ASSIGN_OR_RETURN(definition.user, row.Text(6));
  BASIN_ASSIGN_OR_RETURN(std::optional<std::string> password, row.OptionalText(7));
  stored.has_password = password.has_value();
  if (sealed != nullptr)
    *sealed = std::move(password);
  BASIN_ASSIGN_OR_RETURN(definition.password_env, row.Text(8));
  BASIN_ASSIGN_OR_RETURN(std::string tls, row.Text(9));
  BASIN_ASSIGN_OR_RETURN(definition.tls, ParseTlsMode(tls));
  BASIN_ASSIGN_OR_RETURN(int64_t timeout, row.Int(10));
  definition.connect_timeout = std::chrono::seconds(timeout);
  BASIN_ASSIGN_OR_RETURN(int64_t created, row.Int(11));
  stored.created_at = Clock::time_point(std::chrono::seconds(created));
  BASIN_ASSIGN_OR_RETURN(int64_t updated, row.Int(12));
  stored.updated_at = Clock::time_point(std::chrono::seconds(updated));
  return stored;
}

}  // namespace

Result<StoredSource> SourceStore::Create(const SourceDefinition& definition,
                                         const std::optional<std::string>& password) {
  BASIN_RETURN_IF_ERROR(ValidateSourceDefinition(definition));
  if (password && !definition.password_env.empty()) {
    return Status::InvalidArgument(
        "give a source either a password or password_env (the variable that holds it), not both");
  }
  metadata::Value sealed;  // NULL: no password kept
  if (password) {
    BASIN_ASSIGN_OR_RETURN(std::string text, auth::SealSecret(master_key_, *password,
                                                              AssociatedData(definition.name)));
    sealed = std::move(text);
  }
  int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(Clock::now().time_since_epoch()).count();
  Result<int64_t> id = database_.ExecuteReturningId(
      "INSERT INTO sources (name, kind, host, port, database_name, user_name, sealed_password, "
      "password_env, tls, connect_timeout_s, created_at, updated_at) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      {definition.name, std::string(SourceKindName(definition.kind)), definition.host,
       int64_t{definition.port}, definition.database, definition.user, sealed,
       definition.password_env, std::string(TlsModeName(definition.tls)),
       static_cast<int64_t>(definition.connect_timeout.count()), now, now});
  if (!id.ok()) {
    if (id.status().code() == StatusCode::kAlreadyExists)
      return Status::AlreadyExists("source '" + definition.name + "' already exists");
    return id.status();
  }
  return Get(definition.name);
}

Result<StoredSource> SourceStore::Find(std::string_view name, std::optional<std::string>* sealed) {
  BASIN_ASSIGN_OR_RETURN(std::optional<metadata::Row> row,
                         database_.QueryRow(std::string("SELECT ") + kColumns +
                                                " FROM sources WHERE lower(name) = lower(?)",
                                            {std::string(name)}));
  if (!row)
    return Status::NotFound("no source named '" + std::string(name) + "'");
  return FromRow(*row, sealed);
}

Result<StoredSource> SourceStore::Get(std::string_view name) {
  return Find(name, nullptr);
}

Result<std::vector<StoredSource>> SourceStore::List() {
  BASIN_ASSIGN_OR_RETURN(
      std::vector<metadata::Row> rows,
      database_.Query(std::string("SELECT ") + kColumns + " FROM sources ORDER BY name"));
  std::vector<StoredSource> sources;
  for (const metadata::Row& row : rows) {
    BASIN_ASSIGN_OR_RETURN(StoredSource source, FromRow(row, nullptr));
    sources.push_back(std::move(source));
  }
  return sources;
}

Status SourceStore::Delete(std::string_view name) {
  BASIN_ASSIGN_OR_RETURN(int64_t deleted, database_.ExecuteReturningChangeCount(
                                              "DELETE FROM sources WHERE lower(name) = lower(?)",
                                              {std::string(name)}));
  if (deleted == 0)
    return Status::NotFound("no source named '" + std::string(name) + "'");
  return Status::OK();
}

Result<std::string> SourceStore::PasswordOf(const StoredSource& stored,
                                            const std::optional<std::string>& sealed,
                                            const Lookup& lookup) {
  if (sealed) {
    Result<std::string> opened =
        auth::OpenSealedSecret(master_key_, *sealed, AssociatedData(stored.definition.name));
    if (!opened.ok()) {
      return Status::FailedPrecondition("the stored password of source '" + stored.definition.name +
                                        "' cannot be opened with this home's master key; "
                                        "create the source again with its password");
    }
    return opened;
  }
  const std::string& variable = stored.definition.password_env;
  if (variable.empty())
    return std::string();
  std::optional<std::string> value = lookup(variable);
  if (!value) {
    return Status::FailedPrecondition("source '" + stored.definition.name +
                                      "' reads its password from the environment variable " +
                                      variable + ", which is not set");
  }
  return *value;
}

Result<std::string> SourceStore::Password(std::string_view name,
                                          const std::map<std::string, std::string>& environment) {
  std::optional<std::string> sealed;
  BASIN_ASSIGN_OR_RETURN(StoredSource stored, Find(name, &sealed));
  return PasswordOf(stored, sealed, [&](const std::string& variable) {
    auto found = environment.find(variable);
    return found == environment.end() ? std::nullopt : std::optional<std::string>(found->second);
  });
}

Result<SourceStore::WithPassword> SourceStore::GetWithPassword(std::string_view name) {
  std::optional<std::string> sealed;
  BASIN_ASSIGN_OR_RETURN(StoredSource stored, Find(name, &sealed));
  Result<std::string> password = PasswordOf(stored, sealed, [](const std::string& variable) {
    const char* value = std::getenv(variable.c_str());
    return value ? std::optional<std::string>(value) : std::nullopt;
  });
  return WithPassword{.source = std::move(stored), .password = std::move(password)};
}

}  // namespace basin::source
