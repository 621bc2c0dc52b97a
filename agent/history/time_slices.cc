#include "agent/history/time_slices.h"

#include <charconv>
#include <cstdio>

namespace fleet {
namespace {

std::int64_t FloorDiv(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// 0 = Monday .. 6 = Sunday.
int Weekday(std::int64_t days) {  // 1970-01-01 was a Thursday
  return static_cast<int>((days + 3) - FloorDiv(days + 3, 7) * 7);
}

// Monday of ISO week 1 of `year`.
std::int64_t IsoYearStart(int year) {
  std::int64_t jan4 = DaysFromCivil(year, 1, 4);
  return jan4 - Weekday(jan4);
}

std::string WeekLabel(int year, int week) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-W%02d", year, week);
  return buf;
}

bool ParseInt(std::string_view text, int& value) {
  if (text.empty()) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && ptr == text.data() + text.size();
}

}  // namespace

std::int64_t DaysFromCivil(int year, unsigned month, unsigned day) {
  // Howard Hinnant's days_from_civil.
  year -= month <= 2;
  const std::int64_t era = FloorDiv(year, 400);
  const unsigned yoe = static_cast<unsigned>(year - era * 400);
  const unsigned doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void CivilFromDays(std::int64_t days, int& year, unsigned& month, unsigned& day) {
  days += 719468;
  const std::int64_t era = FloorDiv(days, 146097);
  const unsigned doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  day = doy - (153 * mp + 2) / 5 + 1;
  month = mp < 10 ? mp + 3 : mp - 9;
  year = static_cast<int>(yoe + era * 400 + (month <= 2));
}

UnixMinute MinuteOf(UnixSeconds t) { return FloorDiv(t, 60); }

UnixSeconds ToUnixSeconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

Period IsoWeekOf(UnixSeconds t) {
  const std::int64_t days = FloorDiv(t, 86400);
  const std::int64_t monday = days - Weekday(days);
  int year = 0;
  unsigned month = 0;
  unsigned day = 0;
  CivilFromDays(monday + 3, year, month, day);  // the week's Thursday decides the ISO year
  const int week = static_cast<int>((monday - IsoYearStart(year)) / 7) + 1;
  return {monday * 86400, (monday + 7) * 86400, WeekLabel(year, week)};
}

std::optional<Period> ParseIsoWeek(std::string_view text) {
  if (text.size() != 8 || text[4] != '-' || text[5] != 'W') return std::nullopt;
  int year = 0;
  int week = 0;
  if (!ParseInt(text.substr(0, 4), year) || !ParseInt(text.substr(6, 2), week)) {
    return std::nullopt;
  }
  if (week < 1) return std::nullopt;
  const std::int64_t start = IsoYearStart(year) + (week - 1) * 7;
  Period period = IsoWeekOf(start * 86400);
  if (period.label != text) return std::nullopt;  // week 53 of a 52-week year
  return period;
}

Period MonthOf(UnixSeconds t) {
  int year = 0;
  unsigned month = 0;
  unsigned day = 0;
  CivilFromDays(FloorDiv(t, 86400), year, month, day);
  const std::int64_t first = DaysFromCivil(year, month, 1);
  const std::int64_t next =
      month == 12 ? DaysFromCivil(year + 1, 1, 1) : DaysFromCivil(year, month + 1, 1);
  char label[32];
  std::snprintf(label, sizeof label, "%04d-%02u", year, month);
  return {first * 86400, next * 86400, label};
}

std::optional<Period> ParseMonth(std::string_view text) {
  if (text.size() != 7 || text[4] != '-') return std::nullopt;
  int year = 0;
  int month = 0;
  if (!ParseInt(text.substr(0, 4), year) || !ParseInt(text.substr(5, 2), month)) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || year < 1970) return std::nullopt;
  return MonthOf(DaysFromCivil(year, static_cast<unsigned>(month), 1) * 86400);
}

std::string FormatUtc(UnixSeconds t) {
  int year = 0;
  unsigned month = 0;
  unsigned day = 0;
  const std::int64_t days = FloorDiv(t, 86400);
  CivilFromDays(days, year, month, day);
  const std::int64_t secs = t - days * 86400;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", year, month, day,
                static_cast<int>(secs / 3600), static_cast<int>(secs % 3600 / 60),
                static_cast<int>(secs % 60));
  return buf;
}

}  // namespace fleet
