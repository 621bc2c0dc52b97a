#include "collectors/cron/cron_expression.h"

#include <array>
#include <cctype>
#include <string>
#include <vector>

namespace fleet {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::sys_days;
using std::chrono::sys_seconds;

constexpr std::array<std::string_view, 12> kMonthNames = {"jan", "feb", "mar", "apr", "may", "jun",
                                                          "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::array<std::string_view, 7> kDayNames = {"sun", "mon", "tue", "wed",
                                                       "thu", "fri", "sat"};

struct FieldSpec {
  int low;
  int high;
  const std::string_view* names;  // nullptr, or names for low.. in order
  std::size_t name_count;
};

std::vector<std::string_view> Split(std::string_view text, char sep) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (;;) {
    std::size_t at = text.find(sep, start);
    parts.push_back(text.substr(start, at == std::string_view::npos ? at : at - start));
    if (at == std::string_view::npos) break;
    start = at + 1;
  }
  return parts;
}

std::optional<int> Value(std::string_view text, const FieldSpec& spec) {
  if (text.empty() || text.size() > 4) return std::nullopt;
  if (std::isdigit(static_cast<unsigned char>(text[0]))) {
    int value = 0;
    for (char c : text) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
      value = value * 10 + (c - '0');
    }
    return value;
  }
  std::string lower;
  for (char c : text) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (std::size_t i = 0; i < spec.name_count; ++i) {
    if (spec.names[i] == lower) return spec.low + static_cast<int>(i);
  }
  return std::nullopt;
}

// Sets bits low..high of one field; false on anything outside the supported grammar.
bool ParseField(std::string_view text, const FieldSpec& spec, std::vector<bool>& bits) {
  if (text.empty()) return false;
  for (std::string_view item : Split(text, ',')) {
    auto slash = Split(item, '/');
    if (slash.size() > 2) return false;
    int step = 1;
    if (slash.size() == 2) {
      auto s = Value(slash[1], FieldSpec{0, 0, nullptr, 0});
      if (!s || *s < 1) return false;
      step = *s;
    }
    std::string_view range = slash[0];
    int first = spec.low;
    int last = spec.high;
    if (range != "*" && range != "?") {
      auto dash = Split(range, '-');
      if (dash.size() > 2) return false;
      auto a = Value(dash[0], spec);
      if (!a) return false;
      first = *a;
      last = dash.size() == 2 ? -1 : (slash.size() == 2 ? spec.high : *a);
      if (dash.size() == 2) {
        auto b = Value(dash[1], spec);
        if (!b) return false;
        last = *b;
      }
    }
    if (first < spec.low || last > spec.high || first > last) return false;
    for (int v = first; v <= last; v += step) bits[static_cast<std::size_t>(v)] = true;
  }
  return true;
}

std::string_view Macro(std::string_view text) {
  if (text == "@yearly" || text == "@annually") return "0 0 1 1 *";
  if (text == "@monthly") return "0 0 1 * *";
  if (text == "@weekly") return "0 0 * * 0";
  if (text == "@daily" || text == "@midnight") return "0 0 * * *";
  if (text == "@hourly") return "0 * * * *";
  return text;
}

bool DayMatches(const CronExpression& expr, const std::chrono::year_month_day& ymd, sys_days day) {
  const bool dom = expr.days_of_month[static_cast<unsigned>(ymd.day())];
  const bool dow = expr.days_of_week[std::chrono::weekday{day}.c_encoding()];
  if (expr.any_day_of_month) return dow;
  if (expr.any_day_of_week) return dom;
  return dom || dow;
}

}  // namespace

