// The fleet page (fleet_page.h) on a SQLite store of signed records: each node's state now
// (live, late, silent, never seen) and last heartbeat's age, month-to-date uptime equal to
// ComputeUptime's over the same period, the downtime budget (216 minutes in a 30-day month,
// less what did not count up so far, overspent below zero), open incidents with their
// acknowledgement, task completion; hostile names escaped; an operator's view holds nothing of
// another operator.
#include <doctest/doctest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "base/utc_time.h"
#include "receiver/report/uptime_report.h"
#include "receiver/web/fleet_page.h"
#include "tests/receiver/web_world.h"

namespace fleet::receiver {
namespace {

using testing::WebWorld;
using testing::WebWorldOf;

const std::int64_t kNovember = *ParseUtcSeconds("2026-11-01T00:00:00Z");
const std::int64_t kNow = *ParseUtcSeconds("2026-11-02T12:00:30Z");
const std::int64_t kMinuteNow = kNow - 30;
const std::string kHostileName = "<script>alert('op')</script>";
const std::string kHostileCheck = "<img src=x onerror=alert(1)>";

template <typename Maker>
struct FleetOf {
  WebWorldOf<Maker> world;
  FleetOf() {
    world.Operator("op-7", kHostileName, kNovember - 200 * 86400);
    world.Operator("op-8", "Eight", kNovember - 200 * 86400);
    for (const char* node : {"n-live", "n-late", "n-silent", "n-never"}) {
      world.Node(node, "op-7", kNovember - 86400);
    }
    world.Node("n-8", "op-8", kNovember + 86400);  // added on the 2nd
    // n-live: every minute to the last one ended, 10 down at 10:00 on the 1st, a gap of 30
    // unmeasured at 20:00, 5 late (from a spool, an hour later).
    const std::int64_t down_at = kNovember + 10 * 3600;
    const std::int64_t gap_at = kNovember + 20 * 3600;
    const std::int64_t late_at = kNovember + 22 * 3600;
    world.Beats("n-live", kNovember, down_at);
    world.Beats("n-live", down_at, down_at + 600, false);
    world.Beats("n-live", down_at + 600, gap_at);
    world.Beats("n-live", gap_at + 1800, late_at);
    world.Beats("n-live", late_at, late_at + 300, true, 3600);
    world.Beats("n-live", late_at + 300, kMinuteNow - 60);
    // n-late: its last minute ended 150 s ago; n-silent: nothing since the 1st at noon.
    world.Beats("n-late", kNovember, kMinuteNow - 120);
    world.Beats("n-silent", kNovember, kNovember + 12 * 3600);
    world.Beats("n-8", kNovember + 86400, kMinuteNow - 60);
    // Incidents of n-live: #1 open (hostile check and summary) acknowledged by ada, #2 opened
    // and closed; n-late: #1 open, not acknowledged.
    // #3 opened and closed two months ago: long over, no open alert.
    world.Put("n-live", protocol::Incident{3, "gateway", kNow - 60 * 86400, std::nullopt, "old"},
              kNow - 60 * 86400, kNow - 60 * 86400 + 10);
    world.Put("n-live",
              protocol::Incident{3, "gateway", kNow - 60 * 86400, kNow - 59 * 86400, "old"},
              kNow - 59 * 86400, kNow - 59 * 86400 + 10);
    world.Put("n-live", protocol::Incident{1, kHostileCheck, kNow - 7200, std::nullopt, "<b>x</b>"},
              kNow - 7200, kNow - 7190);
    world.Put("n-live", protocol::Ack{1, kNow - 7000, "ada", protocol::AckVia::kTelegram, "on it"},
              kNow - 7000, kNow - 6990);
    world.Put("n-live", protocol::Incident{2, "disk", kNow - 5000, std::nullopt, "full"},
              kNow - 5000, kNow - 4990);
    world.Put("n-live", protocol::Incident{2, "disk", kNow - 5000, kNow - 4000, "full"},
              kNow - 4000, kNow - 3990);
    world.Put("n-late", protocol::Incident{1, "tmux", kNow - 600, std::nullopt, "gone"}, kNow - 600,
              kNow - 590);
    // Tasks of n-live: 3 ok, 1 failed.
    for (int i = 0; i < 4; ++i) {
      world.Put("n-live",
                protocol::TaskRun{"job-" + std::to_string(i), "job", kNovember + 3600 * (i + 1),
                                  i != 2, i != 2 ? std::nullopt : std::optional<std::string>("x")},
                kNovember + 3600 * (i + 1) + 10, kNovember + 3600 * (i + 1) + 20);
    }
    world.Commit();
  }
};
using Fleet = FleetOf<testing::SqliteStoreMaker>;

struct Reads {
  std::unique_ptr<RegistrySource> source;
  std::unique_ptr<SqlLink> link;
  WebReads reads;
  Reads(const std::string& db, PayoutPolicy policy = {})
      : source(OpenReportSource(db).value()),
        link(OpenSqlLink(db).value()),
        reads{*source, *link, kNow, 180, kLiveWithinSeconds, policy} {}
};

const FleetNode& NodeOf(const FleetView& view, const std::string& node) {
  for (const auto& op : view.operators) {
    for (const auto& n : op.nodes) {
      if (n.node == node) return n;
    }
  }
  FAIL("no node " << node);
  throw;
}

TEST_CASE("fleet page: states, uptime as ComputeUptime's, budget, alerts, tasks") {
  Fleet fleet;
  Reads r(fleet.world.Db());
  const Viewer admin{std::nullopt, "t-admin"};
  auto view = ReadFleet(r.reads, admin);
  REQUIRE_MESSAGE(view.ok(), (view ? "" : view.error()));
  CHECK(view->to_date.begin == kNovember);
  CHECK(view->to_date.end == kMinuteNow);
  REQUIRE(view->operators.size() == 2);

  const FleetNode& live = NodeOf(*view, "n-live");
  CHECK(live.state == NodeState::kLive);
  CHECK(live.age_s == 90);  // its last minute ended 60 s before the minute of now, +30 s
  CHECK(NodeOf(*view, "n-late").state == NodeState::kLate);
  CHECK(NodeOf(*view, "n-late").age_s == 150);
  CHECK(NodeOf(*view, "n-silent").state == NodeState::kSilent);
  CHECK(NodeOf(*view, "n-never").state == NodeState::kNeverSeen);
  CHECK_FALSE(NodeOf(*view, "n-never").age_s.has_value());

  // The same month to date through ComputeUptime directly.
  auto registry = r.source->LoadRegistry();
  REQUIRE(registry.ok());
  const Period to_date{kNovember, kMinuteNow, "2026-11"};
  auto uptime = ComputeUptime(*r.source, *registry, to_date, kLiveWithinSeconds);
  REQUIRE(uptime.ok());
  for (const auto& expected : uptime->nodes) {
    CAPTURE(expected.node);
    const FleetNode& got = NodeOf(*view, expected.node);
    CHECK(got.figures.minutes == expected.figures.minutes);
    CHECK(got.figures.up == expected.figures.up);
    CHECK(got.figures.down == expected.figures.down);
    CHECK(got.figures.unmeasured == expected.figures.unmeasured);
    CHECK(got.uptime_percent == doctest::Approx(expected.figures.UptimePercent(true)));
  }
  // n-live by hand: 36 h to the current minute's start, 2160 minutes; 10 down; 30 unmeasured
  // in the gap and the last minute (not reported yet): 31; 5 late.
  CHECK(live.figures.minutes == 2160);
  CHECK(live.figures.down == 10);
  CHECK(live.figures.unmeasured == 31);
  CHECK(live.figures.up_late == 5);
  CHECK(live.budget_minutes == 216);  // 0.5% of 43200
  CHECK(live.budget_left == 216 - 41);
  // n-silent: unmeasured since noon on the 1st, far over the budget.
  CHECK(NodeOf(*view, "n-silent").budget_left == 216 - (2160 - 720));
  // n-8, added on the 2nd: 29 days in the month.
  CHECK(NodeOf(*view, "n-8").budget_minutes == 208);  // floor(0.005 * 41760)
  CHECK(live.figures.task_runs == 4);
  CHECK(live.figures.TaskCompletionPercent() == doctest::Approx(75.0));

  // Open alerts: #1 acknowledged by ada; #2 closed and #3 closed long ago are not listed; n-late's
  // #1 not acknowledged.
  REQUIRE(live.open_alerts.size() == 1);
  CHECK(live.open_alerts[0].what == kHostileCheck);
  REQUIRE(live.open_alerts[0].ack.has_value());
  CHECK(live.open_alerts[0].ack->by == "ada");
  CHECK(live.open_alerts[0].ack->via == "telegram");
  REQUIRE(NodeOf(*view, "n-late").open_alerts.size() == 1);
  CHECK_FALSE(NodeOf(*view, "n-late").open_alerts[0].ack.has_value());

  // Late minutes not counted: they use the budget too.
  Reads strict(fleet.world.Db(), PayoutPolicy{false});
  auto strict_view = ReadFleet(strict.reads, admin);
  REQUIRE(strict_view.ok());
  CHECK(NodeOf(*strict_view, "n-live").budget_left == 216 - 46);
}

TEST_CASE("fleet page: the markup, escaped, and the JSON; an operator sees only their own") {
  Fleet fleet;
  Reads r(fleet.world.Db());
  const Viewer admin{std::nullopt, "t-admin"};
  auto page = FleetPage(r.reads, admin);
  REQUIRE(page.status == 200);
  const std::string& html = page.body;
  CHECK(html.find("<section data-operator=\"op-7\">") != std::string::npos);
  CHECK(html.find("<table class=\"fleet\">") != std::string::npos);
  CHECK(html.find("<tr data-node=\"n-live\" data-state=\"live\">") != std::string::npos);
  CHECK(html.find("<tr data-node=\"n-late\" data-state=\"late\">") != std::string::npos);
  CHECK(html.find("<tr data-node=\"n-silent\" data-state=\"silent\">") != std::string::npos);
  CHECK(html.find("<tr data-node=\"n-never\" data-state=\"never_seen\">") != std::string::npos);
  CHECK(html.find("<a href=\"/nodes/n-live\">n-live</a>") != std::string::npos);
  // 2160 - 41 = 2119 up of 2160: 98.10%.
  CHECK(html.find("<td class=\"uptime\">98.10%</td>") != std::string::npos);
  CHECK(html.find("<td class=\"budget\">175 of 216</td>") != std::string::npos);
  CHECK(html.find("(overspent)") != std::string::npos);
  CHECK(html.find("acknowledged by ada via telegram") != std::string::npos);
  CHECK(html.find("not acknowledged") != std::string::npos);
  CHECK(html.find("<td class=\"tasks\">75.00% of 4</td>") != std::string::npos);
  // Hostile text from the database is inert.
  CHECK(html.find("<script>") == std::string::npos);
  CHECK(html.find("<img") == std::string::npos);
  CHECK(html.find("<b>x") == std::string::npos);
  CHECK(html.find("&lt;script&gt;alert(&#39;op&#39;)&lt;/script&gt;") != std::string::npos);
  CHECK(html.find("&lt;img src=x onerror=alert(1)&gt;") != std::string::npos);

  auto json = nlohmann::json::parse(FleetJson(r.reads, admin).body);
  CHECK(json["month"] == "2026-11");
  REQUIRE(json["operators"].size() == 2);
  CHECK(json["operators"][0]["name"] == kHostileName);
  nlohmann::json live;
  for (const auto& node : json["operators"][0]["nodes"]) {
    if (node["node"] == "n-live") live = node;
  }
  CHECK(live["node"] == "n-live");
  CHECK(live["state"] == "live");
  CHECK(live["budget_left_minutes"] == 175);
  CHECK(live["open_alerts"][0]["acknowledged"]["by"] == "ada");

  const Viewer eight{"op-8", "t-8"};
  auto only = FleetPage(r.reads, eight);
  CHECK(only.body.find("data-node=\"n-8\"") != std::string::npos);
  CHECK(only.body.find("n-live") == std::string::npos);
  CHECK(only.body.find("alert(") == std::string::npos);
  auto only_json = nlohmann::json::parse(FleetJson(r.reads, eight).body);
  REQUIRE(only_json["operators"].size() == 1);
  CHECK(only_json["operators"][0]["operator"] == "op-8");
}

// The figures ComputeUptime gives for the month so far, node by node.
std::map<std::string, UptimeFigures> Expected(ReportSource& source, std::int64_t now) {
  auto registry = source.LoadRegistry();
  REQUIRE(registry.ok());
  auto uptime =
      ComputeUptime(source, *registry, {kNovember, now - now % 60, "2026-11"}, kLiveWithinSeconds);
  REQUIRE(uptime.ok());
  std::map<std::string, UptimeFigures> out;
  for (const auto& row : uptime->nodes) out[row.node] = row.figures;
  return out;
}

void CheckSame(const FleetView& view, const std::map<std::string, UptimeFigures>& expected) {
  for (const auto& [node, want] : expected) {
    CAPTURE(node);
    bool found = false;
    for (const auto& op : view.operators) {
      for (const auto& got : op.nodes) {
        if (got.node != node) continue;
        found = true;
        CHECK(got.figures.minutes == want.minutes);
        CHECK(got.figures.up == want.up);
        CHECK(got.figures.up_live == want.up_live);
        CHECK(got.figures.up_late == want.up_late);
        CHECK(got.figures.down == want.down);
        CHECK(got.figures.unmeasured == want.unmeasured);
        CHECK(got.figures.conflicting == want.conflicting);
        CHECK(got.figures.task_runs == want.task_runs);
        CHECK(got.figures.task_ok == want.task_ok);
      }
    }
    CHECK(found);
  }
}

TEST_CASE_TEMPLATE(
    "fleet page: the cache of settled hours gives ComputeUptime's figures as time passes", Maker,
    FLEET_RECEIVER_STORES) {
  FleetOf<Maker> fleet;
  Reads r(fleet.world.Db());
  const Viewer admin{std::nullopt, "t-admin"};
  FleetCache cache;
  auto first = ReadFleet(r.reads, admin, &cache);
  REQUIRE(first.ok());
  CheckSame(*first, Expected(*r.source, kNow));
  REQUIRE(cache.entries.count("n-live") == 1);
  CHECK(cache.entries["n-live"].until == kNow - 30 - 3600);  // 11:00, the settled hours

  // Two hours later: new live minutes, and a spool fills n-live's gap on the 1st (late) and a
  // task run of the 1st arrives for n-silent; n-late went down.
  const std::int64_t later = kNow + 7200;
  fleet.world.Beats("n-live", kMinuteNow - 60, later - 90);
  fleet.world.Beats("n-live", kNovember + 20 * 3600, kNovember + 20 * 3600 + 1800, true, 86400);
  fleet.world.Put("n-silent", protocol::TaskRun{"late-job", "job", kNovember + 600, true, {}},
                  kNovember + 660, later - 100);
  fleet.world.Beats("n-late", kMinuteNow - 120, later - 90, false);
  fleet.world.Commit();
  r.reads.now = later;
  auto second = ReadFleet(r.reads, admin, &cache);
  REQUIRE(second.ok());
  CheckSame(*second, Expected(*r.source, later));
  CHECK(NodeOf(*second, "n-live").figures.unmeasured == 1);  // the gap is filled
  CHECK(NodeOf(*second, "n-silent").figures.task_runs == 1);
  CHECK(cache.entries["n-live"].until == later - 30 - 3600);

  // Nothing new, an hour on: the settled part moves without a full read, still equal.
  r.reads.now = later + 3600;
  auto third = ReadFleet(r.reads, admin, &cache);
  REQUIRE(third.ok());
  CheckSame(*third, Expected(*r.source, later + 3600));
  // The same through a fresh read.
  auto fresh = ReadFleet(r.reads, admin);
  REQUIRE(fresh.ok());
  CheckSame(*fresh, Expected(*r.source, later + 3600));
}

TEST_CASE("fleet page: BudgetLeft") {
  UptimeFigures f;
  f.minutes = 1000;
  f.up = 900;
  f.up_live = 850;
  CHECK(BudgetLeft(43200, f, true) == 216 - 100);
  CHECK(BudgetLeft(43200, f, false) == 216 - 150);
  CHECK(BudgetLeft(44640, f, true) == 223 - 100);  // a 31-day month
  CHECK(BudgetLeft(40320, {}, true) == 201);       // 28 days, nothing yet
}

}  // namespace
}  // namespace fleet::receiver
