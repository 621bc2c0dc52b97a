// The plain webhook's body (shaped like Alertmanager's, one entry per check, fleet-agent's own
// state beside it) for every state, hostile and oversized node text, and every kind of reply.
#include "alerting/webhook_api.h"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "alerting/alert_text.h"

using namespace fleet::alerting;
using json = nlohmann::json;

namespace {

Alert Grouped() {
  Alert a;
  a.key = "vps-fra-03/1/17";
  a.node = "vps-fra-03";
  a.checks.push_back({"gateway", Severity::kCritical, "hermes-gateway.service failed",
                      "systemctl restart hermes-gateway"});
  a.checks.push_back({"disk", Severity::kWarning, "/ 87% used", ""});
  a.opened = 1764064800;  // 2025-11-25T10:00:00Z
  return a;
}

json Body(const Alert& a) { return json::parse(WebhookBody(a)); }

}  // namespace

TEST_CASE("webhook: a firing alert is an Alertmanager-shaped group, one entry per check") {
  const json body = Body(Grouped());
  CHECK(body["version"] == "4");
  CHECK(body["status"] == "firing");
  CHECK(body["receiver"] == "fleet-agent");
  CHECK(body["groupKey"] == "vps-fra-03/1/17");
  CHECK(body["groupLabels"] == json{{"node", "vps-fra-03"}});
  CHECK(body["commonLabels"] == json{{"node", "vps-fra-03"}, {"severity", "critical"}});
  CHECK(body["commonAnnotations"]["summary"] == "CRITICAL: gateway, disk on vps-fra-03");
  CHECK(body["truncatedAlerts"] == 0);
  REQUIRE(body["alerts"].size() == 2);
  const json& gateway = body["alerts"][0];
  CHECK(gateway["status"] == "firing");
  CHECK(gateway["labels"] == json{{"alertname", "gateway"},
                                  {"node", "vps-fra-03"},
                                  {"check", "gateway"},
                                  {"severity", "critical"}});
  CHECK(gateway["annotations"] == json{{"summary", "hermes-gateway.service failed"},
                                       {"fix", "systemctl restart hermes-gateway"}});
  CHECK(gateway["startsAt"] == "2025-11-25T10:00:00Z");
  CHECK(gateway["endsAt"] == "0001-01-01T00:00:00Z");
  CHECK(gateway["fingerprint"] == "vps-fra-03/1/17/gateway");
  const json& disk = body["alerts"][1];
  CHECK(disk["labels"]["severity"] == "warning");
  CHECK(disk["annotations"]["fix"] == "");
  CHECK(disk["fingerprint"] == "vps-fra-03/1/17/disk");
  CHECK(body["fleet"] == json{{"state", "firing"},
                              {"acked_by", nullptr},
                              {"acked_at", nullptr},
                              {"ack_note", nullptr},
                              {"reminder", false},
                              {"escalation", false},
                              {"test", false}});
}

TEST_CASE("webhook: acknowledged, resolved, flapping, reminder, escalation and test say so") {
  Alert a = Grouped();
  a.state = AlertState::kAcknowledged;
  a.acked_by = "@alice";
  a.acked_at = 1764065400;
  a.ack_note = "on it";
  json body = Body(a);
  CHECK(body["status"] == "firing");  // still open for Alertmanager's readers
  CHECK(body["fleet"]["state"] == "acknowledged");
  CHECK(body["fleet"]["acked_by"] == "@alice");
  CHECK(body["fleet"]["acked_at"] == "2025-11-25T10:10:00Z");
  CHECK(body["fleet"]["ack_note"] == "on it");

  a.state = AlertState::kResolved;
  a.resolved = 1764066600;
  body = Body(a);
  CHECK(body["status"] == "resolved");
  for (const json& entry : body["alerts"]) {
    CHECK(entry["status"] == "resolved");
    CHECK(entry["endsAt"] == "2025-11-25T10:30:00Z");
  }
  CHECK(body["fleet"]["state"] == "resolved");

  Alert f = Grouped();
  f.state = AlertState::kFlapping;
  f.reminder = true;
  f.escalation = true;
  f.test = true;
  body = Body(f);
  CHECK(body["status"] == "firing");
  CHECK(body["fleet"]["state"] == "flapping");
  CHECK(body["fleet"]["reminder"] == true);
  CHECK(body["fleet"]["escalation"] == true);
  CHECK(body["fleet"]["test"] == true);
}

