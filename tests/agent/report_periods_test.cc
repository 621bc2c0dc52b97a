// The report's periods with data at their edges, through the same path as `fleet-agent
// report` (Accountant -> HistoryStore -> ReadReport) with an injected clock.
#include <doctest/doctest.h>

#include <cstdlib>
#include <ctime>
#include <optional>

#include "agent/history/accountant.h"
#include "agent/history/history_store.h"
#include "agent/report/metrics_report.h"
#include "tests/support/temp_dir.h"

using namespace fleet;

namespace {

UnixSeconds At(int y, unsigned m, unsigned d, int hh = 0, int mm = 0, int ss = 0) {
  return DaysFromCivil(y, m, d) * 86400 + hh * 3600 + mm * 60 + ss;
}

constexpr std::int64_t kWeekMinutes = 7 * 1440;

// A history whose clock the test sets; the node is up (tmux OK) unless told otherwise.
struct Node {
  testing::TempDir dir;
  UnixSeconds now = 0;
  std::unique_ptr<HistoryStore> store = HistoryStore::Open(dir.path(), false, "n1", "t").value();
  Accountant accountant{*store, {"tmux"}, [this] { return RecordStamp{now, "boot", now * 1000}; }};

  explicit Node(UnixSeconds start) : now(start) {
    REQUIRE(accountant.Start().ok());
    REQUIRE(accountant.Observe(MakeResult("tmux", Status::kOk, "ok")).ok());
  }
  // The daemon's minute tick at `t`: a heartbeat for the minute holding t.
  void HeartbeatAt(UnixSeconds t) {
    now = t;
    REQUIRE(accountant.Heartbeat(MinuteOf(t), true).ok());
  }
  // The cron check seeing one more finished run of job `id`.
  void TaskRun(const std::string& id, const std::string& run_at, bool ok) {
    const auto unix = ParseRfc3339(run_at);
    REQUIRE(unix.has_value());
    CheckResult cron = MakeResult("cron", Status::kOk, "cron");
    cron.finished_runs.push_back(FinishedRun{id, id, run_at, *unix, ok, ok ? "" : "boom"});
    REQUIRE(accountant.Observe(cron).ok());
  }
  MetricsReport Report(const Period& period, UnixSeconds as_of) {
    auto report = ReadReport(*store, "n1", period, as_of);
    REQUIRE(report.ok());
    return *report;
  }
};

// Sets TZ for the test's duration (the report must not care); restores it after.
class ScopedTimeZone {
 public:
  explicit ScopedTimeZone(const char* zone) {
    if (const char* old = std::getenv("TZ")) old_ = old;
    ::setenv("TZ", zone, 1);
    ::tzset();
  }
  ~ScopedTimeZone() {
    if (old_) {
      ::setenv("TZ", old_->c_str(), 1);
    } else {
      ::unsetenv("TZ");
    }
    ::tzset();
  }

 private:
  std::optional<std::string> old_;
};

long UtcOffsetAt(UnixSeconds t) {
  std::time_t tt = t;
  std::tm tm{};
  ::localtime_r(&tt, &tm);
  return tm.tm_gmtoff;
}

}  // namespace

TEST_CASE("heartbeats at Sunday 23:59 and Monday 00:00 UTC fall in their own ISO weeks") {
  const UnixSeconds sunday = At(2026, 11, 29, 23, 59, 40);  // 2026-W48's last minute
  const UnixSeconds monday = At(2026, 11, 30, 0, 0, 0);     // 2026-W49's first
  Node node(sunday);
  node.HeartbeatAt(sunday);
  node.HeartbeatAt(monday);
  REQUIRE(IsoWeekOf(sunday).label == "2026-W48");
  REQUIRE(IsoWeekOf(monday).label == "2026-W49");

  MetricsReport w48 = node.Report(*ParseIsoWeek("2026-W48"), monday + 30);
  CHECK(w48.minutes == kWeekMinutes);
  CHECK(w48.counts.up == 1);
  CHECK(w48.counts.down == 0);
  CHECK(w48.unmeasured == kWeekMinutes - 1);
  CHECK(w48.uptime_percent == doctest::Approx(100.0 / kWeekMinutes));

  // Thirty seconds into W49: its first minute has started and was measured up.
  MetricsReport w49 = node.Report(IsoWeekOf(monday + 30), monday + 30);
  CHECK(w49.period.label == "2026-W49");
  CHECK(w49.minutes == 1);
  CHECK(w49.counts.up == 1);
  CHECK(w49.unmeasured == 0);
  CHECK(w49.uptime_percent == doctest::Approx(100.0));
  CHECK(w49.uptime_on_track);
}

