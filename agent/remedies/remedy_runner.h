// RemedyRunner: the remedies inside `fleet-agent run`, fed every check answer on the
// daemon's loop. For each remedy of the answer's check it takes the plan (remedy.h) and
// applies the safety rules of issue 14 before anything is done:
// - never on UNKNOWN (could not look is not broken): an UNKNOWN answer changes nothing;
// - never during maintenance (the alerts' window): bad targets wait;
// - one action at a time per target: a target whose task still runs is left alone (a task
//   past its deadline is recorded failed once; the target stays busy until it returns);
// - within the target's limits (remedy_limits.h): backing off, then exhausted: recorded
//   once and told to the alert ("remediation exhausted, needs you");
// - in dry-run, the task is not run: recorded as what would be done, limits counted.
// Every action (or would-be action, or exhaustion) is a `remediation` record through the
// history hook, with the check's open incident. What was done goes to the alert as the
// check's note ("restarted ... automatically (attempt 1 of 3); healthy after 6 s"), and
// the check is asked to run again as soon as a task ends, so health shows within moments.
// Tasks run on worker threads (the launch hook) and report back through the post hook,
// onto the loop. The limits' state is kept through the load/save hooks (history meta).
// Loop thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "agent/history/history_store.h"
#include "agent/remedies/remedy.h"
#include "agent/remedies/remedy_limits.h"
#include "base/result.h"
#include "core/check_result.h"

namespace fleet {

struct RemedyHooks {
  std::function<std::int64_t()> now;  // wall clock, unix seconds
  std::function<bool()> in_maintenance;
  std::function<std::optional<std::int64_t>(const std::string& check)> open_incident;
  std::function<Outcome(const RemediationEntry& entry)> record;
  // What the agent did about a check, for its alert; `tell`: worth a message of its own.
  std::function<void(const std::string& check, const std::string& note, bool tell)> note;
  std::function<void(const std::string& check)> recheck;
  std::function<void(std::function<void()>)> post;           // run on the loop thread
  std::function<void(std::function<void()>)> launch;         // run on a worker thread
  std::function<Result<std::optional<std::string>>()> load;  // the limits' saved state
  std::function<Outcome(const std::string& state)> save;
  // A task that has not reported by its deadline plus this is recorded failed.
  std::chrono::milliseconds overdue_grace{5000};
};

class RemedyRunner {
 public:
  explicit RemedyRunner(RemedyHooks hooks);
  ~RemedyRunner();

  // (Re)configures; the limits' state is loaded at the first call. Tasks running keep
  // running; a reload does not forget what the limits counted.
  void Configure(RemedyMode mode, const RemedyLimits& limits,
                 std::vector<std::unique_ptr<Remedy>> remedies);
  void Observe(const CheckResult& result);
  // Starts nothing more; tasks running are left to end on their own.
  void Stop();
  int InFlight() const { return static_cast<int>(running_.size()); }
  nlohmann::json Status() const;

 private:
  struct Running {
    std::string check;
    std::string what;
    std::string did;
    protocol::RemedyAction action;
    std::string reason;
    int attempt = 1;
    std::int64_t started = 0;
    std::chrono::steady_clock::time_point deadline;
    bool overdue = false;  // recorded failed at its deadline; its late end is only logged
  };
  struct Awaiting {  // a task that worked: waiting for the check to say so
    std::string did;
    int attempt = 1;
    std::int64_t started = 0;
  };

  void Apply(const std::string& check, const CheckResult& result, RemedyPlan plan);
  void Act(const std::string& check, const CheckResult& result, RemedyTask task);
  void Finished(const std::string& key, const RemedyDone& done, std::int64_t finished);
  void Overdue(std::int64_t now);
  void Record(const std::string& check, const std::string& target, protocol::RemedyAction action,
              const std::string& reason, int attempt, std::int64_t started, std::int64_t finished,
              protocol::RemedyOutcome outcome, const std::optional<std::string>& changed);
  void Note(const std::string& check, const std::string& target, std::string text, bool tell);
  void SaveBudget();
  std::string Attempt(int attempt) const;

  RemedyHooks hooks_;
  RemedyMode mode_ = RemedyMode::kAct;
  RemedyBudget budget_{RemedyLimits{}};
  bool loaded_ = false;
  std::string last_saved_;
  std::vector<std::unique_ptr<Remedy>> remedies_;
  std::map<std::string, Running> running_;    // by target key ("gateway:hermes-gateway.service")
  std::map<std::string, Awaiting> awaiting_;  // by target key
  std::map<std::string, std::map<std::string, std::string>> notes_;  // check -> target -> text
  std::deque<nlohmann::json> recent_;                                // the last actions, for status
  bool held_for_maintenance_ = false;
  bool stopped_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// "gateway:hermes-gateway.service": the limits' key of a remedy's target.
std::string RemedyTargetKey(const std::string& check, const std::string& target);

}  // namespace fleet
