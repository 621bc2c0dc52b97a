#include "receiver/core/record_time.h"

#include <chrono>

namespace fleet::receiver {
namespace {

// The decimal number of text[at, at + width), all digits; nullopt otherwise.
std::optional<int> Digits(std::string_view text, std::size_t at, std::size_t width) {
  int value = 0;
  for (std::size_t i = at; i < at + width; ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

}  // namespace

std::optional<std::int64_t> ParseRecordTime(std::string_view text) {
  constexpr std::string_view kShape = "YYYY-MM-DDTHH:MM:SSZ";
  if (text.size() != kShape.size()) return std::nullopt;
  for (std::size_t i : {4, 7, 10, 13, 16, 19}) {
    if (text[i] != kShape[i]) return std::nullopt;
  }
  const auto year = Digits(text, 0, 4), month = Digits(text, 5, 2), day = Digits(text, 8, 2);
  const auto hour = Digits(text, 11, 2), minute = Digits(text, 14, 2), second = Digits(text, 17, 2);
  if (!year || !month || !day || !hour || !minute || !second) return std::nullopt;
  using namespace std::chrono;
  const year_month_day date{std::chrono::year{*year}, std::chrono::month{unsigned(*month)},
                            std::chrono::day{unsigned(*day)}};
  if (!date.ok() || *hour > 23 || *minute > 59 || *second > 59) return std::nullopt;
  const auto at = sys_days{date} + hours{*hour} + minutes{*minute} + seconds{*second};
  return duration_cast<seconds>(at.time_since_epoch()).count();
}

}  // namespace fleet::receiver
