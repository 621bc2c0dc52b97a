// AlertJson: an Alert as JSON and back, for the outboxes that keep a message to send
// (the agent's history.db, the receiver's database) until a channel took it. Reading is
// total: a row that is not an alert this version wrote is an Error with the reason, never
// an exception. Pure.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

#include "alerting/alert.h"
#include "base/result.h"

namespace fleet::alerting {

nlohmann::json AlertToJson(const Alert& alert);
Result<Alert> AlertFromJson(const nlohmann::json& saved);

std::string_view AlertStateName(AlertState state);
// "critical" / "warning", as saved states and outboxes spell them.
std::string_view SeverityName(Severity severity);
std::optional<Severity> ParseSeverity(std::string_view name);

}  // namespace fleet::alerting
