// UptimeReport: a calendar month (UTC) of each node and operator: up, down and
// unmeasured minutes, uptime % (up over every minute the node was registered in the
// month), up minutes that arrived live (received between the minute's end and
// `live_within` after it) versus late from a spool, minutes with conflicting claims (one
// heartbeat up, another down: counted down and listed), task runs and completion %, incidents (all
// are critical: the agent opens one when a check goes CRITICAL), how many were resolved within 30
// minutes, and the longest. A node counts from 00:00 UTC of the day it was added, until it was
// revoked (the minute it was revoked in included). A heartbeat received more than 5 s before its
// minute ended claims time that had not passed and is not counted. Only records the
// source returns count: the stores return chained, acknowledged ones (report_source.h).
// Pure rules over a ReportSource.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/utc_time.h"
#include "receiver/report/report_source.h"

namespace fleet::receiver {

struct UptimeFigures {
  std::int64_t minutes = 0;  // registered minutes in the month
  std::int64_t up = 0;
  std::int64_t down = 0;
  std::int64_t unmeasured = 0;
  std::int64_t up_live = 0;
  std::int64_t up_late = 0;
  std::int64_t conflicting = 0;  // claimed up and down: counted in down
  std::int64_t task_runs = 0;
  std::int64_t task_ok = 0;
  std::int64_t incidents = 0;
  std::int64_t incidents_resolved_in_30m = 0;
  std::int64_t incidents_open = 0;      // not closed by the month's end
  std::int64_t longest_incident_s = 0;  // within the month (open ones to the month's end)
  std::string longest_incident_check;

  double UptimePercent(bool count_late) const;
  std::optional<double> TaskCompletionPercent() const;  // nullopt without runs
  void Add(const UptimeFigures& other);
};

struct NodeUptime {
  std::string node;
  std::string operator_id;
  UptimeFigures figures;
  // The conflicting minutes, as inclusive ranges of minute starts (unix seconds).
  std::vector<std::pair<std::int64_t, std::int64_t>> conflicting_minutes;
};

struct OperatorUptime {
  std::string operator_id;
  std::string name;
  std::int64_t nodes = 0;  // registered at any time in the month
  UptimeFigures figures;
};

struct MonthUptime {
  Period month;
  std::int64_t live_within_s = 600;
  std::vector<NodeUptime> nodes;
  std::vector<OperatorUptime> operators;  // every registered operator, even without nodes
};

Result<MonthUptime> ComputeUptime(ReportSource& source, const Registry& registry,
                                  const Period& month, std::int64_t live_within_s);

}  // namespace fleet::receiver
