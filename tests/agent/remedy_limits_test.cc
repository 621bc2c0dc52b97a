// The remedies' limits (agent/remedies/remedy_limits.h) on a fake clock: a target that
// fails at once gets exactly `attempts` attempts, spaced by a back-off doubling from
// `backoff` to `backoff_cap`, then is exhausted for good (not a slow loop once the window
// slides); `reset_after` of health wipes the slate, a break in the health does not; targets
// are independent; a clock jumping back keeps the waits; the state survives a save and load.
#include <doctest/doctest.h>

#include "agent/remedies/remedy_limits.h"

using namespace fleet;
using namespace std::chrono_literals;
using Verdict = RemedyBudget::Verdict;

namespace {

constexpr std::int64_t kT0 = 1795600800;

RemedyLimits Limits(int attempts = 3) { return {attempts, 30min, 10s, 5min, 10min}; }

// Asks every second from `from` to `until` and attempts whenever allowed, as a runner fed
// a check result each second would; returns the times of the attempts.
std::vector<std::int64_t> AttemptEverySecond(RemedyBudget& budget, const std::string& target,
                                             std::int64_t from, std::int64_t until) {
  std::vector<std::int64_t> at;
  for (std::int64_t now = from; now < until; ++now) {
    budget.Bad(target, now);
    const auto decision = budget.Ask(target, now);
    if (decision.verdict != Verdict::kGo) continue;
    CHECK(decision.attempt == static_cast<int>(at.size()) + 1);
    budget.Attempted(target, now);
    at.push_back(now);
  }
  return at;
}

}  // namespace

TEST_CASE("a target that fails at once gets exactly `attempts` attempts, backing off") {
  RemedyBudget budget(Limits());
  const auto at = AttemptEverySecond(budget, "gateway", kT0, kT0 + 3 * 3600);
  // 0, then 10 s later, then 20 s after that: three, and nothing for the next three hours.
  CHECK(at == std::vector<std::int64_t>{kT0, kT0 + 10, kT0 + 30});
  CHECK(budget.Exhausted("gateway"));
  const auto decision = budget.Ask("gateway", kT0 + 3 * 3600);
  CHECK(decision.verdict == Verdict::kExhausted);
  CHECK(decision.attempt == 3);
}

TEST_CASE("the back-off doubles up to its cap") {
  RemedyBudget budget({10, 24h, 10s, 1min, 10min});
  const auto at = AttemptEverySecond(budget, "tmux:BURN", kT0, kT0 + 3600);
  REQUIRE(at.size() == 10);
  std::vector<std::int64_t> gaps;
  for (std::size_t i = 1; i < at.size(); ++i) gaps.push_back(at[i] - at[i - 1]);
  CHECK(gaps == std::vector<std::int64_t>{10, 20, 40, 60, 60, 60, 60, 60, 60});
  // While backing off the answer says until when.
  RemedyBudget waiting(Limits());
  waiting.Attempted("x", kT0);
  const auto decision = waiting.Ask("x", kT0 + 4);
  CHECK(decision.verdict == Verdict::kWait);
  CHECK(decision.at == kT0 + 10);
  CHECK(decision.attempt == 2);
}

TEST_CASE("reset_after of health wipes the slate; a break in it does not") {
  RemedyBudget budget(Limits());
  AttemptEverySecond(budget, "gateway", kT0, kT0 + 60);
  REQUIRE(budget.Exhausted("gateway"));
  // Fine for 9 minutes, then bad once: still exhausted.
  for (std::int64_t now = kT0 + 60; now < kT0 + 60 + 540; now += 30) budget.Fine("gateway", now);
  budget.Bad("gateway", kT0 + 600);
  CHECK(budget.Ask("gateway", kT0 + 601).verdict == Verdict::kExhausted);
  // Fine for 10 minutes without a break: a clean slate, the first attempt at once.
  for (std::int64_t now = kT0 + 630; now <= kT0 + 630 + 600; now += 30) budget.Fine("gateway", now);
  CHECK_FALSE(budget.Exhausted("gateway"));
  const auto decision = budget.Ask("gateway", kT0 + 1300);
  CHECK(decision.verdict == Verdict::kGo);
  CHECK(decision.attempt == 1);
  // A target never acted on has nothing to wipe.
  budget.Fine("disk:/", kT0);
  CHECK(budget.Ask("disk:/", kT0).verdict == Verdict::kGo);
}

