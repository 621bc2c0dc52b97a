// The daemon's check plan on a fake monotonic clock: first runs at once, the interval's
// cadence across late wakes, an answer in time, a run that times out (UNKNOWN once, its late
// result dropped, no second run while it is stuck), readiness, and reloads that remove,
// add or keep checks while runs are out.
#include <doctest/doctest.h>

#include "agent/daemon/check_runs.h"

using namespace fleet;
using namespace std::chrono_literals;
using Mono = CheckRuns::Mono;

namespace {

const Mono kT0 = Mono{} + 1000h;

CheckSettings Every(std::chrono::milliseconds interval, std::chrono::milliseconds timeout = 2s) {
  CheckSettings s;
  s.interval = interval;
  s.timeout = timeout;
  return s;
}

std::vector<std::string> Started(const CheckRuns::Wake& wake) {
  std::vector<std::string> names;
  for (const auto& s : wake.starts) names.push_back(s.check);
  return names;
}

}  // namespace

TEST_CASE("every configured check starts at once, under its own deadline") {
  CheckRuns runs;
  runs.Configure({{"disk", Every(30s, 2s)}, {"tmux", Every(10s, 500ms)}}, kT0);
  CHECK(runs.size() == 2);
  auto wake = runs.OnWake(kT0);
  REQUIRE(Started(wake) == std::vector<std::string>{"disk", "tmux"});
  CHECK(wake.starts[0].deadline == kT0 + 2s);
  CHECK(wake.starts[1].deadline == kT0 + 500ms);
  CHECK(wake.timeouts.empty());
  // The next wake is tmux's deadline (plus the grace), the earliest thing that can happen.
  CHECK(wake.next == kT0 + 500ms + CheckRuns::kGrace);
}

TEST_CASE("an answer in time counts once; the check runs again an interval after it started") {
  CheckRuns runs;
  runs.Configure({{"disk", Every(30s)}}, kT0);
  auto first = runs.OnWake(kT0);
  REQUIRE(first.starts.size() == 1);
  const auto run = first.starts[0].run;
  CHECK_FALSE(runs.AllAnswered());
  CHECK(runs.Finish("disk", run));
  CHECK_FALSE(runs.Finish("disk", run));  // the same run cannot answer twice
  CHECK(runs.AllAnswered());

  auto idle = runs.OnWake(kT0 + 2200ms);  // its deadline passed: nothing to say, it answered
  CHECK(idle.starts.empty());
  CHECK(idle.timeouts.empty());
  CHECK(idle.next == kT0 + 30s);
  CHECK(runs.OnWake(kT0 + 29999ms).starts.empty());
  auto second = runs.OnWake(kT0 + 30s);
  REQUIRE(second.starts.size() == 1);
  CHECK(second.starts[0].run == run + 1);
}

TEST_CASE("a wake that comes late starts a check once and keeps its cadence") {
  CheckRuns runs;
  runs.Configure({{"disk", Every(30s)}}, kT0);
  REQUIRE(runs.Finish("disk", runs.OnWake(kT0).starts.at(0).run));
  // 45 s late (a loaded machine): one run, not one per interval missed.
  auto late = runs.OnWake(kT0 + 75s);
  REQUIRE(late.starts.size() == 1);
  REQUIRE(runs.Finish("disk", late.starts[0].run));
  CHECK(runs.OnWake(kT0 + 76s).next == kT0 + 105s);  // back on the 30 s grid from the late run
  // A little late (1 s): the next one is still on the original grid.
  auto slightly = runs.OnWake(kT0 + 106s);
  REQUIRE(slightly.starts.size() == 1);
  REQUIRE(runs.Finish("disk", slightly.starts[0].run));
  CHECK(runs.OnWake(kT0 + 107s).next == kT0 + 135s);
}

