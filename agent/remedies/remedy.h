// Remedy: one kind of fix the agent makes by itself (restart the gateway, recreate a tmux
// session, clean the disk, quarantine a dispatch file), as the runbook does it by hand. A
// remedy reads the result of its check (never an UNKNOWN one: could not look is not broken)
// and plans: which of its targets are fine, which are bad, and for the bad ones what to do
// (a RemedyTask). Planning is cheap and runs on the daemon's loop; a task's `run` does the
// work on a worker thread and must return by the deadline it is given (every program,
// D-Bus call and file walk in it is bounded by it). The runner (remedy_runner.h) decides
// whether a task runs at all: limits, maintenance, dry-run, one at a time per target.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "core/check_result.h"
#include "protocol/records.h"

namespace fleet {

// What a task did: whether it worked (the unit active again, the session there, the disk
// under its line...) and what changed or why it did not work, in one line.
struct RemedyDone {
  bool ok = false;
  std::string changed;
};

struct RemedyTask {
  std::string target;  // what is acted on: "hermes-gateway.service", "BURN2", "/"
  protocol::RemedyAction action = protocol::RemedyAction::kRestartUnit;
  std::string what;  // the action in words, for logs, alerts, dry-run ("restart X in Y")
  std::string did;   // the same, done ("restarted X in Y"); empty: what + " (done)"
  std::chrono::milliseconds timeout{10'000};
  std::function<RemedyDone(std::chrono::steady_clock::time_point deadline)> run;
};

struct RemedyPlan {
  std::vector<std::string> fine;  // targets the result shows fine
  std::vector<std::string> bad;   // bad targets with nothing to do now (the tasks' are bad too)
  std::vector<RemedyTask> tasks;  // what to do about bad targets
  std::string note;               // for the alert when nothing can be done ("no unit: ...")
};

class Remedy {
 public:
  virtual ~Remedy() = default;
  // The check whose results this remedy reads ("gateway").
  virtual std::string Check() const = 0;
  virtual RemedyPlan Plan(const CheckResult& result) const = 0;
};

}  // namespace fleet
