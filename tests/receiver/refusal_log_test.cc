// The refusal log's limiter: a flood of one kind from one peer cannot hide another peer's
// refusals or another kind, and the table stays bounded.
#include "receiver/http/refusal_log.h"

#include <doctest/doctest.h>

#include <string>

namespace fleet::receiver {
namespace {

using namespace std::chrono_literals;

struct FakeClock {
  RefusalLimiter::Clock::time_point now = RefusalLimiter::Clock::time_point{} + 1000h;
};

RefusalLimiter Limiter(FakeClock& clock, std::size_t max_pairs = 1024) {
  return RefusalLimiter(RefusalLimits{3, 60s, max_pairs}, [&clock] { return clock.now; });
}

TEST_CASE("a flood from one peer does not hide another peer's refusal, or another kind") {
  FakeClock clock;
  auto limiter = Limiter(clock);
  int logged = 0;
  for (int i = 0; i < 1000; ++i) logged += limiter.Admit("400", "10.0.0.66").log ? 1 : 0;
  CHECK(logged == 3);
  CHECK(limiter.Admit("400", "10.0.0.1").log);         // another peer, same kind
  CHECK(limiter.Admit("batch 415", "10.0.0.66").log);  // same peer, another kind
}

TEST_CASE("after the window the next line gets through with the count it stood for") {
  FakeClock clock;
  auto limiter = Limiter(clock);
  for (int i = 0; i < 10; ++i) limiter.Admit("413", "10.0.0.66");
  clock.now += 59s;
  CHECK_FALSE(limiter.Admit("413", "10.0.0.66").log);
  clock.now += 1s;
  auto decision = limiter.Admit("413", "10.0.0.66");
  CHECK(decision.log);
  CHECK(decision.suppressed == 8);
  CHECK(limiter.Admit("413", "10.0.0.66").suppressed == 0);
}

TEST_CASE("the table of pairs is bounded; when full, newcomers share one entry per kind") {
  FakeClock clock;
  auto limiter = Limiter(clock, 16);
  for (int i = 0; i < 5000; ++i) limiter.Admit("400", "10.1." + std::to_string(i));
  CHECK(limiter.Pairs() <= 17);
  CHECK(limiter.Admit("431", "10.9.9.9").log);  // another kind still has its own entry
  clock.now += 60s;                             // old pairs expire and make room again
  CHECK(limiter.Admit("400", "10.0.0.1").log);
  CHECK(limiter.Pairs() <= 17);
}

}  // namespace
}  // namespace fleet::receiver
