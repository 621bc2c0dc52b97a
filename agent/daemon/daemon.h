// Daemon: `fleet-agent run`. One Boost.Asio event loop on the main thread: the checks run as
// CheckScheduler plans them (each every `interval`, on a worker thread under its deadline, its
// answer posted back to the loop); the uptime rule on the latest results for each minute that
// ends (MinuteSchedule, on the wall clock of the Os seam); systemd notifications (READY=1 after
// every check's first result, WATCHDOG=1 from the loop, STATUS=); SIGHUP reloads the
// configuration (a broken file is refused and the old one kept), SIGTERM/SIGINT stop cleanly
// with an agent_stop record. History lives in the state directory (HistoryStore); a status.json
// beside it tells `fleet-agent status` what the daemon sees without touching the daemon: each
// check's last result with its wall time (`checked_at`), and `last_evaluation`, the last minute
// the uptime rule was applied to (`at` when), written only after that minute's heartbeat
// committed (`heartbeat: "written"`) or failed and was queued in memory (`"queued"`). It is
// rewritten at every evaluation and at most every 5 s on results, atomically (rename), so it
// may lag the results by a few seconds.
#pragma once

#include <string>

namespace fleet {

struct DaemonOptions {
  std::string config_file;  // empty: embedded defaults
  std::string state_dir;    // overrides the config's state_dir when set
};

// Runs until stopped; returns the process exit code (0 after a clean stop, 1 when it
// could not start: bad configuration, state directory not writable).
int RunDaemon(const DaemonOptions& options);

}  // namespace fleet
