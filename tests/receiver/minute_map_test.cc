// The minute map (receiver/report/minute_map.h) and its hourly tally against the uptime
// report on the same fake source: the hours' up, late, down, conflicting and unmeasured
// minutes sum to the report's figures on gaps, late and early heartbeats, repeats from two
// epochs, conflicts, a node added mid-month, one revoked mid-minute, one registered only
// before or after the month, and heartbeats just outside the month.
#include <doctest/doctest.h>

#include <map>
#include <random>

#include "base/utc_time.h"
#include "receiver/report/minute_map.h"
#include "receiver/report/uptime_report.h"

using namespace fleet;
using namespace fleet::receiver;

namespace {

class BeatSource final : public ReportSource {
 public:
  Registry registry;
  std::map<std::string, std::vector<HeartbeatRow>> beats;

  Result<Registry> LoadRegistry() override { return registry; }
  Outcome ForEachHeartbeat(const std::string& node, std::int64_t begin, std::int64_t end,
                           const std::function<void(const HeartbeatRow&)>& row) override {
    for (const auto& b : beats[node]) {
      if (b.minute >= begin && b.minute < end) row(b);
    }
    return Success();
  }
  Outcome ForEachTask(const std::string&, std::int64_t, std::int64_t,
                      const std::function<void(const TaskRow&)>&) override {
    return Success();
  }
  Outcome ForEachIncident(const std::string&, std::int64_t, std::int64_t,
                          const std::function<void(const IncidentRow&)>&) override {
    return Success();
  }
  Outcome ForEachAck(const std::string&, std::int64_t, std::int64_t,
                     const std::function<void(const AckRow&)>&) override {
    return Success();
  }

  void Beat(const std::string& node, std::int64_t minute, bool up, std::int64_t delay) {
    beats[node].push_back({minute, up, minute + 60 + delay});
  }
};

const Period kNovember = *ParseMonth("2026-11");  // 30 days
const Period kFebruary = *ParseMonth("2028-02");  // 29 days, a leap year
constexpr std::int64_t kLive = 600;

struct Sums {
  std::int64_t registered = 0, up = 0, late = 0, down = 0, conflicting = 0, unmeasured = 0;
  std::int64_t none_hours = 0;
};

Sums SumHours(BeatSource& source, const NodeRegistration& node, const Period& month) {
  auto map = MapMinutes(source, node, month, kLive);
  REQUIRE(map.ok());
  const auto hours = TallyHours(*map);
  CHECK(static_cast<std::int64_t>(hours.size()) == (month.end - month.begin) / 3600);
  Sums s;
  for (const HourTally& h : hours) {
    CHECK(h.up + h.down + h.unmeasured == h.registered);
    CHECK(h.late <= h.up);
    CHECK(h.conflicting <= h.down);
    CHECK(h.registered <= 60);
    s.registered += h.registered;
    s.up += h.up;
    s.late += h.late;
    s.down += h.down;
    s.conflicting += h.conflicting;
    s.unmeasured += h.unmeasured;
    s.none_hours += h.registered == 0 ? 1 : 0;
  }
  return s;
}

// The hours of every node of the source sum to what ComputeUptime says of it; a node the
// report leaves out (not registered in the month) has no registered hour.
void CheckAgainstReport(BeatSource& source, const Period& month) {
  auto report = ComputeUptime(source, source.registry, month, kLive);
  REQUIRE(report.ok());
  for (const auto& node : source.registry.nodes) {
    CAPTURE(node.node);
    const Sums s = SumHours(source, node, month);
    const NodeUptime* row = nullptr;
    for (const auto& r : report->nodes) {
      if (r.node == node.node) row = &r;
    }
    if (row == nullptr) {
      CHECK(s.registered == 0);
      continue;
    }
    const UptimeFigures& f = row->figures;
    CHECK(s.registered == f.minutes);
    CHECK(s.up == f.up);
    CHECK(s.late == f.up_late);
    CHECK(s.up - s.late == f.up_live);
    CHECK(s.down == f.down);
    CHECK(s.conflicting == f.conflicting);
    CHECK(s.unmeasured == f.unmeasured);
  }
}

}  // namespace

TEST_CASE("minute map: gaps, late, early, repeats and conflicts sum to the report") {
  BeatSource source;
  source.registry.operators.push_back({"op", "Ada", 0});
  source.registry.nodes.push_back({"n1", "op", kNovember.begin - 86400 * 40, std::nullopt});
  const std::int64_t m0 = kNovember.begin;
  for (int i = 0; i < 600; ++i) source.Beat("n1", m0 + i * 60, i % 7 != 0, 3);    // live
  for (int i = 100; i < 200; ++i) source.Beat("n1", m0 + i * 60, true, 3600);     // again, late
  for (int i = 1000; i < 1100; ++i) source.Beat("n1", m0 + i * 60, true, 86400);  // late only
  source.Beat("n1", m0 + 2000 * 60, true, -6);  // received before its minute was over: not counted
  source.Beat("n1", m0 + 2001 * 60, true, -5);  // within the clock skew: counted
  // Just outside the month: never counted in it.
  source.Beat("n1", kNovember.begin - 60, true, 3);
  source.Beat("n1", kNovember.end, true, 3);
  CheckAgainstReport(source, kNovember);

  auto map = MapMinutes(source, source.registry.nodes[0], kNovember, kLive);
  REQUIRE(map.ok());
  CHECK(map->At(m0) == MinuteState::kDown);  // i = 0: 0 % 7 == 0
  CHECK(map->At(m0 + 60) == MinuteState::kUpLive);
  CHECK(map->At(m0 + 105 * 60) == MinuteState::kConflicting);  // live down, later up
  CHECK(map->At(m0 + 101 * 60) == MinuteState::kUpLive);       // live up and late up
  CHECK(map->At(m0 + 1000 * 60) == MinuteState::kUpLate);
  CHECK(map->At(m0 + 2000 * 60) == MinuteState::kUnmeasured);
  CHECK(map->At(m0 + 2001 * 60) == MinuteState::kUpLive);
  CHECK(map->At(kNovember.begin - 60) == MinuteState::kNotRegistered);
  CHECK(map->At(kNovember.end) == MinuteState::kNotRegistered);

  const Sums s = SumHours(source, source.registry.nodes[0], kNovember);
  CHECK(s.registered == 30 * 1440);
  CHECK(s.none_hours == 0);
  CHECK(s.conflicting == 14);  // i in [100, 200) with i % 7 == 0: 105 .. 196
  CHECK(s.late == 100);
}

