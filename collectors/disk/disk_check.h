// DiskCheck: statvfs of each configured path, with figures as df computes them
// (used = total - free; Use% = used / (used + available), rounded up). CRITICAL when used
// is above critical_used_above; WARNING when the free share (available / (used +
// available)) is below warning_free_below; inodes are judged by the same two thresholds.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "agent/core/collector.h"

namespace fleet {

struct DiskOptions {
  std::vector<std::string> paths{"/"};
  double warning_free_below = 15.0;   // percent
  double critical_used_above = 90.0;  // percent
};

std::unique_ptr<Collector> MakeDiskCheck(DiskOptions options);

}  // namespace fleet