TEST_CASE("webhook: node text is cut, invalid UTF-8 replaced, and the body always parses") {
  Alert a = Grouped();
  a.node = std::string("vps\xff\xfe", 5);
  a.checks[0].summary = std::string(5000, 'x') + "\"}],\"injected\":1";
  a.checks[0].name = std::string(300, 'n');
  a.ack_note = std::string(3000, 'y');
  json body;
  REQUIRE_NOTHROW(body = Body(a));
  CHECK_FALSE(body.contains("injected"));
  const std::string summary = body["alerts"][0]["annotations"]["summary"];
  CHECK(summary.size() <= kMaxNodeText);
  CHECK(summary.ends_with("..."));
  CHECK(std::string(body["alerts"][0]["labels"]["check"]).size() <= kMaxNameText);
  CHECK(std::string(body["fleet"]["ack_note"]).size() <= kMaxNodeText);
  CHECK(std::string(body["commonLabels"]["node"]).starts_with("vps"));
}

TEST_CASE("webhook: 2xx done, 429 waits, 408/5xx/none retry later, anything else refused") {
  for (long status : {200L, 201L, 202L, 204L}) {
    INFO(status);
    const ApiAnswer answer = ReadWebhookAnswer(status, std::nullopt);
    CHECK(answer.verdict == ApiVerdict::kDone);
    CHECK(answer.message_id.empty());
    CHECK(answer.error.empty());
    CHECK(answer.http_status == status);
  }
  ApiAnswer limited = ReadWebhookAnswer(429, 9);
  CHECK(limited.verdict == ApiVerdict::kRateLimited);
  CHECK(limited.retry_after == std::chrono::seconds(9));
  CHECK(ReadWebhookAnswer(429, std::nullopt).retry_after == std::chrono::seconds(5));
  CHECK(ReadWebhookAnswer(429, 100000).retry_after == kMaxRetryAfter);
  for (long status : {408L, 500L, 502L, 503L, 0L}) {
    INFO(status);
    CHECK(ReadWebhookAnswer(status, std::nullopt).verdict == ApiVerdict::kRetryLater);
  }
  for (long status : {400L, 401L, 403L, 404L, 410L, 301L, 302L}) {
    INFO(status);
    const ApiAnswer answer = ReadWebhookAnswer(status, std::nullopt);
    CHECK(answer.verdict == ApiVerdict::kRefused);
    CHECK(answer.http_status == status);  // a sender tells a bad request from a gone URL
    CHECK(answer.error.starts_with("webhook: HTTP " + std::to_string(status)));
  }
  CHECK(ReadWebhookAnswer(302, std::nullopt).error.find("redirect") != std::string::npos);
}

TEST_CASE("webhook: the body is the one README.md's \"Alert webhook\" shows") {
  Alert a;
  a.key = "vps-fra-03/1/17";
  a.node = "vps-fra-03";
  a.checks.push_back({"tmux", Severity::kCritical, "session BURN2 is gone",
                      "tmux new -d -s BURN2 'hermes chat --yolo'"});
  a.opened = 1764064800;
  const json documented = json::parse(R"({
    "version": "4",
    "status": "firing",
    "receiver": "fleet-agent",
    "groupKey": "vps-fra-03/1/17",
    "groupLabels": {"node": "vps-fra-03"},
    "commonLabels": {"node": "vps-fra-03", "severity": "critical"},
    "commonAnnotations": {"summary": "CRITICAL: tmux on vps-fra-03"},
    "externalURL": "",
    "truncatedAlerts": 0,
    "alerts": [{
      "status": "firing",
      "labels": {"alertname": "tmux", "node": "vps-fra-03", "check": "tmux", "severity": "critical"},
      "annotations": {"summary": "session BURN2 is gone", "fix": "tmux new -d -s BURN2 'hermes chat --yolo'"},
      "startsAt": "2025-11-25T10:00:00Z",
      "endsAt": "0001-01-01T00:00:00Z",
      "fingerprint": "vps-fra-03/1/17/tmux"
    }],
    "fleet": {
      "state": "firing",
      "acked_by": null, "acked_at": null, "ack_note": null,
      "reminder": false, "escalation": false, "test": false
    }
  })");
  CHECK(Body(a) == documented);
}

TEST_CASE("webhook: what the agent did is the annotation done, only when it did something") {
  Alert a = Grouped();
  a.checks[0].done = "restarted hermes-gateway.service automatically; healthy after 6s";
  const json body = Body(a);
  CHECK(body["alerts"][0]["annotations"]["done"] ==
        "restarted hermes-gateway.service automatically; healthy after 6s");
  CHECK_FALSE(body["alerts"][1]["annotations"].contains("done"));
}
