// NodeMonth: what the node page shows of one node and one calendar month (UTC), read through
// the WebReads of a request: the uptime report's figures for the node alone (ComputeUptime over
// a registry of that node, so the same rules and the same figures as `fleet-receiver uptime`),
// its hours as the report counts their minutes (minute_map.h, over the very heartbeat rows the
// report read: one read of them), the month's critical alerts with their first acknowledgement
// and resolution (the report's, with each incident's summary), the remediations the node
// recorded (started in the month, chained and acknowledged records only, as the reports read;
// repeats from two epochs folded) and its task runs (ReportSource's, folded by job and run as
// the report folds them). The caller has checked the viewer (shown_node.h). Lists are cut at
// kMaxLines, saying so.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/utc_time.h"
#include "receiver/report/minute_map.h"
#include "receiver/report/uptime_report.h"
#include "receiver/web/web_reads.h"

namespace fleet::receiver {

struct IncidentLine {
  AlertFacts alert;
  std::string summary;  // the node's incident's (empty for a receiver's silence alert)
  std::optional<std::int64_t> to_ack;      // seconds from opening to the first acknowledgement
  bool ack_live = false;                   // that acknowledgement came live
  std::optional<std::int64_t> to_resolve;  // seconds from opening to closing
};

struct RemediationLine {
  std::int64_t epoch = 0, seq = 0;
  std::string check, target, action, reason, outcome;
  std::int64_t attempt = 0, started = 0, finished = 0;
  std::optional<std::string> changed;
  std::optional<std::int64_t> incident;
};

struct TaskLine {
  std::string job;
  std::int64_t run_at = 0;
  bool ok = false;
};

struct NodeMonth {
  NodeRegistration node;
  Period month;
  // nullopt when the node was not registered at any time of the month.
  std::optional<UptimeFigures> figures;
  double uptime_percent = 0;  // UptimePercent(policy.late_minutes_count)
  std::vector<HourTally> hours;
  std::vector<IncidentLine> incidents;
  std::vector<RemediationLine> remediations;
  std::vector<TaskLine> tasks;
  std::int64_t task_runs = 0, task_ok = 0;  // all of them, also past the cut
  bool cut = false;                         // a list was cut at kMaxLines
};

inline constexpr std::size_t kMaxLines = 2000;

Result<NodeMonth> LoadNodeMonth(WebReads& reads, const NodeRegistration& node,
                                const Registry& registry, const Period& month);

}  // namespace fleet::receiver