Result<CronExpression> ParseCronExpression(std::string_view text) {
  std::string_view trimmed = text;
  while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.front()))) {
    trimmed.remove_prefix(1);
  }
  while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.back()))) {
    trimmed.remove_suffix(1);
  }
  trimmed = Macro(trimmed);
  std::vector<std::string_view> fields;
  std::size_t i = 0;
  while (i < trimmed.size()) {
    while (i < trimmed.size() && std::isspace(static_cast<unsigned char>(trimmed[i]))) ++i;
    std::size_t start = i;
    while (i < trimmed.size() && !std::isspace(static_cast<unsigned char>(trimmed[i]))) ++i;
    if (i > start) fields.push_back(trimmed.substr(start, i - start));
  }
  if (fields.size() != 5) {
    return Error{"a cron expression needs 5 fields, this has " + std::to_string(fields.size())};
  }
  const FieldSpec specs[5] = {{0, 59, nullptr, 0},
                              {0, 23, nullptr, 0},
                              {1, 31, nullptr, 0},
                              {1, 12, kMonthNames.data(), kMonthNames.size()},
                              {0, 7, kDayNames.data(), kDayNames.size()}};
  static constexpr const char* kFieldNames[5] = {"minute", "hour", "day of month", "month",
                                                 "day of week"};
  std::vector<bool> bits[5];
  for (int f = 0; f < 5; ++f) {
    bits[f].assign(static_cast<std::size_t>(specs[f].high) + 1, false);
    if (!ParseField(fields[static_cast<std::size_t>(f)], specs[f], bits[f])) {
      return Error{std::string("unsupported ") + kFieldNames[f] + " field '" +
                   std::string(fields[static_cast<std::size_t>(f)].substr(0, 40)) + "'"};
    }
  }
  CronExpression expr;
  for (std::size_t v = 0; v < 60; ++v) expr.minutes[v] = bits[0][v];
  for (std::size_t v = 0; v < 24; ++v) expr.hours[v] = bits[1][v];
  for (std::size_t v = 1; v <= 31; ++v) expr.days_of_month[v] = bits[2][v];
  for (std::size_t v = 1; v <= 12; ++v) expr.months[v] = bits[3][v];
  for (std::size_t v = 0; v <= 7; ++v) {
    if (bits[4][v]) expr.days_of_week[v % 7] = true;
  }
  expr.any_day_of_month = fields[2].front() == '*' || fields[2].front() == '?';
  expr.any_day_of_week = fields[4].front() == '*' || fields[4].front() == '?';
  return expr;
}

std::optional<sys_seconds> NextFiring(const CronExpression& expr, sys_seconds from) {
  auto t = std::chrono::ceil<minutes>(from);
  // Each step skips a whole month, day, hour or minute, so a few thousand steps cover years.
  for (int step = 0; step < 100000; ++step) {
    const sys_days day = std::chrono::floor<days>(t);
    const std::chrono::year_month_day ymd{day};
    if (static_cast<int>(ymd.year()) > 2200) return std::nullopt;
    if (!expr.months[static_cast<unsigned>(ymd.month())]) {
      t = sys_days{(ymd.year() / ymd.month() / 1) + std::chrono::months{1}};
      continue;
    }
    if (!DayMatches(expr, ymd, day)) {
      t = day + days{1};
      continue;
    }
    const std::chrono::hh_mm_ss hms{t - day};
    if (!expr.hours[static_cast<std::size_t>(hms.hours().count())]) {
      t = std::chrono::floor<hours>(t) + hours{1};
      continue;
    }
    if (!expr.minutes[static_cast<std::size_t>(hms.minutes().count())]) {
      t += minutes{1};
      continue;
    }
    if (t - std::chrono::ceil<minutes>(from) > days{5 * 366}) return std::nullopt;
    return sys_seconds{t};
  }
  return std::nullopt;
}

std::optional<std::chrono::seconds> FiringGap(const CronExpression& expr, sys_seconds around) {
  auto first = NextFiring(expr, around);
  if (!first) return std::nullopt;
  auto second = NextFiring(expr, *first + minutes{1});
  if (!second) return std::nullopt;
  return *second - *first;
}

}  // namespace fleet
