#include "agent/remedies/builtin_remedies.h"

#include "agent/remedies/disk_remedy.h"
#include "agent/remedies/dispatch_remedy.h"
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
  if (remedies.disk.enabled()) {
    DiskRemedyPlan disk;
    disk.above = remedies.disk.above;
    disk.script = remedies.disk.script;
    disk.script_timeout = remedies.disk.script_timeout;
    for (const DiskCleanRule& rule : remedies.disk.clean) {
      auto dir = ResolveCleanDir(rule.dir, *hermes, *os);
      if (!dir) {
        setup.errors.push_back({"", rule.line, rule.column, "remedies.disk.clean: " + dir.error()});
        continue;
      }
      disk.rules.push_back({*dir, rule.glob, rule.older_than});
    }
    setup.remedies.push_back(std::make_unique<DiskRemedy>(std::move(disk), *hermes, os));
  }
  if (remedies.dispatch.quarantine_broken) {
    setup.remedies.push_back(std::make_unique<DispatchRemedy>(config.state_dir));
  }
  return setup;
}

}  // namespace fleet
