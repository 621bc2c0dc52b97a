// UTC time, in one place: Unix seconds and minutes, the report periods (ISO weeks,
// calendar months), and the two text forms the product speaks: RFC 3339 UTC as records
// carry it ("2026-06-13T12:00:00Z", read strictly) and full RFC 3339 with a fraction or an
// offset (times written by others). Civil dates are <chrono>'s (year_month_day, sys_days);
// no time zones, no DST: every day has 1440 minutes. Pure functions on Unix seconds, so
// the rules can be tested with any clock.
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

// Days since 1970-01-01 of a civil date (proleptic Gregorian).
std::int64_t DaysFromCivil(int year, unsigned month, unsigned day);

// RFC 3339 UTC "2026-06-13T12:00:00Z", seconds precision (a time point is truncated
// towards the past).
std::string FormatUtc(UnixSeconds t);
std::string FormatUtc(std::chrono::system_clock::time_point t);

// Unix seconds of exactly "YYYY-MM-DDTHH:MM:SSZ" (four-digit year, no fraction, no offset
// but Z); nullopt for anything else (other forms, a date that does not exist, hour 24,
// second 60).
std::optional<UnixSeconds> ParseUtcSeconds(std::string_view text);

// Unix seconds (fraction dropped) of an RFC 3339 date-time: "T" (or "t"), seconds,
// optional fraction of 1 to 9 digits, then "Z" or "+hh:mm" / "-hh:mm"; nullopt otherwise.
std::optional<UnixSeconds> ParseRfc3339(std::string_view text);

}  // namespace fleet
