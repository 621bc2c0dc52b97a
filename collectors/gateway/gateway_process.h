// GatewayProcess: what the gateway's own files in the Hermes home say, for a gateway with
// no systemd unit (nohup, tmux) and, as extra warnings, for one that has a unit. A pid is
// alive when <proc root>/<pid> exists, is not a zombie and its start time (field 22 of
// stat) equals the recorded one; a legacy bare-integer pid file can only be checked for
// existence. The state file counts only when it belongs to the live process (same pid,
// or no pid of its own); an old `updated_at` is not a sign of death (written on change).
// Reads go through the Os seam; nothing here reads auth.json, .env or config.yaml.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "collectors/gateway/gateway_files.h"
#include "core/collector.h"

namespace fleet {

struct Finding {
  Status status = Status::kOk;
  std::string text;  // one phrase for the summary
};

struct FileVerdict {
  bool found = false;  // gateway.pid or gateway_state.json was there
  std::vector<Finding> findings;
  nlohmann::json details = nlohmann::json::object();
};

// The gateway judged from gateway.pid and gateway_state.json alone.
FileVerdict InspectGatewayFiles(const Os& os, const HermesTarget& hermes);

// Only the warnings of gateway_state.json (degraded, platforms), when the file belongs to a
// live process; used once a unit has said whether the gateway runs.
FileVerdict InspectGatewayStateOnly(const Os& os, const HermesTarget& hermes);

// What gateway_state.json's own fields mean: stopped/startup_failed CRITICAL, degraded,
// draining and unknown states WARNING, each platform fatal or retrying WARNING.
std::vector<Finding> JudgeGatewayState(const GatewayState& state);

enum class Liveness { kAlive, kGone, kUnknown };

struct ProcessProbe {
  Liveness liveness = Liveness::kUnknown;
  std::string reason;  // why gone or unknown: "no process 4242", "pid 4242 was reused"
};

ProcessProbe ProbeProcess(const Os& os, const GatewayPidRecord& record);

}  // namespace fleet
