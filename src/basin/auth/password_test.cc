#include "basin/auth/password.h"

#include <atomic>
#include <optional>
#include <thread>
#include <vector>

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

TEST(PasswordHasherTest, HashesAndVerifiesWithItsCost) {
  PasswordHasher hasher(kCheap, 2, std::chrono::milliseconds(1000));
  auto hash = hasher.Hash("correct horse");
  ASSERT_TRUE(hash.ok()) << hash.status().ToString();
  EXPECT_TRUE(hash->starts_with("$argon2id$v=19$m=8,t=1,p=1$")) << *hash;
  EXPECT_TRUE(hasher.Verify("correct horse", *hash).ValueOr(false));
  EXPECT_FALSE(hasher.Verify("correct horsE", *hash).ValueOr(true));
  EXPECT_EQ(hasher.Hash("short").status().code(), StatusCode::kInvalidArgument);
}

TEST(PasswordHasherTest, BusySlotsMakeOthersWaitThenFailWithUnavailable) {
  PasswordHasher hasher(kCheap, 2, std::chrono::milliseconds(50));
  auto hash = hasher.Hash("correct horse");
  ASSERT_TRUE(hash.ok()) << hash.status().ToString();
  std::optional<PasswordHasher::Slot> first, second;
  {
    auto slot = hasher.Acquire();
    ASSERT_TRUE(slot.ok());
    first.emplace(std::move(slot).value());
  }
  {
    auto slot = hasher.Acquire();
    ASSERT_TRUE(slot.ok());
    second.emplace(std::move(slot).value());
  }
  const auto start = std::chrono::steady_clock::now();
  Result<std::string> refused = hasher.Hash("correct horse");
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(50));
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(refused.status().message().find("2 at once"), std::string::npos)
      << refused.status().message();
  EXPECT_EQ(hasher.Verify("correct horse", *hash).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(hasher.Acquire().status().code(), StatusCode::kUnavailable);

  first.reset();  // frees a slot
  EXPECT_TRUE(hasher.Verify("correct horse", *hash).ValueOr(false));
  second.reset();
  EXPECT_TRUE(hasher.Hash("correct horse").ok());
}

TEST(PasswordHasherTest, AWaiterGetsTheSlotReleasedWhileItWaits) {
  PasswordHasher hasher(kCheap, 1, std::chrono::seconds(30));
  std::optional<PasswordHasher::Slot> held;
  {
    auto slot = hasher.Acquire();
    ASSERT_TRUE(slot.ok());
    held.emplace(std::move(slot).value());
  }
  std::thread releaser([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    held.reset();
  });
  EXPECT_TRUE(hasher.Hash("correct horse").ok());
  releaser.join();
}

TEST(PasswordHasherTest, NoMoreThanMaxConcurrentRunAtOnce) {
  PasswordHasher hasher(kCheap, 2, std::chrono::seconds(30));
  std::atomic<int> inside{0};
  std::atomic<int> peak{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      auto slot = hasher.Acquire();
      ASSERT_TRUE(slot.ok()) << slot.status().ToString();
      int now = ++inside;
      int seen = peak.load();
      while (now > seen && !peak.compare_exchange_weak(seen, now)) {
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      --inside;
    });
  }
  for (std::thread& thread : threads)
    thread.join();
  EXPECT_GE(peak.load(), 1);
  EXPECT_LE(peak.load(), 2);
}

}  // namespace
}  // namespace basin::auth
