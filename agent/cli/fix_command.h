// `fleet-agent fix [--dry-run] [--only NAME]`: the operator's one command after a page.
// Runs the checks of the enabled remedies (or only NAME: gateway, tmux, disk, dispatch)
// once, applies each remedy's plan to what they find now and prints what it did, then
// runs those checks again and prints how they are. The rules of the daemon's remedies
// hold (never on UNKNOWN, one action at a time per target, each with its deadline) except
// the limits and maintenance: the operator asked, now. Each action (or, with --dry-run,
// what would be done) is handed to the running daemon to sign and record (history.db's
// inbox, kind "remediation"); without a daemon answering, it is done but not recorded, and
// said so. Every action is safe to overlap with the daemon acting on the same target at
// the same moment (RestartUnit replace; new-session fails on a duplicate; respawn-pane
// refuses a live pane; the cleaner and the quarantine check each file again first).
// Exit code: as `check` (0 OK ... 3 UNKNOWN) for the checks after the fixes (before them
// with --dry-run); 3 for a usage or configuration error.
#pragma once

#include <string>
#include <vector>

namespace fleet {

struct FixArgs {
  std::string config_file;
  std::string state_dir;
  bool dry_run = false;
  std::vector<std::string> only;
};

int RunFixCommand(const FixArgs& args);

}  // namespace fleet
