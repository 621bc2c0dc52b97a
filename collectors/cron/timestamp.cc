#include "collectors/cron/timestamp.h"

#include <cstdio>

#include "base/json_text.h"

namespace fleet {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

// Reads exactly `count` digits at pos; false if any is not a digit.
bool Digits(std::string_view s, std::size_t& pos, int count, int& value) {
  if (pos + static_cast<std::size_t>(count) > s.size()) return false;
  value = 0;
  for (int i = 0; i < count; ++i) {
    const char c = s[pos + static_cast<std::size_t>(i)];
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  pos += static_cast<std::size_t>(count);
  return true;
}

bool Expect(std::string_view s, std::size_t& pos, char c) {
  if (pos < s.size() && s[pos] == c) {
    ++pos;
    return true;
  }
  return false;
}

Error Bad(std::string_view text, const char* why) {
  return Error{"'" + PrintableAscii(text, 60) + "' is not an ISO-8601 time (" + why + ")"};
}

}  // namespace

Result<Timestamp> ParseTimestamp(std::string_view text) {
  std::string_view s = text;
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  if (s.empty()) return Bad(text, "empty");

  std::size_t pos = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!Digits(s, pos, 4, year) || !Expect(s, pos, '-') || !Digits(s, pos, 2, month) ||
      !Expect(s, pos, '-') || !Digits(s, pos, 2, day)) {
    return Bad(text, "expected YYYY-MM-DD");
  }
  if (pos >= s.size() || (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ')) {
    return Bad(text, "expected a time after the date");
  }
  ++pos;
  if (!Digits(s, pos, 2, hour) || !Expect(s, pos, ':') || !Digits(s, pos, 2, minute)) {
    return Bad(text, "expected HH:MM");
  }
  if (Expect(s, pos, ':') && !Digits(s, pos, 2, second)) return Bad(text, "expected seconds");
  std::chrono::nanoseconds fraction{0};
  if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
    ++pos;
    long long nanos = 0;
    int count = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (count < 9) nanos = nanos * 10 + (s[pos] - '0');
      ++count;
      ++pos;
    }
    if (count == 0) return Bad(text, "empty fraction");
    for (int i = count; i < 9; ++i) nanos *= 10;
    fraction = std::chrono::nanoseconds(nanos);
  }

  bool naive = true;
  minutes offset{0};
  if (pos < s.size()) {
    const char sign = s[pos];
    if (sign == 'Z' || sign == 'z') {
      naive = false;
      ++pos;
    } else if (sign == '+' || sign == '-') {
      ++pos;
      int off_h = 0, off_m = 0;
      if (!Digits(s, pos, 2, off_h)) return Bad(text, "bad offset");
      if (Expect(s, pos, ':')) {
        if (!Digits(s, pos, 2, off_m)) return Bad(text, "bad offset");
      } else if (pos < s.size() && !Digits(s, pos, 2, off_m)) {
        return Bad(text, "bad offset");
      }
      if (off_h > 23 || off_m > 59) return Bad(text, "offset out of range");
      offset = hours(off_h) + minutes(off_m);
      if (sign == '-') offset = -offset;
      naive = false;
    }
  }
  if (pos != s.size()) return Bad(text, "unexpected text after the time");

  if (year < 1970 || year > 2200) return Bad(text, "year out of range");
  const std::chrono::year_month_day ymd{std::chrono::year{year},
                                        std::chrono::month{static_cast<unsigned>(month)},
                                        std::chrono::day{static_cast<unsigned>(day)}};
  if (!ymd.ok()) return Bad(text, "no such date");
  if (hour > 23 || minute > 59 || second > 59) return Bad(text, "no such time of day");

  Timestamp result;
  result.wall = std::chrono::sys_days{ymd} + hours(hour) + minutes(minute) + seconds(second);
  result.naive = naive;
  result.at = std::chrono::time_point_cast<std::chrono::system_clock::duration>(result.wall -
                                                                                offset + fraction);
  return result;
}

}  // namespace fleet
