#include "receiver/report/statement.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

namespace fleet::receiver {
namespace {

constexpr double kBase = 150, kPerExtraNode = 25, kUptimeBonus = 50, kTaskBonus = 30,
                 kIncidentBonus = 20, kRetentionBonus = 100, kPartnerShare = 0.20;
constexpr std::int64_t kBaseNodes = 5, kMaxPaidNodes = 10;

std::string Percent(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f%%", value);
  return text;
}

// Months from the month holding `t` to the month holding `month_begin` (0 = same month).
int MonthsSince(std::int64_t t, std::int64_t month_begin) {
  using namespace std::chrono;
  const year_month_day from{floor<days>(sys_seconds{seconds{t}})};
  const year_month_day to{floor<days>(sys_seconds{seconds{month_begin}})};
  return (to.year() / to.month() - from.year() / from.month()).count();
}

// "2 of 3 critical alerts answered within 30 min (1 acknowledged, 1 resolved; 1 late
// acknowledgement counted)".
std::string AlertFigure(const AlertSummary& a, bool late_counted) {
  std::string figure =
      std::to_string(a.answered) + " of " + std::to_string(a.alerts) +
      " critical alerts answered within " + std::to_string(kAnswerWithinSeconds / 60) + " min (" +
      std::to_string(a.acknowledged) + " acknowledged, " + std::to_string(a.resolved) + " resolved";
  if (a.late_acks > 0) {
    figure += "; " + std::to_string(a.late_acks) +
              (a.late_acks == 1 ? " late acknowledgement " : " late acknowledgements ") +
              (late_counted ? "counted" : "not counted");
  }
  return figure + ")";
}

std::vector<BonusLine> MonthlyBonuses(const OperatorUptime& op, const AlertSummary& alerts,
                                      const PayoutPolicy& policy) {
  const UptimeFigures& f = op.figures;
  std::vector<BonusLine> lines;
  if (op.nodes == 0) {
    for (const char* name : {"uptime", "tasks", "incidents"}) {
      lines.push_back({name, false, 0, "no nodes this month"});
    }
    return lines;
  }
  const double uptime = f.UptimePercent(policy.late_minutes_count);
  const bool uptime_ok = uptime > 99.5;
  lines.push_back({"uptime", uptime_ok, uptime_ok ? kUptimeBonus : 0,
                   Percent(uptime) + (uptime_ok ? " > 99.5%" : " <= 99.5%") +
                       (policy.late_minutes_count
                            ? " (" + std::to_string(f.up_late) + " late minutes counted)"
                            : " (" + std::to_string(f.up_late) + " late minutes not counted)")});
  if (auto tasks = f.TaskCompletionPercent()) {
    const bool ok = *tasks > 95.0;
    lines.push_back({"tasks", ok, ok ? kTaskBonus : 0,
                     Percent(*tasks) + (ok ? " > 95%" : " <= 95%") + " (" +
                         std::to_string(f.task_ok) + " of " + std::to_string(f.task_runs) +
                         " runs)"});
  } else {
    lines.push_back({"tasks", false, 0, "no task runs"});
  }
  // Every critical alert answered: vacuously with no incidents, but only by nodes that
  // reported at all.
  const bool measured = f.up + f.down > 0;
  const bool all_answered = measured && alerts.answered == alerts.alerts;
  lines.push_back({"incidents", all_answered, all_answered ? kIncidentBonus : 0,
                   !measured            ? "nothing measured"
                   : alerts.alerts == 0 ? "no critical incidents"
                                        : AlertFigure(alerts, policy.late_minutes_count)});
  return lines;
}

}  // namespace

MonthStatement ComputeStatement(const MonthUptime& uptime, const Registry& registry,
                                const PayoutPolicy& policy) {
  MonthStatement statement;
  statement.month = uptime.month;
  statement.policy = policy;
  // Seven days after the month's last day.
  statement.bonuses_due = FormatUtc(uptime.month.end - 86400 + 7 * 86400).substr(0, 10);
  const std::chrono::year_month_day first{std::chrono::floor<std::chrono::days>(
      std::chrono::sys_seconds{std::chrono::seconds{uptime.month.begin}})};
  const bool quarter_end = static_cast<unsigned>(first.month()) % 3 == 0;

  std::map<std::string, const OperatorEntry*> entries;
  for (const auto& op : registry.operators) entries[op.id] = &op;
  std::map<std::string, std::int64_t> measured;              // operator -> nodes measured enough
  std::map<std::string, std::vector<LeftOutNode>> left_out;  // operator -> the others
  std::map<std::string, std::vector<ConflictingMinutes>> conflicts;  // operator -> ranges
  std::map<std::string, std::vector<const NodeUptime*>> nodes_of;    // operator -> nodes
  for (const auto& node : uptime.nodes) {
    nodes_of[node.operator_id].push_back(&node);
    for (const auto& [from, to] : node.conflicting_minutes) {
      conflicts[node.operator_id].push_back({node.node, from, to});
    }
    const std::int64_t minutes = node.figures.up + node.figures.down;
    if (minutes >= kMeasuredMinutesForBase) {
      ++measured[node.operator_id];
    } else {
      left_out[node.operator_id].push_back({node.node, minutes});
    }
  }
  std::map<std::string, OperatorStatement> by_id;
  for (const auto& op : uptime.operators) {
    OperatorStatement s;
    s.operator_id = op.operator_id;
    s.name = op.name;
    s.nodes = op.nodes;
    s.measured_nodes = measured[op.operator_id];
    s.left_out = std::move(left_out[op.operator_id]);
    s.paid_nodes = std::min(s.measured_nodes, kMaxPaidNodes);
    s.base = s.paid_nodes == 0 ? 0
                               : kBase + kPerExtraNode * static_cast<double>(std::max<std::int64_t>(
                                                             0, s.paid_nodes - kBaseNodes));
    s.alerts = AnswerAlerts(nodes_of[op.operator_id], policy.late_minutes_count);
    s.bonuses = MonthlyBonuses(op, s.alerts, policy);
    s.late_up_minutes = op.figures.up_late;
    s.late_minutes_counted = policy.late_minutes_count;
    s.conflicting_minutes = op.figures.conflicting;
    s.conflicts = std::move(conflicts[op.operator_id]);
    // Retention: quarter-end months, for operators active six months or more by its end.
    BonusLine retention{"retention", false, 0, ""};
    auto entry = entries.find(op.operator_id);
    if (!quarter_end) {
      retention.figure = "paid in quarter-end months";
    } else if (entry == entries.end()) {
      retention.figure = "operator not in the registry";
    } else {
      const int months = MonthsSince(entry->second->since, uptime.month.begin) + 1;
      retention.earned = months >= 6 && s.measured_nodes > 0;
      retention.amount = retention.earned ? kRetentionBonus : 0;
      retention.figure = "active " + std::to_string(std::max(months, 0)) + " months" +
                         (months >= 6 ? " (6+)" : " (under 6)") +
                         (s.nodes == 0            ? ", no nodes this month"
                          : s.measured_nodes == 0 ? ", no node measured this month"
                                                  : "");
    }
    s.bonuses.push_back(retention);
    for (const auto& b : s.bonuses) s.bonus_total += b.amount;
    by_id[s.operator_id] = std::move(s);
  }
  // Partner commissions, on the referred operators' own figures.
  std::map<std::string, std::set<std::string>> referred_by;
  for (const auto& r : registry.referrals) {
    if (r.date < uptime.month.end) referred_by[r.partner].insert(r.referred);
  }
  for (auto& [id, s] : by_id) {
    auto referred = referred_by.find(id);
    if (referred == referred_by.end()) continue;
    s.referred_operators = static_cast<std::int64_t>(referred->second.size());
    s.partner = s.referred_operators >= 2;
    if (!s.partner) continue;
    for (const auto& other_id : referred->second) {
      auto other = by_id.find(other_id);
      auto entry = entries.find(other_id);
      if (other == by_id.end() || entry == entries.end()) continue;
      const int month_index = MonthsSince(entry->second->since, uptime.month.begin);
      if (month_index < 0 || month_index >= 12) continue;
      CommissionLine line;
      line.referred = other_id;
      line.base_part = kPartnerShare * other->second.base;
      for (const auto& b : other->second.bonuses) {
        if (b.name != "retention") line.bonus_part += kPartnerShare * b.amount;
      }
      line.months_left = 11 - month_index;
      s.commission_total += line.base_part + line.bonus_part;
      s.commissions.push_back(line);
    }
  }
  for (auto& [id, s] : by_id) {
    s.total = s.base + s.bonus_total + s.commission_total;
    statement.total += s.total;
    statement.operators.push_back(std::move(s));
  }
  return statement;
}

}  // namespace fleet::receiver
