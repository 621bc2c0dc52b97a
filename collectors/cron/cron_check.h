// CronCheck: the Hermes cron results from `cron/jobs.json` of the Hermes home (all three
// shapes: {"jobs":[...]}, a bare list, an id-keyed object). Per job: last status, last
// error, failure streak, missed run (grace: half the period, clamped to 2 min .. 2 h);
// totals. CRITICAL: a failure streak at or above critical_failure_streak; WARNING: a failed
// last run or a missed run; UNKNOWN: the file unreadable or not valid JSON.
#pragma once

#include <memory>
#include <string>

#include "agent/core/collector.h"

namespace fleet {

struct CronOptions {
  std::string jobs_file = "cron/jobs.json";  // relative to the Hermes home
  int critical_failure_streak = 3;
};

std::unique_ptr<Collector> MakeCronCheck(CronOptions options);

}  // namespace fleet
