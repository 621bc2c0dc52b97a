// WeeklySummary: the runbook's weekly report, sent by the node itself (alerts.weekly_summary)
// on Monday before 09:00 UTC, when the report is due: the ISO week that just ended, from
// `fleet-agent report`'s figures (uptime, tasks, incidents, disks, the bonus thresholds), as
// a message with a headline and a line per figure. Once per week: the week last sent is
// kept by the caller. Pure.
#pragma once

#include <optional>
#include <string_view>

#include "agent/report/metrics_report.h"
#include "alerting/alert.h"
#include "base/utc_time.h"

namespace fleet {

// The week whose summary is due at `now`: Monday 00:00 to 09:00 UTC, the week before, unless
// `last_sent` ("2026-W49") is that week already.
std::optional<Period> WeeklySummaryDue(UnixSeconds now, std::string_view last_sent);

alerting::Alert WeeklySummary(const MetricsReport& report);

}  // namespace fleet
