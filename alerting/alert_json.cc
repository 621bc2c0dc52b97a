#include "alerting/alert_json.h"

namespace fleet::alerting {
namespace {

using json = nlohmann::json;

Result<Severity> SeverityFrom(const json& j) {
  if (j.is_string()) {
    if (auto severity = ParseSeverity(j.get<std::string>())) return *severity;
  }
  return Error{"alert: severity is not critical or warning"};
}

json Optional(const std::optional<std::int64_t>& v) { return v ? json(*v) : json(nullptr); }
json Optional(const std::optional<std::string>& v) { return v ? json(*v) : json(nullptr); }

template <typename T>
std::optional<T> OptionalFrom(const json& j) {
  if (j.is_null()) return std::nullopt;
  return j.get<T>();
}

}  // namespace

std::string_view SeverityName(Severity severity) {
  return severity == Severity::kCritical ? "critical" : "warning";
}

std::optional<Severity> ParseSeverity(std::string_view name) {
  if (name == "critical") return Severity::kCritical;
  if (name == "warning") return Severity::kWarning;
  return std::nullopt;
}

std::string_view AlertStateName(AlertState state) {
  switch (state) {
    case AlertState::kFiring:
      return "firing";
    case AlertState::kAcknowledged:
      return "acknowledged";
    case AlertState::kFlapping:
      return "flapping";
    case AlertState::kResolved:
      break;
  }
  return "resolved";
}

json AlertToJson(const Alert& a) {
  json checks = json::array();
  for (const auto& c : a.checks) {
    checks.push_back({{"name", c.name},
                      {"severity", SeverityName(c.severity)},
                      {"summary", c.summary},
                      {"fix", c.fix},
                      {"done", c.done}});
  }
  return {{"key", a.key},
          {"node", a.node},
          {"checks", checks},
          {"severity", SeverityName(a.severity)},
          {"state", AlertStateName(a.state)},
          {"opened", a.opened},
          {"resolved", Optional(a.resolved)},
          {"acked_by", Optional(a.acked_by)},
          {"acked_at", Optional(a.acked_at)},
          {"ack_note", Optional(a.ack_note)},
          {"reminder", a.reminder},
          {"update", a.update},
          {"escalation", a.escalation},
          {"test", a.test},
          {"headline", a.headline}};
}

Result<Alert> AlertFromJson(const json& j) {
  try {
    Alert a;
    a.key = j.at("key").get<std::string>();
    a.node = j.at("node").get<std::string>();
    for (const json& c : j.at("checks")) {
      auto severity = SeverityFrom(c.at("severity"));
      if (!severity) return Error{severity.error()};
      // "done" came with the remedies; rows written before have none.
      a.checks.push_back({c.at("name").get<std::string>(), *severity,
                          c.at("summary").get<std::string>(), c.at("fix").get<std::string>(),
                          c.value("done", std::string())});
    }
    auto severity = SeverityFrom(j.at("severity"));
    if (!severity) return Error{severity.error()};
    a.severity = *severity;
    const json& state = j.at("state");
    bool known = false;
    for (AlertState s : {AlertState::kFiring, AlertState::kAcknowledged, AlertState::kFlapping,
                         AlertState::kResolved}) {
      if (state == AlertStateName(s)) {
        a.state = s;
        known = true;
      }
    }
    if (!known) return Error{"alert: unknown state"};
    a.opened = j.at("opened").get<std::int64_t>();
    a.resolved = OptionalFrom<std::int64_t>(j.at("resolved"));
    a.acked_by = OptionalFrom<std::string>(j.at("acked_by"));
    a.acked_at = OptionalFrom<std::int64_t>(j.at("acked_at"));
    a.ack_note = OptionalFrom<std::string>(j.at("ack_note"));
    a.reminder = j.at("reminder").get<bool>();
    a.update = j.value("update", false);  // rows written before the remedies have none
    a.escalation = j.at("escalation").get<bool>();
    a.test = j.at("test").get<bool>();
    a.headline = j.value("headline", std::string());
    return a;
  } catch (const json::exception& e) {
    return Error{std::string("alert: ") + e.what()};
  }
}

}  // namespace fleet::alerting
