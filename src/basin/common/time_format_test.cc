#include "basin/common/time_format.h"

#include <gtest/gtest.h>

namespace basin {
namespace {

std::string RoundTrip(std::string_view text) {
  auto time = ParseIso8601(text);
  return time.ok() ? FormatIso8601(*time) : time.status().ToString();
}

TEST(TimeFormatTest, ParsesDatesAndTimesInUtcOrWithAnOffset) {
  EXPECT_EQ(RoundTrip("2026-11-25"), "2026-11-25T00:00:00.000Z");
  EXPECT_EQ(RoundTrip("2026-11-25T01:02"), "2026-11-25T01:02:00.000Z");
  EXPECT_EQ(RoundTrip("2026-11-25T01:02:03.456Z"), "2026-11-25T01:02:03.456Z");
  EXPECT_EQ(RoundTrip("2026-11-25 01:02:03.4567891"), "2026-11-25T01:02:03.456Z");
  EXPECT_EQ(RoundTrip("2026-11-25T01:02:03.5"), "2026-11-25T01:02:03.500Z");
  EXPECT_EQ(RoundTrip("2026-11-25T09:00:00+09:00"), "2026-11-25T00:00:00.000Z");
  EXPECT_EQ(RoundTrip("2026-11-24T20:30:00-0330"), "2026-11-25T00:00:00.000Z");
  EXPECT_EQ(RoundTrip("2024-02-29"), "2024-02-29T00:00:00.000Z");
  EXPECT_EQ(RoundTrip("1969-12-31T23:59:59Z"), "1969-12-31T23:59:59.000Z");
  EXPECT_EQ(RoundTrip("2261-12-31"), "2261-12-31T00:00:00.000Z");
}

TEST(TimeFormatTest, FormatsWholeSecondsBeyondTheNanosecondRange) {
  using std::chrono::sys_days;
  EXPECT_EQ(FormatIso8601(std::chrono::sys_seconds(std::chrono::seconds(1732500000))),
            "2024-11-25T02:00:00.000Z");
  // Past 2262, a conversion to system_clock::time_point (nanoseconds) would overflow.
  EXPECT_EQ(FormatIso8601(std::chrono::sys_seconds(sys_days(std::chrono::year(4764) / 1 / 2))),
            "4764-01-02T00:00:00.000Z");
}

TEST(TimeFormatTest, RefusesMalformedTimes) {
  for (const char* text : {"", "2026", "2026-13-01", "2025-02-29", "2026-11-25T",
                           "2026-11-25T24:00", "2026-11-25T01:02:03.", "2026-11-25T01:02:03Zjunk",
                           "yesterday", "2999-01-01", "1600-01-01", "1732500000"}) {
    auto time = ParseIso8601(text);
    ASSERT_FALSE(time.ok()) << text;
    EXPECT_EQ(time.status().code(), StatusCode::kInvalidArgument) << text;
  }
}

}  // namespace
}  // namespace basin
