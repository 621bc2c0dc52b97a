#include "agent/remedies/builtin_remedies.h"

#include <algorithm>

#include "agent/remedies/disk_remedy.h"
#include "agent/remedies/dispatch_remedy.h"
#include "agent/remedies/gateway_remedy.h"
#include "agent/remedies/tmux_remedy.h"
#include "collectors/gateway/systemd_units.h"

namespace fleet {

Result<std::vector<std::string>> RemedyWritePaths(const AgentConfig& config,
                                                  const HermesTarget& hermes, const Os& os) {
  std::vector<std::string> paths;
  auto add = [&paths](std::string path) {
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    if (std::find(paths.begin(), paths.end(), path) == paths.end()) paths.push_back(path);
  };
  if (config.remedies.disk.enabled()) {
    for (const DiskCleanRule& rule : config.remedies.disk.clean) {
      auto dir = ResolveCleanDir(rule.dir, hermes, os);
      if (!dir) return Error{dir.error()};
      add(*dir);
    }
  }
  if (config.remedies.dispatch.quarantine_broken) {
    for (const auto& file : config.checks.dispatch.files) {
      const std::string path = ResolveInHome(hermes, file);
      const std::size_t slash = path.rfind('/');
      add(slash == 0 ? "/" : path.substr(0, slash));
    }
  }
  return paths;
}

std::string RemediesDropIn(const std::vector<std::string>& paths) {
  if (paths.empty()) return "";
  std::string text =
      "# fleet-agent.service.d/remedies.conf, written by `fleet-agent config dropin`: write\n"
      "# access for the enabled remedies (remedies.disk.clean, remedies.dispatch) and nothing\n"
      "# more. Written again by the package on upgrade; after editing agent.yaml run\n"
      "#   fleet-agent config dropin /etc/fleet-agent/agent.yaml >THIS_FILE &&\n"
      "#   systemctl daemon-reload && systemctl restart fleet-agent\n"
      "[Service]\n";
  for (const auto& path : paths) text += "ReadWritePaths=-" + path + "\n";
  return text;
}

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