TEST_CASE(
    "a run that does not answer is UNKNOWN at its deadline, once; its late result is dropped") {
  CheckRuns runs;
  runs.Configure({{"gateway", Every(5s, 2s)}}, kT0);
  const auto run = runs.OnWake(kT0).starts.at(0).run;

  CHECK(runs.OnWake(kT0 + 2s).timeouts.empty());  // the grace is not over
  auto timed_out = runs.OnWake(kT0 + 2s + CheckRuns::kGrace);
  REQUIRE(timed_out.timeouts.size() == 1);
  const CheckResult& unknown = timed_out.timeouts[0];
  CHECK(unknown.name == "gateway");
  CHECK(unknown.status == Status::kUnknown);
  CHECK(unknown.summary == "did not answer within its timeout of 2000 ms");
  CHECK(unknown.details["timed_out"] == true);
  CHECK(runs.AllAnswered());  // a timeout is an answer: the daemon can become ready
  CHECK(runs.OnWake(kT0 + 3s).timeouts.empty());

  // Still stuck at its next interval: no second worker on top of the first.
  auto stuck = runs.OnWake(kT0 + 5s);
  CHECK(stuck.starts.empty());
  CHECK(stuck.timeouts.empty());
  CHECK(stuck.next == kT0 + 10s);

  CHECK_FALSE(runs.Finish("gateway", run));  // the worker comes back: too late to count
  auto next = runs.OnWake(kT0 + 10s);        // but the check is free again
  REQUIRE(next.starts.size() == 1);
  CHECK(next.starts[0].run == run + 1);
  CHECK(runs.Finish("gateway", next.starts[0].run));
}

TEST_CASE("not ready until every check answered once") {
  CheckRuns runs;
  runs.Configure({{"disk", Every(30s)}, {"tmux", Every(30s)}}, kT0);
  auto wake = runs.OnWake(kT0);
  REQUIRE(wake.starts.size() == 2);
  REQUIRE(runs.Finish("disk", wake.starts[0].run));
  CHECK_FALSE(runs.AllAnswered());
  REQUIRE(runs.Finish("tmux", wake.starts[1].run));
  CHECK(runs.AllAnswered());
  CHECK(CheckRuns{}.AllAnswered());  // no check at all: nothing to wait for
}

TEST_CASE("a reload drops the answers of runs from before it and forgets removed checks") {
  CheckRuns runs;
  runs.Configure({{"disk", Every(30s)}, {"tmux", Every(30s)}}, kT0);
  auto before = runs.OnWake(kT0);
  REQUIRE(before.starts.size() == 2);
  REQUIRE(runs.Finish("disk", before.starts[0].run));
  const auto old_tmux = before.starts[1].run;

  // tmux is removed (or renamed to cron) while its run is out.
  runs.Configure({{"disk", Every(60s)}, {"cron", Every(30s)}}, kT0 + 1s);
  CHECK_FALSE(runs.Has("tmux"));
  CHECK(runs.Has("cron"));
  CHECK_FALSE(runs.Finish("tmux", old_tmux));  // nothing holds it: no crash, no answer
  CHECK_FALSE(runs.Finish("disk", before.starts[0].run));

  auto after = runs.OnWake(kT0 + 1s);  // both at once under the new configuration
  REQUIRE(Started(after) == std::vector<std::string>{"cron", "disk"});
  // tmux's old deadline (2.2 s) passes: no UNKNOWN for a check that is gone.
  CHECK(runs.OnWake(kT0 + 2500ms).timeouts.empty());
  CHECK(runs.Finish("cron", after.starts[0].run));
  CHECK(runs.Finish("disk", after.starts[1].run));
  CHECK(runs.OnWake(kT0 + 5s).next == kT0 + 31s);  // cron's 30 s; disk now waits 60 s
}

TEST_CASE("a reload while a run is stuck starts the check anew; the stuck worker cannot answer") {
  CheckRuns runs;
  runs.Configure({{"gateway", Every(30s, 1s)}}, kT0);
  const auto stuck = runs.OnWake(kT0).starts.at(0).run;
  REQUIRE(runs.OnWake(kT0 + 2s).timeouts.size() == 1);

  runs.Configure({{"gateway", Every(30s, 1s)}}, kT0 + 3s);
  auto fresh = runs.OnWake(kT0 + 3s);
  REQUIRE(fresh.starts.size() == 1);
  CHECK(fresh.starts[0].run > stuck);
  CHECK_FALSE(runs.Finish("gateway", stuck));  // does not free or answer the new run
  CHECK(runs.Finish("gateway", fresh.starts[0].run));
  CHECK(runs.AllAnswered());  // answered before the reload: a reload does not undo ready
}