TEST_CASE("a task at 23:59 on a month's last day is that month's; at 00:00 the 1st the next's") {
  Node node(At(2026, 5, 1, 0, 0, 30));
  node.TaskRun("a", "2026-04-30T23:59:00+00:00", true);
  node.TaskRun("b", "2026-05-01T01:59:59+02:00", false);  // 23:59:59Z on April 30
  node.TaskRun("c", "2026-05-01T00:00:00Z", true);
  node.HeartbeatAt(At(2026, 4, 30, 23, 59, 50));
  node.HeartbeatAt(At(2026, 5, 1, 0, 0, 10));

  MetricsReport april = node.Report(*ParseMonth("2026-04"), node.now);
  CHECK(april.minutes == 30 * 1440);
  CHECK(april.tasks_ok == 1);
  CHECK(april.tasks_failed == 1);
  REQUIRE(april.completion_percent.has_value());
  CHECK(*april.completion_percent == doctest::Approx(50.0));
  CHECK_FALSE(april.completion_on_track);
  CHECK(april.counts.up == 1);

  MetricsReport may = node.Report(*ParseMonth("2026-05"), node.now);
  CHECK(may.minutes == 1);
  CHECK(may.tasks_ok == 1);
  CHECK(may.tasks_failed == 0);
  CHECK(*may.completion_percent == doctest::Approx(100.0));
  CHECK(may.counts.up == 1);
  CHECK(may.uptime_percent == doctest::Approx(100.0));
}

TEST_CASE("February 29 of a leap year: in February, its ISO week, and not in March") {
  Node node(At(2028, 2, 28, 23, 59));
  node.HeartbeatAt(At(2028, 2, 28, 23, 59));
  node.HeartbeatAt(At(2028, 2, 29, 0, 0));
  node.HeartbeatAt(At(2028, 2, 29, 23, 59));
  node.HeartbeatAt(At(2028, 3, 1, 0, 0));
  node.TaskRun("leap", "2028-02-29T12:00:00Z", true);
  node.TaskRun("late", "2028-02-29T23:59:59Z", false);
  node.TaskRun("march", "2028-03-01T00:00:00Z", true);

  MetricsReport feb = node.Report(*ParseMonth("2028-02"), At(2028, 4, 1));
  CHECK(feb.minutes == 29 * 1440);
  CHECK(feb.counts.up == 3);
  CHECK(feb.unmeasured == 29 * 1440 - 3);
  CHECK(feb.uptime_percent == doctest::Approx(300.0 / (29 * 1440)));
  CHECK(feb.tasks_ok == 1);
  CHECK(feb.tasks_failed == 1);

  MetricsReport march = node.Report(*ParseMonth("2028-03"), At(2028, 4, 1));
  CHECK(march.minutes == 31 * 1440);
  CHECK(march.counts.up == 1);
  CHECK(march.tasks_ok == 1);
  CHECK(march.tasks_failed == 0);

  // Monday 28 February to Sunday 5 March 2028 is one ISO week holding all of it.
  REQUIRE(IsoWeekOf(At(2028, 2, 29, 12)).label == "2028-W09");
  MetricsReport week = node.Report(*ParseIsoWeek("2028-W09"), At(2028, 3, 6));
  CHECK(week.minutes == kWeekMinutes);
  CHECK(week.counts.up == 4);
  CHECK(week.tasks_ok + week.tasks_failed == 3);
}

