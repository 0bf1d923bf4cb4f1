#include "basin/common/plain_name.h"

#include <gtest/gtest.h>

namespace basin {
namespace {

TEST(PlainNameTest, LettersDigitsAndThreeMarks) {
  EXPECT_TRUE(IsPlainName("web.Clicks_2-a", 64));
  EXPECT_FALSE(IsPlainName("", 64));
  EXPECT_FALSE(IsPlainName("a/b", 64));
  EXPECT_FALSE(IsPlainName("a b", 64));
  EXPECT_FALSE(IsPlainName("é", 64));
  EXPECT_TRUE(IsPlainName(std::string(64, 'a'), 64));
  EXPECT_FALSE(IsPlainName(std::string(65, 'a'), 64));
}

}  // namespace
}  // namespace basin
