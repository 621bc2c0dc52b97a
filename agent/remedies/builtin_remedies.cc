#include "agent/remedies/builtin_remedies.h"

#include "agent/remedies/gateway_remedy.h"
#include "agent/remedies/tmux_remedy.h"
#include "collectors/gateway/systemd_units.h"

namespace fleet {

RemedySetup MakeRemedies(const AgentConfig& config, std::shared_ptr<const HermesTarget> hermes,
                         std::shared_ptr<const Os> os) {
  RemedySetup setup;
  const RemedySettings& remedies = config.remedies;
  if (remedies.gateway.restart) {
    setup.remedies.push_back(std::make_unique<GatewayRemedy>(
        *hermes, std::shared_ptr<UnitRestarter>(MakeSdBusUnitRestarter()),
        remedies.gateway.timeout));
  }
  if (!remedies.tmux.sessions.empty()) {
    setup.remedies.push_back(std::make_unique<TmuxRemedy>(remedies.tmux, *hermes, os));
  }
  return setup;
}

}  // namespace fleet