TEST_CASE("a DST change in the process's time zone changes nothing: weeks stay 10080 minutes") {
  // Europe/Berlin leaves CET for CEST at 01:00Z on Sunday 29 March 2026 (2026-W13) and
  // goes back at 01:00Z on Sunday 25 October 2026 (2026-W43).
  const UnixSeconds switch_spring = At(2026, 3, 29, 1, 0);
  auto build = [&](Node& node) {
    // Every minute from Sunday 00:00Z to 03:00Z (local 01:00 CET to 05:00 CEST, the skipped
    // local hour 02:00-03:00 included), then Sunday 23:59Z and Monday 00:00Z.
    for (UnixSeconds t = switch_spring - 3600; t < switch_spring + 7200; t += 60) {
      node.HeartbeatAt(t + 5);
    }
    node.HeartbeatAt(At(2026, 3, 29, 23, 59, 59));
    node.HeartbeatAt(At(2026, 3, 30, 0, 0, 0));
    node.TaskRun("dst", "2026-03-29T01:30:00+01:00", true);  // 00:30Z, before the switch
  };
  const UnixSeconds as_of = At(2026, 4, 6);
  const auto figures = [&](Node& node) {
    nlohmann::json out = nlohmann::json::array();
    for (const char* week : {"2026-W13", "2026-W14", "2026-W43"}) {
      out.push_back(ReportToJson(node.Report(*ParseIsoWeek(week), as_of)));
    }
    out.push_back(ReportToJson(node.Report(*ParseMonth("2026-03"), as_of)));
    out.push_back(FormatReport(node.Report(*ParseIsoWeek("2026-W13"), as_of)));
    return out;
  };

  nlohmann::json in_utc;
  {
    ScopedTimeZone utc("UTC");
    Node node(switch_spring - 3600);
    build(node);
    in_utc = figures(node);
  }
  ScopedTimeZone berlin("Europe/Berlin");
  // The zone really took effect (tzdata present), or this test would prove nothing.
  REQUIRE(UtcOffsetAt(switch_spring - 1) == 3600);
  REQUIRE(UtcOffsetAt(switch_spring) == 7200);
  REQUIRE(UtcOffsetAt(At(2026, 10, 25, 1, 0)) == 3600);

  Period w13 = *ParseIsoWeek("2026-W13");
  CHECK(w13.begin == At(2026, 3, 23));
  CHECK(w13.end == At(2026, 3, 30));
  CHECK(w13.Minutes() == kWeekMinutes);
  CHECK(IsoWeekOf(switch_spring + 1800).label == "2026-W13");         // local 03:30, was 02:30
  CHECK(IsoWeekOf(At(2026, 3, 29, 23, 59, 59)).label == "2026-W13");  // local Monday 01:59
  CHECK(IsoWeekOf(At(2026, 3, 30)).label == "2026-W14");
  CHECK(ParseIsoWeek("2026-W43")->Minutes() == kWeekMinutes);
  CHECK(ParseMonth("2026-03")->Minutes() == 31 * 1440);
  CHECK(ParseMonth("2026-10")->Minutes() == 31 * 1440);

  Node node(switch_spring - 3600);
  build(node);
  MetricsReport week = node.Report(w13, as_of);
  CHECK(week.minutes == kWeekMinutes);
  CHECK(week.counts.up == 181);  // 180 minutes around the switch and Sunday 23:59
  CHECK(week.unmeasured == kWeekMinutes - 181);
  CHECK(week.uptime_percent == doctest::Approx(100.0 * 181 / kWeekMinutes));
  CHECK(week.tasks_ok == 1);
  // The hour Berlin skips is still 60 UTC minutes, all measured.
  CHECK(node.store->CountMinutes(switch_spring, switch_spring + 3600).value().up == 60);
  CHECK(node.Report(*ParseIsoWeek("2026-W14"), as_of).counts.up == 1);
  CHECK(node.Report(*ParseMonth("2026-03"), as_of).counts.up == 182);

  CHECK(figures(node) == in_utc);  // the same figures and text as in UTC
}
