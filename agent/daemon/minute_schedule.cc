#include "agent/daemon/minute_schedule.h"

#include <algorithm>

namespace fleet {

using std::chrono::milliseconds;
using std::chrono::minutes;

MinuteSchedule::MinuteSchedule(WallTime ready_at)
    : next_(std::chrono::floor<minutes>(ready_at).time_since_epoch().count()),
      last_wake_(ready_at) {}

MinuteSchedule::Wake MinuteSchedule::OnWake(WallTime wall) {
  Wake wake;
  const auto current = std::chrono::floor<minutes>(wall);
  const UnixMinute ended = current.time_since_epoch().count() - 1;
  const WallTime ended_start{minutes(ended)};
  // Awake in the minute that ended: the previous wake fell in it (or later, the clock
  // having jumped back since); never a minute evaluated already.
  if (ended >= next_ && last_wake_ >= ended_start) wake.evaluate = ended;
  if (ended >= next_) next_ = ended + 1;  // a minute slept or jumped through is passed
  last_wake_ = wall;
  const auto until_next =
      std::chrono::ceil<milliseconds>(current + minutes(1) + kAfterBoundary - wall);
  wake.wait = std::clamp(until_next, milliseconds(1), kMaxWait);
  return wake;
}

}  // namespace fleet
