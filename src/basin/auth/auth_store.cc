#include "basin/auth/auth_store.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <utility>

#include "basin/auth/master_key.h"
#include "basin/auth/store_rows.h"
#include "basin/common/crypto.h"

namespace basin::auth {

using metadata::Row;

namespace {

constexpr std::string_view kSessionPrefix = "bss_";
constexpr std::string_view kApiTokenPrefix = "bst_";
constexpr size_t kTokenRandomCharacters = 40;
constexpr size_t kMaxUserNameLength = 64;
constexpr size_t kMaxTokenNameBytes = 100;
constexpr std::chrono::seconds kMaxSessionTtl = std::chrono::days(366);
// last_used_at is written at most this often per credential: an fsync per request
// would be the price of a precise time nobody needs.
constexpr std::chrono::seconds kLastUsedResolution{60};

// One message for every failure, so a caller cannot tell which part was wrong.
constexpr std::string_view kBadPassword = "invalid user name or password";
constexpr std::string_view kBadBearer = "invalid, expired or revoked bearer token";

Status ValidateUserName(std::string_view name) {
  auto allowed = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-' || c == '@';
  };
  if (name.empty() || name.size() > kMaxUserNameLength ||
      !std::all_of(name.begin(), name.end(), allowed)) {
    return Status::InvalidArgument(
        "invalid user name: use 1-64 letters, digits, '_', '.', '-' or '@'");
  }
  return Status::OK();
}

Status ValidateTokenName(std::string_view name) {
  auto control = [](char c) {
    return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
  };
  if (name.empty() || name.size() > kMaxTokenNameBytes ||
      std::any_of(name.begin(), name.end(), control)) {
    return Status::InvalidArgument(
        "invalid api token name: use 1-100 bytes without control characters");
  }
  return Status::OK();
}

bool IsToken(std::string_view token, std::string_view prefix) {
  return token.size() == prefix.size() + kTokenRandomCharacters && token.starts_with(prefix);
}

}  // namespace

std::string_view CredentialKindName(CredentialKind kind) {
  switch (kind) {
    case CredentialKind::kSession:
      return "session";
    case CredentialKind::kApiToken:
      return "api_token";
    case CredentialKind::kAccessKey:
      return "access_key";
  }
  return "session";
}

Result<std::unique_ptr<AuthStore>> AuthStore::Make(metadata::Database& db, std::string master_key,
                                                   AuthOptions options) {
  if (master_key.size() != kMasterKeyBytes) {
    return Status::InvalidArgument("master key has " + std::to_string(master_key.size()) +
                                   " bytes, expected " + std::to_string(kMasterKeyBytes));
  }
  return std::unique_ptr<AuthStore>(new AuthStore(db, std::move(master_key), std::move(options)));
}

AuthStore::AuthStore(metadata::Database& db, std::string master_key, AuthOptions options)
    : db_(db),
      master_key_(std::move(master_key)),
      options_(std::move(options)),
      hasher_(options_.password_cost, options_.max_concurrent_password_hashes,
              options_.password_wait) {}

AuthStore::~AuthStore() {
  OPENSSL_cleanse(master_key_.data(), master_key_.size());
}

Timestamp AuthStore::Now() const {
  return std::chrono::floor<std::chrono::seconds>(
      options_.clock ? options_.clock() : std::chrono::system_clock::now());
}

Status AuthStore::CheckUserExists(int64_t user_id) {
  BASIN_ASSIGN_OR_RETURN(std::optional<Row> row,
                         db_.QueryRow("SELECT 1 FROM users WHERE id = ?", {user_id}));
  if (!row.has_value())
    return Status::NotFound("user not found: id " + std::to_string(user_id));
  return Status::OK();
}

Status AuthStore::CheckNotLastAdmin(const User& user) {
  if (user.role != Role::kAdmin)
    return Status::OK();
  BASIN_ASSIGN_OR_RETURN(std::optional<Row> row,
                         db_.QueryRow("SELECT COUNT(*) FROM users WHERE role = 'admin'"));
  BASIN_ASSIGN_OR_RETURN(int64_t admins, row.has_value() ? row->Int(0) : Result<int64_t>(0));
  if (admins <= 1) {
    return Status::FailedPrecondition("cannot remove the last admin (make another admin first): " +
                                      user.name);
  }
  return Status::OK();
}

Result<std::string> AuthStore::DummyPasswordHash() {
  std::call_once(dummy_hash_once_, [this] {
    dummy_hash_ = HashPassword(RandomAlphanumeric(32), options_.password_cost);
  });
  return dummy_hash_;
}

