// AlertAnswers: how an operator's critical alerts of a month were answered, by the quality
// standard (design.md, "Alerts and acknowledgements"). Every critical alert of the month
// (uptime_report.h: a critical incident, or an alert the receiver sent) is ANSWERED when it
// was acknowledged (an `ack` record, a press or command at the receiver) or it
// closed within kAnswerWithinSeconds (30 min) of opening, and whichever of the two came
// first is how. An acknowledgement that arrived late (from a spool: not within live_within
// of its `at`, uptime_report.h) is marked late and counts only when the payout policy counts
// late records, as for late up minutes (statement.h); one that does not count is shown, not
// used. MTTA is the mean time from opening to the first acknowledgement that counts, over
// the alerts with one; MTTR the mean time from opening to closing, over the closed ones
// (both whole seconds, rounded). Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "receiver/report/uptime_report.h"

namespace fleet::receiver {

enum class AlertAnswer { kAcknowledged, kResolved, kNotAnswered };
std::string_view AlertAnswerName(AlertAnswer answer);  // acknowledged, resolved, not_answered

struct AlertLine {
  std::string node;
  std::int64_t incident = 0;          // the node's incident id (0: a silent-node alert)
  std::optional<std::int64_t> alert;  // the receiver's alert number, when it sent it
  bool silent = false;
  std::string check;
  std::int64_t opened = 0;
  std::optional<std::int64_t> closed;
  AlertAnswer answer = AlertAnswer::kNotAnswered;
  std::optional<std::int64_t> answered_after_s;  // opening to the answer
  // The first acknowledgement that counts; when none counts, the first one there was.
  std::optional<AlertAck> ack;
  bool ack_counted = false;
  // "acknowledged by ada via telegram after 4m", "resolved after 12m",
  // "not answered within 30m (still open)"...
  std::string figure;
};

struct AlertSummary {
  std::int64_t alerts = 0;
  std::int64_t answered = 0;
  std::int64_t acknowledged = 0;  // answered by an acknowledgement
  std::int64_t resolved = 0;      // answered by closing
  std::int64_t late_acks = 0;     // lines whose acknowledgement arrived late
  std::optional<std::int64_t> mtta_s;
  std::int64_t mtta_alerts = 0;  // alerts with an acknowledgement that counts
  std::optional<std::int64_t> mttr_s;
  std::int64_t mttr_alerts = 0;  // closed alerts
  std::vector<AlertLine> lines;  // by node, then opening
};

// nodes: one operator's, in order.
AlertSummary AnswerAlerts(const std::vector<const NodeUptime*>& nodes, bool late_acks_count);

// A duration as the statement shows it: "45s", "4m", "4m30s", "1h05m", "2d03h".
std::string FormatDuration(std::int64_t seconds);

}  // namespace fleet::receiver
