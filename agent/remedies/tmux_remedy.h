// TmuxRemedy: brings back the expected Hermes chats the tmux check finds broken, with the
// tmux CLI on the socket the check looked at (its details.socket), as the tmux server's
// user (the Hermes user: root drops to it, as the check does; any other agent user cannot
// act and says so). Only the sessions listed in remedies.tmux.sessions, each with its
// command:
// - missing (or no server at all): `new-session -d -s NAME COMMAND` (a window of another
//   session that vanished comes back as a session of its own). With no server at all, a
//   new-session would start the server as the agent's child: inside a systemd service
//   (INVOCATION_ID set) that is its sandbox and cgroup, so there it is not done (a note
//   says so); `fleet-agent fix` from a shell does it;
// - a dead pane: `respawn-pane -t PANE COMMAND`, without -k: tmux itself refuses a pane
//   whose process lives, so a live, busy pane is never killed. A dead pane stays visible
//   only with remain-on-exit on; with it off the pane closes, and when the session goes
//   with it the session is recreated (missing above);
// - stuck (opt-in stuck_after): no output for that long, checked again just before, gets
//   C-c, a second's pause, then the command and Enter, as the runbook does.
// One task per name; missing comes before dead, dead before stuck. A created session or a
// respawned pane must still run half a second later (pane_dead 0) to count as done.
#pragma once

#include <memory>

#include "agent/config/config.h"
#include "agent/remedies/remedy.h"
#include "core/collector.h"
#include "core/os.h"

namespace fleet {

class TmuxRemedy final : public Remedy {
 public:
  TmuxRemedy(TmuxRemedySettings settings, HermesTarget hermes, std::shared_ptr<const Os> os);
  std::string Check() const override { return "tmux"; }
  RemedyPlan Plan(const CheckResult& result) const override;

 private:
  TmuxRemedySettings settings_;
  HermesTarget hermes_;
  std::shared_ptr<const Os> os_;
  bool may_start_server_;  // not inside a systemd service
};

}  // namespace fleet
