#include "agent/remedies/remedy_json.h"

namespace fleet {

using json = nlohmann::json;

json RemediationToJson(const RemediationEntry& e) {
  return {{"check", e.check},
          {"target", e.target},
          {"action", protocol::RemedyActionName(e.action)},
          {"reason", e.reason},
          {"attempt", e.attempt},
          {"started", e.started},
          {"finished", e.finished},
          {"outcome", protocol::RemedyOutcomeName(e.outcome)},
          {"changed", e.changed ? json(*e.changed) : json(nullptr)}};
}

Result<RemediationEntry> RemediationFromJson(const json& j) {
  if (!j.is_object()) return Error{"a remediation must be a JSON object"};
  RemediationEntry e;
  for (const char* key : {"check", "target", "action", "reason", "outcome"}) {
    if (!j.contains(key) || !j[key].is_string() || j[key].get<std::string>().empty()) {
      return Error{std::string("remediation: ") + key + " must be a non-empty string"};
    }
  }
  for (const char* key : {"attempt", "started", "finished"}) {
    if (!j.contains(key) || !j[key].is_number_integer()) {
      return Error{std::string("remediation: ") + key + " must be an integer"};
    }
  }
  e.check = j["check"].get<std::string>();
  e.target = j["target"].get<std::string>();
  e.reason = j["reason"].get<std::string>();
  auto action = protocol::ParseRemedyAction(j["action"].get<std::string>());
  if (!action) return Error{"remediation: unknown action"};
  e.action = *action;
  auto outcome = protocol::ParseRemedyOutcome(j["outcome"].get<std::string>());
  if (!outcome) return Error{"remediation: unknown outcome"};
  e.outcome = *outcome;
  e.attempt = j["attempt"].get<std::int64_t>();
  e.started = j["started"].get<std::int64_t>();
  e.finished = j["finished"].get<std::int64_t>();
  if (e.attempt < 1 || e.attempt >= protocol::kMaxRemedyAttempt) {
    return Error{"remediation: attempt out of range"};
  }
  if (e.started <= 0 || e.finished < e.started) {
    return Error{"remediation: started and finished must be times, finished not before started"};
  }
  if (j.contains("changed") && !j["changed"].is_null()) {
    if (!j["changed"].is_string()) return Error{"remediation: changed must be a string or null"};
    e.changed = j["changed"].get<std::string>();
  }
  return e;
}

}  // namespace fleet
