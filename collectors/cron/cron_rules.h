// The cron rules: from a parsed jobs.json and the time, the check's status, one-line
// summary and details. Decisions (facts: hermes-node-facts.md "Cron"):
// - Success is decided from jobs.json alone. `last_status` "ok" is a success; "error" (and
//   "failed", "failure", "timeout") a failed run; "delivery_failed" means the job ran but
//   its result was not delivered: a WARNING of its own, not a failed run, and not added to
//   the streak unless `failure_streak` itself says so; null means never run; any other
//   value is shown as written and raises nothing by itself.
// - Failure streak: `failure_streak` when the file has it; older files do not, so the
//   streak is assumed 1 after a failed run and 0 otherwise, and the details say so.
// - CRITICAL: a streak at or above critical_failure_streak; WARNING: a failed or
//   undelivered last run, a missed run. Jobs taken out of service (state "paused", or
//   `enabled: false` other than a "completed" one) raise nothing: they are listed only.
// - Missed run: enabled, not paused or completed, and `next_run_at` older than now minus
//   the grace. Grace = half the period clamped to 2 min .. 2 h (interval: its minutes; cron:
//   the gap between the firing at next_run_at and the one after, evaluated in the offset
//   next_run_at was written in; once: 2 min; unknown or unparsable: 2 h), and never below
//   5 min, since the facts call up to 5 min of lateness normal.
// Pure; never throws.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "base/text.h"
#include "collectors/cron/jobs_file.h"
#include "collectors/cron/timestamp.h"
#include "core/check_result.h"

namespace fleet {

enum class RunOutcome { kNeverRun, kOk, kFailed, kDeliveryFailed, kOther };
RunOutcome ClassifyLastStatus(const std::optional<std::string>& last_status);

struct MissedRunGrace {
  std::chrono::seconds grace{0};  // the effective grace, 5 min floor applied
  std::string basis;              // "every 30m", "cron, about every 1d", "one-shot", ...
};
MissedRunGrace GraceFor(const CronSchedule& schedule, const std::optional<Timestamp>& next_run);

struct CronRuleInput {
  std::chrono::system_clock::time_point now;
  int critical_failure_streak = 3;
  std::string output_dir = "~/.hermes/cron/output";  // shown in summaries
};

CheckResult EvaluateCronJobs(const JobsFile& file, const CronRuleInput& input);

}  // namespace fleet