// --- Users -----------------------------------------------------------------------------

Result<User> AuthStore::CreateUser(std::string_view name, std::string_view password, Role role) {
  BASIN_RETURN_IF_ERROR(ValidateUserName(name));
  BASIN_ASSIGN_OR_RETURN(std::string hash, hasher_.Hash(password));
  const Timestamp now = Now();
  Result<int64_t> id = db_.ExecuteReturningId(
      "INSERT INTO users (name, password_hash, role, created_at, updated_at) "
      "VALUES (?, ?, ?, ?, ?)",
      {std::string(name), std::move(hash), std::string(RoleName(role)), ToUnix(now), ToUnix(now)});
  if (id.status().code() == StatusCode::kAlreadyExists) {
    return Status::AlreadyExists("user name is taken (names are unique ignoring case): " +
                                 std::string(name));
  }
  if (!id.ok())
    return id.status();
  // New users start in the 'primary' workgroup (the column's default).
  return User{*id, std::string(name), role, now, "primary"};
}

Result<User> AuthStore::GetUser(std::string_view name) {
  BASIN_ASSIGN_OR_RETURN(
      std::optional<Row> row,
      db_.QueryRow("SELECT " + std::string(kUserColumns) + " FROM users u WHERE u.name = ?",
                   {std::string(name)}));
  if (!row.has_value())
    return Status::NotFound("user not found: " + std::string(name));
  return UserFromRow(*row, 0);
}

Result<std::vector<User>> AuthStore::ListUsers() {
  BASIN_ASSIGN_OR_RETURN(std::vector<Row> rows, db_.Query("SELECT " + std::string(kUserColumns) +
                                                          " FROM users u ORDER BY u.name"));
  std::vector<User> users;
  users.reserve(rows.size());
  for (const Row& row : rows) {
    BASIN_ASSIGN_OR_RETURN(User user, UserFromRow(row, 0));
    users.push_back(std::move(user));
  }
  return users;
}

Status AuthStore::DeleteUser(std::string_view name) {
  return db_.Transaction([&]() -> Status {
    BASIN_ASSIGN_OR_RETURN(User user, GetUser(name));
    BASIN_RETURN_IF_ERROR(CheckNotLastAdmin(user));
    // ON DELETE CASCADE removes the user's sessions, tokens and access keys.
    return db_.Execute("DELETE FROM users WHERE id = ?", {user.id});
  });
}

Status AuthStore::SetPassword(std::string_view name, std::string_view password) {
  BASIN_ASSIGN_OR_RETURN(std::string hash, hasher_.Hash(password));
  return db_.Transaction([&]() -> Status {
    BASIN_ASSIGN_OR_RETURN(User user, GetUser(name));
    BASIN_RETURN_IF_ERROR(
        db_.Execute("UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?",
                    {std::move(hash), ToUnix(Now()), user.id}));
    // Whoever knew the old password may hold a session; a password change ends them.
    return db_.Execute("DELETE FROM sessions WHERE user_id = ?", {user.id});
  });
}

Status AuthStore::SetRole(std::string_view name, Role role) {
  return db_.Transaction([&]() -> Status {
    BASIN_ASSIGN_OR_RETURN(User user, GetUser(name));
    if (role != Role::kAdmin)
      BASIN_RETURN_IF_ERROR(CheckNotLastAdmin(user));
    return db_.Execute("UPDATE users SET role = ?, updated_at = ? WHERE id = ?",
                       {std::string(RoleName(role)), ToUnix(Now()), user.id});
  });
}

Result<User> AuthStore::CheckPassword(std::string_view name, std::string_view password) {
  if (password.size() > kMaxPasswordBytes) {
    return Status::Unauthenticated(std::string(kBadPassword));
  }
  BASIN_ASSIGN_OR_RETURN(std::optional<Row> row,
                         db_.QueryRow("SELECT " + std::string(kUserColumns) +
                                          ", u.password_hash FROM users u WHERE u.name = ?",
                                      {std::string(name)}));
  if (!row.has_value()) {
    // Spend the time a real check takes, so response times do not reveal user names. One
    // slot covers making the dummy hash (once) and checking against it.
    BASIN_ASSIGN_OR_RETURN(PasswordHasher::Slot slot, hasher_.Acquire());
    BASIN_ASSIGN_OR_RETURN(std::string dummy, DummyPasswordHash());
    BASIN_RETURN_IF_ERROR(VerifyPassword(password, dummy).status());
    return Status::Unauthenticated(std::string(kBadPassword));
  }
  BASIN_ASSIGN_OR_RETURN(std::string hash, row->Text(kUserColumnCount));
  BASIN_ASSIGN_OR_RETURN(bool matches, hasher_.Verify(password, hash));
  if (!matches)
    return Status::Unauthenticated(std::string(kBadPassword));
  return UserFromRow(*row, 0);
}

