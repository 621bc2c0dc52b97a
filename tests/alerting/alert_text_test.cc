#include "alerting/alert_text.h"

#include <doctest/doctest.h>

using namespace fleet::alerting;

namespace {

Alert Grouped() {
  Alert a;
  a.key = "7";
  a.node = "vps-fra-03";
  a.checks.push_back({"gateway", Severity::kCritical, "hermes-gateway.service failed",
                      "systemctl restart hermes-gateway"});
  a.checks.push_back({"tmux", Severity::kCritical, "session BURN is gone", ""});
  a.opened = 1764064800;
  return a;
}

}  // namespace

TEST_CASE("several checks failing together make one alert naming each") {
  const AlertText text = TextOf(Grouped());
  CHECK(text.title == "CRITICAL: gateway, tmux on vps-fra-03");
  CHECK(text.summary == "gateway: hermes-gateway.service failed\ntmux: session BURN is gone");
  REQUIRE(!text.lines.empty());
  CHECK(text.lines[0] == "Fix (gateway): systemctl restart hermes-gateway");
}

TEST_CASE("one check: its summary and fix as they are") {
  Alert a = Grouped();
  a.checks.pop_back();
  const AlertText text = TextOf(a);
  CHECK(text.title == "CRITICAL: gateway on vps-fra-03");
  CHECK(text.summary == "hermes-gateway.service failed");
  CHECK(text.lines[0] == "Fix: systemctl restart hermes-gateway");
}

TEST_CASE("reminders, escalations, tests and resolutions say so") {
  Alert a = Grouped();
  a.reminder = true;
  CHECK(TextOf(a).title.starts_with("Reminder: CRITICAL"));
  a.reminder = false;
  a.escalation = true;
  CHECK(TextOf(a).title.starts_with("Escalated: CRITICAL"));
  a.escalation = false;
  a.state = AlertState::kResolved;
  a.resolved = a.opened + 754;
  const AlertText resolved = TextOf(a);
  CHECK(resolved.title == "RESOLVED: gateway, tmux on vps-fra-03");
  CHECK(resolved.lines.back().find("after 12m") != std::string::npos);
  for (const auto& line : resolved.lines) CHECK(line.find("Fix") == std::string::npos);
}

TEST_CASE("an acknowledgement shows who, when and the note") {
  Alert a = Grouped();
  a.state = AlertState::kAcknowledged;
  a.acked_by = "alice";
  a.acked_at = a.opened + 60;
  a.ack_note = "on it";
  const AlertText text = TextOf(a);
  CHECK(text.title.starts_with("ACKNOWLEDGED"));
  bool by = false, note = false;
  for (const auto& line : text.lines) {
    by = by || line == "Acknowledged by alice at 2025-11-25T10:01:00Z";
    note = note || line == "Note: on it";
  }
  CHECK(by);
  CHECK(note);
}

TEST_CASE("what the agent did shows as Done, resolved or not; an update says so") {
  Alert a = Grouped();
  a.checks.pop_back();
  a.checks[0].done = "restarted hermes-gateway.service automatically; healthy after 6s";
  AlertText text = TextOf(a);
  CHECK(text.lines[0] == "Fix: systemctl restart hermes-gateway");
  CHECK(text.lines[1] == "Done: restarted hermes-gateway.service automatically; healthy after 6s");
  a.update = true;
  CHECK(TextOf(a).title == "Update: CRITICAL: gateway on vps-fra-03");
  a.state = AlertState::kResolved;
  a.resolved = a.opened + 6;
  text = TextOf(a);
  CHECK(text.title == "RESOLVED: gateway on vps-fra-03");  // not an update any more
  CHECK(text.lines[0] == "Done: restarted hermes-gateway.service automatically; healthy after 6s");
  // Several checks: each Done line names its check; node text is cut.
  Alert two = Grouped();
  two.checks[1].done = std::string(5000, 'x');
  text = TextOf(two);
  bool found = false;
  for (const auto& line : text.lines) {
    if (line.starts_with("Done (tmux): ")) {
      found = true;
      CHECK(line.size() <= 13 + 1000);
    }
  }
  CHECK(found);
}
