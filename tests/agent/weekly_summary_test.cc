#include "agent/alerts/weekly_summary.h"

#include <doctest/doctest.h>

#include "agent/alerts/alerter.h"
#include "alerting/alert_json.h"
#include "alerting/alert_text.h"
#include "tests/support/temp_dir.h"

using namespace fleet;

namespace {

UnixSeconds At(const char* text) { return *ParseUtcSeconds(text); }

}  // namespace

TEST_CASE("the weekly summary is due Monday before 09:00 UTC, once, for the week that ended") {
  // 2026-12-07 is a Monday (ISO week 50); the week before is 2026-W49.
  auto due = WeeklySummaryDue(At("2026-12-07T00:00:00Z"), "");
  REQUIRE(due);
  CHECK(due->label == "2026-W49");
  CHECK(due->begin == At("2026-11-30T00:00:00Z"));
  CHECK(due->end == At("2026-12-07T00:00:00Z"));
  CHECK(WeeklySummaryDue(At("2026-12-07T08:59:59Z"), "2026-W48"));
  CHECK(!WeeklySummaryDue(At("2026-12-07T08:59:59Z"), "2026-W49"));  // sent already
  CHECK(!WeeklySummaryDue(At("2026-12-07T09:00:00Z"), ""));          // too late this week
  CHECK(!WeeklySummaryDue(At("2026-12-06T23:59:59Z"), ""));          // Sunday
  CHECK(!WeeklySummaryDue(At("2026-12-09T03:00:00Z"), ""));          // Wednesday
  // Across a year: Monday 2027-01-04 is week 1 of 2027; the week before is 2026-W53.
  auto new_year = WeeklySummaryDue(At("2027-01-04T06:00:00Z"), "2026-W52");
  REQUIRE(new_year);
  CHECK(new_year->label == "2026-W53");
}

TEST_CASE("the summary: a headline and a line per figure, no status word, no button") {
  MetricsReport report;
  report.node = "vps-fra-03";
  report.period = *ParseIsoWeek("2026-W49");
  report.now = report.period.end;
  report.minutes = 10080;
  report.counts = {10070, 10};
  report.uptime_percent = 99.9;
  report.uptime_on_track = true;
  report.tasks_ok = 330;
  report.tasks_failed = 6;
  report.completion_percent = 98.2;
  report.completion_on_track = true;
  report.incidents.push_back({1, "gateway", report.period.begin + 3600,
                              report.period.begin + 3600 + 720, "unit failed", std::nullopt});
  report.worst_incident = 0;
  report.incidents_on_track = true;
  report.disks.push_back({"/", 61.0, 38ull << 30, std::nullopt});
  const alerting::Alert alert = WeeklySummary(report);
  const alerting::AlertText text = alerting::TextOf(alert);
  CHECK(text.title == "Weekly report: vps-fra-03, 2026-W49");
  CHECK(text.summary.find("uptime: 99.90% (10070 of 10080 minutes up, 0 unmeasured); > 99.5%: "
                          "on track") != std::string::npos);
  CHECK(text.summary.find("tasks: 330 done, 6 failed, completion 98.20%") != std::string::npos);
  CHECK(text.summary.find("incidents: 1 critical, worst gateway for 12m") != std::string::npos);
  CHECK(text.summary.find("disk: / 61% used, 38 GiB free") != std::string::npos);
  CHECK(text.lines.empty());
  CHECK(alert.key.empty());  // nothing to acknowledge
}

TEST_CASE("the summary goes to Telegram and Discord, not to a machine's webhook") {
  fleet::testing::TempDir dir;
  AlertSettings settings;
  settings.channels.telegram = TelegramSettings{};
  settings.channels.webhook = WebhookSettings{};
  auto ledger = AlertLedger::Open(dir.path(), false);
  REQUIRE(ledger);
  auto alerter = Alerter::Open(std::move(ledger).value(), "vps-1", settings);
  REQUIRE(alerter);
  alerting::Alert report;
  report.headline = "Weekly report: vps-1, 2026-W49";
  auto queued = (*alerter)->QueueReport(report, 1000);
  REQUIRE(queued);
  CHECK(*queued);
  auto telegram = (*alerter)->ledger().NextDue("telegram", 1000);
  REQUIRE(telegram);
  REQUIRE(*telegram);
  CHECK((*telegram)->notice == "report");
  auto back = alerting::AlertFromJson(nlohmann::json::parse((*telegram)->alert_json));
  REQUIRE(back);
  CHECK(back->headline == report.headline);
  auto webhook = (*alerter)->ledger().NextDue("webhook", 1000);
  REQUIRE(webhook);
  CHECK(!*webhook);
}
