// The monthly uptime rules and the payout rules on a fake ReportSource: every figure a
// statement shows, at the edges of each rule.
#include <doctest/doctest.h>

#include <map>

#include "base/utc_time.h"
#include "receiver/report/report_format.h"
#include "receiver/report/statement.h"
#include "receiver/report/uptime_report.h"

using namespace fleet;
using namespace fleet::receiver;

namespace {

std::int64_t Day(int y, unsigned m, unsigned d) { return DaysFromCivil(y, m, d) * 86400; }

class FakeSource final : public ReportSource {
 public:
  Registry registry;
  std::map<std::string, std::vector<HeartbeatRow>> beats;
  std::map<std::string, std::vector<TaskRow>> tasks;
  std::map<std::string, std::vector<IncidentRow>> incidents;

  Result<Registry> LoadRegistry() override { return registry; }
  Outcome ForEachHeartbeat(const std::string& node, std::int64_t begin, std::int64_t end,
                           const std::function<void(const HeartbeatRow&)>& row) override {
    for (const auto& b : beats[node]) {
      if (b.minute >= begin && b.minute < end) row(b);
    }
    return Success();
  }
  Outcome ForEachTask(const std::string& node, std::int64_t begin, std::int64_t end,
                      const std::function<void(const TaskRow&)>& row) override {
    for (const auto& t : tasks[node]) {
      if (t.run_at >= begin && t.run_at < end) row(t);
    }
    return Success();
  }
  Outcome ForEachIncident(const std::string& node, std::int64_t, std::int64_t end,
                          const std::function<void(const IncidentRow&)>& row) override {
    for (const auto& i : incidents[node]) {
      if (i.opened < end) row(i);
    }
    return Success();
  }

  // A node of `op`, added at `added`, up every minute of [from, to) except every
  // `down_every`-th, all received `delay` seconds after the minute.
  void Node(const std::string& node, const std::string& op, std::int64_t added) {
    registry.nodes.push_back({node, op, added, std::nullopt});
  }
  void Beats(const std::string& node, std::int64_t from, std::int64_t to, int down_every = 0,
             std::int64_t delay = 5) {
    for (std::int64_t m = from, i = 1; m < to; m += 60, ++i) {
      beats[node].push_back({m, !(down_every > 0 && i % down_every == 0), m + 60 + delay});
    }
  }
};

const Period kOctober = *ParseMonth("2026-10");    // 31 days, not a quarter end
const Period kSeptember = *ParseMonth("2026-09");  // 30 days, a quarter end

MonthUptime Uptime(FakeSource& source, const Period& month, std::int64_t live = 600) {
  auto report = ComputeUptime(source, source.registry, month, live);
  REQUIRE(report.ok());
  return *report;
}

const OperatorStatement& Of(const MonthStatement& s, const std::string& id) {
  for (const auto& o : s.operators) {
    if (o.operator_id == id) return o;
  }
  FAIL("no operator " << id);
  throw 0;
}

const BonusLine& Bonus(const OperatorStatement& o, const std::string& name) {
  for (const auto& b : o.bonuses) {
    if (b.name == name) return b;
  }
  FAIL("no bonus " << name);
  throw 0;
}

}  // namespace

