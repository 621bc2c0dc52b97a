// CronExpression: just enough of a 5-field cron expression (minute hour day-of-month month
// day-of-week; `*`, `?`, lists, ranges, steps, month and day names, @hourly/@daily/@weekly/
// @monthly/@yearly) to estimate how often a Hermes job fires, which sets its missed-run
// grace. Day-of-month and day-of-week combine as in Vixie cron and croniter: when both are
// restricted a day matching either fires. Anything else (seconds fields, L, W, #) is
// refused, and the caller falls back to the largest grace. Times are wall-clock minutes in
// the zone the job is scheduled in, carried in a sys_seconds. Pure.
#pragma once

#include <bitset>
#include <chrono>
#include <optional>
#include <string_view>

#include "base/result.h"

namespace fleet {

struct CronExpression {
  std::bitset<60> minutes;
  std::bitset<24> hours;
  std::bitset<32> days_of_month;  // 1..31
  std::bitset<13> months;         // 1..12
  std::bitset<7> days_of_week;    // 0 = Sunday (7 is folded into 0)
  bool any_day_of_month = true;   // field began with '*' or '?'
  bool any_day_of_week = true;
};

Result<CronExpression> ParseCronExpression(std::string_view text);

// The first firing at or after `from` (rounded up to a whole minute); nullopt when none
// within about five years (e.g. "0 0 30 2 *").
std::optional<std::chrono::sys_seconds> NextFiring(const CronExpression& expr,
                                                   std::chrono::sys_seconds from);

// The gap between the firing at or after `around` and the one after it.
std::optional<std::chrono::seconds> FiringGap(const CronExpression& expr,
                                              std::chrono::sys_seconds around);

}  // namespace fleet
