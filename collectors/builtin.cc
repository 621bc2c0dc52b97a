#include "collectors/builtin.h"

namespace fleet {

const std::vector<std::string>& BuiltinCheckNames() {
  static const std::vector<std::string> kNames{"tmux", "gateway", "disk", "cron", "dispatch"};
  return kNames;
}

std::unique_ptr<Collector> MakeBuiltinCollector(const std::string& name,
                                                const CollectorOptions& options) {
  if (name == "tmux") return MakeTmuxCheck(options.tmux);
  if (name == "gateway") return MakeGatewayCheck(options.gateway);
  if (name == "disk") return MakeDiskCheck(options.disk);
  if (name == "cron") return MakeCronCheck(options.cron);
  if (name == "dispatch") return MakeDispatchCheck(options.dispatch);
  return nullptr;
}

}  // namespace fleet
