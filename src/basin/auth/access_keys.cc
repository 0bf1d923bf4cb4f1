// AuthStore's access keys: id/secret pairs for AWS SigV4 clients. Unlike tokens, the
// server needs the secret itself to recompute a signature, so it is stored sealed
// (AES-256-GCM under the home's master key) rather than hashed.
#include <algorithm>
#include <string>
#include <utility>

#include "basin/auth/auth_store.h"
#include "basin/auth/master_key.h"
#include "basin/auth/store_rows.h"
#include "basin/common/crypto.h"

namespace basin::auth {

using metadata::Row;

namespace {

constexpr std::string_view kAccessKeyPrefix = "BK";
constexpr size_t kAccessKeyIdLength = 20;
constexpr size_t kSecretAccessKeyLength = 40;

std::string RandomAccessKeyId() {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::string id(kAccessKeyPrefix);
  while (id.size() < kAccessKeyIdLength) {
    for (unsigned char c : RandomBytes(kAccessKeyIdLength)) {
      // 252 = 7 * 36: rejecting the rest keeps every character equally likely.
      if (c < 252 && id.size() < kAccessKeyIdLength)
        id.push_back(kAlphabet[c % 36]);
    }
  }
  return id;
}

// Binds a sealed secret to its row: a secret copied onto another key id or owner by
// someone who can write the database no longer opens.
std::string AssociatedData(std::string_view access_key_id, int64_t user_id) {
  return "basin access key\n" + std::string(access_key_id) + "\n" + std::to_string(user_id);
}

// The id as it may appear in a message: it arrives from the network, so only a
// well-formed one is repeated.
std::string DescribeAccessKeyId(std::string_view id) {
  const bool well_formed = id.size() == kAccessKeyIdLength && id.starts_with(kAccessKeyPrefix) &&
                           std::all_of(id.begin(), id.end(), [](char c) {
                             return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
                           });
  return well_formed ? std::string(id) : "(malformed id)";
}

}  // namespace

Result<NewAccessKey> AuthStore::CreateAccessKey(int64_t user_id) {
  NewAccessKey key{RandomAccessKeyId(), RandomAlphanumeric(kSecretAccessKeyLength)};
  BASIN_ASSIGN_OR_RETURN(
      std::string sealed,
      SealSecret(master_key_, key.secret_access_key, AssociatedData(key.access_key_id, user_id)));
  BASIN_RETURN_IF_ERROR(db_.Transaction([&]() -> Status {
    BASIN_RETURN_IF_ERROR(CheckUserExists(user_id));
    return db_.Execute(
        "INSERT INTO access_keys (id, user_id, sealed_secret, created_at) VALUES (?, ?, ?, ?)",
        {key.access_key_id, user_id, std::move(sealed), ToUnix(Now())});
  }));
  return key;
}

Result<std::vector<AccessKeyInfo>> AuthStore::ListAccessKeys(int64_t user_id) {
  BASIN_ASSIGN_OR_RETURN(std::vector<Row> rows,
                         db_.Query("SELECT id, created_at, revoked_at FROM access_keys "
                                   "WHERE user_id = ? ORDER BY created_at, id",
                                   {user_id}));
  std::vector<AccessKeyInfo> keys;
  keys.reserve(rows.size());
  for (const Row& row : rows) {
    AccessKeyInfo& info = keys.emplace_back();
    BASIN_ASSIGN_OR_RETURN(info.access_key_id, row.Text(0));
    BASIN_ASSIGN_OR_RETURN(int64_t created_at, row.Int(1));
    info.created_at = FromUnix(created_at);
    info.status = row.IsNull(2) ? AccessKeyStatus::kActive : AccessKeyStatus::kRevoked;
  }
  return keys;
}

Status AuthStore::RevokeAccessKey(const User& actor, std::string_view access_key_id) {
  const int64_t is_admin = actor.role == Role::kAdmin ? 1 : 0;
  BASIN_ASSIGN_OR_RETURN(int64_t matched,
                         db_.ExecuteReturningChangeCount(
                             "UPDATE access_keys SET revoked_at = COALESCE(revoked_at, ?) "
                             "WHERE id = ? AND (user_id = ? OR ? = 1)",
                             {ToUnix(Now()), std::string(access_key_id), actor.id, is_admin}));
  if (matched == 0) {
    return Status::NotFound("access key not found: " + DescribeAccessKeyId(access_key_id));
  }
  return Status::OK();
}

Result<AccessKeySecret> AuthStore::LookupAccessKey(std::string_view access_key_id) {
  BASIN_ASSIGN_OR_RETURN(std::optional<Row> row,
                         db_.QueryRow("SELECT " + std::string(kUserColumns) +
                                          ", k.sealed_secret "
                                          "FROM access_keys k JOIN users u ON u.id = k.user_id "
                                          "WHERE k.id = ? AND k.revoked_at IS NULL",
                                      {std::string(access_key_id)}));
  if (!row.has_value()) {
    return Status::NotFound("access key not found or revoked: " +
                            DescribeAccessKeyId(access_key_id));
  }
  AccessKeySecret secret{std::string(access_key_id), "", {}};
  BASIN_ASSIGN_OR_RETURN(secret.user, UserFromRow(*row, 0));
  BASIN_ASSIGN_OR_RETURN(std::string sealed, row->Text(kUserColumnCount));
  Result<std::string> opened =
      OpenSealedSecret(master_key_, sealed, AssociatedData(access_key_id, secret.user.id));
  if (!opened.ok()) {
    return Status(opened.status().code(), "access key " + DescribeAccessKeyId(access_key_id) +
                                              ": " + opened.status().message());
  }
  secret.secret_access_key = std::move(opened).value();
  return secret;
}

}  // namespace basin::auth
