// The statement's alert figures from what the receiver's alerting really wrote, through the
// real report sources, on both stores: records stored, the alert worker run on a fake clock,
// an acknowledgement pressed at the receiver, a silent node; then `statement` reads the
// receiver's sent alerts (not the incident it never told of) with how each was answered.
#include <doctest/doctest.h>

#include "receiver/alerts/alert_requests.h"
#include "receiver/alerts/alert_worker.h"
#include "receiver/report/statement.h"
#include "receiver/report/uptime_report.h"
#include "receiver/store/open_report_source.h"
#include "tests/receiver/alert_world.h"

namespace fleet::receiver {
namespace {

using testing::kT0;

TEST_CASE_TEMPLATE("statement: the receiver's sent alerts, answered at the receiver or not", Maker,
                   FLEET_RECEIVER_STORES) {
  testing::AlertWorld<Maker> w;
  w.AddNode("vps-1", "op-1");
  w.Channels("op-1", "-100", std::nullopt);
  WorkerSettings settings;
  settings.policy.confirm = 30;
  settings.telegram = true;
  settings.foundation = {"foundation.telegram"};
  AlertWorker worker(*w.link, "worker", settings);
  auto step = [&](std::int64_t at) {
    auto done = worker.Step(at);
    REQUIRE_MESSAGE(done.ok(), (done ? "" : done.error()));
  };
  std::int64_t t = kT0;
  w.Beat("vps-1", t - 120);
  step(t);
  // An incident closed before confirm: never told, no alert.
  w.Incident("vps-1", 1, "tmux", t, std::nullopt);
  step(t + 1);
  w.Incident("vps-1", 1, "tmux", t, t + 10);
  step(t + 11);
  // An incident told, acknowledged by a press 4 minutes after it opened.
  t += 600;
  w.Beat("vps-1", t - 120, t - 59);
  w.Incident("vps-1", 2, "gateway", t, std::nullopt);
  step(t + 30);
  REQUIRE(AlertRequests(*w.link)
              .Ask({1, "@ada", "telegram", t + 240, std::nullopt, 7, "-100"}, t + 240)
              .ok());
  w.Beat("vps-1", t + 120, t + 181);
  step(t + 241);
  w.Incident("vps-1", 2, "gateway", t, t + 3000);
  w.Beat("vps-1", t + 2940, t + 3001);
  step(t + 3001);
  // Silent from t + 3001 on, for 40 minutes: nobody answered within 30.
  step(t + 3001 + 180);
  step(t + 3001 + 2400);
  w.Beat("vps-1", t + 5400, t + 5401);
  step(t + 5402);
  REQUIRE(w.Count("SELECT count(*) FROM alert_history") == 2);

  auto source = OpenReportSource(w.maker.Db());
  REQUIRE_MESSAGE(source.ok(), (source ? "" : source.error()));
  auto registry = (*source)->LoadRegistry();
  REQUIRE(registry.ok());
  registry->operators.push_back({"op-1", "Ada", kT0 - 86400 * 200});
  auto uptime = ComputeUptime(**source, *registry, *ParseMonth("2026-10"), 600);
  REQUIRE_MESSAGE(uptime.ok(), (uptime ? "" : uptime.error()));
  const MonthStatement s = ComputeStatement(*uptime, *registry, {});
  REQUIRE(s.operators.size() == 1);
  const AlertSummary& a = s.operators[0].alerts;
  REQUIRE(a.lines.size() == 2);
  CHECK(a.lines[0].alert == 1);
  CHECK(a.lines[0].check == "gateway");
  CHECK(a.lines[0].incident == 2);
  CHECK(a.lines[0].answer == AlertAnswer::kAcknowledged);
  CHECK(a.lines[0].figure == "acknowledged by @ada via telegram after 4m");
  CHECK(a.lines[1].alert == 2);
  CHECK(a.lines[1].silent);
  CHECK(a.lines[1].opened == t + 3001);
  CHECK(a.lines[1].closed == t + 5401);
  CHECK(a.lines[1].answer == AlertAnswer::kNotAnswered);
  CHECK(a.lines[1].figure == "not answered within 30m (resolved after 40m)");
  CHECK(a.mtta_s == 240);
  CHECK(a.mttr_s == (3000 + 2400) / 2);
}

}  // namespace
}  // namespace fleet::receiver
