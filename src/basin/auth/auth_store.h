#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "basin/auth/password.h"
#include "basin/auth/role.h"
#include "basin/common/result.h"
#include "basin/common/status.h"
#include "basin/metadata/database.h"

/// Who may use basin and how they prove it: users with roles and argon2id passwords,
/// browser sessions, API tokens, and access keys for AWS SigV4 clients.
namespace basin::auth {

/// Whole seconds since the Unix epoch, as stored.
using Timestamp = std::chrono::sys_seconds;

struct User {
  int64_t id = 0;
  std::string name;
  Role role = Role::kViewer;
  Timestamp created_at{};
  /// The workgroup whose limits the user's queries run under (basin::workgroup).
  std::string workgroup;

  friend bool operator==(const User&, const User&) = default;
};

enum class CredentialKind { kSession, kApiToken, kAccessKey };

/// "session", "api_token" or "access_key", for logs and audit records.
std::string_view CredentialKindName(CredentialKind kind);

/// An authenticated caller: the user as stored now (current role) and how it proved it.
struct Principal {
  User user;
  CredentialKind kind = CredentialKind::kSession;
};

/// A new session. `token` is the bearer secret, returned only here: basin keeps its
/// SHA-256 alone.
struct NewSession {
  std::string token;  // "bss_" + 40 letters and digits
  Timestamp expires_at{};
};

/// The longest lifetime an API token may be given (10 years). Longer ones are refused:
/// a far expiry is no safer than none, and its arithmetic would overflow.
inline constexpr std::chrono::days kMaxApiTokenLifetime{3650};

/// A new API token. `secret` is returned only here: basin keeps its SHA-256 alone.
struct NewApiToken {
  int64_t id = 0;
  std::string name;
  std::string secret;  // "bst_" + 40 letters and digits
  std::optional<Timestamp> expires_at;
};

/// An API token as listed: never its secret.
struct ApiTokenInfo {
  int64_t id = 0;
  std::string name;
  Timestamp created_at{};
  std::optional<Timestamp> last_used_at;  // updated at most once a minute
  std::optional<Timestamp> expires_at;    // none: never expires
  std::optional<Timestamp> revoked_at;    // set: no longer accepted
};

/// A new access key pair. `secret_access_key` is returned only here.
struct NewAccessKey {
  std::string access_key_id;      // "BK" + 18 upper-case letters and digits, as AWS's 20
  std::string secret_access_key;  // 40 letters and digits
};

enum class AccessKeyStatus { kActive, kRevoked };

/// An access key as listed: never its secret.
struct AccessKeyInfo {
  std::string access_key_id;
  Timestamp created_at{};
  AccessKeyStatus status = AccessKeyStatus::kActive;
};

/// What the SigV4 verifier needs: the secret in the clear and whose key it is.
struct AccessKeySecret {
  std::string access_key_id;
  std::string secret_access_key;
  User user;
};

struct AuthOptions {
  /// argon2id cost of new password hashes.
  PasswordCost password_cost;
  /// Password hashes and checks run at once (each holds password_cost.memory_kib); more
  /// wait up to password_wait, then fail with Unavailable (see PasswordHasher).
  int max_concurrent_password_hashes = 2;
  std::chrono::milliseconds password_wait{10000};
  /// The time source for expiry and bookkeeping; the system clock when empty.
  std::function<std::chrono::system_clock::time_point()> clock;
};

/// Users and their credentials, stored in the metadata database. Secrets (passwords,
/// tokens, access-key secrets) never appear in a Status message; tokens and passwords
/// are stored only as hashes, access-key secrets only sealed under the master key.
///
/// Thread-safe: the store keeps no mutable state of its own beyond a lazily made dummy
/// hash and the password hasher's slots, and the Database serialises statements.
/// Password hashing (slow by design) runs outside database locks, a few at once
/// (AuthOptions::max_concurrent_password_hashes): the others wait, then fail with
/// Unavailable.
class AuthStore {
 public:
  /// `db` must outlive the store. `master_key` (32 bytes, see LoadOrCreateMasterKey)
  /// seals access-key secrets. InvalidArgument when the key is not 32 bytes.
  static Result<std::unique_ptr<AuthStore>> Make(metadata::Database& db, std::string master_key,
                                                 AuthOptions options = {});
  ~AuthStore();
  AuthStore(const AuthStore&) = delete;
  AuthStore& operator=(const AuthStore&) = delete;

  // --- Users ---------------------------------------------------------------------------

  /// Creates a user. Names are 1-64 characters of [A-Za-z0-9_.@-]; a name that equals
  /// an existing one ignoring case is taken. InvalidArgument for a bad name or a weak
  /// password (ValidatePassword); AlreadyExists when the name is taken.
  Result<User> CreateUser(std::string_view name, std::string_view password, Role role);

