#pragma once

// Sources: named connections to the service databases that snapshots copy into the lake
// (PostgreSQL, MySQL/MariaDB, a SQLite file). docs/snapshots.md describes them for users.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "basin/common/result.h"

namespace basin::source {

enum class SourceKind { kPostgres, kMariaDb, kSqlite };

std::string_view SourceKindName(SourceKind kind);  // "postgres", "mariadb", "sqlite"
/// "postgres"/"postgresql", "mariadb"/"mysql", "sqlite"; InvalidArgument otherwise.
Result<SourceKind> ParseSourceKind(std::string_view name);

/// How a network source's connection is protected. kPrefer tries TLS and falls back;
/// kRequire refuses a server without TLS; kVerify also checks the certificate and host.
enum class TlsMode { kDisable, kPrefer, kRequire, kVerify };
std::string_view TlsModeName(TlsMode mode);  // "disable", "prefer", "require", "verify"
Result<TlsMode> ParseTlsMode(std::string_view name);

/// A source as users define it. The password is never part of it once stored: it is
/// sealed in the store (SourceStore) or read from the environment variable
/// `password_env` names, when the connection is opened.
struct SourceDefinition {
  std::string name;
  SourceKind kind = SourceKind::kPostgres;
  std::string host;      // network sources
  int port = 0;          // 0: the kind's default (5432, 3306)
  std::string database;  // the database on the server; for SQLite the file's path
  std::string user;
  std::string password_env;  // "" unless the password comes from the environment
  TlsMode tls = TlsMode::kPrefer;
  std::chrono::seconds connect_timeout{10};
};

/// A stored source: the definition, whether a sealed password is kept, and times.
struct StoredSource {
  int64_t id = 0;
  SourceDefinition definition;
  bool has_password = false;  // a sealed password is stored (it is never shown)
  std::chrono::system_clock::time_point created_at{};
  std::chrono::system_clock::time_point updated_at{};
};

/// OK when `definition` is complete for its kind: a plain name, a host and a user for the
/// network kinds, a file path for SQLite, a port in 0..65535. InvalidArgument naming the
/// field otherwise.
Status ValidateSourceDefinition(const SourceDefinition& definition);

/// The definition from its JSON (the API's body): name, kind, host, port, database (or
/// path for SQLite), user, password_env, tls, connect_timeout_seconds. A "password" field is
/// taken out into `*password` (nullopt when absent); unknown fields are refused by name.
Result<SourceDefinition> SourceFromJson(const nlohmann::json& json,
                                        std::optional<std::string>* password);

/// Never contains a password: has_password says whether one is stored.
nlohmann::json ToJson(const StoredSource& source);

}  // namespace basin::source
