#include "basin/metadata/migrations.h"

#include <array>

namespace basin::metadata {
namespace {

// Times are INTEGER seconds since the Unix epoch. Ids are AUTOINCREMENT: a plain
// INTEGER PRIMARY KEY reuses the highest id after a delete, and a new user must never
// get a deleted user's id. Secrets are never stored: tokens as their SHA-256 (hex),
// passwords as argon2id encodings, access-key secrets sealed with AES-256-GCM under
// the home's master key (hex of nonce, ciphertext and tag).
constexpr std::string_view kAuthSchema = R"sql(
CREATE TABLE users (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  name          TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  role          TEXT NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
);
-- "Admin" and "admin" would be two look-alike accounts: refuse the second.
CREATE UNIQUE INDEX users_name_lower ON users (lower(name));

CREATE TABLE sessions (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  token_hash   TEXT NOT NULL UNIQUE,
  created_at   INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL,
  last_used_at INTEGER
);
CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

CREATE TABLE api_tokens (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name         TEXT NOT NULL,
  token_hash   TEXT NOT NULL UNIQUE,
  created_at   INTEGER NOT NULL,
  expires_at   INTEGER,
  last_used_at INTEGER,
  revoked_at   INTEGER
);
CREATE INDEX api_tokens_user_id ON api_tokens (user_id);

CREATE TABLE access_keys (
  id            TEXT PRIMARY KEY,
  user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  sealed_secret TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  revoked_at    INTEGER
);
CREATE INDEX access_keys_user_id ON access_keys (user_id);
)sql";

constexpr std::array kMigrations = {
    Migration{1, "auth: users, sessions, api_tokens, access_keys", kAuthSchema},
};

}  // namespace

std::span<const Migration> SqliteMigrations() {
  return kMigrations;
}

}  // namespace basin::metadata
