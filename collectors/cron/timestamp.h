// ParseTimestamp: the ISO-8601 times Hermes writes (Python's datetime.isoformat()):
// `2026-06-13T03:00:00.123456+02:00`, also `Z`, `+0200`, `+02`, a space for the `T`,
// minutes without seconds, 1 to 9 fraction digits. A time with no offset is "naive": it is
// read as UTC and flagged so callers can say so. Years outside 1970..2200 are refused
// (system_clock's nanoseconds cover roughly 1677..2262). Pure; never throws.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "base/result.h"
#include "base/utc_time.h"

namespace fleet {

struct Timestamp {
  std::chrono::system_clock::time_point at;  // the instant (naive: taken as UTC)
  // The clock reading as written, offset not applied (wall time in the writer's zone);
  // used to evaluate cron expressions in the zone Hermes scheduled them in.
  std::chrono::sys_seconds wall;
  bool naive = false;
};

Result<Timestamp> ParseTimestamp(std::string_view text);

}  // namespace fleet
