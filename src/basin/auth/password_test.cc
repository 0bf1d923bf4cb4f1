#include "basin/auth/password.h"

#include <gtest/gtest.h>

namespace basin::auth {
namespace {

constexpr PasswordCost kCheap{1, 8, 1};

TEST(AuthPasswordTest, HashIsArgon2idWithTheGivenCost) {
  auto hash = HashPassword("correct horse", kCheap);
  ASSERT_TRUE(hash.ok()) << hash.status().ToString();
  EXPECT_TRUE(hash->starts_with("$argon2id$v=19$m=8,t=1,p=1$")) << *hash;
  EXPECT_EQ(hash->find("correct horse"), std::string::npos);
  EXPECT_TRUE(VerifyPassword("correct horse", *hash).ValueOr(false));
  EXPECT_FALSE(VerifyPassword("correct horsE", *hash).ValueOr(true));
  EXPECT_FALSE(VerifyPassword("", *hash).ValueOr(true));
}

TEST(AuthPasswordTest, DefaultCostIsRfc9106Second) {
  auto hash = HashPassword("correct horse", PasswordCost{});
  ASSERT_TRUE(hash.ok()) << hash.status().ToString();
  EXPECT_TRUE(hash->starts_with("$argon2id$v=19$m=65536,t=3,p=1$")) << *hash;
  EXPECT_TRUE(VerifyPassword("correct horse", *hash).ValueOr(false));
}

TEST(AuthPasswordTest, SaltsDiffer) {
  auto first = HashPassword("same password", kCheap);
  auto second = HashPassword("same password", kCheap);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_NE(*first, *second);
}

TEST(AuthPasswordTest, LengthRules) {
  EXPECT_EQ(ValidatePassword("").code(), StatusCode::kInvalidArgument);
  Status short_password = ValidatePassword("1234567");
  EXPECT_EQ(short_password.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(short_password.message().find("1234567"), std::string::npos);
  EXPECT_TRUE(ValidatePassword("12345678").ok());
  // Characters, not bytes: 7 Hangul syllables are 21 bytes but too short.
  EXPECT_EQ(ValidatePassword("비밀번호입니다").code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(ValidatePassword("비밀번호입니다만").ok());
  EXPECT_TRUE(ValidatePassword(std::string(kMaxPasswordBytes, 'x')).ok());
  EXPECT_EQ(ValidatePassword(std::string(kMaxPasswordBytes + 1, 'x')).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(HashPassword("short", kCheap).status().code(), StatusCode::kInvalidArgument);
}

TEST(AuthPasswordTest, BadCostAndBadEncodingAreErrors) {
  EXPECT_EQ(HashPassword("long enough", PasswordCost{0, 8, 1}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyPassword("long enough", "not an argon2 hash").status().code(),
            StatusCode::kInternal);
}

}  // namespace
}  // namespace basin::auth
