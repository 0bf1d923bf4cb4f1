#include "basin/auth/login_throttle.h"

#include <string>

#include <gtest/gtest.h>

namespace basin::auth {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

class LoginThrottleTest : public ::testing::Test {
 protected:
  LoginThrottle Make(LoginThrottleOptions options = {}) {
    options.clock = [this] {
      return now_;
    };
    return LoginThrottle(std::move(options));
  }
  void Advance(std::chrono::steady_clock::duration duration) { now_ += duration; }
  static void Fail(LoginThrottle& throttle, int times, std::string_view name,
                   std::string_view address) {
    for (int i = 0; i < times; ++i)
      throttle.RecordFailure(name, address);
  }

  std::chrono::steady_clock::time_point now_{std::chrono::hours(1000)};
};

TEST_F(LoginThrottleTest, RefusesANameFromAnAddressAfterFiveFailuresForTheWindow) {
  LoginThrottle throttle = Make();
  for (int i = 1; i <= 4; ++i) {
    EXPECT_FALSE(throttle.Check("admin", "10.0.0.1")) << i;
    LoginThrottle::Failures failures = throttle.RecordFailure("admin", "10.0.0.1");
    EXPECT_EQ(failures.of_name, i);
    EXPECT_EQ(failures.of_address, i);
    EXPECT_FALSE(failures.refusing);
  }
  EXPECT_FALSE(throttle.Check("admin", "10.0.0.1"));
  EXPECT_TRUE(throttle.RecordFailure("admin", "10.0.0.1").refusing);

  std::optional<LoginThrottle::Refusal> refusal = throttle.Check("admin", "10.0.0.1");
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->retry_after, minutes(15));
  EXPECT_FALSE(refusal->whole_address);
  // Other names from the address and the name from other addresses are let in.
  EXPECT_FALSE(throttle.Check("vera", "10.0.0.1"));
  EXPECT_FALSE(throttle.Check("admin", "10.0.0.2"));

  Advance(minutes(10) + std::chrono::milliseconds(500));
  ASSERT_TRUE(throttle.Check("admin", "10.0.0.1"));
  EXPECT_EQ(throttle.Check("admin", "10.0.0.1")->retry_after, seconds(5 * 60));  // rounded up
  Advance(minutes(5));
  EXPECT_FALSE(throttle.Check("admin", "10.0.0.1"));
  // A new window: one failure is not enough to refuse again.
  EXPECT_EQ(throttle.RecordFailure("admin", "10.0.0.1").of_name, 1);
  EXPECT_FALSE(throttle.Check("admin", "10.0.0.1"));
}

TEST_F(LoginThrottleTest, FailuresOlderThanTheWindowDoNotCount) {
  LoginThrottle throttle = Make();
  Fail(throttle, 4, "admin", "10.0.0.1");
  Advance(minutes(15));
  EXPECT_EQ(throttle.RecordFailure("admin", "10.0.0.1").of_name, 1);
  Fail(throttle, 3, "admin", "10.0.0.1");
  EXPECT_FALSE(throttle.Check("admin", "10.0.0.1"));
}

TEST_F(LoginThrottleTest, ASuccessForgetsTheNamesFailuresFromThatAddressOnly) {
  LoginThrottle throttle = Make();
  Fail(throttle, 4, "admin", "10.0.0.1");
  Fail(throttle, 4, "admin", "10.0.0.2");
  throttle.RecordSuccess("admin", "10.0.0.1");
  EXPECT_EQ(throttle.RecordFailure("admin", "10.0.0.1").of_name, 1);
  EXPECT_FALSE(throttle.Check("admin", "10.0.0.1"));
  EXPECT_TRUE(throttle.RecordFailure("admin", "10.0.0.2").refusing);
  EXPECT_TRUE(throttle.Check("admin", "10.0.0.2"));
}

TEST_F(LoginThrottleTest, RefusesAWholeAddressThatGuessesAcrossNames) {
  LoginThrottle throttle = Make({.max_failures = 5, .max_failures_per_address = 8});
  for (int i = 0; i < 7; ++i)
    throttle.RecordFailure("user" + std::to_string(i), "10.0.0.9");
  throttle.RecordSuccess("user0", "10.0.0.9");  // does not reset the address's count
  LoginThrottle::Failures failures = throttle.RecordFailure("someone", "10.0.0.9");
  EXPECT_EQ(failures.of_name, 1);
  EXPECT_EQ(failures.of_address, 8);
  EXPECT_TRUE(failures.refusing);
  std::optional<LoginThrottle::Refusal> refusal = throttle.Check("a-new-name", "10.0.0.9");
  ASSERT_TRUE(refusal);
  EXPECT_TRUE(refusal->whole_address);
  EXPECT_EQ(refusal->retry_after, minutes(15));
  EXPECT_FALSE(throttle.Check("a-new-name", "10.0.0.10"));
}

TEST_F(LoginThrottleTest, NamesAreCountedByTheirFirst64Bytes) {
  LoginThrottle throttle = Make();
  const std::string base(64, 'n');
  for (int i = 0; i < 5; ++i)
    throttle.RecordFailure(base + std::to_string(i) + std::string(10000, 'x'), "10.0.0.1");
  EXPECT_TRUE(throttle.Check(base + "anything", "10.0.0.1"));
  EXPECT_EQ(throttle.size(), 2u);
}

TEST_F(LoginThrottleTest, StaysBoundedDroppingExpiredThenOldestEntries) {
  LoginThrottle throttle = Make({.max_failures_per_address = 1000000, .max_entries = 100});
  Fail(throttle, 5, "victim", "10.0.0.1");  // refused; the oldest entry
  Advance(seconds(1));
  for (int i = 0; i < 98; ++i)
    throttle.RecordFailure("name" + std::to_string(i), "10.0.0.1");
  EXPECT_EQ(throttle.size(), 99u + 1u);
  EXPECT_TRUE(throttle.Check("victim", "10.0.0.1"));
  // Full: a new name drops the entry that ends first, the victim's.
  throttle.RecordFailure("one-more", "10.0.0.1");
  throttle.RecordFailure("and-another", "10.0.0.1");
  EXPECT_EQ(throttle.size(), 100u + 1u);
  EXPECT_FALSE(throttle.Check("victim", "10.0.0.1"));
  // Expired entries go before live ones.
  Advance(minutes(16));
  for (int i = 0; i < 1000; ++i)
    throttle.RecordFailure("later" + std::to_string(i), "10.0.0." + std::to_string(i % 250));
  EXPECT_LE(throttle.size(), 200u);
}

TEST_F(LoginThrottleTest, LimitsAndWindowAreOptions) {
  LoginThrottle throttle = Make({.max_failures = 2, .window = seconds(30)});
  Fail(throttle, 2, "admin", "::1");
  ASSERT_TRUE(throttle.Check("admin", "::1"));
  EXPECT_EQ(throttle.Check("admin", "::1")->retry_after, seconds(30));
  Advance(seconds(30));
  EXPECT_FALSE(throttle.Check("admin", "::1"));
}

}  // namespace
}  // namespace basin::auth
