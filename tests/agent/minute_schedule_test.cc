// The daemon's minute logic on a fake wall clock: which minute's heartbeat is written when,
// across minute boundaries, a wall clock that jumps forward and back, a suspend (the
// monotonic timer stands still while the wall clock runs on), a late wake, and a reload
// between two minutes (the accountant's rule changes, the schedule does not).
#include <doctest/doctest.h>

#include <vector>

#include "agent/daemon/minute_schedule.h"
#include "agent/history/accountant.h"
#include "agent/history/history_store.h"
#include "tests/support/temp_dir.h"

using namespace fleet;
using namespace std::chrono_literals;
using WallTime = MinuteSchedule::WallTime;

namespace {

const WallTime kDay{std::chrono::sys_days{std::chrono::year{2026} / 12 / 3}};
WallTime At(int h, int m, int s, int ms = 0) {
  return kDay + std::chrono::hours(h) + std::chrono::minutes(m) + std::chrono::seconds(s) +
         std::chrono::milliseconds(ms);
}
UnixMinute MinuteAt(int h, int m) {
  return std::chrono::floor<std::chrono::minutes>(At(h, m, 0)).time_since_epoch().count();
}

// The daemon's loop: wake, maybe evaluate, wait as told. `wall` is the fake clock.
struct Loop {
  MinuteSchedule schedule;
  WallTime wall;
  std::chrono::milliseconds wait{0};
  std::vector<std::pair<UnixMinute, WallTime>> evaluated;  // minute, when

  explicit Loop(WallTime ready) : schedule(ready), wall(ready) { Wake(); }
  void Wake() {
    auto wake = schedule.OnWake(wall);
    CHECK(wake.wait >= 1ms);
    CHECK(wake.wait <= MinuteSchedule::kMaxWait);
    if (wake.evaluate) evaluated.emplace_back(*wake.evaluate, wall);
    wait = wake.wait;
  }
  // Runs the loop until the wall clock reaches `until`.
  void RunUntil(WallTime until) {
    while (wall + wait <= until) {
      wall += wait;
      Wake();
    }
  }
  // "12:00 12:01 ...", for a failure's message.
  std::string Shown() const {
    std::string out;
    for (const auto& [minute, at] : evaluated) {
      out += FormatUtc(minute * 60).substr(11, 5) + "@" + FormatUtc(at).substr(11, 8) + " ";
    }
    return out;
  }
  std::vector<UnixMinute> Minutes() const {
    std::vector<UnixMinute> out;
    for (const auto& [minute, at] : evaluated) out.push_back(minute);
    return out;
  }
};

}  // namespace

TEST_CASE("each minute is evaluated once, just after it ends, from the minute of ready on") {
  Loop loop(At(12, 0, 30));
  CHECK(loop.evaluated.empty());  // the minute of ready has not ended
  loop.RunUntil(At(12, 5, 1));
  INFO(loop.Shown());
  REQUIRE(loop.Minutes() == std::vector<UnixMinute>{MinuteAt(12, 0), MinuteAt(12, 1),
                                                    MinuteAt(12, 2), MinuteAt(12, 3),
                                                    MinuteAt(12, 4)});
  for (const auto& [minute, at] : loop.evaluated) {
    const WallTime end{std::chrono::minutes(minute + 1)};
    CHECK(at >= end);  // never before the minute is over (the receiver would not count it)
    CHECK(at <= end + MinuteSchedule::kAfterBoundary);
  }
  // The wait ends at the next boundary when that is near.
  MinuteSchedule schedule(At(12, 0, 55));
  CHECK(schedule.OnWake(At(12, 0, 55)).wait == 5500ms);
}

TEST_CASE("a wall clock that jumps forward leaves the minutes it skipped unmeasured") {
  Loop loop(At(12, 0, 5));
  loop.RunUntil(At(12, 2, 15));
  loop.wall += 1h;  // NTP steps the clock an hour ahead between two wakes
  loop.RunUntil(At(13, 5, 1));
  INFO(loop.Shown());
  CHECK(loop.Minutes() == std::vector<UnixMinute>{MinuteAt(12, 0), MinuteAt(12, 1), MinuteAt(13, 2),
                                                  MinuteAt(13, 3), MinuteAt(13, 4)});
}