TEST_CASE("uptime: registered minutes, up, down, unmeasured, live and late") {
  FakeSource source;
  source.registry.operators.push_back({"op", "Ada", Day(2026, 1, 1)});
  source.Node("n1", "op", Day(2026, 1, 1));
  source.Beats("n1", kOctober.begin, kOctober.begin + 1000 * 60, 10);  // 900 up, 100 down
  // The same minutes again from another epoch, late, all up: never counted twice; where
  // the first account was down, the claims conflict and the minute stays down.
  source.Beats("n1", kOctober.begin, kOctober.begin + 100 * 60, 0, 3600);
  // 200 more minutes that arrived a day late.
  source.Beats("n1", kOctober.begin + 2000 * 60, kOctober.begin + 2200 * 60, 0, 86400);
  MonthUptime report = Uptime(source, kOctober);
  REQUIRE(report.nodes.size() == 1);
  const UptimeFigures& f = report.nodes[0].figures;
  CHECK(f.minutes == 31 * 1440);
  CHECK(f.up == 900 + 200);
  CHECK(f.down == 100);
  CHECK(f.conflicting == 10);  // minutes 10, 20 .. 100: live down, later up
  CHECK(f.unmeasured == 31 * 1440 - 1200);
  CHECK(f.up_live == 900);
  CHECK(f.up_late == 200);
  CHECK(f.UptimePercent(true) == doctest::Approx(100.0 * 1100 / 44640));
  CHECK(f.UptimePercent(false) == doctest::Approx(100.0 * 900 / 44640));
  // With a longer live cut the day-old minutes are still late; the hour-old up claims are
  // live now but still conflict with the live down ones.
  const UptimeFigures longer = Uptime(source, kOctober, 7200).nodes[0].figures;
  CHECK(longer.up_live == 900);
  CHECK(longer.conflicting == 10);
}

TEST_CASE("payout rule: conflicting claims for a minute count as down and are listed") {
  FakeSource source;
  source.registry.operators.push_back({"op", "Ada", Day(2026, 1, 1)});
  source.Node("n1", "op", Day(2026, 1, 1));
  source.Node("n2", "op", Day(2026, 1, 1));
  const std::int64_t m0 = kOctober.begin + 600 * 60;
  // n1: minute m0 came live as down; a spool replayed it a day later as up.
  source.beats["n1"].push_back({m0, false, m0 + 65});
  source.beats["n1"].push_back({m0, true, m0 + 86400});
  // The other order: m0+1 and m0+2 came live as up, later down; m0+5 agrees with itself.
  for (std::int64_t m : {m0 + 60, m0 + 120}) {
    source.beats["n1"].push_back({m, true, m + 65});
    source.beats["n1"].push_back({m, false, m + 7200});
  }
  source.beats["n1"].push_back({m0 + 300, true, m0 + 365});
  source.beats["n1"].push_back({m0 + 300, true, m0 + 86400});
  // n2: the same minute twice, both down; and twice up (live and late): no conflict.
  source.beats["n2"].push_back({m0, false, m0 + 65});
  source.beats["n2"].push_back({m0, false, m0 + 86400});
  source.beats["n2"].push_back({m0 + 60, true, m0 + 86400});
  source.beats["n2"].push_back({m0 + 60, true, m0 + 125});

  MonthUptime report = Uptime(source, kOctober);
  REQUIRE(report.nodes.size() == 2);
  const NodeUptime& n1 = report.nodes[0];
  CHECK(n1.figures.conflicting == 3);
  CHECK(n1.figures.down == 3);
  CHECK(n1.figures.up == 1);
  CHECK(n1.figures.up_live == 1);
  REQUIRE(n1.conflicting_minutes.size() == 1);  // m0 .. m0+2 in one range
  CHECK(n1.conflicting_minutes[0] == std::pair<std::int64_t, std::int64_t>(m0, m0 + 120));
  const NodeUptime& n2 = report.nodes[1];
  CHECK(n2.figures.conflicting == 0);
  CHECK(n2.figures.down == 1);
  CHECK(n2.figures.up_live == 1);
  CHECK(n2.conflicting_minutes.empty());

  const MonthStatement statement = ComputeStatement(report, source.registry, {});
  const OperatorStatement& op = Of(statement, "op");
  CHECK(op.conflicting_minutes == 3);
  REQUIRE(op.conflicts.size() == 1);
  CHECK(op.conflicts[0].node == "n1");
  CHECK(op.conflicts[0].first == m0);
  CHECK(op.conflicts[0].last == m0 + 120);
  const std::string table = StatementToTable(statement);
  CHECK(table.find("conflict    n1: 2026-10-01T10:00:00Z .. 2026-10-01T10:02:00Z (3 minutes "
                   "claimed up and down, counted down)") != std::string::npos);
  const auto json = StatementToJson(statement);
  CHECK(json["operators"][0]["conflicting_minutes"] == 3);
  CHECK(json["operators"][0]["conflicts"][0] == nlohmann::json{{"node", "n1"},
                                                               {"first", "2026-10-01T10:00:00Z"},
                                                               {"last", "2026-10-01T10:02:00Z"}});
  CHECK(StatementToCsv(statement).find("op,conflict,\"n1: 2026-10-01T10:00:00Z .. ") !=
        std::string::npos);
}

