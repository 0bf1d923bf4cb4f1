#pragma once

#include <span>
#include <string_view>

namespace basin::metadata {

/// One step of the metadata schema in one engine's dialect. Applied once, in its own
/// transaction, and recorded in schema_migrations(version, description, applied_at).
/// A released migration is never edited: a change to the schema is a new migration
/// with the next version.
struct Migration {
  int version;                   // 1, 2, 3, ... without gaps
  std::string_view description;  // "auth: users, sessions, api_tokens, access_keys"
  std::string_view sql;          // one or more statements in the engine's dialect
};

/// The schema for each engine, oldest first; the last version is the one this binary
/// requires. Both lists come from one table in migrations.cc that holds every
/// migration in both dialects, so the engines share versions and descriptions.
std::span<const Migration> SqliteMigrations();
std::span<const Migration> PostgresMigrations();

}  // namespace basin::metadata
