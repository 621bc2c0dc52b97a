#include "agent/config/hermes_target.h"

#include <unistd.h>

namespace fleet {

Result<HermesTarget> ResolveHermesTarget(const AgentConfig& config, const Os& os) {
  HermesTarget target;
  if (!config.hermes_user.empty()) {
    auto user = os.UserByName(config.hermes_user);
    if (!user) return Error{"hermes.user '" + config.hermes_user + "' is not a user on this node"};
    target.user = *user;
  } else {
    auto user = os.UserById(os.EffectiveUid());
    if (!user) {
      return Error{"the user running fleet-agent (uid " + std::to_string(os.EffectiveUid()) +
                   ") has no passwd entry; set hermes.user"};
    }
    target.user = *user;
  }
  if (!config.hermes_home.empty()) {
    target.home = config.hermes_home;
  } else if (auto env = os.GetEnv("HERMES_HOME"); env && !env->empty()) {
    target.home = *env;
  } else {
    target.home = target.user.home + "/.hermes";
  }
  while (target.home.size() > 1 && target.home.back() == '/') target.home.pop_back();
  return target;
}

std::string ResolveNodeId(const AgentConfig& config) {
  if (!config.node_id.empty()) return config.node_id;
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') return "unknown-node";
  return host;
}

}  // namespace fleet
