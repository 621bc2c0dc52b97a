// CheckResult: what one check found, the unit every collector hands back. `summary` is
// one short human line (what is wrong, what to do); `details` is structured data for
// --json and the history. The runner fills `duration` and `name` if a collector did not.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "core/status.h"

namespace fleet {

struct CheckResult {
  std::string name;
  Status status = Status::kUnknown;
  std::string summary;
  nlohmann::json details = nlohmann::json::object();
  std::chrono::microseconds duration{0};
};

inline CheckResult MakeResult(std::string name, Status status, std::string summary,
                              nlohmann::json details = nlohmann::json::object()) {
  return CheckResult{std::move(name), status, std::move(summary), std::move(details), {}};
}

}  // namespace fleet
