// GatewayCheck: is the Hermes gateway running? First the systemd units, in configured
// order, from the system manager and the Hermes user's manager over D-Bus (ActiveState,
// SubState, NRestarts, since); the first unit that exists wins. Without a unit,
// `gateway.pid` (pid alive, start time matching) and `gateway_state.json` in the Hermes
// home. CRITICAL: unit not active, process gone, state stopped/startup_failed, or found
// nowhere (the summary names every place looked); WARNING: degraded, a platform fatal or
// retrying, restarts climbing.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "agent/core/collector.h"

namespace fleet {

enum class UnitScope { kAuto, kSystem, kUser };

struct GatewayOptions {
  std::vector<std::string> units{"hermes-gateway", "ai.hermes.gateway"};
  UnitScope scope = UnitScope::kAuto;
};

std::unique_ptr<Collector> MakeGatewayCheck(GatewayOptions options);

}  // namespace fleet
