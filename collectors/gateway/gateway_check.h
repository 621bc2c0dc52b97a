// GatewayCheck: is the Hermes gateway running? First the systemd units, in configured
// order, from the system manager and the Hermes user's manager over D-Bus (ActiveState,
// SubState, NRestarts, since); the first unit that exists wins (each name is looked up in
// the system manager, then the user manager, before the next name). Without a unit,
// `gateway.pid` (pid alive, start time matching) and `gateway_state.json` in the Hermes
// home. CRITICAL: unit not active, process gone, state stopped/startup_failed, or found
// nowhere (the summary names every place looked); WARNING: degraded, a platform fatal or
// retrying, restarts climbing. "Restarts climbing" is read from one sample: NRestarts (the
// automatic restarts since the unit was last started by hand) at 3 or more is a WARNING.
// When a unit wins, gateway_state.json still adds its warnings if it belongs to a live
// process. A manager that is not there (no systemd, no user session) is a place looked at;
// one that is there but cannot be asked (permission, timeout) makes a not-found UNKNOWN.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/collector.h"

namespace fleet {

class UnitStateSource;

enum class UnitScope { kAuto, kSystem, kUser };

struct GatewayOptions {
  std::vector<std::string> units{"hermes-gateway", "ai.hermes.gateway"};
  UnitScope scope = UnitScope::kAuto;
};

std::unique_ptr<Collector> MakeGatewayCheck(GatewayOptions options);
// With another source of unit states (tests).
std::unique_ptr<Collector> MakeGatewayCheck(GatewayOptions options,
                                            std::shared_ptr<UnitStateSource> units);

}  // namespace fleet