TEST_CASE("uptime: a node added mid-month counts from that day, a revoked one until then") {
  FakeSource source;
  source.registry.operators.push_back({"op", "Ada", Day(2026, 1, 1)});
  source.Node("late", "op", Day(2026, 10, 20) + 13 * 3600 + 7);  // added at 13:00:07
  source.registry.nodes.push_back({"gone", "op", Day(2026, 1, 1), Day(2026, 10, 11)});
  source.Beats("late", Day(2026, 10, 19), kOctober.end);  // before it was added: not counted
  source.Beats("gone", kOctober.begin, kOctober.end);
  MonthUptime report = Uptime(source, kOctober);
  REQUIRE(report.nodes.size() == 2);
  CHECK(report.nodes[1].node == "late");
  CHECK(report.nodes[1].figures.minutes == 12 * 1440);
  CHECK(report.nodes[1].figures.up == 12 * 1440);
  CHECK(report.nodes[0].figures.minutes == 10 * 1440);
  CHECK(report.nodes[0].figures.up == 10 * 1440);
  // A node revoked before the month, or added after it, is not in it.
  source.registry.nodes.push_back({"old", "op", Day(2025, 1, 1), Day(2026, 9, 1)});
  source.registry.nodes.push_back({"new", "op", Day(2026, 11, 2), std::nullopt});
  CHECK(Uptime(source, kOctober).nodes.size() == 2);
  CHECK(Uptime(source, kOctober).operators[0].nodes == 2);
}

TEST_CASE("uptime: month lengths, leap February included") {
  FakeSource source;
  source.registry.operators.push_back({"op", "Ada", Day(2020, 1, 1)});
  source.Node("n", "op", Day(2020, 1, 1));
  CHECK(Uptime(source, *ParseMonth("2028-02")).nodes[0].figures.minutes == 29 * 1440);
  CHECK(Uptime(source, *ParseMonth("2027-02")).nodes[0].figures.minutes == 28 * 1440);
  CHECK(Uptime(source, *ParseMonth("2026-04")).nodes[0].figures.minutes == 30 * 1440);
  CHECK(Uptime(source, *ParseMonth("2026-12")).nodes[0].figures.minutes == 31 * 1440);
}

TEST_CASE("uptime: tasks once by (job, run_at); incidents folded, across the month's edges") {
  FakeSource source;
  source.registry.operators.push_back({"op", "Ada", Day(2026, 1, 1)});
  source.Node("n", "op", Day(2026, 1, 1));
  const auto t0 = kOctober.begin;
  source.tasks["n"] = {{"a", t0 + 100, true},
                       {"a", t0 + 100, true},
                       {"a", t0 + 200, false},
                       {"b", t0 + 300, true},
                       {"b", kOctober.end + 5, true}};
  source.incidents["n"] = {
      {"tmux", t0 + 1000, std::nullopt, "open"},        // opened...
      {"tmux", t0 + 1000, t0 + 1000 + 1800, "closed"},  // ...closed after exactly 30 min
      {"gateway", t0 + 5000, t0 + 5000 + 1801, "x"},    // 30 min 1 s
      {"disk", t0 - 7200, t0 + 600, "from September"},  // counts 600 s in October
      {"cron", t0 - 9000, t0 - 100, "all September"},   // not in October
      {"tmux", kOctober.end - 60, std::nullopt, "open at the end"}};
  const UptimeFigures f = Uptime(source, kOctober).nodes[0].figures;
  CHECK(f.task_runs == 3);
  CHECK(f.task_ok == 2);
  CHECK(*f.TaskCompletionPercent() == doctest::Approx(200.0 / 3));
  CHECK(f.incidents == 4);
  CHECK(f.incidents_resolved_in_30m == 1);
  CHECK(f.incidents_open == 1);
  CHECK(f.longest_incident_s == 1801);
  CHECK(f.longest_incident_check == "gateway");
}