// --- Sessions and API tokens -------------------------------------------------------------

Result<NewSession> AuthStore::CreateSession(int64_t user_id, std::chrono::seconds ttl) {
  if (ttl <= std::chrono::seconds(0) || ttl > kMaxSessionTtl) {
    return Status::InvalidArgument("session lifetime must be between 1 second and 366 days, got " +
                                   std::to_string(ttl.count()) + " s");
  }
  const Timestamp now = Now();
  NewSession session{std::string(kSessionPrefix) + RandomAlphanumeric(kTokenRandomCharacters),
                     now + ttl};
  BASIN_RETURN_IF_ERROR(db_.Transaction([&]() -> Status {
    BASIN_RETURN_IF_ERROR(CheckUserExists(user_id));
    BASIN_RETURN_IF_ERROR(db_.Execute("DELETE FROM sessions WHERE expires_at <= ?", {ToUnix(now)}));
    return db_.Execute(
        "INSERT INTO sessions (user_id, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?)",
        {user_id, Sha256Hex(session.token), ToUnix(now), ToUnix(session.expires_at)});
  }));
  return session;
}

Status AuthStore::DeleteSession(std::string_view token) {
  BASIN_ASSIGN_OR_RETURN(
      int64_t deleted, db_.ExecuteReturningChangeCount("DELETE FROM sessions WHERE token_hash = ?",
                                                       {Sha256Hex(token)}));
  if (deleted == 0)
    return Status::NotFound("no session has this token");
  return Status::OK();
}

Result<NewApiToken> AuthStore::CreateApiToken(int64_t user_id, std::string_view name,
                                              std::optional<Timestamp> expires_at) {
  BASIN_RETURN_IF_ERROR(ValidateTokenName(name));
  const Timestamp now = Now();
  if (expires_at.has_value() && *expires_at <= now) {
    return Status::InvalidArgument("api token expiry must be in the future");
  }
  // Compared as a lifetime, so a far `expires_at` is refused without adding to it.
  if (expires_at.has_value() && *expires_at - now > kMaxApiTokenLifetime) {
    return Status::InvalidArgument("api token expiry is more than " +
                                   std::to_string(kMaxApiTokenLifetime.count()) +
                                   " days away; the longest lifetime is 10 years");
  }
  NewApiToken token{0, std::string(name),
                    std::string(kApiTokenPrefix) + RandomAlphanumeric(kTokenRandomCharacters),
                    expires_at};
  BASIN_RETURN_IF_ERROR(db_.Transaction([&]() -> Status {
    BASIN_RETURN_IF_ERROR(CheckUserExists(user_id));
    BASIN_ASSIGN_OR_RETURN(
        token.id, db_.ExecuteReturningId(
                      "INSERT INTO api_tokens (user_id, name, token_hash, created_at, expires_at) "
                      "VALUES (?, ?, ?, ?, ?)",
                      {user_id, token.name, Sha256Hex(token.secret), ToUnix(now),
                       metadata::NullableValue(OptionalToUnix(expires_at))}));
    return Status::OK();
  }));
  return token;
}

Result<std::vector<ApiTokenInfo>> AuthStore::ListApiTokens(int64_t user_id) {
  BASIN_ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      db_.Query("SELECT id, name, created_at, last_used_at, expires_at, revoked_at "
                "FROM api_tokens WHERE user_id = ? ORDER BY id",
                {user_id}));
  std::vector<ApiTokenInfo> tokens;
  tokens.reserve(rows.size());
  for (const Row& row : rows) {
    ApiTokenInfo& info = tokens.emplace_back();
    BASIN_ASSIGN_OR_RETURN(info.id, row.Int(0));
    BASIN_ASSIGN_OR_RETURN(info.name, row.Text(1));
    BASIN_ASSIGN_OR_RETURN(int64_t created_at, row.Int(2));
    info.created_at = FromUnix(created_at);
    BASIN_ASSIGN_OR_RETURN(info.last_used_at, OptionalTimestamp(row, 3));
    BASIN_ASSIGN_OR_RETURN(info.expires_at, OptionalTimestamp(row, 4));
    BASIN_ASSIGN_OR_RETURN(info.revoked_at, OptionalTimestamp(row, 5));
  }
  return tokens;
}

