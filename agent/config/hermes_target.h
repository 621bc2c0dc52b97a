// Resolves whose node this is: the node id (config, else the hostname) and the Hermes
// target (hermes.user, else the user running fleet-agent; hermes.home, else
// $HERMES_HOME, else ~user/.hermes). Errors name the key to fix.
#pragma once

#include <string>

#include "agent/config/config.h"
#include "core/collector.h"

namespace fleet {

Result<HermesTarget> ResolveHermesTarget(const AgentConfig& config, const Os& os);
std::string ResolveNodeId(const AgentConfig& config);

}  // namespace fleet
