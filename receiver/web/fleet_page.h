// FleetPage: the dashboard's home (GET /) and the same data as JSON (GET /v1/fleet): per
// operator the viewer sees (admin: all; an operator: only their own; nothing of another
// operator is read), each registered, not revoked node with
// - its state now (node_states.h ClassifyNode: live, late, silent, never_seen) and the age of
//   its last heartbeat (seconds since that minute ended): the newest minute of the part read
//   every render (below: the last 10 to 70 minutes, up to the current minute's start) when it
//   has one, else read as ReadFleetStates reads it (the last hour and 10 minutes ahead, then 35
//   days); so a heartbeat claiming the current minute or later (a clock ahead) is not what
//   sets the age of a node that also reported in the last hour;
// - month-to-date uptime: ComputeUptime over [the month's start, the current minute's start),
//   UptimePercent(policy.late_minutes_count), against the 99.5% line;
// - the downtime budget left, in minutes: floor(0.5% of the minutes the node is registered in
//   the whole month) (216 for a 30-day month) minus the minutes so far that did not count as
//   up (down + unmeasured, and late up minutes when the policy does not count them); negative
//   when overspent;
// - open alerts: the receiver's alerts of the node not resolved, and the node's incidents not
//   closed (those an open receiver alert told of are listed under it), each with its first
//   acknowledgement (given at the receiver, or an ack record of the node naming the incident)
//   or "not acknowledged";
// - month-to-date task completion (% of task runs that succeeded).
// ReadFleet gives the figures (tests and the bench use it); a read error is a 503.
//
// Speed (a 1,000-node fleet in under 200 ms): the month so far is read in two parts, the
// settled part [month start, the hour that began at least 10 minutes ago) and the rest. A
// FleetCache (the router keeps one) holds each node's figures of its settled part with the
// node's watermarks (epoch -> acknowledged seq) when they were read; the next render reads only
// the hours that have settled since, and reads the node's settled part again in full only when
// a record acknowledged since then (a heartbeat's minute or a task run's time) falls into it (a
// spool delivered late), or the node's registration or the month changed. Records count only at
// or below their watermark and never change once stored, so figures built this way equal
// ComputeUptime's over the whole month so far; the test checks it. Only the additive figures
// are kept (minutes, up, up_live, up_late, down, unmeasured, conflicting, task runs and ok).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/utc_time.h"
#include "receiver/access/viewer.h"
#include "receiver/http/http_server.h"
#include "receiver/report/node_states.h"
#include "receiver/report/uptime_report.h"
#include "receiver/web/web_reads.h"

namespace fleet::receiver {

inline constexpr double kUptimeLinePercent = 99.5;

struct OpenAlert {
  std::optional<std::int64_t> alert;    // the receiver's alert number, when it sent one
  std::vector<std::int64_t> incidents;  // the node's incident ids
  std::string what;                     // the checks, or "no heartbeat"
  std::string summary;                  // an incident's summary, may be empty
  std::int64_t opened = 0;
  std::optional<AlertAck> ack;  // the first acknowledgement
};

struct FleetNode {
  std::string node;
  NodeState state = NodeState::kNeverSeen;
  std::optional<std::int64_t> last_minute;  // start of the last heartbeat's minute
  std::optional<std::int64_t> age_s;        // now - that minute's end
  UptimeFigures figures;                    // month to date
  double uptime_percent = 0;                // over figures.minutes; 0 when none yet
  std::int64_t budget_minutes = 0;          // the whole month's
  std::int64_t budget_left = 0;             // may be negative
  std::vector<OpenAlert> open_alerts;
};

struct FleetOperator {
  std::string id;
  std::string name;
  UptimeFigures figures;  // month to date, every node registered in it (revoked ones too)
  std::vector<FleetNode> nodes;
};

struct FleetView {
  std::int64_t now = 0;
  Period month;    // the whole month
  Period to_date;  // [month start, current minute start)
  bool late_minutes_count = true;
  std::vector<FleetOperator> operators;
};

class FleetCache {
 public:
  struct Entry {
    std::int64_t added_at = 0;
    std::optional<std::int64_t> revoked_at;
    std::int64_t begin = 0;  // the month's start
    std::int64_t until = 0;  // figures of [begin, until)
    UptimeFigures figures;
    std::map<std::int64_t, std::int64_t> watermarks;  // epoch -> ack_seq, read before figures
  };
  std::map<std::string, Entry> entries;
};

// floor(0.005 * month_minutes) minus the minutes that did not count as up so far.
std::int64_t BudgetLeft(std::int64_t month_minutes, const UptimeFigures& to_date,
                        bool late_minutes_count);

// cache: nullptr reads everything afresh.
Result<FleetView> ReadFleet(WebReads& reads, const Viewer& viewer, FleetCache* cache = nullptr);

HttpResponse FleetPage(WebReads& reads, const Viewer& viewer, FleetCache* cache = nullptr);
HttpResponse FleetJson(WebReads& reads, const Viewer& viewer, FleetCache* cache = nullptr);

}  // namespace fleet::receiver
