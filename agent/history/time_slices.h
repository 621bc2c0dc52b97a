// TimeSlices: UTC minute slicing and the report periods (ISO weeks, calendar months),
// as pure functions on Unix seconds so the rules can be tested with any clock. No time
// zones, no DST: every day has 1440 minutes; leap days fall out of civil-date arithmetic.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fleet {

using UnixSeconds = std::int64_t;
using UnixMinute = std::int64_t;  // minutes since 1970-01-01T00:00Z

UnixMinute MinuteOf(UnixSeconds t);
UnixSeconds ToUnixSeconds(std::chrono::system_clock::time_point t);

// Half-open [begin, end) in Unix seconds, with a label ("2026-W48", "2026-11").
struct Period {
  UnixSeconds begin = 0;
  UnixSeconds end = 0;
  std::string label;
  std::int64_t Minutes() const { return (end - begin) / 60; }
};

// ISO 8601 week containing t (weeks start Monday 00:00 UTC; week 1 holds the first
// Thursday of the year).
Period IsoWeekOf(UnixSeconds t);
// "2026-W48" (also "2026-W05"); nullopt when malformed or the year has no such week.
std::optional<Period> ParseIsoWeek(std::string_view text);
Period MonthOf(UnixSeconds t);
// "2026-11"; nullopt when malformed.
std::optional<Period> ParseMonth(std::string_view text);

// Days since 1970-01-01 for a civil date, and back (proleptic Gregorian).
std::int64_t DaysFromCivil(int year, unsigned month, unsigned day);
void CivilFromDays(std::int64_t days, int& year, unsigned& month, unsigned& day);

// RFC 3339 UTC "2026-06-13T12:00:00Z" for Unix seconds.
std::string FormatUtc(UnixSeconds t);

}  // namespace fleet
