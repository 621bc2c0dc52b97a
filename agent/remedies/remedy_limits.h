// RemedyBudget: how often the agent may act on each target, in Kubernetes's
// CrashLoopBackOff manner, as a pure state machine on the caller's clock (unix seconds).
// Per target: the first attempt goes at once; after the n-th of a run of attempts the next
// waits backoff * 2^(n-1), at most backoff_cap; once `attempts` attempts started within
// `within`, the target is exhausted and stays so (no more attempts, however much time
// passes: Monit's restart loops are the anti-anchor) until it has been fine for
// `reset_after` without a break, which wipes its slate (attempts, back-off, exhaustion).
// A unit that fails at once therefore sees exactly `attempts` restarts. UNKNOWN is neither
// fine nor bad: the caller says nothing then. A wall clock that jumps back shifts the times
// kept by the jump, so waits keep their length. The state saves to JSON and loads back
// (a restarted agent keeps counting). Not thread-safe; one owner.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "base/result.h"

namespace fleet {

class RemedyBudget {
 public:
  enum class Verdict {
    kGo,         // act now: this is attempt `attempt`
    kWait,       // backing off until `at`
    kExhausted,  // no more attempts until a clean slate; `attempt` attempts were made
  };
  struct Decision {
    Verdict verdict = Verdict::kGo;
    int attempt = 1;
    std::int64_t at = 0;
  };

  explicit RemedyBudget(RemedyLimits limits) : limits_(limits) {}
  void set_limits(const RemedyLimits& limits) { limits_ = limits; }
  const RemedyLimits& limits() const { return limits_; }

  // Whether `target` may be acted on now. Marks it exhausted when its attempts are used up.
  Decision Ask(const std::string& target, std::int64_t now);
  // An attempt on `target` starts now (after a kGo).
  void Attempted(const std::string& target, std::int64_t now);
  // What the target's check found: fine (the healthy streak goes on; reset_after of it
  // wipes the slate) or bad (the streak ends).
  void Fine(const std::string& target, std::int64_t now);
  void Bad(const std::string& target, std::int64_t now);
  // Wipes a target's slate at once (the operator's `fleet-agent fix`).
  void Reset(const std::string& target) { targets_.erase(target); }

  bool Exhausted(const std::string& target) const;
  // Whether the exhaustion of `target` was already told (recorded, alerted); set by the
  // caller so it is told once per exhaustion.
  bool Told(const std::string& target) const;
  void SetTold(const std::string& target);
  // The targets exhausted now, by name.
  std::vector<std::string> ExhaustedTargets() const;
  // Attempts of `target` within the window as of now (for messages).
  int AttemptsWithin(const std::string& target, std::int64_t now) const;

  nlohmann::json Save() const;
  // A saved state it cannot read whole is refused with the reason; the caller starts afresh.
  static Result<RemedyBudget> Load(const nlohmann::json& saved, RemedyLimits limits);

 private:
  struct Target {
    std::vector<std::int64_t> attempts;  // start times, within `within` (older ones dropped)
    int streak = 0;                      // attempts since the last clean slate
    std::int64_t last_attempt = 0;
    std::optional<std::int64_t> fine_since;
    bool exhausted = false;
    bool told = false;
  };

  void FollowClock(std::int64_t now);
  void Forget(Target& target, std::int64_t now) const;

  RemedyLimits limits_;
  std::map<std::string, Target> targets_;
  std::int64_t last_now_ = 0;
};

}  // namespace fleet
