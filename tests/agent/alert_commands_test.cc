// The pure parts of the alerting commands and threads: the `fleet-agent alerts` table from
// its JSON view, and which Telegram button presses may acknowledge.
#include <doctest/doctest.h>

#include "agent/alerts/button_poller.h"
#include "agent/cli/alert_commands.h"

using namespace fleet;
using json = nlohmann::json;

TEST_CASE("fleet-agent alerts: each alert, its checks, incidents, maintenance, channels") {
  const json view = json::parse(R"({
    "node": "vps-1", "now": "2026-12-07T10:00:00Z", "maintenance_until": "2026-12-07T12:00:00Z",
    "alerts": [{"id": 3, "state": "acknowledged", "opened": "2026-12-07T09:50:00Z",
                "notified": "2026-12-07T09:50:30Z", "acked_by": "@alice", "acked_via": "telegram",
                "acked_at": "2026-12-07T09:52:00Z",
                "checks": [{"name": "gateway", "severity": "critical", "summary": "unit failed"},
                           {"name": "tmux", "severity": "critical", "summary": "BURN missing"}]}],
    "open_incidents": [{"id": 12, "check": "gateway", "opened": "2026-12-07T09:50:00Z",
                        "summary": "unit failed"}],
    "channels": [{"name": "telegram", "state": "ok", "sent": 4, "pending": 0, "failed": 0,
                  "dropped": 0, "last_error": null},
                 {"name": "discord", "state": "refused", "sent": 0, "pending": 2, "failed": 1,
                  "dropped": 0, "last_error": "discord: HTTP 404 Unknown Webhook"}]})");
  const std::string table = FormatAlertsTable(view);
  CHECK(table.find("3      acknowledged  gateway, tmux") != std::string::npos);
  CHECK(table.find("@alice via telegram at 2026-12-07T09:52:00Z") != std::string::npos);
  CHECK(table.find("       tmux: BURN missing") != std::string::npos);
  CHECK(table.find("  12  gateway since 2026-12-07T09:50:00Z: unit failed") != std::string::npos);
  CHECK(table.find("alerts silenced until 2026-12-07T12:00:00Z") != std::string::npos);
  CHECK(table.find("  telegram: ok; 4 sent, 0 waiting\n") != std::string::npos);
  CHECK(table.find("  discord: refused (discord: HTTP 404 Unknown Webhook); 0 sent, 2 waiting, "
                   "1 refused") != std::string::npos);
}

TEST_CASE("fleet-agent alerts: nothing open, no channel") {
  const json view = json::parse(R"({"node": "vps-1", "now": "2026-12-07T10:00:00Z",
    "maintenance_until": null, "alerts": [], "open_incidents": [], "channels": []})");
  const std::string table = FormatAlertsTable(view);
  CHECK(table.find("No open alerts on vps-1.") == 0);
  CHECK(table.find("none configured") != std::string::npos);
  CHECK(table.find("Maintenance") == std::string::npos);
}

TEST_CASE("a button press acknowledges only from an acker, in the alert's chat, for our alert") {
  alerting::ButtonPress press;
  press.user_id = 123;
  press.chat_id = "-100";
  press.data = "ack:7";
  const std::vector<std::int64_t> ackers = {123, 456};
  CHECK(!ButtonPoller::Refusal(press, ackers, "-100"));
  alerting::ButtonPress stranger = press;
  stranger.user_id = 999;
  auto refused = ButtonPoller::Refusal(stranger, ackers, "-100");
  REQUIRE(refused);
  CHECK(refused->find("may not acknowledge") != std::string::npos);
  alerting::ButtonPress elsewhere = press;
  elsewhere.chat_id = "-200";  // the message forwarded to another chat
  CHECK(ButtonPoller::Refusal(elsewhere, ackers, "-100"));
  // A channel named by @name: the chat's number is not known here, the ackers still are.
  CHECK(!ButtonPoller::Refusal(elsewhere, ackers, "@fleet_oncall"));
  alerting::ButtonPress foreign = press;
  foreign.data = "vote:yes";
  CHECK(ButtonPoller::Refusal(foreign, ackers, "-100"));
  foreign.data = "ack:";
  CHECK(ButtonPoller::Refusal(foreign, ackers, "-100"));
  CHECK(ButtonPoller::Refusal(press, {}, "-100"));  // nobody listed: nobody may
}