TEST_CASE("minute map: a node added mid-month counts from that day's 00:00 UTC") {
  BeatSource source;
  const std::int64_t added =
      kNovember.begin + 9 * 86400 + 13 * 3600 + 17 * 60 + 5;  // 10th 13:17:05
  source.registry.nodes.push_back({"n2", "op", added, std::nullopt});
  for (std::int64_t m = kNovember.begin; m < kNovember.end; m += 60) source.Beat("n2", m, true, 1);
  CheckAgainstReport(source, kNovember);
  const Sums s = SumHours(source, source.registry.nodes[0], kNovember);
  CHECK(s.registered == 21 * 1440);  // the 10th to the 30th
  CHECK(s.up == 21 * 1440);          // the heartbeats before the 10th count nowhere
  CHECK(s.none_hours == 9 * 24);
}

TEST_CASE("minute map: a node revoked mid-minute keeps that minute, none after") {
  BeatSource source;
  const std::int64_t revoked = kFebruary.begin + 28 * 86400 + 3660 + 30;  // 29th 01:01:30
  source.registry.nodes.push_back({"n3", "op", kFebruary.begin - 86400, revoked});
  for (std::int64_t m = kFebruary.begin; m < kFebruary.end; m += 60) {
    source.Beat("n3", m, m % 3600 != 0, 2);
  }
  CheckAgainstReport(source, kFebruary);
  auto map = MapMinutes(source, source.registry.nodes[0], kFebruary, kLive);
  REQUIRE(map.ok());
  CHECK(map->At(revoked - 30) == MinuteState::kUpLive);  // the minute it was revoked in
  CHECK(map->At(revoked + 30) == MinuteState::kNotRegistered);
  const auto hours = TallyHours(*map);
  REQUIRE(hours.size() == 29 * 24);
  const HourTally& last = hours[28 * 24 + 1];  // the 29th, 01:00
  CHECK(last.registered == 2);                 // 01:00 (down: every hour's first minute) and 01:01
  CHECK(last.up == 1);
  CHECK(last.down == 1);
  CHECK(hours[28 * 24 + 2].registered == 0);
  CHECK(hours.back().registered == 0);
}

TEST_CASE("minute map: registered only outside the month, or revoked before it was added") {
  BeatSource source;
  source.registry.nodes.push_back({"before", "op", 0, kNovember.begin});  // revoked at 00:00
  source.registry.nodes.push_back({"after", "op", kNovember.end, std::nullopt});
  source.registry.nodes.push_back({"odd", "op", kNovember.begin + 86400, kNovember.begin});
  for (const char* node : {"before", "after", "odd"}) {
    for (std::int64_t m = kNovember.begin; m < kNovember.begin + 7200; m += 60) {
      source.Beat(node, m, true, 1);
    }
  }
  CheckAgainstReport(source, kNovember);
  for (const auto& node : source.registry.nodes) {
    auto map = MapMinutes(source, node, kNovember, kLive);
    REQUIRE(map.ok());
    CHECK_FALSE(map->registered());
    CHECK(map->At(kNovember.begin) == MinuteState::kNotRegistered);
    const Sums s = SumHours(source, node, kNovember);
    CHECK(s.none_hours == 30 * 24);
  }
}

TEST_CASE("minute map: random heartbeats of several nodes always sum to the report") {
  std::mt19937_64 random(20261107);
  for (int round = 0; round < 8; ++round) {
    CAPTURE(round);
    BeatSource source;
    for (int n = 0; n < 4; ++n) {
      const std::string node = "r" + std::to_string(n);
      const std::int64_t added =
          kNovember.begin + static_cast<std::int64_t>(random() % (35 * 86400)) - 5 * 86400;
      std::optional<std::int64_t> revoked;
      if (random() % 2) revoked = added + static_cast<std::int64_t>(random() % (40 * 86400));
      source.registry.nodes.push_back({node, "op", added, revoked});
      for (int i = 0; i < 3000; ++i) {
        // Minutes around the month (and some off any minute boundary: garbage a store never
        // returns, counted in the minute it falls in by both alike).
        std::int64_t minute =
            kNovember.begin - 86400 + static_cast<std::int64_t>(random() % (32 * 1440)) * 60;
        if (random() % 50 == 0) minute += static_cast<std::int64_t>(random() % 60);
        const std::int64_t delay = static_cast<std::int64_t>(random() % 4000) - 10;
        source.Beat(node, minute, random() % 5 != 0, delay);
      }
    }
    CheckAgainstReport(source, kNovember);
  }
}
