#include "basin/auth/auth_store.h"

#include <atomic>
#include <cctype>
#include <fstream>
#include <iterator>
#include <optional>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "basin/auth/master_key.h"
#include "basin/common/crypto.h"
#include "basin/metadata/scratch_database.h"

namespace basin::auth {
namespace {

using std::chrono::seconds;

constexpr PasswordCost kCheap{1, 8, 1};
constexpr char kPassword[] = "correct horse battery";

// Every test runs against both metadata engines (SQLite, and the PostgreSQL server of
// scripts/with-test-servers.sh), each in a fresh database.
class AuthStoreTest : public ::testing::TestWithParam<metadata::Backend> {
 protected:
  void SetUp() override {
    auto scratch = metadata::ScratchDatabase::Make(GetParam());
    ASSERT_TRUE(scratch.ok()) << scratch.status().ToString();
    scratch_.emplace(std::move(scratch).value());
    auto db = metadata::Database::Open(scratch_->location());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    master_key_ = RandomBytes(kMasterKeyBytes);
    store_ = MakeStore(master_key_);
    ASSERT_NE(store_, nullptr);
  }
  void TearDown() override {
    store_.reset();
    db_.reset();
    scratch_.reset();
  }

  std::unique_ptr<AuthStore> MakeStore(const std::string& master_key) {
    AuthOptions options;
    options.password_cost = kCheap;
    options.clock = [this] {
      return now_;
    };
    auto store = AuthStore::Make(*db_, master_key, options);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  User CreateUserOrDie(std::string_view name, Role role = Role::kEditor) {
    auto user = store_->CreateUser(name, kPassword, role);
    EXPECT_TRUE(user.ok()) << user.status().ToString();
    return user.ValueOr(User{});
  }

  void Advance(seconds duration) { now_ += duration; }
  Timestamp Now() const { return std::chrono::floor<seconds>(now_); }

  // Every byte basin wrote for the database. SQLite: the main file and its write-ahead
  // log. PostgreSQL: every row of every table, as text (read over a new connection, so
  // it works after db_ is closed).
  std::string DatabaseBytes() const {
    std::string bytes;
    if (GetParam() == metadata::Backend::kPostgres) {
      auto db = metadata::Database::Open(scratch_->location());
      EXPECT_TRUE(db.ok()) << db.status().ToString();
      if (!db.ok())
        return bytes;
      for (const char* table : {"users", "sessions", "api_tokens", "access_keys"}) {
        auto rows = (*db)->Query("SELECT CAST(r AS TEXT) FROM " + std::string(table) + " r");
        EXPECT_TRUE(rows.ok()) << rows.status().ToString();
        for (const metadata::Row& row : rows.ValueOr({}))
          bytes += row.Text(0).ValueOr("") + "\n";
      }
      return bytes;
    }
    for (const std::string& path : {scratch_->location(), scratch_->location() + "-wal"}) {
      std::ifstream file(path, std::ios::binary);
      bytes.append(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
    }
    return bytes;
  }

  std::optional<metadata::ScratchDatabase> scratch_;
  std::chrono::system_clock::time_point now_ =
      std::chrono::sys_days(std::chrono::year(2024) / 5 / 1) + std::chrono::hours(9);
  std::unique_ptr<metadata::Database> db_;
  std::string master_key_;
  std::unique_ptr<AuthStore> store_;
};

INSTANTIATE_TEST_SUITE_P(, AuthStoreTest,
                         ::testing::Values(metadata::Backend::kSqlite,
                                           metadata::Backend::kPostgres),
                         [](const ::testing::TestParamInfo<metadata::Backend>& info) {
                           return std::string(metadata::BackendName(info.param));
                         });

bool IsAlphanumeric(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; });
}

// --- Users -------------------------------------------------------------------------------

TEST_P(AuthStoreTest, MakeRefusesAMasterKeyOfTheWrongSize) {
  EXPECT_EQ(AuthStore::Make(*db_, "short").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(AuthStore::Make(*db_, std::string(33, 'k')).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_P(AuthStoreTest, CreateGetAndListUsers) {
  User bob = CreateUserOrDie("bob", Role::kViewer);
  User alice = CreateUserOrDie("alice@example.com", Role::kAdmin);
  EXPECT_GT(bob.id, 0);
  EXPECT_EQ(bob.name, "bob");
  EXPECT_EQ(bob.role, Role::kViewer);
  EXPECT_EQ(bob.created_at, Now());

  EXPECT_EQ(store_->GetUser("bob").ValueOr(User{}), bob);
  EXPECT_EQ(store_->GetUser("carol").status().code(), StatusCode::kNotFound);
  auto users = store_->ListUsers();
  ASSERT_TRUE(users.ok()) << users.status().ToString();
  EXPECT_EQ(*users, (std::vector<User>{alice, bob}));
}

TEST_P(AuthStoreTest, UserNameRules) {
  for (std::string_view name : {"a", "A.b-c_d@e",
                                "0123456789012345678901234567890123456789"
                                "012345678901234567890123"}) {
    EXPECT_TRUE(store_->CreateUser(name, kPassword, Role::kViewer).ok()) << name;
  }
  for (std::string_view name :
       {"", "with space", "slash/name", "김철수", "quote'", "tab\t",
        "01234567890123456789012345678901234567890123456789012345678901234"}) {
    EXPECT_EQ(store_->CreateUser(name, kPassword, Role::kViewer).status().code(),
              StatusCode::kInvalidArgument)
        << name;
  }
}

TEST_P(AuthStoreTest, DuplicateNamesAreRefusedIgnoringCase) {
  CreateUserOrDie("alice");
  EXPECT_EQ(store_->CreateUser("alice", kPassword, Role::kViewer).status().code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->CreateUser("Alice", kPassword, Role::kViewer).status().code(),
            StatusCode::kAlreadyExists);
  // Lookups are exact.
  EXPECT_EQ(store_->GetUser("ALICE").status().code(), StatusCode::kNotFound);
}

TEST_P(AuthStoreTest, WeakPasswordsAreRefused) {
  auto user = store_->CreateUser("bob", "7chars!", Role::kViewer);
  EXPECT_EQ(user.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(user.status().message().find("7chars!"), std::string::npos);
  EXPECT_EQ(store_->GetUser("bob").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->CreateUser("bob", "8chars!!", Role::kViewer).ok());
  EXPECT_EQ(store_->SetPassword("bob", "short").code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(store_->CreateUser("kim", "비밀번호입니다만", Role::kViewer).ok());
  EXPECT_TRUE(store_->CheckPassword("kim", "비밀번호입니다만").ok());
}

TEST_P(AuthStoreTest, PasswordsAreStoredAsArgon2id) {
  CreateUserOrDie("bob");
  auto row = db_->QueryRow("SELECT password_hash FROM users WHERE name = 'bob'");
  ASSERT_TRUE(row.ok() && row->has_value());
  const std::string hash = (*row)->Text(0).ValueOr("");
  EXPECT_TRUE(hash.starts_with("$argon2id$")) << hash;
  EXPECT_EQ(hash.find(kPassword), std::string::npos);
}

TEST_P(AuthStoreTest, CheckPassword) {
  User bob = CreateUserOrDie("bob");
  EXPECT_EQ(store_->CheckPassword("bob", kPassword).ValueOr(User{}), bob);

  auto wrong = store_->CheckPassword("bob", "not the password");
  auto unknown = store_->CheckPassword("nobody", kPassword);
  EXPECT_EQ(wrong.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(unknown.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(wrong.status().message(), unknown.status().message());
  EXPECT_EQ(unknown.status().message().find(kPassword), std::string::npos);
  EXPECT_EQ(wrong.status().message().find("not the password"), std::string::npos);
  EXPECT_EQ(store_->CheckPassword("bob", "").status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(store_->CheckPassword("bob", std::string(100000, 'x')).status().code(),
            StatusCode::kUnauthenticated);
}

TEST_P(AuthStoreTest, SetPasswordEndsSessionsButKeepsTokens) {
  User bob = CreateUserOrDie("bob");
  auto session = store_->CreateSession(bob.id, seconds(3600));
  auto token = store_->CreateApiToken(bob.id, "ci");
  ASSERT_TRUE(session.ok() && token.ok());

  ASSERT_TRUE(store_->SetPassword("bob", "a brand new password").ok());
  EXPECT_EQ(store_->CheckPassword("bob", kPassword).status().code(), StatusCode::kUnauthenticated);
  EXPECT_TRUE(store_->CheckPassword("bob", "a brand new password").ok());
  EXPECT_EQ(store_->AuthenticateBearer(session->token).status().code(),
            StatusCode::kUnauthenticated);
  EXPECT_TRUE(store_->AuthenticateBearer(token->secret).ok());
  EXPECT_EQ(store_->SetPassword("nobody", "long enough password").code(), StatusCode::kNotFound);
}

TEST_P(AuthStoreTest, SetRoleTakesEffectOnTheNextRequest) {
  CreateUserOrDie("root", Role::kAdmin);
  User bob = CreateUserOrDie("bob", Role::kViewer);
  auto token = store_->CreateApiToken(bob.id, "ci");
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(store_->AuthenticateBearer(token->secret)->user.role, Role::kViewer);
  ASSERT_TRUE(store_->SetRole("bob", Role::kEditor).ok());
  EXPECT_EQ(store_->AuthenticateBearer(token->secret)->user.role, Role::kEditor);
  EXPECT_EQ(store_->GetUser("bob")->role, Role::kEditor);
  EXPECT_EQ(store_->SetRole("nobody", Role::kAdmin).code(), StatusCode::kNotFound);
}

TEST_P(AuthStoreTest, TheLastAdminCannotBeRemoved) {
  CreateUserOrDie("root", Role::kAdmin);
  EXPECT_EQ(store_->DeleteUser("root").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_->SetRole("root", Role::kEditor).code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(store_->SetRole("root", Role::kAdmin).ok());
  EXPECT_EQ(store_->GetUser("root")->role, Role::kAdmin);

  CreateUserOrDie("second", Role::kAdmin);
  EXPECT_TRUE(store_->SetRole("root", Role::kViewer).ok());
  EXPECT_EQ(store_->DeleteUser("second").code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(store_->DeleteUser("root").ok());
}

TEST_P(AuthStoreTest, DeleteUserRemovesEveryCredential) {
  User bob = CreateUserOrDie("bob");
  auto session = store_->CreateSession(bob.id, seconds(3600));
  auto token = store_->CreateApiToken(bob.id, "ci");
  auto key = store_->CreateAccessKey(bob.id);
  ASSERT_TRUE(session.ok() && token.ok() && key.ok());

  ASSERT_TRUE(store_->DeleteUser("bob").ok());
  EXPECT_EQ(store_->DeleteUser("bob").code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->AuthenticateBearer(session->token).status().code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(store_->AuthenticateBearer(token->secret).status().code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(store_->LookupAccessKey(key->access_key_id).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->ListApiTokens(bob.id)->empty());
  EXPECT_TRUE(store_->ListAccessKeys(bob.id)->empty());
  // A new user of the same name does not inherit anything.
  User new_bob = CreateUserOrDie("bob");
  EXPECT_NE(new_bob.id, bob.id);
  EXPECT_EQ(store_->AuthenticateBearer(token->secret).status().code(),
            StatusCode::kUnauthenticated);
}

// --- Sessions ------------------------------------------------------------------------------

TEST_P(AuthStoreTest, SessionRoundTrip) {
  User bob = CreateUserOrDie("bob");
  auto session = store_->CreateSession(bob.id, seconds(3600));
  ASSERT_TRUE(session.ok()) << session.status().ToString();
  ASSERT_EQ(session->token.size(), 44u);
  EXPECT_TRUE(session->token.starts_with("bss_"));
  EXPECT_TRUE(IsAlphanumeric(session->token.substr(4)));
  EXPECT_EQ(session->expires_at, Now() + seconds(3600));

  auto principal = store_->AuthenticateBearer(session->token);
  ASSERT_TRUE(principal.ok()) << principal.status().ToString();
  EXPECT_EQ(principal->user, bob);
  EXPECT_EQ(principal->kind, CredentialKind::kSession);
  EXPECT_NE(session->token, store_->CreateSession(bob.id, seconds(3600))->token);
}

TEST_P(AuthStoreTest, SessionsExpire) {
  User bob = CreateUserOrDie("bob");
  auto session = store_->CreateSession(bob.id, seconds(60));
  ASSERT_TRUE(session.ok());
  Advance(seconds(59));
  EXPECT_TRUE(store_->AuthenticateBearer(session->token).ok());
  Advance(seconds(1));
  EXPECT_EQ(store_->AuthenticateBearer(session->token).status().code(),
            StatusCode::kUnauthenticated);
  // The expired session is gone from the table, not just refused.
  EXPECT_EQ(db_->Query("SELECT id FROM sessions")->size(), 0u);
}

TEST_P(AuthStoreTest, CreatingASessionPurgesExpiredOnes) {
  User bob = CreateUserOrDie("bob");
  ASSERT_TRUE(store_->CreateSession(bob.id, seconds(10)).ok());
  Advance(seconds(20));
  ASSERT_TRUE(store_->CreateSession(bob.id, seconds(10)).ok());
  EXPECT_EQ(db_->Query("SELECT id FROM sessions")->size(), 1u);
}

TEST_P(AuthStoreTest, SessionArguments) {
  User bob = CreateUserOrDie("bob");
  EXPECT_EQ(store_->CreateSession(bob.id, seconds(0)).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->CreateSession(bob.id, seconds(-5)).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->CreateSession(bob.id, std::chrono::days(400)).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->CreateSession(bob.id + 100, seconds(60)).status().code(),
            StatusCode::kNotFound);
}

TEST_P(AuthStoreTest, LogoutEndsTheSession) {
  User bob = CreateUserOrDie("bob");
  auto session = store_->CreateSession(bob.id, seconds(3600));
  auto other = store_->CreateSession(bob.id, seconds(3600));
  ASSERT_TRUE(session.ok() && other.ok());
  ASSERT_TRUE(store_->DeleteSession(session->token).ok());
  EXPECT_EQ(store_->AuthenticateBearer(session->token).status().code(),
            StatusCode::kUnauthenticated);
  EXPECT_TRUE(store_->AuthenticateBearer(other->token).ok());
  Status again = store_->DeleteSession(session->token);
  EXPECT_EQ(again.code(), StatusCode::kNotFound);
  EXPECT_EQ(again.message().find(session->token), std::string::npos);
}

// --- API tokens ----------------------------------------------------------------------------

TEST_P(AuthStoreTest, ApiTokenRoundTrip) {
  User bob = CreateUserOrDie("bob");
  auto token = store_->CreateApiToken(bob.id, "nightly export");
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  EXPECT_GT(token->id, 0);
  EXPECT_EQ(token->name, "nightly export");
  ASSERT_EQ(token->secret.size(), 44u);
  EXPECT_TRUE(token->secret.starts_with("bst_"));
  EXPECT_TRUE(IsAlphanumeric(token->secret.substr(4)));
  EXPECT_EQ(token->expires_at, std::nullopt);

  auto principal = store_->AuthenticateBearer(token->secret);
  ASSERT_TRUE(principal.ok()) << principal.status().ToString();
  EXPECT_EQ(principal->user, bob);
  EXPECT_EQ(principal->kind, CredentialKind::kApiToken);

  auto listed = store_->ListApiTokens(bob.id);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 1u);
  const ApiTokenInfo& info = listed->front();
  EXPECT_EQ(info.id, token->id);
  EXPECT_EQ(info.name, "nightly export");
  EXPECT_EQ(info.created_at, Now());
  EXPECT_EQ(info.last_used_at, Now());
  EXPECT_EQ(info.expires_at, std::nullopt);
  EXPECT_EQ(info.revoked_at, std::nullopt);
}

TEST_P(AuthStoreTest, LastUsedIsRecordedAtMostOncePerMinute) {
  User bob = CreateUserOrDie("bob");
  auto token = store_->CreateApiToken(bob.id, "ci");
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(store_->ListApiTokens(bob.id)->front().last_used_at, std::nullopt);
  ASSERT_TRUE(store_->AuthenticateBearer(token->secret).ok());
  const Timestamp first_use = Now();
  Advance(seconds(30));
  ASSERT_TRUE(store_->AuthenticateBearer(token->secret).ok());
  EXPECT_EQ(store_->ListApiTokens(bob.id)->front().last_used_at, first_use);
  Advance(seconds(31));
  ASSERT_TRUE(store_->AuthenticateBearer(token->secret).ok());
  EXPECT_EQ(store_->ListApiTokens(bob.id)->front().last_used_at, Now());
}

TEST_P(AuthStoreTest, ApiTokensExpire) {
  User bob = CreateUserOrDie("bob");
  EXPECT_EQ(store_->CreateApiToken(bob.id, "past", Now()).status().code(),
            StatusCode::kInvalidArgument);
  auto token = store_->CreateApiToken(bob.id, "a day", Now() + std::chrono::days(1));
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(store_->ListApiTokens(bob.id)->front().expires_at, Now() + std::chrono::days(1));
  Advance(std::chrono::hours(23));
  EXPECT_TRUE(store_->AuthenticateBearer(token->secret).ok());
  Advance(std::chrono::hours(1));
  EXPECT_EQ(store_->AuthenticateBearer(token->secret).status().code(),
            StatusCode::kUnauthenticated);
}

TEST_P(AuthStoreTest, ApiTokenLifetimeIsAtMostTenYears) {
  User bob = CreateUserOrDie("bob");
  EXPECT_TRUE(store_->CreateApiToken(bob.id, "ten years", Now() + kMaxApiTokenLifetime).ok());
  auto longer = store_->CreateApiToken(bob.id, "longer", Now() + kMaxApiTokenLifetime + seconds(1));
  EXPECT_EQ(longer.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(longer.status().message().find("3650 days"), std::string::npos)
      << longer.status().message();
  // A million days: the time the issue saw listed as 1842 after an overflow.
  EXPECT_EQ(
      store_->CreateApiToken(bob.id, "far", Now() + std::chrono::days(1000000)).status().code(),
      StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->ListApiTokens(bob.id)->size(), 1u);
}

TEST_P(AuthStoreTest, RevokedTokensAreRefused) {
  User bob = CreateUserOrDie("bob");
  User eve = CreateUserOrDie("eve");
  User root = CreateUserOrDie("root", Role::kAdmin);
  auto first = store_->CreateApiToken(bob.id, "first");
  auto second = store_->CreateApiToken(bob.id, "second");
  ASSERT_TRUE(first.ok() && second.ok());

  EXPECT_EQ(store_->RevokeApiToken(eve, first->id).code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->AuthenticateBearer(first->secret).ok());
  ASSERT_TRUE(store_->RevokeApiToken(bob, first->id).ok());
  EXPECT_EQ(store_->AuthenticateBearer(first->secret).status().code(),
            StatusCode::kUnauthenticated);
  const Timestamp revoked_at = Now();
  Advance(seconds(5));
  EXPECT_TRUE(store_->RevokeApiToken(bob, first->id).ok());  // again: no change
  EXPECT_TRUE(store_->RevokeApiToken(root, second->id).ok());
  EXPECT_EQ(store_->AuthenticateBearer(second->secret).status().code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(store_->RevokeApiToken(root, 999999).code(), StatusCode::kNotFound);

  auto listed = store_->ListApiTokens(bob.id);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].revoked_at, revoked_at);
  EXPECT_EQ((*listed)[1].revoked_at, Now());
}

TEST_P(AuthStoreTest, ApiTokenArguments) {
  User bob = CreateUserOrDie("bob");
  for (const std::string& name : std::vector<std::string>{"", "new\nline", std::string(101, 'x')}) {
    EXPECT_EQ(store_->CreateApiToken(bob.id, name).status().code(), StatusCode::kInvalidArgument);
  }
  EXPECT_TRUE(store_->CreateApiToken(bob.id, "노트북 (laptop)").ok());
  EXPECT_EQ(store_->CreateApiToken(bob.id + 100, "x").status().code(), StatusCode::kNotFound);
}

TEST_P(AuthStoreTest, MalformedAndUnknownBearersAreRefusedAlike) {
  User bob = CreateUserOrDie("bob");
  auto token = store_->CreateApiToken(bob.id, "ci");
  auto session = store_->CreateSession(bob.id, seconds(60));
  ASSERT_TRUE(token.ok() && session.ok());
  const std::vector<std::string> bad = {
      "",
      "bst_",
      "Bearer " + token->secret,
      token->secret + "x",
      token->secret.substr(0, 43),
      "bss_" + token->secret.substr(4),  // an API token's secret presented as a session
      "bst_" + session->token.substr(4),
      "bst_" + std::string(40, 'A'),
      "xyz_" + token->secret.substr(4),
  };
  for (const std::string& candidate : bad) {
    auto principal = store_->AuthenticateBearer(candidate);
    EXPECT_EQ(principal.status().code(), StatusCode::kUnauthenticated) << candidate;
    EXPECT_EQ(principal.status().message(), "invalid, expired or revoked bearer token");
  }
}

// --- Access keys ---------------------------------------------------------------------------

TEST_P(AuthStoreTest, AccessKeyRoundTrip) {
  User bob = CreateUserOrDie("bob");
  auto key = store_->CreateAccessKey(bob.id);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  ASSERT_EQ(key->access_key_id.size(), 20u);
  EXPECT_TRUE(key->access_key_id.starts_with("BK"));
  for (char c : key->access_key_id)
    EXPECT_TRUE(std::isupper(c) || std::isdigit(c)) << c;
  ASSERT_EQ(key->secret_access_key.size(), 40u);
  EXPECT_TRUE(IsAlphanumeric(key->secret_access_key));

  auto secret = store_->LookupAccessKey(key->access_key_id);
  ASSERT_TRUE(secret.ok()) << secret.status().ToString();
  EXPECT_EQ(secret->access_key_id, key->access_key_id);
  EXPECT_EQ(secret->secret_access_key, key->secret_access_key);
  EXPECT_EQ(secret->user, bob);

  auto listed = store_->ListAccessKeys(bob.id);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().access_key_id, key->access_key_id);
  EXPECT_EQ(listed->front().created_at, Now());
  EXPECT_EQ(listed->front().status, AccessKeyStatus::kActive);
  EXPECT_EQ(store_->CreateAccessKey(bob.id + 100).status().code(), StatusCode::kNotFound);
}

TEST_P(AuthStoreTest, RevokedAndUnknownAccessKeysAreNotFound) {
  User bob = CreateUserOrDie("bob");
  User eve = CreateUserOrDie("eve");
  User root = CreateUserOrDie("root", Role::kAdmin);
  auto first = store_->CreateAccessKey(bob.id);
  auto second = store_->CreateAccessKey(bob.id);
  ASSERT_TRUE(first.ok() && second.ok());

  EXPECT_EQ(store_->RevokeAccessKey(eve, first->access_key_id).code(), StatusCode::kNotFound);
  ASSERT_TRUE(store_->RevokeAccessKey(bob, first->access_key_id).ok());
  EXPECT_TRUE(store_->RevokeAccessKey(bob, first->access_key_id).ok());
  ASSERT_TRUE(store_->RevokeAccessKey(root, second->access_key_id).ok());
  EXPECT_EQ(store_->LookupAccessKey(first->access_key_id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->LookupAccessKey(second->access_key_id).status().code(), StatusCode::kNotFound);
  auto listed = store_->ListAccessKeys(bob.id);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  for (const AccessKeyInfo& info : *listed) {
    EXPECT_EQ(info.status, AccessKeyStatus::kRevoked);
  }

  EXPECT_EQ(store_->LookupAccessKey("BKAAAAAAAAAAAAAAAAAA").status().code(), StatusCode::kNotFound);
  auto hostile = store_->LookupAccessKey("evil\nlog line");
  EXPECT_EQ(hostile.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(hostile.status().message().find("evil"), std::string::npos);
}

TEST_P(AuthStoreTest, AccessKeySecretNeedsTheRightMasterKey) {
  User bob = CreateUserOrDie("bob");
  auto key = store_->CreateAccessKey(bob.id);
  ASSERT_TRUE(key.ok());
  auto other_store = MakeStore(RandomBytes(kMasterKeyBytes));
  auto secret = other_store->LookupAccessKey(key->access_key_id);
  EXPECT_EQ(secret.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(secret.status().message().find(key->secret_access_key), std::string::npos);
  // The right key still opens it.
  EXPECT_TRUE(MakeStore(master_key_)->LookupAccessKey(key->access_key_id).ok());
}

TEST_P(AuthStoreTest, SealedSecretIsBoundToItsOwner) {
  User bob = CreateUserOrDie("bob");
  User root = CreateUserOrDie("root", Role::kAdmin);
  auto key = store_->CreateAccessKey(bob.id);
  ASSERT_TRUE(key.ok());
  // Someone who can write the database moves bob's key to the admin.
  ASSERT_TRUE(
      db_->Execute("UPDATE access_keys SET user_id = ? WHERE id = ?", {root.id, key->access_key_id})
          .ok());
  EXPECT_EQ(store_->LookupAccessKey(key->access_key_id).status().code(),
            StatusCode::kFailedPrecondition);
}

// --- Storage and concurrency ----------------------------------------------------------------

TEST_P(AuthStoreTest, SecretsAreNeverStoredInTheClear) {
  User bob = CreateUserOrDie("bob");
  auto session = store_->CreateSession(bob.id, seconds(3600));
  auto token = store_->CreateApiToken(bob.id, "ci");
  auto key = store_->CreateAccessKey(bob.id);
  ASSERT_TRUE(session.ok() && token.ok() && key.ok());
  ASSERT_TRUE(store_->AuthenticateBearer(token->secret).ok());
  ASSERT_TRUE(store_->LookupAccessKey(key->access_key_id).ok());

  auto check = [&](const std::string& bytes) {
    ASSERT_NE(bytes.find("bob"), std::string::npos) << "the test reads the wrong files";
    ASSERT_NE(bytes.find(key->access_key_id), std::string::npos);
    for (const std::string& secret :
         {std::string(kPassword), session->token, session->token.substr(4), token->secret,
          token->secret.substr(4), key->secret_access_key, master_key_}) {
      EXPECT_EQ(bytes.find(secret), std::string::npos) << secret;
    }
  };
  check(DatabaseBytes());
  // Closing checkpoints the write-ahead log into the main file; check that too.
  store_.reset();
  db_.reset();
  check(DatabaseBytes());
}

TEST_P(AuthStoreTest, ConcurrentAuthenticationAndIssuing) {
  User bob = CreateUserOrDie("bob");
  std::vector<std::string> secrets;
  for (int i = 0; i < 4; ++i)
    secrets.push_back(store_->CreateApiToken(bob.id, "t")->secret);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (const std::string& secret : secrets) {
    threads.emplace_back([&, secret] {
      for (int i = 0; i < 50; ++i) {
        if (!store_->AuthenticateBearer(secret).ok())
          failures++;
      }
    });
  }
  threads.emplace_back([&] {
    for (int i = 0; i < 20; ++i) {
      if (!store_->CreateSession(bob.id, seconds(60)).ok())
        failures++;
      if (!store_->CreateAccessKey(bob.id).ok())
        failures++;
    }
  });
  for (std::thread& thread : threads)
    thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(store_->ListAccessKeys(bob.id)->size(), 20u);
}

}  // namespace
}  // namespace basin::auth
