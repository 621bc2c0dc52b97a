// CheckReport: how one round of checks is shown. The table is for people (one line per
// check: status, name, summary; colour only when asked, i.e. on a terminal); the JSON
// document is the contract for scripts:
//   {"status","node","time","checks":[{"name","status","summary","details","duration_ms"}]}
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "agent/check/check_runner.h"

namespace fleet {

struct CheckReport {
  std::string node;
  std::chrono::system_clock::time_point time;
  CheckRound round;
};

std::string FormatTable(const CheckReport& report, bool colour);
nlohmann::json ToJson(const CheckReport& report);

}  // namespace fleet