TEST_CASE("statement: base by node count") {
  for (auto [nodes, base, paid] : {std::tuple{0, 0.0, 0},
                                   {1, 150.0, 1},
                                   {5, 150.0, 5},
                                   {6, 175.0, 6},
                                   {10, 275.0, 10},
                                   {13, 275.0, 10}}) {
    FakeSource source;
    source.registry.operators.push_back({"op", "Ada", Day(2026, 1, 1)});
    for (int i = 0; i < nodes; ++i) {
      source.Node("n" + std::to_string(i), "op", Day(2026, 1, 1));
      source.Beats("n" + std::to_string(i), kOctober.begin, kOctober.end);
    }
    auto s = ComputeStatement(Uptime(source, kOctober), source.registry, {});
    const int node_count = nodes;  // clang 14 cannot capture a structured binding (INFO)
    INFO(node_count << " nodes");
    CHECK(Of(s, "op").base == base);
    CHECK(Of(s, "op").paid_nodes == paid);
  }
}

TEST_CASE("statement: each bonus at its edge, with the figure that decided it") {
  FakeSource source;
  source.registry.operators.push_back({"op", "Ada", Day(2026, 1, 1)});
  source.Node("n", "op", Day(2026, 1, 1));
  const std::int64_t minutes = 31 * 1440;
  SUBCASE("99.5% exactly is not above 99.5%; one more minute is") {
    const std::int64_t up = 30 * 1440 * 995 / 1000;  // September: 42984 of 43200, exactly 99.5%
    source.Beats("n", kSeptember.begin, kSeptember.begin + up * 60);
    auto s = ComputeStatement(Uptime(source, kSeptember), source.registry, {});
    CHECK_FALSE(Bonus(Of(s, "op"), "uptime").earned);
    CHECK(Bonus(Of(s, "op"), "uptime").figure.find("99.50% <= 99.5%") != std::string::npos);
    source.Beats("n", kSeptember.begin + up * 60, kSeptember.begin + (up + 1) * 60);
    s = ComputeStatement(Uptime(source, kSeptember), source.registry, {});
    CHECK(Bonus(Of(s, "op"), "uptime").earned);
    CHECK(Bonus(Of(s, "op"), "uptime").amount == 50);
  }
  SUBCASE("late minutes count by default; the policy can refuse them") {
    source.Beats("n", kOctober.begin, kOctober.end, 0, 86400);
    auto counted = ComputeStatement(Uptime(source, kOctober), source.registry, {});
    CHECK(Bonus(Of(counted, "op"), "uptime").earned);
    CHECK(Of(counted, "op").late_up_minutes == minutes);
    CHECK(Bonus(Of(counted, "op"), "uptime").figure.find("44640 late minutes counted") !=
          std::string::npos);
    auto refused = ComputeStatement(Uptime(source, kOctober), source.registry, {false});
    CHECK_FALSE(Bonus(Of(refused, "op"), "uptime").earned);
  }
  SUBCASE("tasks: above 95% earns, 95% does not, none is no bonus") {
    source.Beats("n", kOctober.begin, kOctober.end);
    auto s = ComputeStatement(Uptime(source, kOctober), source.registry, {});
    CHECK(Bonus(Of(s, "op"), "tasks").figure == "no task runs");
    for (int i = 0; i < 20; ++i) source.tasks["n"].push_back({"j", kOctober.begin + i, i != 0});
    s = ComputeStatement(Uptime(source, kOctober), source.registry, {});
    CHECK_FALSE(Bonus(Of(s, "op"), "tasks").earned);  // 19 of 20 = 95%
    source.tasks["n"].push_back({"j", kOctober.begin + 99, true});
    s = ComputeStatement(Uptime(source, kOctober), source.registry, {});
    CHECK(Bonus(Of(s, "op"), "tasks").earned);  // 20 of 21
    CHECK(Bonus(Of(s, "op"), "tasks").amount == 30);
  }
  SUBCASE("incidents: all resolved within 30 min earns; one slower does not") {
    source.Beats("n", kOctober.begin, kOctober.end);
    source.incidents["n"] = {{"tmux", kOctober.begin + 60, kOctober.begin + 60 + 1800, "x"}};
    auto s = ComputeStatement(Uptime(source, kOctober), source.registry, {});
    CHECK(Bonus(Of(s, "op"), "incidents").earned);
    source.incidents["n"].push_back({"disk", kOctober.begin + 9000, std::nullopt, "still open"});
    s = ComputeStatement(Uptime(source, kOctober), source.registry, {});
    CHECK_FALSE(Bonus(Of(s, "op"), "incidents").earned);
    CHECK(Bonus(Of(s, "op"), "incidents").figure ==
          "1 of 2 critical incidents resolved within 30 min");
  }
  SUBCASE("a node that reported nothing earns nothing, not even the base") {
    auto s = ComputeStatement(Uptime(source, kOctober), source.registry, {});
    CHECK(Of(s, "op").bonus_total == 0);
    CHECK(Bonus(Of(s, "op"), "incidents").figure == "nothing measured");
    CHECK(Of(s, "op").base == 0);
    CHECK(Of(s, "op").total == 0);
  }
}

