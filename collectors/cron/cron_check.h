// CronCheck: the Hermes cron results from `cron/jobs.json` of the Hermes home (all three
// shapes: {"jobs":[...]}, a bare list, an id-keyed object). Per job: last status, last
// error, failure streak, missed run; totals (rules and grace: cron_rules.h). CRITICAL: a
// failure streak at or above critical_failure_streak; WARNING: a failed or undelivered
// last run, a missed run. UNKNOWN with one line saying why: the file unreadable, a
// directory, FIFO or dangling symlink, over 4 MiB, not valid JSON, or none of the shapes.
// No jobs.json in an existing home is OK (no jobs yet). Symlinks are followed and noted;
// Hermes' secret files (auth.json, .env, config.yaml) are never read. The age of
// cron/ticker_heartbeat goes into the details when the file is there.
#pragma once

#include <memory>
#include <string>

#include "core/collector.h"

namespace fleet {

struct CronOptions {
  std::string jobs_file = "cron/jobs.json";  // relative to the Hermes home
  int critical_failure_streak = 3;
};

std::unique_ptr<Collector> MakeCronCheck(CronOptions options);

}  // namespace fleet
