// The built-in collectors, listed explicitly in one place (no self-registration). The
// order here is the order of `fleet-agent check` output.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "collectors/cron/cron_check.h"
#include "collectors/disk/disk_check.h"
#include "collectors/dispatch/dispatch_check.h"
#include "collectors/gateway/gateway_check.h"
#include "collectors/tmux/tmux_check.h"
#include "core/collector.h"

namespace fleet {

struct CollectorOptions {
  TmuxOptions tmux;
  GatewayOptions gateway;
  DiskOptions disk;
  CronOptions cron;
  DispatchOptions dispatch;
};

// "tmux", "gateway", "disk", "cron", "dispatch".
const std::vector<std::string>& BuiltinCheckNames();

// The collector called `name` built from its options; nullptr for an unknown name.
std::unique_ptr<Collector> MakeBuiltinCollector(const std::string& name,
                                                const CollectorOptions& options);

}  // namespace fleet