TEST_CASE("a wall clock that jumps back evaluates no minute twice, then goes on") {
  Loop loop(At(12, 58, 5));
  loop.RunUntil(At(13, 0, 40));
  loop.wall -= 1h;
  loop.RunUntil(At(13, 3, 1));  // the hour again, then on
  INFO(loop.Shown());
  CHECK(loop.Minutes() == std::vector<UnixMinute>{MinuteAt(12, 58), MinuteAt(12, 59),
                                                  MinuteAt(13, 0), MinuteAt(13, 1),
                                                  MinuteAt(13, 2)});
  // 13:00 was evaluated after the clock came back to its end, not during the repeated hour.
  CHECK(loop.evaluated[2].second >= At(13, 1, 0));
}

TEST_CASE("after a suspend the minutes slept through stay unmeasured") {
  Loop loop(At(12, 0, 10));
  loop.RunUntil(At(12, 3, 30));
  // Suspended for two hours: the monotonic wait in progress resumes where it stood.
  loop.wall += 2h + loop.wait;
  loop.Wake();
  loop.RunUntil(At(14, 6, 0));
  INFO(loop.Shown());
  CHECK(loop.Minutes() == std::vector<UnixMinute>{MinuteAt(12, 0), MinuteAt(12, 1), MinuteAt(12, 2),
                                                  MinuteAt(14, 3), MinuteAt(14, 4),
                                                  MinuteAt(14, 5)});
  // 12:03 was cut by the suspend, 14:03 is the minute of resume: awake in it, it counts.
}

TEST_CASE("a late wake still evaluates the minute it was awake in, and only that") {
  Loop loop(At(12, 0, 10));
  loop.RunUntil(At(12, 1, 45));
  loop.wall = At(12, 2, 40);  // a wake 55 s late (a loaded machine)
  loop.Wake();
  loop.RunUntil(At(12, 4, 0));
  INFO(loop.Shown());
  CHECK(loop.Minutes() == std::vector<UnixMinute>{MinuteAt(12, 0), MinuteAt(12, 1), MinuteAt(12, 2),
                                                  MinuteAt(12, 3)});
  CHECK(loop.evaluated[1].second == At(12, 2, 40));
}

TEST_CASE("a reload between two minutes: the next heartbeat uses the new rule, none missed") {
  testing::TempDir dir;
  auto store = HistoryStore::Open(dir.path(), false, "node-1", "test").value();
  WallTime now = At(12, 0, 20);
  Accountant accountant(*store, {"gateway", "tmux"}, [&] {
    const UnixSeconds wall = ToUnixSeconds(now);
    return RecordStamp{wall, "boot-a", wall * 1000};
  });
  REQUIRE(accountant.Start().ok());
  REQUIRE(accountant.Observe(MakeResult("gateway", Status::kOk, "running")).ok());
  REQUIRE(accountant.Observe(MakeResult("tmux", Status::kCritical, "session gone")).ok());
  MinuteSchedule schedule(now);
  auto tick = [&](WallTime wall) {
    now = wall;
    auto wake = schedule.OnWake(wall);
    if (wake.evaluate) REQUIRE(accountant.Heartbeat(*wake.evaluate, true).ok());
    return wake.evaluate;
  };
  CHECK_FALSE(tick(now).has_value());
  CHECK(tick(At(12, 1, 0, 500)) == MinuteAt(12, 0));
  // The reload at 12:01:30 drops tmux from the configuration (what Daemon::Configure does).
  CHECK_FALSE(tick(At(12, 1, 10, 500)).has_value());
  now = At(12, 1, 30);
  accountant.set_uptime_require({"gateway"});
  accountant.Forget("tmux");
  CHECK_FALSE(tick(At(12, 1, 40, 500)).has_value());
  CHECK(tick(At(12, 2, 0, 500)) == MinuteAt(12, 1));
  auto counts = store->CountMinutes(MinuteAt(12, 0) * 60, MinuteAt(12, 2) * 60).value();
  CHECK(counts.down == 1);  // 12:00, under the old rule: tmux critical
  CHECK(counts.up == 1);    // 12:01, under the new one
}
