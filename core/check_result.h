// CheckResult: what one check found, the unit every collector hands back. `summary` is
// one short human line (what is wrong, what to do); `details` is structured data for
// --json and the history; `finished_runs` is what the check saw of scheduled tasks that
// ran (the cron check: Hermes's jobs), typed, for the accountant to count as tasks. The
// runner fills `duration` and `name` if a collector did not.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/status.h"

namespace fleet {

// One finished run of a scheduled task, as its scheduler wrote it down.
struct FinishedRun {
  std::string job;               // the job's id
  std::string name;              // its display name (the id when it has none)
  std::string run_at;            // when it ran, as written: with the job, the run's identity
  std::int64_t run_at_unix = 0;  // the same instant, seconds since the epoch (UTC)
  bool ok = false;
  std::string error;  // why it did not succeed; empty when ok
};

struct CheckResult {
  std::string name;
  Status status = Status::kUnknown;
  std::string summary;
  nlohmann::json details = nlohmann::json::object();
  std::chrono::microseconds duration{0};
  std::vector<FinishedRun> finished_runs;
};

inline CheckResult MakeResult(std::string name, Status status, std::string summary,
                              nlohmann::json details = nlohmann::json::object()) {
  return CheckResult{std::move(name), status, std::move(summary), std::move(details), {}, {}};
}

}  // namespace fleet
