// The weekly report (agent/report/metrics_report.h) shows what the remedies did: each
// remediation under the incident it belongs to, the rest and the counts by outcome below,
// and all of them in the JSON; a week without any shows nothing more.
#include <doctest/doctest.h>

#include "agent/report/metrics_report.h"
#include "base/utc_time.h"

using namespace fleet;

TEST_CASE("report: remediations under their incident, counted by outcome") {
  const Period week = *ParseIsoWeek("2026-W49");
  const UnixSeconds now = week.begin + 3 * 86400;
  IncidentEntry incident{7, "gateway", week.begin + 3600, week.begin + 3606, "gateway failed", {}};
  MetricsReport r = ComputeReport("node-1", week, now, MinuteCounts{}, {}, {incident}, {});
  const std::string plain = FormatReport(r);
  CHECK(plain.find("Remedies") == std::string::npos);
  CHECK(ReportToJson(r)["remediations"].empty());

  RemediationEntry restart;
  restart.check = "gateway";
  restart.target = "hermes-gateway.service";
  restart.action = protocol::RemedyAction::kRestartUnit;
  restart.reason = "failed";
  restart.started = week.begin + 3601;
  restart.finished = week.begin + 3603;
  restart.outcome = protocol::RemedyOutcome::kSucceeded;
  restart.changed = "restart job done; active (running)";
  restart.incident = 7;
  RemediationEntry dry = restart;
  dry.target = "BURN2";
  dry.check = "tmux";
  dry.action = protocol::RemedyAction::kCreateSession;
  dry.outcome = protocol::RemedyOutcome::kDryRun;
  dry.changed.reset();
  dry.incident.reset();
  r.remediations = {restart, dry};
  const std::string text = FormatReport(r);
  CHECK(text.find("gateway failed\n      fixed by the agent: " + FormatUtc(restart.started) +
                  "  restart_unit hermes-gateway.service: succeeded (attempt 1), restart job "
                  "done; active (running)\n") != std::string::npos);
  CHECK(text.find("Remedies    2 action(s): 1 dry_run, 1 succeeded\n  " + FormatUtc(dry.started) +
                  "  create_session BURN2: dry_run (attempt 1)\n") != std::string::npos);
  const auto json = ReportToJson(r)["remediations"];
  REQUIRE(json.size() == 2);
  CHECK(json[0]["incident"] == 7);
  CHECK(json[1]["incident"].is_null());
  CHECK(json[1]["outcome"] == "dry_run");
}
