// UptimeReport: a calendar month (UTC) of each node and operator: up, down and
// unmeasured minutes, uptime % (up over every minute the node was registered in the
// month), up minutes that arrived live (received between the minute's end and
// `live_within` after it) versus late from a spool, minutes with conflicting claims (one
// heartbeat up, another down: counted down and listed), task runs and completion %, incidents (all
// are critical: the agent opens one when a check goes CRITICAL), how many were resolved within 30
// minutes, and the longest; the month's critical alerts: each incident, or, for the time the
// receiver alerted for the node (ReportSource::ReceiverAlertingOf), the alerts the receiver
// sent in the month instead (of incidents and of silence; an incident it never alerted of,
// closed before `confirm` or come late from a spool, is no alert then), each with the first
// acknowledgement given at the receiver; and, for each alert, the node's acknowledgements
// (matched by the node's incident id: to the latest alert of that id opened at or before the ack;
// copies of one ack folded, live if any copy was; acks given up to 30 minutes after the month
// read too, for incidents opened at its end), each judged live or late with the same
// `live_within` as minutes (receiver/core/live_arrival.h). A node counts from 00:00 UTC of the day
// it was added, until it was revoked (the minute it was revoked in included). A heartbeat received
// more than 5 s before its minute ended claims time that had not passed and is not counted. Only
// records the source returns count: the stores return chained, acknowledged ones (report_source.h).
// Pure rules over a ReportSource.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/utc_time.h"
#include "receiver/core/live_arrival.h"
#include "receiver/report/report_source.h"

namespace fleet::receiver {

// The quality standard's target: an incident resolved (or, for the statement, its alert
// acknowledged) within this of its opening.
inline constexpr std::int64_t kAnswerWithinSeconds = 30 * 60;

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

// An acknowledgement of an alert, as the reports see it.
struct AlertAck {
  std::int64_t at = 0;
  std::string by;
  std::string via;
  bool live = false;  // received within live_within after `at`
};

// A critical alert of the month and its acknowledgements: a critical incident the node
// opened (each is an alert), or, while the receiver alerted for the node, an alert the
// receiver sent (of the node's incidents, or of its silence).
struct AlertFacts {
  std::int64_t id = 0;  // the node's incident id (the first of a receiver alert's; 0: none)
  std::string check;    // a receiver alert's checks, ", "-separated
  std::int64_t opened = 0;
  std::optional<std::int64_t> closed;
  std::vector<AlertAck> acks;           // by at, none before opened
  std::optional<std::int64_t> alert;    // the receiver's alert number, when it sent it
  std::vector<std::int64_t> incidents;  // the node's incident ids its acks may name
  bool silent = false;                  // the receiver's silent-node alert
};

struct NodeUptime {
  std::string node;
  std::string operator_id;
  UptimeFigures figures;
  std::vector<AlertFacts> alerts;  // by opened
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
  std::int64_t live_within_s = kLiveWithinSeconds;
  std::vector<NodeUptime> nodes;
  std::vector<OperatorUptime> operators;  // every registered operator, even without nodes
};

Result<MonthUptime> ComputeUptime(ReportSource& source, const Registry& registry,
                                  const Period& month, std::int64_t live_within_s);

}  // namespace fleet::receiver