  /// NotFound when there is no user of that exact name.
  Result<User> GetUser(std::string_view name);

  /// Every user, ordered by name.
  Result<std::vector<User>> ListUsers();

  /// Deletes a user and, with it, its sessions, API tokens and access keys. NotFound
  /// when there is no such user; FailedPrecondition when it is the last admin.
  Status DeleteUser(std::string_view name);

  /// Replaces a user's password and ends its sessions (API tokens and access keys stay
  /// valid). InvalidArgument for a weak password; NotFound for an unknown user.
  Status SetPassword(std::string_view name, std::string_view password);

  /// Changes a user's role, effective for its next request. NotFound for an unknown
  /// user; FailedPrecondition when that would leave no admin.
  Status SetRole(std::string_view name, Role role);

  /// The user when `password` is theirs. Unauthenticated, with one message for an
  /// unknown user and a wrong password, and in about the same time (an unknown user's
  /// check verifies against a dummy hash). Unavailable when no password check could
  /// start within AuthOptions::password_wait (as for every call that hashes a password).
  Result<User> CheckPassword(std::string_view name, std::string_view password);

  // --- Sessions and API tokens -----------------------------------------------------------

  /// Starts a session that ends after `ttl` (fixed, not sliding). InvalidArgument when
  /// `ttl` is not positive; NotFound for an unknown user. Also deletes expired sessions.
  Result<NewSession> CreateSession(int64_t user_id, std::chrono::seconds ttl);

  /// Ends the session of `token` (logout). NotFound when no session has that token.
  Status DeleteSession(std::string_view token);

  /// Creates an API token. `name` is a label of 1-100 bytes without control characters;
  /// `expires_at`, when given, must be in the future and at most kMaxApiTokenLifetime
  /// away. InvalidArgument otherwise; NotFound for an unknown user.
  Result<NewApiToken> CreateApiToken(int64_t user_id, std::string_view name,
                                     std::optional<Timestamp> expires_at = std::nullopt);

  /// The user's API tokens, revoked and expired ones included, oldest first.
  Result<std::vector<ApiTokenInfo>> ListApiTokens(int64_t user_id);

  /// Revokes API token `token_id` if `actor` owns it or is an admin. NotFound when it
  /// does not exist or `actor` may not see it. Revoking a revoked token is OK.
  Status RevokeApiToken(const User& actor, int64_t token_id);

  /// Accepts a session token or an API token (the "Authorization: Bearer" value) that
  /// is live: known, not expired, not revoked, its user not deleted. Records its use.
  /// Unauthenticated, with one message, otherwise. The token is looked up by its
  /// SHA-256, so the time taken reveals nothing about the secret.
  Result<Principal> AuthenticateBearer(std::string_view token);

  // --- Access keys -------------------------------------------------------------------------

  /// Creates an access key pair for SigV4 clients. NotFound for an unknown user.
  Result<NewAccessKey> CreateAccessKey(int64_t user_id);

  /// The user's access keys, revoked ones included, oldest first.
  Result<std::vector<AccessKeyInfo>> ListAccessKeys(int64_t user_id);

  /// Revokes an access key if `actor` owns it or is an admin. NotFound when it does not
  /// exist or `actor` may not see it. Revoking a revoked key is OK.
  Status RevokeAccessKey(const User& actor, std::string_view access_key_id);

  /// The secret and owner of an active access key, for SigV4 verification. NotFound
  /// for an unknown or revoked key; FailedPrecondition when the secret does not open
  /// under this store's master key (another key, or an altered row).
  Result<AccessKeySecret> LookupAccessKey(std::string_view access_key_id);

 private:
  AuthStore(metadata::Database& db, std::string master_key, AuthOptions options);

  Timestamp Now() const;
  // NotFound unless user `user_id` exists. REQUIRES: called inside a transaction when
  // the caller then writes rows that refer to the user.
  Status CheckUserExists(int64_t user_id);
  // FailedPrecondition when user `name` is the only admin.
  Status CheckNotLastAdmin(const User& user);
  Result<Principal> AuthenticateSession(const std::string& token_hash, Timestamp now);
  Result<Principal> AuthenticateApiToken(const std::string& token_hash, Timestamp now);
  Result<std::string> DummyPasswordHash();

  metadata::Database& db_;
  std::string master_key_;  // wiped on destruction
  const AuthOptions options_;
  PasswordHasher hasher_;
  std::once_flag dummy_hash_once_;
  Result<std::string> dummy_hash_ = Status::Internal("dummy hash not made yet");
};

}  // namespace basin::auth