TEST_CASE("attempts spread wider than `within` never exhaust; the back-off stays") {
  // Fixed once, fine for 5 minutes (under reset_after), broken again 40 minutes later...
  RemedyBudget budget(Limits());
  std::int64_t now = kT0;
  for (int i = 0; i < 6; ++i, now += 40 * 60) {
    const auto decision = budget.Ask("gateway", now);
    CAPTURE(i);
    REQUIRE(decision.verdict == Verdict::kGo);
    CHECK(decision.attempt == 1);  // the older attempts fell out of the window
    budget.Attempted("gateway", now);
    budget.Fine("gateway", now + 60);
    budget.Fine("gateway", now + 360);
  }
  CHECK_FALSE(budget.Exhausted("gateway"));
}

TEST_CASE("targets are independent, and exhaustion is told once") {
  RemedyBudget budget(Limits(1));
  budget.Attempted("tmux:BURN", kT0);
  CHECK(budget.Ask("tmux:BURN", kT0 + 60).verdict == Verdict::kExhausted);
  CHECK(budget.Ask("tmux:BURN2", kT0 + 60).verdict == Verdict::kGo);
  CHECK_FALSE(budget.Told("tmux:BURN"));
  budget.SetTold("tmux:BURN");
  CHECK(budget.Told("tmux:BURN"));
  CHECK_FALSE(budget.Told("tmux:BURN2"));
  budget.Reset("tmux:BURN");  // the operator's fix
  CHECK(budget.Ask("tmux:BURN", kT0 + 61).verdict == Verdict::kGo);
  CHECK_FALSE(budget.Told("tmux:BURN"));
}

TEST_CASE("a clock that jumps back keeps the waits their length") {
  RemedyBudget budget(Limits());
  budget.Attempted("gateway", kT0);
  // The clock is set back an hour: the back-off is not an hour longer. The jump is taken to
  // have happened when it is first seen, so the wait ends at most 10 s after that.
  CHECK(budget.Ask("gateway", kT0 - 3600 + 5).verdict == Verdict::kWait);
  CHECK(budget.Ask("gateway", kT0 - 3600 + 14).verdict == Verdict::kWait);
  const auto decision = budget.Ask("gateway", kT0 - 3600 + 15);
  CHECK(decision.verdict == Verdict::kGo);
  CHECK(decision.attempt == 2);
}

TEST_CASE("the limits' state saves and loads back; garbage is refused") {
  RemedyBudget budget(Limits());
  AttemptEverySecond(budget, "gateway", kT0, kT0 + 15);
  budget.Fine("tmux:BURN", kT0 + 15);
  budget.Attempted("disk:/", kT0 + 16);
  budget.Fine("disk:/", kT0 + 17);
  auto loaded = RemedyBudget::Load(budget.Save(), Limits());
  REQUIRE(loaded.ok());
  CHECK(loaded->Save() == budget.Save());
  // The restarted agent goes on counting: the third attempt 20 s after the second.
  CHECK(loaded->Ask("gateway", kT0 + 20).verdict == Verdict::kWait);
  CHECK(loaded->Ask("gateway", kT0 + 30).verdict == Verdict::kGo);
  for (const char* garbage : {"null", "[]", R"({"v":2})", R"({"v":1,"last_now":"x","targets":{}})",
                              R"({"v":1,"last_now":1,"targets":{"a":{"attempts":"x"}}})",
                              R"({"v":1,"last_now":1,"targets":{"a":{"attempts":[],"streak":1}}})",
                              R"({"v":1,"last_now":1,"targets":[]})"}) {
    CAPTURE(garbage);
    CHECK_FALSE(RemedyBudget::Load(nlohmann::json::parse(garbage), Limits()).ok());
  }
}
