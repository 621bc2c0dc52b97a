// status.json and STATUS= as the daemon writes them, from facts: what `fleet-agent status`
// and the crash test read (last_evaluation), and systemd's one-line summary.
#include <doctest/doctest.h>

#include "agent/daemon/status_document.h"

using namespace fleet;
using namespace std::chrono_literals;

namespace {

StatusFacts Facts() {
  StatusFacts f;
  f.pid = 4242;
  f.node = "node-1";
  f.agent_version = "0.1.0";
  f.started = "2026-12-03T12:00:00Z";
  f.now = std::chrono::system_clock::time_point(std::chrono::seconds(1'796'300'130));
  f.ready = true;
  f.up = true;
  f.checks.push_back({"gateway", Status::kOk, "running", f.now - 3s, 1500us, true});
  f.checks.push_back({"tmux", Status::kWarning, "1 pane idle", std::nullopt, 0us, false});
  f.spool = {{"records", 3}};
  f.push = {{"state", "off"}};
  return f;
}

}  // namespace

TEST_CASE("status.json carries each check, the evaluated minute and the daemon's state") {
  StatusFacts facts = Facts();
  facts.evaluation = Evaluation{1'796'300'100 / 60, facts.now - 30s, true, false};
  const auto doc = StatusDocument(facts);
  CHECK(doc["pid"] == 4242);
  CHECK(doc["updated"] == FormatUtc(facts.now));
  CHECK(doc["ready"] == true);
  REQUIRE(doc["checks"].size() == 2);
  CHECK(doc["checks"][0]["checked_at"] == FormatUtc(facts.now - 3s));
  CHECK(doc["checks"][0]["duration_ms"] == doctest::Approx(1.5));
  CHECK(doc["checks"][1]["checked_at"].is_null());
  CHECK(doc["checks"][1]["enabled"] == false);
  CHECK(doc["last_evaluation"]["minute"] == FormatUtc(1'796'300'100 / 60 * 60));
  CHECK(doc["last_evaluation"]["heartbeat"] == "queued");
  facts.evaluation->written = true;
  CHECK(StatusDocument(facts)["last_evaluation"]["heartbeat"] == "written");
  facts.evaluation.reset();
  CHECK(StatusDocument(facts)["last_evaluation"].is_null());
  CHECK(doc["spool"]["records"] == 3);
  CHECK(doc["push"]["state"] == "off");
}

TEST_CASE("STATUS= says starting, up or DOWN, then each check") {
  StatusFacts facts = Facts();
  CHECK(StatusLine(facts) == "up gateway=ok tmux=warning");
  facts.up = false;
  CHECK(StatusLine(facts) == "DOWN gateway=ok tmux=warning");
  facts.ready = false;
  facts.checks.clear();
  CHECK(StatusLine(facts) == "starting");
}
