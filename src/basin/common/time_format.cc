#include "basin/common/time_format.h"

#include <cstdint>
#include <cstdio>
#include <ctime>

namespace basin {

namespace {

// `seconds` since the epoch and `millis` (0-999) as ISO 8601 in UTC.
std::string FormatUtc(std::time_t seconds, int millis) {
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  char text[64];
  std::snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", parts.tm_year + 1900,
                parts.tm_mon + 1, parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec, millis);
  return text;
}

}  // namespace

std::string FormatIso8601(std::chrono::system_clock::time_point time) {
  auto since_epoch =
      std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
  std::time_t seconds = static_cast<std::time_t>(since_epoch / 1000);
  int millis = static_cast<int>(since_epoch % 1000);
  if (millis < 0) {
    millis += 1000;
    --seconds;
  }
  return FormatUtc(seconds, millis);
}

std::string FormatIso8601(std::chrono::sys_seconds time) {
  return FormatUtc(static_cast<std::time_t>(time.time_since_epoch().count()), 0);
}

namespace {

// Reads exactly `width` digits at `position`; false when they are not all digits.
bool ReadDigits(std::string_view text, size_t& position, size_t width, int& value) {
  if (position + width > text.size())
    return false;
  value = 0;
  for (size_t i = 0; i < width; ++i) {
    char c = text[position + i];
    if (c < '0' || c > '9')
      return false;
    value = value * 10 + (c - '0');
  }
  position += width;
  return true;
}

bool Expect(std::string_view text, size_t& position, char expected) {
  if (position >= text.size() || text[position] != expected)
    return false;
  ++position;
  return true;
}

// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t year, int month, int day) {
  year -= month <= 2 ? 1 : 0;
  const int64_t era = (year >= 0 ? year : year - 399) / 400;
  const int64_t year_of_era = year - era * 400;
  const int64_t day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;
}

int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

}  // namespace

Result<std::chrono::system_clock::time_point> ParseIso8601(std::string_view text) {
  auto invalid = [&] {
    return Status::InvalidArgument(
        "expected an ISO 8601 time like 2026-11-25 or "
        "2026-11-25T01:02:03Z, got '" +
        std::string(text.substr(0, 64)) + "'");
  };
  size_t position = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, millis = 0;
  int64_t offset_minutes = 0;
  if (!ReadDigits(text, position, 4, year) || !Expect(text, position, '-') ||
      !ReadDigits(text, position, 2, month) || !Expect(text, position, '-') ||
      !ReadDigits(text, position, 2, day)) {
    return invalid();
  }
  if (month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month))
    return invalid();
  if (position < text.size()) {
    if (text[position] != 'T' && text[position] != ' ')
      return invalid();
    ++position;
    if (!ReadDigits(text, position, 2, hour) || !Expect(text, position, ':') ||
        !ReadDigits(text, position, 2, minute)) {
      return invalid();
    }
    if (position < text.size() && text[position] == ':') {
      ++position;
      if (!ReadDigits(text, position, 2, second))
        return invalid();
      if (position < text.size() && text[position] == '.') {
        ++position;
        size_t digits = 0;
        for (; position < text.size() && text[position] >= '0' && text[position] <= '9';
             ++position, ++digits) {
          if (digits < 3)
            millis = millis * 10 + (text[position] - '0');
        }
        if (digits == 0)
          return invalid();
        for (; digits < 3; ++digits)
          millis *= 10;
      }
    }
    if (hour > 23 || minute > 59 || second > 59)
      return invalid();
    if (position < text.size() && (text[position] == 'Z' || text[position] == 'z')) {
      ++position;
    } else if (position < text.size() && (text[position] == '+' || text[position] == '-')) {
      int sign = text[position] == '-' ? -1 : 1;
      ++position;
      int offset_hours = 0, offset_rest = 0;
      if (!ReadDigits(text, position, 2, offset_hours))
        return invalid();
      Expect(text, position, ':');  // +09:00 and +0900 alike
      if (!ReadDigits(text, position, 2, offset_rest) || offset_hours > 23 || offset_rest > 59) {
        return invalid();
      }
      offset_minutes = sign * (offset_hours * 60 + offset_rest);
    }
  }
  if (position != text.size())
    return invalid();
  int64_t seconds = DaysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second -
                    offset_minutes * 60;
  // The clock counts nanoseconds in 64 bits: about 1678 to 2261.
  using Seconds = std::chrono::seconds;
  constexpr auto kMin =
      std::chrono::time_point_cast<Seconds>(std::chrono::system_clock::time_point::min());
  constexpr auto kMax =
      std::chrono::time_point_cast<Seconds>(std::chrono::system_clock::time_point::max());
  if (seconds <= kMin.time_since_epoch().count() || seconds >= kMax.time_since_epoch().count()) {
    return Status::InvalidArgument("time out of range (years 1678-2261): '" +
                                   std::string(text.substr(0, 64)) + "'");
  }
  return std::chrono::system_clock::time_point(std::chrono::seconds(seconds) +
                                               std::chrono::milliseconds(millis));
}

}  // namespace basin
