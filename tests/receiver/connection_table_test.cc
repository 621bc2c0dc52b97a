// The receiver's connection accounting: the cap and the per-peer limit hold in every
// phase, and at the cap the right connection makes room.
#include "receiver/http/connection_table.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace fleet::receiver {
namespace {

using namespace std::chrono_literals;
using Verdict = ConnectionTable::Verdict;

struct Fixture {
  explicit Fixture(ConnectionLimits limits) : table(limits) {}
  ConnectionTable table;
  ConnectionTable::Clock::time_point t0 = ConnectionTable::Clock::now();
  std::vector<std::string> closed;  // names of the victims, in order

  ConnectionTable::Admission Admit(const std::string& name, const std::string& peer,
                                   std::chrono::milliseconds at = 0ms) {
    auto admission = table.Admit(peer, t0 + at, [this, name] { closed.push_back(name); });
    if (admission.close_victim) admission.close_victim();
    return admission;
  }
};

ConnectionLimits Limits(int cap, int per_peer) {
  ConnectionLimits limits;
  limits.max_connections = cap;
  limits.max_per_peer = per_peer;
  limits.min_body_rate = 1000;
  limits.body_grace = 1000ms;
  return limits;
}

TEST_CASE("a body may take the grace plus its length at the minimum rate") {
  const auto limits = Limits(4, 0);
  CHECK(BodyAllowance(0, limits) == 1000ms);
  CHECK(BodyAllowance(10, limits) == 1010ms);
  CHECK(BodyAllowance(1 << 20, limits) == 1000ms + 1048576ms);
}

TEST_CASE("the cap is never exceeded, and a victim is never chosen twice") {
  Fixture f(Limits(3, 0));
  for (int i = 0; i < 3; ++i) CHECK(f.Admit("c" + std::to_string(i), "10.0.0.1").id != 0);
  // Many newcomers at once, before any victim has actually gone (Release not yet called).
  for (int i = 3; i < 20; ++i) {
    auto admission = f.Admit("c" + std::to_string(i), "10.0.0.1", std::chrono::milliseconds(i));
    CHECK(admission.verdict == Verdict::kAdmitted);
    CHECK(f.table.Size() == 3);
  }
  CHECK(f.closed.size() == 17);
  std::vector<std::string> sorted = f.closed;
  std::sort(sorted.begin(), sorted.end());
  CHECK(std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end());
}

TEST_CASE("a connection being handled is never evicted; when all are, newcomers are refused") {
  Fixture f(Limits(2, 0));
  auto a = f.Admit("a", "10.0.0.1");
  auto b = f.Admit("b", "10.0.0.2");
  f.table.Enter(a.id, ConnectionPhase::kHandling, f.t0);
  f.table.Enter(b.id, ConnectionPhase::kHandling, f.t0);
  CHECK(f.Admit("c", "10.0.0.3").verdict == Verdict::kFull);
  CHECK(f.closed.empty());
  f.table.Release(a.id);
  CHECK(f.Admit("c", "10.0.0.3").verdict == Verdict::kAdmitted);
  CHECK(f.table.Size() == 2);
}

TEST_CASE("at the cap the slowest body goes first, idle keep-alive agents last") {
  Fixture f(Limits(5, 0));
  auto idle = f.Admit("idle agent", "10.0.0.1");
  auto fresh = f.Admit("fresh", "10.0.0.2");
  auto slow = f.Admit("slow body", "10.0.0.3");
  auto slower = f.Admit("slower body", "10.0.0.4");
  auto fast = f.Admit("fast body", "10.0.0.5");
  f.table.Enter(idle.id, ConnectionPhase::kIdle, f.t0);  // the oldest of all
  f.table.Enter(fresh.id, ConnectionPhase::kFresh, f.t0 + 1ms);
  for (const auto& body : {slow, slower, fast}) {
    f.table.Enter(body.id, ConnectionPhase::kBody, f.t0 + 1ms);
  }
  f.table.AddBodyBytes(slow.id, 500);      // 100 B/s at t0+5s: behind 1000 B/s
  f.table.AddBodyBytes(slower.id, 5);      // 1 B/s: behind, slowest
  f.table.AddBodyBytes(fast.id, 1 << 20);  // on pace
  f.Admit("n1", "10.0.0.9", 5000ms);
  f.Admit("n2", "10.0.0.9", 5000ms);
  f.Admit("n3", "10.0.0.9", 5000ms);
  REQUIRE(f.closed.size() == 3);
  CHECK(f.closed[0] == "slower body");
  CHECK(f.closed[1] == "slow body");
  CHECK(f.closed[2] == "fresh");  // before a body on pace
  f.Admit("n4", "10.0.0.9", 5000ms);
  f.Admit("n5", "10.0.0.9", 5000ms);
  REQUIRE(f.closed.size() == 5);
  CHECK(f.closed[3] == "n1");  // newcomers still without headers are fresh, oldest first
  CHECK(f.closed[4] == "n2");
  CHECK(f.table.PeerCount("10.0.0.1") == 1);  // the idle agent is still there
}

TEST_CASE("a lingering connection makes room before anyone else") {
  Fixture f(Limits(2, 0));
  auto body = f.Admit("body", "10.0.0.1");
  auto linger = f.Admit("linger", "10.0.0.2");
  f.table.Enter(body.id, ConnectionPhase::kBody, f.t0);
  f.table.Enter(linger.id, ConnectionPhase::kLinger, f.t0);
  f.Admit("new", "10.0.0.3", 10ms);
  CHECK(f.closed == std::vector<std::string>{"linger"});
}

TEST_CASE("one address gets at most its share, in every phase; others still get in") {
  Fixture f(Limits(10, 3));
  std::vector<ConnectionTable::Admission> held;
  for (int i = 0; i < 3; ++i) held.push_back(f.Admit("a" + std::to_string(i), "10.0.0.66"));
  f.table.Enter(held[0].id, ConnectionPhase::kBody, f.t0);
  f.table.Enter(held[1].id, ConnectionPhase::kHandling, f.t0);
  CHECK(f.Admit("a3", "10.0.0.66").verdict == Verdict::kPeerLimit);
  CHECK(f.table.PeerCount("10.0.0.66") == 3);
  CHECK(f.Admit("agent", "10.0.0.1").verdict == Verdict::kAdmitted);
  f.table.Release(held[0].id);
  CHECK(f.Admit("a4", "10.0.0.66").verdict == Verdict::kAdmitted);
  CHECK(f.closed.empty());
  f.table.Release(held[0].id);  // twice, or a victim's own release later: ignored
  CHECK(f.table.PeerCount("10.0.0.66") == 3);
}

}  // namespace
}  // namespace fleet::receiver
