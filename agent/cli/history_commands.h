// The commands that read the daemon's state directory without disturbing the daemon:
// `fleet-agent report` (weekly/monthly metrics from the history, opened read-only) and
// `fleet-agent status` (the daemon's status.json plus the history's size). Return the
// process exit code: 0 on success, 1 when the state cannot be read, 3 on usage errors.
#pragma once

#include <optional>
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

// The state directory from --state-dir, else the configuration's state_dir (or its
// default); nullopt after printing the configuration's errors. Sets *node to the node id.
std::optional<std::string> ResolveStateDir(const std::string& config_file,
                                           const std::string& state_dir, std::string* node);

// The key that signs now in state_dir (the history's node_kid, else node.key's kid) and
// when node.key was written (unix seconds); nullopt without a key.
struct NodeKeyState {
  std::string kid;
  std::optional<std::int64_t> written_at;
};
std::optional<NodeKeyState> ReadNodeKeyState(const std::string& state_dir);

int RunReportCommand(const ReportArgs& args);
int RunStatusCommand(const StatusArgs& args);

}  // namespace fleet