TEST_CASE("statement: only nodes measured 7 days in the month count toward the base") {
  FakeSource source;
  source.registry.operators.push_back({"op", "Ada", Day(2026, 1, 1)});
  // Five nodes that ran the whole month, one that never reported, one revoked on day 1
  // after reporting that day, one measured a minute short of 7 days, one exactly 7 days.
  for (int i = 0; i < 5; ++i) {
    source.Node("full" + std::to_string(i), "op", Day(2026, 1, 1));
    source.Beats("full" + std::to_string(i), kOctober.begin, kOctober.end);
  }
  source.Node("silent", "op", Day(2026, 1, 1));
  source.registry.nodes.push_back({"day1", "op", Day(2026, 1, 1), Day(2026, 10, 2)});
  source.Beats("day1", kOctober.begin, kOctober.begin + 1440 * 60);
  source.Node("short", "op", Day(2026, 1, 1));
  source.Beats("short", kOctober.begin, kOctober.begin + (kMeasuredMinutesForBase - 1) * 60);
  source.Node("week", "op", Day(2026, 1, 1));
  source.Beats("week", kOctober.begin, kOctober.begin + kMeasuredMinutesForBase * 60, 2);
  auto s = ComputeStatement(Uptime(source, kOctober), source.registry, {});
  const auto& op = Of(s, "op");
  CHECK(op.nodes == 9);
  CHECK(op.measured_nodes == 6);  // down minutes are measured minutes too
  CHECK(op.paid_nodes == 6);
  CHECK(op.base == 175);  // 6 nodes, not 9 (225)
  REQUIRE(op.left_out.size() == 3);
  CHECK(op.left_out[0].node == "day1");
  CHECK(op.left_out[0].measured_minutes == 1440);
  CHECK(op.left_out[1].node == "short");
  CHECK(op.left_out[1].measured_minutes == kMeasuredMinutesForBase - 1);
  CHECK(op.left_out[2].node == "silent");
  CHECK(op.left_out[2].measured_minutes == 0);
  // The statement shows them, in every format.
  CHECK(StatementToTable(s).find("left out    silent: measured 0 of the 10080 minutes") !=
        std::string::npos);
  CHECK(StatementToCsv(s).find("op,left_out,short: measured 10079 of the 10080 minutes") !=
        std::string::npos);
  CHECK(StatementToJson(s)["operators"][0]["left_out"][1]["measured_minutes"] == 10079);
  CHECK(StatementToJson(s)["operators"][0]["measured_nodes"] == 6);
}

