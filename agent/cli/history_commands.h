// The commands that read the daemon's state directory without disturbing the daemon:
// `fleet-agent report` (weekly/monthly metrics from the history, opened read-only) and
// `fleet-agent status` (the daemon's status.json plus the history's size). Return the
// process exit code: 0 on success, 1 when the state cannot be read, 3 on usage errors.
#pragma once

#include <string>

namespace fleet {

struct ReportArgs {
  std::string config_file;
  std::string state_dir;
  std::string week;   // "" = not given; "current" = the current week
  std::string month;  // "" = not given
  bool json = false;
};

struct StatusArgs {
  std::string config_file;
  std::string state_dir;
  bool json = false;
};

int RunReportCommand(const ReportArgs& args);
int RunStatusCommand(const StatusArgs& args);

}  // namespace fleet
