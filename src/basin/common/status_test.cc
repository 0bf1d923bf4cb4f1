#include "basin/common/status.h"

#include <gtest/gtest.h>

#include "basin/common/result.h"

namespace basin {
namespace {

Result<int> ParsePositive(int value) {
  if (value <= 0)
    return Status::InvalidArgument("not positive: " + std::to_string(value));
  return value;
}

Result<int> Doubled(int value) {
  BASIN_ASSIGN_OR_RETURN(int parsed, ParsePositive(value));
  return parsed * 2;
}

TEST(StatusTest, OkAndErrors) {
  EXPECT_TRUE(Status::OK().ok());
  Status missing = Status::NotFound("no such key: a/b");
  EXPECT_FALSE(missing.ok());
  EXPECT_TRUE(missing.IsNotFound());
  EXPECT_EQ(missing.ToString(), "NotFound: no such key: a/b");
  EXPECT_EQ(missing.WithContext("reading").message(), "reading: no such key: a/b");
  EXPECT_EQ(missing.WithContext("reading").code(), StatusCode::kNotFound);
}

TEST(StatusTest, HttpMapping) {
  EXPECT_EQ(HttpStatusFor(StatusCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusFor(StatusCode::kUnauthenticated), 401);
  EXPECT_EQ(HttpStatusFor(StatusCode::kPermissionDenied), 403);
  EXPECT_EQ(HttpStatusFor(StatusCode::kNotFound), 404);
  EXPECT_EQ(HttpStatusFor(StatusCode::kPayloadTooLarge), 413);
  EXPECT_EQ(HttpStatusFor(StatusCode::kUnavailable), 503);
}

TEST(ResultTest, PropagatesErrorsAndValues) {
  Result<int> good = Doubled(21);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 42);
  Result<int> bad = Doubled(-1);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.ValueOr(7), 7);
}

}  // namespace
}  // namespace basin
