// Statement: each operator's payout for a month by the operator program's rules
// (design.md, "Payout rules"): base by node count (150 for up to 5 nodes, +25 per node
// beyond 5, at most 10 paid), the monthly bonuses each with the figure that earned or
// missed it (uptime > 99.5% +50, task completion > 95% +30, every critical alert answered
// within 30 min +20: acknowledged or resolved, alert_answers.h, with each alert listed and
// the operator's MTTA and MTTR), the retention bonus (+100 in quarter-end months for
// operators active 6+ months), and partner commissions (20% of each referred operator's
// base and bonuses during that operator's first 12 months, for partners with at least 2
// referred operators). Whether what arrived late from a spool counts (up minutes toward the
// uptime bonus, acknowledgements toward the alert bonus) is one policy flag; the statement
// shows how many did. Minutes whose
// heartbeats disagreed (up and down) count as down and are listed, node by node. A node counts
// toward the base (and makes its operator eligible for retention) only when it was measured in the
// month: heartbeats, up or down, for at least kMeasuredMinutesForBase minutes (7 days); a
// registered node that never reported, or was revoked early, is listed as left out with the minutes
// it was measured. Pure.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "receiver/report/alert_answers.h"
#include "receiver/report/uptime_report.h"

namespace fleet::receiver {

struct PayoutPolicy {
  // Records that arrived late from a spool count: up minutes toward the uptime bonus, and
  // acknowledgements toward the alert bonus (and MTTA). Not counted, they are still shown.
  bool late_minutes_count = true;
};

struct BonusLine {
  std::string name;  // "uptime", "tasks", "incidents", "retention"
  bool earned = false;
  double amount = 0;
  std::string figure;  // "99.71% > 99.5%", "no task runs", ...
};

// 7 days of heartbeats: a node must have run a real part of the month to raise the base.
inline constexpr std::int64_t kMeasuredMinutesForBase = 7 * 1440;

struct LeftOutNode {
  std::string node;
  std::int64_t measured_minutes = 0;  // up or down, under kMeasuredMinutesForBase
};

// Minutes of a node whose heartbeats disagreed (one up, another down): counted as down.
struct ConflictingMinutes {
  std::string node;
  std::int64_t first = 0;  // unix seconds of the first minute's start
  std::int64_t last = 0;   // of the last minute's start (inclusive)
};

struct CommissionLine {
  std::string referred;
  double base_part = 0;
  double bonus_part = 0;
  int months_left = 0;  // of the referred operator's first 12, after this one
};

struct OperatorStatement {
  std::string operator_id;
  std::string name;
  std::int64_t nodes = 0;           // registered at any time in the month
  std::int64_t measured_nodes = 0;  // measured enough to count toward the base
  std::int64_t paid_nodes = 0;      // measured nodes, at most 10
  std::vector<LeftOutNode> left_out;
  double base = 0;
  std::vector<BonusLine> bonuses;  // uptime, tasks, incidents (alerts answered), retention
  AlertSummary alerts;             // each critical alert, how it was answered, MTTA, MTTR
  std::int64_t late_up_minutes = 0;
  bool late_minutes_counted = true;
  std::int64_t conflicting_minutes = 0;
  std::vector<ConflictingMinutes> conflicts;  // by node, then time
  bool partner = false;
  std::int64_t referred_operators = 0;
  std::vector<CommissionLine> commissions;
  double bonus_total = 0;  // monthly bonuses and retention
  double commission_total = 0;
  double total = 0;
};

struct MonthStatement {
  Period month;
  std::string bonuses_due;  // RFC 3339 date: 7 days after the month's end
  PayoutPolicy policy;
  std::vector<OperatorStatement> operators;
  double total = 0;
};

MonthStatement ComputeStatement(const MonthUptime& uptime, const Registry& registry,
                                const PayoutPolicy& policy);

}  // namespace fleet::receiver
