#include "base/utc_time.h"

#include <cstdio>

namespace fleet {
namespace {

using std::chrono::days;
using std::chrono::sys_days;
using std::chrono::weekday;
using std::chrono::year_month_day;

sys_days DayOf(UnixSeconds t) {
  return std::chrono::floor<days>(std::chrono::sys_seconds{std::chrono::seconds{t}});
}

UnixSeconds SecondsOf(sys_days day) {
  return std::chrono::sys_seconds{day}.time_since_epoch().count();
}

// Monday of ISO week 1 of `year`: the week holding January 4th.
sys_days IsoYearStart(int year) {
  const sys_days jan4{std::chrono::year{year} / 1 / 4};
  return jan4 - (weekday{jan4} - std::chrono::Monday);
}

// The decimal number of text[at, at + width), all digits; nullopt otherwise.
std::optional<int> Digits(std::string_view text, std::size_t at, std::size_t width) {
  if (at + width > text.size()) return std::nullopt;
  int value = 0;
  for (std::size_t i = at; i < at + width; ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

// "YYYY-MM-DD?HH:MM:SS" at the start of text, `separators` the accepted date-time
// separators; the Unix seconds it names, nullopt when malformed or not a real time.
std::optional<UnixSeconds> ReadDateTime(std::string_view text, std::string_view separators) {
  if (text.size() < 19 || text[4] != '-' || text[7] != '-' || text[13] != ':' || text[16] != ':' ||
      separators.find(text[10]) == std::string_view::npos) {
    return std::nullopt;
  }
  const auto year = Digits(text, 0, 4), month = Digits(text, 5, 2), day = Digits(text, 8, 2);
  const auto hour = Digits(text, 11, 2), minute = Digits(text, 14, 2), second = Digits(text, 17, 2);
  if (!year || !month || !day || !hour || !minute || !second) return std::nullopt;
  const year_month_day date{std::chrono::year{*year}, std::chrono::month{unsigned(*month)},
                            std::chrono::day{unsigned(*day)}};
  if (!date.ok() || *hour > 23 || *minute > 59 || *second > 59) return std::nullopt;
  return SecondsOf(sys_days{date}) + *hour * 3600 + *minute * 60 + *second;
}

}  // namespace

std::int64_t DaysFromCivil(int year, unsigned month, unsigned day) {
  const sys_days date{std::chrono::year{year} / std::chrono::month{month} / std::chrono::day{day}};
  return date.time_since_epoch().count();
}

UnixMinute MinuteOf(UnixSeconds t) {
  return std::chrono::floor<std::chrono::minutes>(std::chrono::seconds{t}).count();
}

UnixSeconds ToUnixSeconds(std::chrono::system_clock::time_point t) {
  return std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
}

Period IsoWeekOf(UnixSeconds t) {
  const sys_days day = DayOf(t);
  const sys_days monday = day - (weekday{day} - std::chrono::Monday);
  // The week's Thursday decides the ISO year.
  const int year = static_cast<int>(year_month_day{monday + days{3}}.year());
  const auto week = (monday - IsoYearStart(year)).count() / 7 + 1;
  char label[32];
  std::snprintf(label, sizeof label, "%04d-W%02d", year, static_cast<int>(week));
  return {SecondsOf(monday), SecondsOf(monday + days{7}), label};
}

std::optional<Period> ParseIsoWeek(std::string_view text) {
  if (text.size() != 8 || text[4] != '-' || text[5] != 'W') return std::nullopt;
  const auto year = Digits(text, 0, 4), week = Digits(text, 6, 2);
  if (!year || !week || *week < 1) return std::nullopt;
  Period period = IsoWeekOf(SecondsOf(IsoYearStart(*year) + days{7 * (*week - 1)}));
  if (period.label != text) return std::nullopt;  // week 53 of a 52-week year
  return period;
}

Period MonthOf(UnixSeconds t) {
  const year_month_day date{DayOf(t)};
  const auto first = date.year() / date.month() / 1;
  const auto next = first + std::chrono::months{1};
  char label[32];
  std::snprintf(label, sizeof label, "%04d-%02u", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()));
  return {SecondsOf(sys_days{first}), SecondsOf(sys_days{next}), label};
}

std::optional<Period> ParseMonth(std::string_view text) {
  if (text.size() != 7 || text[4] != '-') return std::nullopt;
  const auto year = Digits(text, 0, 4), month = Digits(text, 5, 2);
  if (!year || !month || *month < 1 || *month > 12 || *year < 1970) return std::nullopt;
  return MonthOf(SecondsOf(sys_days{std::chrono::year{*year} / unsigned(*month) / 1}));
}

std::string FormatUtc(UnixSeconds t) {
  const sys_days day = DayOf(t);
  const year_month_day date{day};
  const std::chrono::hh_mm_ss time{std::chrono::seconds{t - SecondsOf(day)}};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                static_cast<int>(time.seconds().count()));
  return buf;
}

std::string FormatUtc(std::chrono::system_clock::time_point t) {
  return FormatUtc(ToUnixSeconds(t));
}

std::optional<UnixSeconds> ParseUtcSeconds(std::string_view text) {
  if (text.size() != 20 || text[19] != 'Z') return std::nullopt;
  return ReadDateTime(text, "T");
}

std::optional<UnixSeconds> ParseRfc3339(std::string_view text) {
  auto at = ReadDateTime(text, "Tt");
  if (!at) return std::nullopt;
  std::size_t i = 19;
  if (i < text.size() && text[i] == '.') {
    const std::size_t digits_from = ++i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    if (i == digits_from || i - digits_from > 9) return std::nullopt;
  }
  const std::string_view zone = text.substr(i);
  if (zone == "Z" || zone == "z") return at;
  if (zone.size() != 6 || (zone[0] != '+' && zone[0] != '-') || zone[3] != ':') return std::nullopt;
  const auto hours = Digits(zone, 1, 2), minutes = Digits(zone, 4, 2);
  if (!hours || !minutes || *hours > 23 || *minutes > 59) return std::nullopt;
  const UnixSeconds offset = *hours * 3600 + *minutes * 60;
  return zone[0] == '+' ? *at - offset : *at + offset;
}

}  // namespace fleet
