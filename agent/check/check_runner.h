// CheckRunner: runs a set of collectors at once, each on its own thread under its own
// deadline (the check's `timeout`). A collector that has not answered by its deadline
// (plus a short grace) is reported UNKNOWN and left behind; its thread keeps shared
// ownership of everything it touches, so nothing dangles. The overall status is the worst
// check's, in Status order.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "core/collector.h"

namespace fleet {

struct ScheduledCheck {
  std::shared_ptr<Collector> collector;
  std::chrono::milliseconds timeout{2000};
};

struct CheckRound {
  std::vector<CheckResult> results;  // in the order of the checks given
  Status overall = Status::kOk;
  int abandoned = 0;  // collectors still running past their deadline
};

CheckRound RunChecks(const std::vector<ScheduledCheck>& checks, std::shared_ptr<const Os> os,
                     std::shared_ptr<const HermesTarget> hermes);

Status OverallStatus(const std::vector<CheckResult>& results);

}  // namespace fleet
