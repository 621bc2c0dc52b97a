// CheckRuns: when each check runs and which of its answers counts, on the monotonic clock
// the caller passes in (pure; the daemon's CheckScheduler drives it with a timer and
// worker threads). A check starts at once when configured, then every `interval` after its
// previous start; a start finds the previous run still busy (stuck past its deadline) and
// skips, since the stuck run was already reported. A run's answer counts once: its result
// if it comes by its deadline plus kGrace, otherwise the UNKNOWN "did not answer" result at
// that moment, and the worker's late result is dropped. A reload (Configure) keeps the run
// numbers of the checks it keeps, so answers of runs from before it are dropped (a stuck
// worker of an old run does not hold back the new one), forgets the checks it removes,
// and starts every check it has at once. RunSoon brings a check's next run forward.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "core/check_result.h"

namespace fleet {

class CheckRuns {
 public:
  using Mono = std::chrono::steady_clock::time_point;
  static constexpr std::chrono::milliseconds kGrace{200};

  struct Start {
    std::string check;
    std::uint64_t run = 0;
    Mono deadline;  // the collector's own deadline (CheckContext)
  };
  struct Wake {
    std::vector<Start> starts;          // runs to begin now
    std::vector<CheckResult> timeouts;  // answers due now: runs that did not answer in time
    Mono next;                          // wake again then at the latest
  };

  // The enabled checks and their settings; `now` is when they are due first.
  void Configure(const std::map<std::string, CheckSettings>& checks, Mono now);
  Wake OnWake(Mono now);
  // `check` is due at once (a remedy acted on what it found): now when idle, else as soon
  // as its current run ends (Finish).
  void RunSoon(const std::string& check, Mono now);
  // A worker finished run `run` of `check`: true when its result is the answer.
  bool Finish(const std::string& check, std::uint64_t run);
  // Every configured check has answered once since it was configured first.
  bool AllAnswered() const;
  bool Has(const std::string& check) const { return checks_.contains(check); }
  std::size_t size() const { return checks_.size(); }

 private:
  struct State {
    CheckSettings settings;
    Mono due;
    std::uint64_t run = 0;
    bool busy = false;     // a worker holds the current run
    bool answered = true;  // the current run's answer (result or timeout) was given
    Mono answer_by;        // when the current run times out
    bool ever_answered = false;
    bool soon = false;  // RunSoon while busy: due again once this run ends
  };
  std::map<std::string, State> checks_;
};

}  // namespace fleet
