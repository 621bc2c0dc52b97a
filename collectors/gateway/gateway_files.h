// The Hermes gateway's own files, parsed without touching the machine. `gateway.pid` is
// `{"pid": N, "kind": ..., "argv": [...], "start_time": T}` (T is field 22 of
// /proc/N/stat, clock ticks after boot) or, from old versions, a bare integer.
// `gateway_state.json` is the same pid record plus `gateway_state`, `exit_reason`,
// `active_agents`, `platforms` and `updated_at`. /proc/N/stat is parsed here too, since
// the pid record is only worth what the start time comparison says. Every parser returns
// an Error (one line, never an exception) on truncated, garbage or wrongly typed input;
// optional fields of the wrong type in the state file are ignored, not fatal.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace fleet {

struct GatewayPidRecord {
  std::int64_t pid = 0;                     // 1 .. 2^22 (Linux pid_max at most)
  std::optional<std::uint64_t> start_time;  // absent in legacy files
  std::string kind;                         // "hermes-gateway" when written by Hermes
  std::vector<std::string> argv;
  bool legacy = false;  // the file held a bare integer
};

struct GatewayPlatform {
  std::string name;   // "telegram", "discord", ...
  std::string state;  // connecting|connected|retrying|paused|disconnected|fatal
  std::string error_code;
  std::string error_message;
  std::string updated_at;
};

struct GatewayState {
  std::optional<GatewayPidRecord> process;  // when the file carries a pid
  std::string gateway_state;  // starting|running|degraded|startup_failed|draining|stopped
  std::string exit_reason;
  std::optional<std::int64_t> active_agents;
  std::vector<GatewayPlatform> platforms;  // sorted by name
  std::string updated_at;                  // written on change only: age means nothing
};

// The bits of /proc/N/stat the check needs.
struct ProcStat {
  char state = '?';              // field 3: R, S, D, Z, ...
  std::uint64_t start_time = 0;  // field 22
};

Result<GatewayPidRecord> ParseGatewayPid(std::string_view text);
Result<GatewayState> ParseGatewayState(std::string_view text);
// The command name (field 2) may hold spaces and parentheses, so fields are counted from
// the last ')'.
Result<ProcStat> ParseProcStat(std::string_view text);

}  // namespace fleet
