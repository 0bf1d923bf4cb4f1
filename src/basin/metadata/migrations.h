#pragma once

#include <span>
#include <string_view>

namespace basin::metadata {

/// One step of the metadata schema. Applied once, in its own transaction, and recorded
/// in schema_migrations(version, description, applied_at). A released migration is
/// never edited: a change to the schema is a new migration with the next version.
struct Migration {
  int version;                   // 1, 2, 3, ... without gaps
  std::string_view description;  // "auth: users, sessions, api_tokens, access_keys"
  std::string_view sql;          // one or more statements, SQLite dialect
};

/// The SQLite schema, oldest first. The last version is the one this binary requires.
std::span<const Migration> SqliteMigrations();

}  // namespace basin::metadata
