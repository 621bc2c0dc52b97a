// MinuteSchedule: when the daemon applies the uptime rule, and to which minute. A heartbeat
// covers a minute that has ended (the receiver counts a minute only when it arrives after
// the minute's end): just after each wall-clock minute boundary the daemon evaluates the
// minute that just ended, with the latest results. A minute is evaluated only if the
// daemon was awake in it (a wake fell inside it or later, before its end was seen) and
// only once. So the schedule follows the wall clock, not the time it meant to wake: a
// clock that jumps forward leaves the minutes it skipped unmeasured (none is invented);
// one that jumps back evaluates nothing until a minute later than the last one evaluated
// has ended; after a suspend the minutes slept through stay unmeasured. The daemon waits
// on a monotonic timer, which stands still while the machine sleeps, so no wait is longer
// than kMaxWait: the wall clock is read again at least that often. The minute the daemon
// became ready in is its first. Pure: the caller passes the wall time (Os::Now).
#pragma once

#include <chrono>
#include <optional>

#include "base/utc_time.h"

namespace fleet {

class MinuteSchedule {
 public:
  using WallTime = std::chrono::system_clock::time_point;
  static constexpr std::chrono::milliseconds kAfterBoundary{500};
  static constexpr std::chrono::milliseconds kMaxWait{10000};

  struct Wake {
    std::optional<UnixMinute> evaluate;  // the minute whose heartbeat is due now
    std::chrono::milliseconds wait{0};   // until the next wake
  };

  // Ready (every check answered once) at `ready_at`: that minute is the first evaluated.
  explicit MinuteSchedule(WallTime ready_at);

  // At every wake (and right after construction, for the first wait).
  Wake OnWake(WallTime wall);

 private:
  UnixMinute next_;     // the first minute not evaluated yet
  WallTime last_wake_;  // the wall time of the previous wake
};

}  // namespace fleet