TEST_CASE("statement: retention needs a node measured in the month") {
  FakeSource source;
  source.registry.operators.push_back({"six", "Six", Day(2026, 1, 1)});
  source.Node("a", "six", Day(2026, 1, 1));
  auto silent = ComputeStatement(Uptime(source, kSeptember), source.registry, {});
  CHECK_FALSE(Bonus(Of(silent, "six"), "retention").earned);
  CHECK(Bonus(Of(silent, "six"), "retention").figure ==
        "active 9 months (6+), no node measured this month");
  source.Beats("a", kSeptember.begin, kSeptember.end);
  auto measured = ComputeStatement(Uptime(source, kSeptember), source.registry, {});
  CHECK(Bonus(Of(measured, "six"), "retention").earned);
}

TEST_CASE("uptime: a node revoked in the middle of a minute, beats to its last minute") {
  FakeSource source;
  source.registry.operators.push_back({"op", "Ada", Day(2026, 1, 1)});
  const std::int64_t revoked = Day(2026, 10, 11) + 3600 + 30;  // 01:00:30
  source.registry.nodes.push_back({"gone", "op", Day(2026, 1, 1), revoked});
  source.Beats("gone", kOctober.begin, revoked);  // its last one is the 01:00 minute
  const UptimeFigures f = Uptime(source, kOctober).nodes[0].figures;
  CHECK(f.minutes == 10 * 1440 + 61);  // the minute it was revoked in counts
  CHECK(f.up == 10 * 1440 + 61);
  CHECK(f.unmeasured == 0);
}

TEST_CASE("uptime: a minute is live only if received between its end and live_within after") {
  FakeSource source;
  source.registry.operators.push_back({"op", "Ada", Day(2026, 1, 1)});
  source.Node("n", "op", Day(2026, 1, 1));
  const std::int64_t m = kOctober.begin + 600;
  source.beats["n"] = {
      {m, true, m + 60},                         // at its end: live
      {m + 60, true, m + 60 + 60 - 5},           // 5 s early (clocks apart): live
      {m + 120, true, m + 120 + 60 - 6},         // 6 s early: not a measurement
      {m + 180, true, m},                        // received before the minute began: not counted
      {m + 240, true, m + 240 + 60 + 600},       // live_within after its end: live
      {m + 300, true, m + 300 + 60 + 601},       // a second later: late
      {kOctober.end - 60, true, kOctober.begin}  // the month's last minute, weeks early
  };
  const UptimeFigures f = Uptime(source, kOctober).nodes[0].figures;
  CHECK(f.up_live == 3);
  CHECK(f.up_late == 1);
  CHECK(f.up == 4);
  CHECK(f.unmeasured == 31 * 1440 - 4);
}

TEST_CASE("statement: retention in quarter-end months for operators active 6+ months") {
  FakeSource source;
  source.registry.operators.push_back({"six", "Six", Day(2026, 4, 30)});   // Apr..Sep: 6
  source.registry.operators.push_back({"five", "Five", Day(2026, 5, 1)});  // May..Sep: 5
  source.Node("a", "six", Day(2026, 4, 30));
  source.Node("b", "five", Day(2026, 5, 1));
  source.Beats("a", kSeptember.begin, kOctober.end);
  source.Beats("b", kSeptember.begin, kOctober.end);
  auto september = ComputeStatement(Uptime(source, kSeptember), source.registry, {});
  CHECK(Bonus(Of(september, "six"), "retention").earned);
  CHECK(Bonus(Of(september, "six"), "retention").amount == 100);
  CHECK_FALSE(Bonus(Of(september, "five"), "retention").earned);
  CHECK(Bonus(Of(september, "five"), "retention").figure == "active 5 months (under 6)");
  auto october = ComputeStatement(Uptime(source, kOctober), source.registry, {});
  CHECK_FALSE(Bonus(Of(october, "six"), "retention").earned);
  CHECK(Bonus(Of(october, "six"), "retention").figure == "paid in quarter-end months");
}

