#include "alerting/alert_json.h"

#include <doctest/doctest.h>

using namespace fleet::alerting;
using json = nlohmann::json;

TEST_CASE("an alert survives the outbox as JSON, every field") {
  Alert a;
  a.key = "12";
  a.node = "vps-fra-03";
  a.checks = {{"gateway", Severity::kCritical, "unit failed", "systemctl restart x",
               "restarted automatically; healthy after 6s"},
              {"disk", Severity::kWarning, "/ 87% used", ""}};
  a.severity = Severity::kCritical;
  a.state = AlertState::kAcknowledged;
  a.opened = 1764064800;
  a.acked_by = "alice";
  a.acked_at = 1764064900;
  a.ack_note = "on it";
  a.escalation = true;
  a.update = true;
  auto back = AlertFromJson(json::parse(AlertToJson(a).dump()));
  REQUIRE(back);
  CHECK(back->checks == a.checks);
  CHECK(back->state == AlertState::kAcknowledged);
  CHECK(back->acked_by == "alice");
  CHECK(back->ack_note == "on it");
  CHECK(!back->resolved);
  CHECK(back->escalation);
  CHECK(back->update);
  CHECK(AlertToJson(*back) == AlertToJson(a));
  // An outbox row written before the remedies has neither done nor update.
  json old = AlertToJson(a);
  old.erase("update");
  for (auto& c : old["checks"]) c.erase("done");
  auto read = AlertFromJson(old);
  REQUIRE(read);
  CHECK(read->checks[0].done.empty());
  CHECK_FALSE(read->update);
}

TEST_CASE("a row that is not an alert is refused with a reason") {
  CHECK(!AlertFromJson(json::parse("null")));
  CHECK(!AlertFromJson(json::parse("{}")));
  CHECK(!AlertFromJson(json::parse("[1,2]")));
  Alert a;
  a.key = "1";
  json j = AlertToJson(a);
  j["state"] = "on fire";
  auto refused = AlertFromJson(j);
  REQUIRE(!refused);
  CHECK(refused.error() == "alert: unknown state");
  j = AlertToJson(a);
  j["opened"] = "now";
  CHECK(!AlertFromJson(j));
  j = AlertToJson(a);
  j.erase("test");
  CHECK(!AlertFromJson(j));
}