Status AuthStore::RevokeApiToken(const User& actor, int64_t token_id) {
  const int64_t is_admin = actor.role == Role::kAdmin ? 1 : 0;
  BASIN_ASSIGN_OR_RETURN(
      int64_t matched,
      db_.ExecuteReturningChangeCount("UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ?) "
                                      "WHERE id = ? AND (user_id = ? OR ? = 1)",
                                      {ToUnix(Now()), token_id, actor.id, is_admin}));
  if (matched == 0)
    return Status::NotFound("api token not found: id " + std::to_string(token_id));
  return Status::OK();
}

Result<Principal> AuthStore::AuthenticateBearer(std::string_view token) {
  const Timestamp now = Now();
  if (IsToken(token, kSessionPrefix))
    return AuthenticateSession(Sha256Hex(token), now);
  if (IsToken(token, kApiTokenPrefix))
    return AuthenticateApiToken(Sha256Hex(token), now);
  return Status::Unauthenticated(std::string(kBadBearer));
}

Result<Principal> AuthStore::AuthenticateSession(const std::string& token_hash, Timestamp now) {
  BASIN_ASSIGN_OR_RETURN(
      std::optional<Row> row,
      db_.QueryRow("SELECT " + std::string(kUserColumns) +
                       ", s.id, s.expires_at, s.last_used_at "
                       "FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?",
                   {token_hash}));
  if (!row.has_value())
    return Status::Unauthenticated(std::string(kBadBearer));
  BASIN_ASSIGN_OR_RETURN(int64_t session_id, row->Int(kUserColumnCount));
  BASIN_ASSIGN_OR_RETURN(int64_t expires_at, row->Int(kUserColumnCount + 1));
  BASIN_ASSIGN_OR_RETURN(std::optional<Timestamp> last_used_at,
                         OptionalTimestamp(*row, kUserColumnCount + 2));
  if (now >= FromUnix(expires_at)) {
    BASIN_RETURN_IF_ERROR(db_.Execute("DELETE FROM sessions WHERE id = ?", {session_id}));
    return Status::Unauthenticated(std::string(kBadBearer));
  }
  if (!last_used_at.has_value() || now - *last_used_at >= kLastUsedResolution) {
    BASIN_RETURN_IF_ERROR(db_.Execute("UPDATE sessions SET last_used_at = ? WHERE id = ?",
                                      {ToUnix(now), session_id}));
  }
  BASIN_ASSIGN_OR_RETURN(User user, UserFromRow(*row, 0));
  return Principal{std::move(user), CredentialKind::kSession};
}

Result<Principal> AuthStore::AuthenticateApiToken(const std::string& token_hash, Timestamp now) {
  BASIN_ASSIGN_OR_RETURN(
      std::optional<Row> row,
      db_.QueryRow("SELECT " + std::string(kUserColumns) +
                       ", t.id, t.expires_at, "
                       "t.last_used_at, t.revoked_at "
                       "FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?",
                   {token_hash}));
  if (!row.has_value())
    return Status::Unauthenticated(std::string(kBadBearer));
  BASIN_ASSIGN_OR_RETURN(int64_t token_id, row->Int(kUserColumnCount));
  BASIN_ASSIGN_OR_RETURN(std::optional<Timestamp> expires_at,
                         OptionalTimestamp(*row, kUserColumnCount + 1));
  BASIN_ASSIGN_OR_RETURN(std::optional<Timestamp> last_used_at,
                         OptionalTimestamp(*row, kUserColumnCount + 2));
  BASIN_ASSIGN_OR_RETURN(std::optional<Timestamp> revoked_at,
                         OptionalTimestamp(*row, kUserColumnCount + 3));
  if (revoked_at.has_value() || (expires_at.has_value() && now >= *expires_at)) {
    return Status::Unauthenticated(std::string(kBadBearer));
  }
  if (!last_used_at.has_value() || now - *last_used_at >= kLastUsedResolution) {
    BASIN_RETURN_IF_ERROR(db_.Execute("UPDATE api_tokens SET last_used_at = ? WHERE id = ?",
                                      {ToUnix(now), token_id}));
  }
  BASIN_ASSIGN_OR_RETURN(User user, UserFromRow(*row, 0));
  return Principal{std::move(user), CredentialKind::kApiToken};
}

}  // namespace basin::auth