TEST_CASE("statement: partner commissions need two referrals and last 12 months") {
  FakeSource source;
  source.registry.operators = {{"p", "Partner", Day(2025, 1, 1)},
                               {"r1", "New", Day(2026, 9, 15)},
                               {"r2", "Old", Day(2025, 10, 1)},
                               {"r3", "Older", Day(2025, 9, 1)}};
  for (const char* op : {"p", "r1", "r2", "r3"}) {
    source.Node(std::string("n-") + op, op, Day(2025, 1, 1));
    source.Beats(std::string("n-") + op, kOctober.begin, kOctober.end);
  }
  source.registry.referrals = {{"p", "r1", Day(2026, 9, 15)}};
  auto one = ComputeStatement(Uptime(source, kOctober), source.registry, {});
  CHECK_FALSE(Of(one, "p").partner);
  CHECK(Of(one, "p").commission_total == 0);
  source.registry.referrals.push_back({"p", "r2", Day(2025, 10, 1)});
  source.registry.referrals.push_back({"p", "r3", Day(2025, 9, 1)});
  auto s = ComputeStatement(Uptime(source, kOctober), source.registry, {});
  const auto& p = Of(s, "p");
  CHECK(p.partner);
  CHECK(p.referred_operators == 3);
  // r1: second month (10 left); r2: 13th month (none); r3: 14th (none).
  REQUIRE(p.commissions.size() == 1);
  CHECK(p.commissions[0].referred == "r1");
  CHECK(p.commissions[0].months_left == 10);
  CHECK(p.commissions[0].base_part == doctest::Approx(30));         // 20% of 150
  CHECK(p.commissions[0].bonus_part == doctest::Approx(0.2 * 70));  // uptime + incidents
  CHECK(p.total == doctest::Approx(150 + 70 + 30 + 14));
  CHECK(s.total == doctest::Approx(4 * 220 + 44));
  CHECK(s.bonuses_due == "2026-11-07");
  // A referral dated after the month does not count yet.
  source.registry.referrals.push_back({"r2", "r3", Day(2026, 11, 3)});
  source.registry.referrals.push_back({"r2", "r1", Day(2026, 11, 3)});
  CHECK_FALSE(Of(ComputeStatement(Uptime(source, kOctober), source.registry, {}), "r2").partner);
}

TEST_CASE("report formats: JSON, CSV and the table carry the same figures") {
  FakeSource source;
  source.registry.operators.push_back({"op", "Ada, \"the\" first", Day(2026, 1, 1)});
  source.Node("n", "op", Day(2026, 1, 1));
  source.Beats("n", kOctober.begin, kOctober.end, 100);
  MonthUptime uptime = Uptime(source, kOctober);
  auto json = UptimeToJson(uptime, true);
  CHECK(json["month"] == "2026-10");
  CHECK(json["nodes"][0]["up"] == 44640 - 446);
  CHECK(json["nodes"][0]["uptime_percent"] == doctest::Approx(99.0));
  const std::string csv = UptimeToCsv(uptime, true);
  CHECK(csv.find("node,n,op,44640,44194,446,0,99.00,44194,0,0,0,,0,0,0\n") != std::string::npos);
  CHECK(UptimeToTable(uptime, true).find("99.00%") != std::string::npos);
  MonthStatement s = ComputeStatement(uptime, source.registry, {});
  auto sj = StatementToJson(s);
  CHECK(sj["operators"][0]["total"] == 170);
  const std::string scsv = StatementToCsv(s);
  CHECK(scsv.find("op,uptime,99.00% <= 99.5% (0 late minutes counted),false,0.00\n") !=
        std::string::npos);
  CHECK(scsv.find("op,total,,,170.00\n") != std::string::npos);
  CHECK(StatementToTable(s).find("Ada, \"the\" first") != std::string::npos);
}
