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
  std::map<std::string, std::vector<AckRow>> acks;
  std::map<std::string, ReceiverAlerting> alerting;
  std::map<std::string, std::vector<ReceiverAlertRow>> sent;

  Result<Registry> LoadRegistry() override { return registry; }
  Result<std::optional<ReceiverAlerting>> ReceiverAlertingOf(const std::string& node) override {
    auto it = alerting.find(node);
    if (it == alerting.end()) return std::optional<ReceiverAlerting>();
    return std::optional<ReceiverAlerting>(it->second);
  }
  Outcome ForEachReceiverAlert(const std::string& node, std::int64_t begin, std::int64_t end,
                               const std::function<void(const ReceiverAlertRow&)>& row) override {
    for (const auto& a : sent[node]) {
      if (a.sent >= begin && a.sent < end) row(a);
    }
    return Success();
  }
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
  Outcome ForEachAck(const std::string& node, std::int64_t begin, std::int64_t end,
                     const std::function<void(const AckRow&)>& row) override {
    for (const auto& a : acks[node]) {
      if (a.at >= begin && a.at < end) row(a);
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
          "1 of 2 critical alerts answered within 30 min (0 acknowledged, 1 resolved)");
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

namespace {

// A node "n" of operator "op", up all October, with the given incidents and acks.
struct AlertMonth {
  FakeSource source;
  AlertMonth() {
    source.registry.operators.push_back({"op", "Ada", Day(2026, 1, 1)});
    source.Node("n", "op", Day(2026, 1, 1));
    source.Beats("n", kOctober.begin, kOctober.end);
  }
  void Incident(std::int64_t id, const std::string& check, std::int64_t opened,
                std::optional<std::int64_t> closed) {
    source.incidents["n"].push_back({check, opened, std::nullopt, "opened", id});
    if (closed) source.incidents["n"].push_back({check, opened, closed, "closed", id});
  }
  // Received `delay` seconds after it was given (live within 600 s).
  void Ack(std::int64_t id, std::int64_t at, const std::string& by, const std::string& via,
           std::int64_t delay = 5) {
    source.acks["n"].push_back({id, at, by, via, std::nullopt, at + delay, delay <= 600});
  }
  MonthStatement Statement(PayoutPolicy policy = {}) {
    return ComputeStatement(Uptime(source, kOctober), source.registry, policy);
  }
};

const std::int64_t kT1 = kOctober.begin + 5 * 86400 + 36000;  // 2026-10-06T10:00:00Z
const std::int64_t kT2 = kT1 + 86400;
const std::int64_t kT3 = kT2 + 86400;

}  // namespace

TEST_CASE("alerts: answered by an acknowledgement or by resolving within 30 min") {
  AlertMonth m;
  SUBCASE("acknowledged within 30 min, resolved later: bonus") {
    m.Incident(1, "gateway", kT1, kT1 + 7200);
    m.Ack(1, kT1 + 240, "ada", "telegram");
    const MonthStatement s = m.Statement();
    CHECK(Bonus(Of(s, "op"), "incidents").earned);
    CHECK(Bonus(Of(s, "op"), "incidents").amount == 20);
    const AlertSummary& a = Of(s, "op").alerts;
    REQUIRE(a.lines.size() == 1);
    CHECK(a.lines[0].answer == AlertAnswer::kAcknowledged);
    CHECK(a.lines[0].answered_after_s == 240);
    CHECK(a.lines[0].figure == "acknowledged by ada via telegram after 4m");
    // The uptime report's own figure is unchanged: resolved within 30 min, it was not.
    CHECK(Uptime(m.source, kOctober).nodes[0].figures.incidents_resolved_in_30m == 0);
  }
  SUBCASE("acknowledged after 30 min but resolved within: bonus") {
    m.Incident(2, "tmux", kT1, kT1 + 720);
    m.Ack(2, kT1 + 2700, "hermes", "cli");
    const MonthStatement s = m.Statement();
    CHECK(Bonus(Of(s, "op"), "incidents").earned);
    const AlertLine& line = Of(s, "op").alerts.lines.at(0);
    CHECK(line.answer == AlertAnswer::kResolved);
    CHECK(line.answered_after_s == 720);
    CHECK(line.figure == "resolved after 12m; acknowledged by hermes via cli after 45m");
  }
  SUBCASE("neither acknowledged nor resolved within 30 min: no bonus") {
    m.Incident(3, "disk", kT1, kT1 + 1801);
    m.Ack(3, kT1 + 1801, "ada", "telegram");
    m.Incident(4, "cron", kT2, std::nullopt);
    const MonthStatement s = m.Statement();
    CHECK_FALSE(Bonus(Of(s, "op"), "incidents").earned);
    CHECK(Bonus(Of(s, "op"), "incidents").amount == 0);
    CHECK(Bonus(Of(s, "op"), "incidents").figure ==
          "0 of 2 critical alerts answered within 30 min (0 acknowledged, 0 resolved)");
    const AlertSummary& a = Of(s, "op").alerts;
    CHECK(a.lines[0].figure ==
          "not answered within 30m (acknowledged by ada via telegram after 30m01s; resolved "
          "after 30m01s)");
    CHECK(a.lines[1].figure == "not answered within 30m (still open)");
    CHECK_FALSE(a.lines[1].answered_after_s.has_value());
  }
  SUBCASE("exactly 30 min is within; the earlier of the two answers") {
    m.Incident(5, "gateway", kT1, kT1 + 600);
    m.Ack(5, kT1 + 1800, "ada", "telegram");
    m.Incident(6, "tmux", kT2, kT2 + 1800);
    m.Ack(6, kT2 + 60, "bo", "receiver");
    const AlertSummary a = Of(m.Statement(), "op").alerts;
    CHECK(a.answered == 2);
    CHECK(a.lines[0].answer == AlertAnswer::kResolved);  // closed at 10m, acked at 30m
    CHECK(a.lines[1].answer == AlertAnswer::kAcknowledged);
    CHECK(a.lines[1].figure == "acknowledged by bo via receiver after 1m");
  }
  SUBCASE("an acknowledgement at exactly 30 min answers; a second later does not") {
    m.Incident(7, "gateway", kT1, std::nullopt);
    m.Ack(7, kT1 + 1800, "ada", "telegram");
    m.Incident(8, "tmux", kT2, std::nullopt);
    m.Ack(8, kT2 + 1801, "ada", "telegram");
    const AlertSummary a = Of(m.Statement(), "op").alerts;
    CHECK(a.lines[0].answer == AlertAnswer::kAcknowledged);
    CHECK(a.lines[0].figure == "acknowledged by ada via telegram after 30m");
    CHECK(a.lines[1].answer == AlertAnswer::kNotAnswered);
    CHECK(a.answered == 1);
  }
}

TEST_CASE("alerts: MTTA and MTTR on a known set") {
  AlertMonth m;
  m.Incident(1, "gateway", kT1, kT1 + 7200);  // acked after 4m, closed after 2h
  m.Ack(1, kT1 + 240, "ada", "telegram");
  m.Ack(1, kT1 + 600, "bo", "cli");       // a second ack: the first one counts
  m.Incident(2, "tmux", kT2, kT2 + 720);  // acked after 45m, closed after 12m
  m.Ack(2, kT2 + 2700, "ada", "cli");
  m.Incident(3, "disk", kT3, kT3 + 3600);           // never acked, closed after 1h
  m.Incident(4, "cron", kT3 + 7200, std::nullopt);  // open, acked after 90 s
  m.Ack(4, kT3 + 7200 + 90, "ada", "telegram");
  const AlertSummary a = Of(m.Statement(), "op").alerts;
  CHECK(a.alerts == 4);
  CHECK(a.answered == 3);  // 1 and 4 acknowledged, 2 resolved; 3 neither
  CHECK(a.acknowledged == 2);
  CHECK(a.resolved == 1);
  CHECK(a.mtta_alerts == 3);
  CHECK(a.mtta_s == (240 + 2700 + 90 + 1) / 3);  // 1010 s
  CHECK(a.mttr_alerts == 3);
  CHECK(a.mttr_s == (7200 + 720 + 3600) / 3);  // 3840 s
  CHECK(FormatDuration(*a.mtta_s) == "16m50s");
  CHECK(FormatDuration(*a.mttr_s) == "1h04m");
  // No alerts at all: no means.
  AlertMonth quiet;
  const AlertSummary none = Of(quiet.Statement(), "op").alerts;
  CHECK_FALSE(none.mtta_s.has_value());
  CHECK_FALSE(none.mttr_s.has_value());
  CHECK(Bonus(Of(quiet.Statement(), "op"), "incidents").figure == "no critical incidents");
}

TEST_CASE("alerts: a late acknowledgement is marked; the late-minutes policy decides") {
  AlertMonth m;
  m.Incident(1, "gateway", kT1, std::nullopt);
  m.Ack(1, kT1 + 300, "ada", "telegram", 3600);  // received an hour later: from the spool
  SUBCASE("counted by default, marked late") {
    const MonthStatement s = m.Statement();
    CHECK(Bonus(Of(s, "op"), "incidents").earned);
    CHECK(Bonus(Of(s, "op"), "incidents").figure ==
          "1 of 1 critical alerts answered within 30 min (1 acknowledged, 0 resolved; 1 late "
          "acknowledgement counted)");
    const AlertLine& line = Of(s, "op").alerts.lines.at(0);
    CHECK(line.ack_counted);
    CHECK_FALSE(line.ack->live);
    CHECK(line.figure == "acknowledged by ada via telegram after 5m (late: from the spool)");
    CHECK(Of(s, "op").alerts.late_acks == 1);
    CHECK(Of(s, "op").alerts.mtta_s == 300);
  }
  SUBCASE("not counted when late records do not count: shown, not used") {
    const MonthStatement s = m.Statement({false});
    CHECK_FALSE(Bonus(Of(s, "op"), "incidents").earned);
    CHECK(Bonus(Of(s, "op"), "incidents").figure.ends_with("1 late acknowledgement not counted)"));
    const AlertLine& line = Of(s, "op").alerts.lines.at(0);
    CHECK_FALSE(line.ack_counted);
    CHECK(line.figure ==
          "not answered within 30m (acknowledged by ada via telegram after 5m (late: not "
          "counted); still open)");
    CHECK_FALSE(Of(s, "op").alerts.mtta_s.has_value());
  }
  SUBCASE("a live acknowledgement after the late one counts then") {
    m.Ack(1, kT1 + 900, "bo", "cli");
    const AlertLine line = Of(m.Statement({false}), "op").alerts.lines.at(0);
    CHECK(line.answer == AlertAnswer::kAcknowledged);
    CHECK(line.figure == "acknowledged by bo via cli after 15m");
  }
  SUBCASE("live and late copies of one acknowledgement (two epochs): live") {
    m.Ack(1, kT1 + 300, "ada", "telegram", 5);
    const AlertSummary a = Of(m.Statement({false}), "op").alerts;
    CHECK(a.lines.at(0).ack->live);
    CHECK(a.answered == 1);
    CHECK(a.late_acks == 0);
  }
  SUBCASE("live is judged with the report's allowance, as minutes are") {
    const MonthUptime wide = Uptime(m.source, kOctober, 7200);
    CHECK(wide.nodes[0].alerts.at(0).acks.at(0).live);
    CHECK_FALSE(Uptime(m.source, kOctober).nodes[0].alerts.at(0).acks.at(0).live);
  }
}

TEST_CASE("alerts: acks find their incident by id, across the month's end and lost ids") {
  AlertMonth m;
  // Ids start again at 1 after a lost history: an ack goes to the latest incident of its id
  // opened at or before it.
  m.Incident(1, "gateway", kT1, kT1 + 7200);
  m.Incident(1, "tmux", kT2, std::nullopt);
  m.Ack(1, kT2 + 120, "ada", "telegram");
  m.Ack(9, kT2 + 60, "ada", "telegram");  // no incident 9: nothing to answer
  m.Ack(1, kT1 - 60, "ada", "telegram");  // before any incident 1 opened
  // Opened 10 min before the month's end, acknowledged 5 min into November.
  m.Incident(2, "disk", kOctober.end - 600, std::nullopt);
  m.Ack(2, kOctober.end + 300, "bo", "cli");
  // Acknowledged 40 min into November: read no more (only the 30 min that decide).
  m.Incident(3, "cron", kOctober.end - 60, std::nullopt);
  m.Ack(3, kOctober.end + 2400, "bo", "cli");
  const MonthUptime uptime = Uptime(m.source, kOctober);
  const auto& alerts = uptime.nodes.at(0).alerts;
  REQUIRE(alerts.size() == 4);
  CHECK(alerts[0].check == "gateway");
  CHECK(alerts[0].acks.empty());
  CHECK(alerts[1].check == "tmux");
  REQUIRE(alerts[1].acks.size() == 1);
  CHECK(alerts[1].acks[0].at == kT2 + 120);
  CHECK(alerts[2].acks.size() == 1);
  CHECK(alerts[3].acks.empty());
  const AlertSummary a = ComputeStatement(uptime, m.source.registry, {}).operators.at(0).alerts;
  CHECK(a.lines[2].figure == "acknowledged by bo via cli after 15m");
  CHECK(a.answered == 2);
}

TEST_CASE("report formats: the statement lists alerts, MTTA and MTTR in every format") {
  AlertMonth m;
  m.Incident(1, "gateway", kT1, kT1 + 7200);
  m.Ack(1, kT1 + 240, "ada, \"the\" first", "telegram", 3600);
  m.Incident(2, "tmux", kT2, kT2 + 720);
  const MonthStatement s = m.Statement();
  const std::string table = StatementToTable(s);
  CHECK(table.find("  alert       n incident 1 (gateway, opened 2026-10-06T10:00:00Z): "
                   "acknowledged by ada, \"the\" first via telegram after 4m (late: from the "
                   "spool)\n") != std::string::npos);
  CHECK(table.find("  alert       n incident 2 (tmux, opened 2026-10-07T10:00:00Z): resolved "
                   "after 12m\n") != std::string::npos);
  CHECK(table.find("  alert times MTTA 4m over 1 acknowledged, MTTR 1h06m over 2 resolved\n") !=
        std::string::npos);
  CHECK(table.find("late acknowledgements toward the alert bonus") != std::string::npos);
  const std::string csv = StatementToCsv(s);
  CHECK(csv.find("op,alert,\"n incident 1 (gateway, opened 2026-10-06T10:00:00Z): acknowledged "
                 "by ada, \"\"the\"\" first via telegram after 4m (late: from the spool)\",true,"
                 "0.00\n") != std::string::npos);
  CHECK(csv.find("op,alert_times,\"MTTA 4m over 1 acknowledged, MTTR 1h06m over 2 resolved\",,"
                 "0.00\n") != std::string::npos);
  const auto json = StatementToJson(s);
  const auto& alerts = json["operators"][0]["alerts"];
  CHECK(alerts["alerts"] == 2);
  CHECK(alerts["answered"] == 2);
  CHECK(alerts["mtta_seconds"] == 240);
  CHECK(alerts["mttr_seconds"] == (7200 + 720) / 2);
  CHECK(alerts["late_acks"] == 1);
  CHECK(alerts["list"][0]["answer"] == "acknowledged");
  CHECK(alerts["list"][0]["answered_after_seconds"] == 240);
  CHECK(alerts["list"][0]["ack"]["late"] == true);
  CHECK(alerts["list"][0]["ack"]["counted"] == true);
  CHECK(alerts["list"][0]["ack"]["at"] == "2026-10-06T10:04:00Z");
  CHECK(alerts["list"][1]["answer"] == "resolved");
  CHECK(alerts["list"][1]["ack"].is_null());
  CHECK(alerts["list"][1]["closed"] == "2026-10-07T10:12:00Z");
  CHECK(json["late_acks_count"] == true);
  const auto quiet = StatementToJson(AlertMonth().Statement());
  CHECK(quiet["operators"][0]["alerts"]["mtta_seconds"].is_null());
  CHECK(quiet["operators"][0]["alerts"]["list"].empty());
}

TEST_CASE("alerts: while the receiver alerts, its sent alerts are the month's alerts") {
  AlertMonth m;
  // The receiver looked after the node from the 6th on.
  m.source.alerting["n"] = {kT1 - 3600, kOctober.end + 3600};
  // Before: an incident the node alerted of on its own, counted as ever.
  m.Incident(1, "disk", kT1 - 86400, kT1 - 86400 + 600);
  // An incident the receiver never alerted of (closed before confirm): no alert.
  m.Incident(2, "tmux", kT1, kT1 + 20);
  // An incident the receiver alerted of, acknowledged by a button at the receiver after 4m.
  m.Incident(3, "gateway", kT2, kT2 + 7200);
  m.source.sent["n"].push_back(
      {17, {"gateway"}, {3}, false, kT2, kT2 + 30, kT2 + 7200, kT2 + 240, "@ada", "telegram"});
  // A silent node, resolved when its heartbeats came back 10 minutes after it went quiet.
  m.source.sent["n"].push_back(
      {18, {"silent"}, {}, true, kT3, kT3 + 180, kT3 + 600, std::nullopt, "", ""});
  // A second incident alert, answered by the node's own ack record naming its incident.
  m.Incident(5, "cron", kT3 + 7200, std::nullopt);
  m.Ack(5, kT3 + 7200 + 300, "hermes", "cli");
  m.source.sent["n"].push_back(
      {19, {"cron"}, {5}, false, kT3 + 7200, kT3 + 7230, std::nullopt, std::nullopt, "", ""});
  MonthStatement s = m.Statement();
  const AlertSummary& a = Of(s, "op").alerts;
  REQUIRE(a.lines.size() == 4);
  CHECK_FALSE(a.lines[0].alert.has_value());
  CHECK(a.lines[0].incident == 1);
  CHECK(a.lines[0].answer == AlertAnswer::kResolved);
  CHECK(a.lines[1].alert == 17);
  CHECK(a.lines[1].answer == AlertAnswer::kAcknowledged);
  CHECK(a.lines[1].figure == "acknowledged by @ada via telegram after 4m");
  CHECK(a.lines[2].alert == 18);
  CHECK(a.lines[2].silent);
  CHECK(a.lines[2].check == "silent");
  CHECK(a.lines[2].figure == "resolved after 10m");
  CHECK(a.lines[3].alert == 19);
  CHECK(a.lines[3].figure == "acknowledged by hermes via cli after 5m");
  CHECK(a.answered == 4);
  CHECK(Bonus(Of(s, "op"), "incidents").earned);
  // The table names the receiver's alert by its number.
  const std::string table = StatementToTable(s);
  CHECK(table.find("n alert 18 (silent, opened " + FormatUtc(kT3) + "): resolved after 10m") !=
        std::string::npos);
  const auto json = StatementToJson(s)["operators"][0]["alerts"]["list"];
  CHECK(json[2]["alert"] == 18);
  CHECK(json[2]["incident"].is_null());
  CHECK(json[2]["silent"] == true);
  CHECK(json[0]["alert"].is_null());
  // A silent alert nobody answered within 30 minutes costs the bonus.
  m.source.sent["n"][1].resolved = kT3 + 3600;
  s = m.Statement();
  CHECK_FALSE(Bonus(Of(s, "op"), "incidents").earned);
  CHECK(Of(s, "op").alerts.lines[2].figure == "not answered within 30m (resolved after 1h00m)");
}
