// RemediationJson: a remediation entry as the JSON `fleet-agent fix` hands to the running
// daemon (history.db's inbox, kind "remediation"), which signs and records it. The reader
// is strict: every field of the right type, action and outcome from the contract's closed
// sets, started <= finished; anything else is an Error naming the field. The daemon adds
// the check's open incident itself.
#pragma once

#include <nlohmann/json.hpp>

#include "agent/history/history_store.h"
#include "base/result.h"

namespace fleet {

nlohmann::json RemediationToJson(const RemediationEntry& entry);
Result<RemediationEntry> RemediationFromJson(const nlohmann::json& j);

}  // namespace fleet
