// The alerting commands. `fleet-agent alerts` lists the open alerts, the maintenance window
// and each channel's state (from the history and the daemon's status.json, read-only);
// `fleet-agent ack [INCIDENT] [--note TEXT]` and `fleet-agent maintenance --for 2h --reason
// TEXT` (or `--end`) are requests the running daemon carries out (it owns the alert rules
// and signs the records): queued in history.db's inbox, answered within seconds, withdrawn
// when the daemon does not answer in time, so nothing is applied behind the operator's
// back later. `fleet-agent alerts test` sends a test message on every channel (not through
// the daemon: it reads the configuration and the secrets itself). Exit codes: 0 done, 1
// refused or not answered (the reason on stderr), 3 usage.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace fleet {

struct AlertsArgs {
  std::string config_file;
  std::string state_dir;
  bool json = false;
};

struct AckArgs {
  std::string config_file;
  std::string state_dir;
  std::optional<std::int64_t> incident;  // none: every open alert
  std::string note;
};

struct MaintenanceArgs {
  std::string config_file;
  std::string state_dir;
  std::string duration;  // "2h"
  std::string reason;
  bool end = false;
};

int RunAlertsCommand(const AlertsArgs& args);
// `fleet-agent alerts test`: a test message to every configured channel, escalation
// included, and what each answered; 0 when every channel took it, 1 otherwise, 3 when the
// configuration has no channel or its secrets cannot be read.
int RunAlertsTestCommand(const std::string& config_file);
int RunAckCommand(const AckArgs& args);
int RunMaintenanceCommand(const MaintenanceArgs& args);

// Pure, for tests: the listing of `fleet-agent alerts` from its JSON form.
std::string FormatAlertsTable(const nlohmann::json& view);

}  // namespace fleet
