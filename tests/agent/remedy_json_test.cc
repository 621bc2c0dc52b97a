// RemediationJson (agent/remedies/remedy_json.h): what `fleet-agent fix` hands to the
// daemon round-trips, and the daemon's reader refuses every malformed field by name.
#include <doctest/doctest.h>

#include "agent/remedies/remedy_json.h"

using namespace fleet;
using json = nlohmann::json;

namespace {

RemediationEntry Sample() {
  RemediationEntry e;
  e.check = "tmux";
  e.target = "BURN2";
  e.action = protocol::RemedyAction::kCreateSession;
  e.reason = "BURN2 missing";
  e.attempt = 1;
  e.started = 1795600800;
  e.finished = 1795600801;
  e.outcome = protocol::RemedyOutcome::kSucceeded;
  e.changed = "session BURN2 created";
  return e;
}

}  // namespace

TEST_CASE("remediation JSON round-trips") {
  const json j = RemediationToJson(Sample());
  CHECK(j["action"] == "create_session");
  CHECK(j["outcome"] == "succeeded");
  auto back = RemediationFromJson(j);
  REQUIRE(back.ok());
  CHECK(back->target == "BURN2");
  CHECK(back->action == protocol::RemedyAction::kCreateSession);
  CHECK(back->changed == std::optional<std::string>("session BURN2 created"));
  RemediationEntry none = Sample();
  none.changed.reset();
  CHECK_FALSE(RemediationFromJson(RemediationToJson(none))->changed.has_value());
}

TEST_CASE("remediation JSON: malformed input is refused, naming the field") {
  CHECK(RemediationFromJson(json::array()).error() == "a remediation must be a JSON object");
  CHECK(RemediationFromJson(json("garbage")).error() == "a remediation must be a JSON object");
  auto with = [](const char* key, json value) {
    json j = RemediationToJson(Sample());
    if (value.is_discarded()) {
      j.erase(key);
    } else {
      j[key] = std::move(value);
    }
    auto r = RemediationFromJson(j);
    return r.ok() ? std::string() : r.error();
  };
  CHECK(with("check", json(json::value_t::discarded)).find("check") != std::string::npos);
  CHECK(with("target", "").find("target") != std::string::npos);
  CHECK(with("action", "reboot") == "remediation: unknown action");
  CHECK(with("outcome", "maybe") == "remediation: unknown outcome");
  CHECK(with("attempt", "1").find("attempt") != std::string::npos);
  CHECK(with("attempt", 0) == "remediation: attempt out of range");
  CHECK(with("attempt", protocol::kMaxRemedyAttempt) == "remediation: attempt out of range");
  CHECK(with("finished", 1795600000).find("finished not before started") != std::string::npos);
  CHECK(with("started", 0).find("finished not before started") != std::string::npos);
  CHECK(with("changed", 5) == "remediation: changed must be a string or null");
  CHECK(with("reason", json(json::value_t::discarded)).find("reason") != std::string::npos);
}
