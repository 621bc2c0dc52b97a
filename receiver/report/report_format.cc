#include "receiver/report/report_format.h"

#include <cmath>
#include <cstdio>
#include <sstream>

namespace fleet::receiver {
namespace {

double Round2(double value) { return std::round(value * 100.0) / 100.0; }

std::string Fixed(double value, int digits = 2) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", digits, value);
  return text;
}

std::string Csv(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

nlohmann::json Figures(const UptimeFigures& f, bool late_minutes_count) {
  auto tasks = f.TaskCompletionPercent();
  return {{"minutes", f.minutes},
          {"up", f.up},
          {"down", f.down},
          {"unmeasured", f.unmeasured},
          {"uptime_percent", Round2(f.UptimePercent(late_minutes_count))},
          {"up_live", f.up_live},
          {"up_late", f.up_late},
          {"conflicting", f.conflicting},
          {"task_runs", f.task_runs},
          {"task_ok", f.task_ok},
          {"task_completion_percent", tasks ? nlohmann::json(Round2(*tasks)) : nlohmann::json()},
          {"incidents", f.incidents},
          {"incidents_resolved_within_30m", f.incidents_resolved_in_30m},
          {"incidents_open", f.incidents_open},
          {"longest_incident_seconds", f.longest_incident_s},
          {"longest_incident_check", f.longest_incident_check.empty()
                                         ? nlohmann::json()
                                         : nlohmann::json(f.longest_incident_check)}};
}

const char* kUptimeColumns =
    "kind,id,operator,minutes,up,down,unmeasured,uptime_percent,up_live,up_late,task_runs,"
    "task_ok,task_completion_percent,incidents,incidents_resolved_within_30m,"
    "longest_incident_seconds\n";

std::string UptimeCsvRow(const std::string& kind, const std::string& id, const std::string& op,
                         const UptimeFigures& f, bool late) {
  auto tasks = f.TaskCompletionPercent();
  std::ostringstream row;
  row << kind << ',' << Csv(id) << ',' << Csv(op) << ',' << f.minutes << ',' << f.up << ','
      << f.down << ',' << f.unmeasured << ',' << Fixed(f.UptimePercent(late)) << ',' << f.up_live
      << ',' << f.up_late << ',' << f.task_runs << ',' << f.task_ok << ','
      << (tasks ? Fixed(*tasks) : "") << ',' << f.incidents << ',' << f.incidents_resolved_in_30m
      << ',' << f.longest_incident_s << '\n';
  return row.str();
}

std::string Money(double amount) { return "$" + Fixed(amount); }

}  // namespace

nlohmann::json UptimeToJson(const MonthUptime& report, bool late) {
  nlohmann::json nodes = nlohmann::json::array(), operators = nlohmann::json::array();
  for (const auto& n : report.nodes) {
    nlohmann::json row = Figures(n.figures, late);
    row["node"] = n.node;
    row["operator"] = n.operator_id;
    nodes.push_back(std::move(row));
  }
  for (const auto& o : report.operators) {
    nlohmann::json row = Figures(o.figures, late);
    row["operator"] = o.operator_id;
    row["name"] = o.name;
    row["nodes"] = o.nodes;
    operators.push_back(std::move(row));
  }
  return {{"month", report.month.label},
          {"live_within_seconds", report.live_within_s},
          {"late_minutes_count", late},
          {"nodes", std::move(nodes)},
          {"operators", std::move(operators)}};
}

std::string UptimeToCsv(const MonthUptime& report, bool late) {
  std::string out = kUptimeColumns;
  for (const auto& n : report.nodes)
    out += UptimeCsvRow("node", n.node, n.operator_id, n.figures, late);
  for (const auto& o : report.operators) {
    out += UptimeCsvRow("operator", o.operator_id, o.operator_id, o.figures, late);
  }
  return out;
}

std::string UptimeToTable(const MonthUptime& report, bool late) {
  std::ostringstream out;
  out << "Uptime " << report.month.label << " (UTC; live = arrived within "
      << report.live_within_s / 60 << " min of the minute)\n";
  char line[256];
  std::snprintf(line, sizeof line, "%-24s %-14s %8s %7s %7s %7s %8s %8s %9s %s\n", "NODE",
                "OPERATOR", "UPTIME", "UP", "DOWN", "UNMEAS", "LATE", "TASKS", "INCIDENTS",
                "LONGEST");
  out << line;
  for (const auto& n : report.nodes) {
    const auto& f = n.figures;
    auto tasks = f.TaskCompletionPercent();
    std::snprintf(
        line, sizeof line, "%-24s %-14s %7.2f%% %7lld %7lld %7lld %8lld %8s %9lld %llds %s\n",
        n.node.c_str(), n.operator_id.c_str(), f.UptimePercent(late), static_cast<long long>(f.up),
        static_cast<long long>(f.down), static_cast<long long>(f.unmeasured),
        static_cast<long long>(f.up_late), tasks ? (Fixed(*tasks, 1) + "%").c_str() : "-",
        static_cast<long long>(f.incidents), static_cast<long long>(f.longest_incident_s),
        f.longest_incident_check.c_str());
    out << line;
  }
  out << "\nOPERATOR         NODES  UPTIME   TASKS    INCIDENTS (<=30 min)\n";
  for (const auto& o : report.operators) {
    const auto& f = o.figures;
    auto tasks = f.TaskCompletionPercent();
    std::snprintf(line, sizeof line, "%-16s %5lld %7.2f%% %7s %5lld (%lld)\n",
                  o.operator_id.c_str(), static_cast<long long>(o.nodes), f.UptimePercent(late),
                  tasks ? (Fixed(*tasks, 1) + "%").c_str() : "-",
                  static_cast<long long>(f.incidents),
                  static_cast<long long>(f.incidents_resolved_in_30m));
    out << line;
  }
  return out.str();
}

namespace {

std::string BaseFigure(const OperatorStatement& o) {
  return std::to_string(o.nodes) + " nodes, " + std::to_string(o.measured_nodes) + " measured, " +
         std::to_string(o.paid_nodes) + " paid";
}

std::string LeftOutFigure(const LeftOutNode& n) {
  return n.node + ": measured " + std::to_string(n.measured_minutes) + " of the " +
         std::to_string(kMeasuredMinutesForBase) + " minutes a node needs to count toward base";
}

// "node-1: 2026-11-03T04:05Z .. 04:09Z (5 minutes)".
std::string ConflictFigure(const ConflictingMinutes& c) {
  const std::int64_t count = (c.last - c.first) / 60 + 1;
  std::string figure = c.node + ": " + FormatUtc(c.first);
  if (c.last != c.first) figure += " .. " + FormatUtc(c.last);
  return figure + " (" + std::to_string(count) + (count == 1 ? " minute" : " minutes") +
         " claimed up and down, counted down)";
}

// "vps-1 incident 3 (gateway, opened 2026-10-06T10:00:00Z): acknowledged by ada via
// telegram after 4m"; an alert the receiver sent: "vps-1 alert 17 (silent, opened ...): ...".
std::string AlertFigure(const AlertLine& a) {
  const std::string what =
      a.alert ? " alert " + std::to_string(*a.alert) : " incident " + std::to_string(a.incident);
  return a.node + what + " (" + a.check + ", opened " + FormatUtc(a.opened) + "): " + a.figure;
}

// "MTTA 4m over 1 acknowledged, MTTR 12m over 2 resolved".
std::string AlertTimesFigure(const AlertSummary& a) {
  auto mean = [](const std::optional<std::int64_t>& s) {
    return s ? FormatDuration(*s) : std::string("-");
  };
  return "MTTA " + mean(a.mtta_s) + " over " + std::to_string(a.mtta_alerts) +
         " acknowledged, MTTR " + mean(a.mttr_s) + " over " + std::to_string(a.mttr_alerts) +
         " resolved";
}

nlohmann::json NullOr(const std::optional<std::int64_t>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json();
}

nlohmann::json AlertsJson(const AlertSummary& a) {
  nlohmann::json lines = nlohmann::json::array();
  for (const auto& line : a.lines) {
    nlohmann::json ack;  // null without one
    if (line.ack) {
      ack = {{"by", line.ack->by},
             {"via", line.ack->via},
             {"at", FormatUtc(line.ack->at)},
             {"after_seconds", line.ack->at - line.opened},
             {"late", !line.ack->live},
             {"counted", line.ack_counted}};
    }
    lines.push_back(
        {{"node", line.node},
         {"incident", line.incident != 0 ? nlohmann::json(line.incident) : nlohmann::json()},
         {"alert", NullOr(line.alert)},
         {"silent", line.silent},
         {"check", line.check},
         {"opened", FormatUtc(line.opened)},
         {"closed", line.closed ? nlohmann::json(FormatUtc(*line.closed)) : nlohmann::json()},
         {"answered", line.answer != AlertAnswer::kNotAnswered},
         {"answer", AlertAnswerName(line.answer)},
         {"answered_after_seconds", NullOr(line.answered_after_s)},
         {"ack", std::move(ack)},
         {"figure", line.figure}});
  }
  return {{"alerts", a.alerts},
          {"answered", a.answered},
          {"acknowledged", a.acknowledged},
          {"resolved", a.resolved},
          {"late_acks", a.late_acks},
          {"mtta_seconds", NullOr(a.mtta_s)},
          {"mtta_alerts", a.mtta_alerts},
          {"mttr_seconds", NullOr(a.mttr_s)},
          {"mttr_alerts", a.mttr_alerts},
          {"list", std::move(lines)}};
}

}  // namespace

nlohmann::json StatementToJson(const MonthStatement& s) {
  nlohmann::json operators = nlohmann::json::array();
  for (const auto& o : s.operators) {
    nlohmann::json bonuses = nlohmann::json::array(), commissions = nlohmann::json::array();
    for (const auto& b : o.bonuses) {
      bonuses.push_back(
          {{"bonus", b.name}, {"earned", b.earned}, {"amount", b.amount}, {"figure", b.figure}});
    }
    for (const auto& c : o.commissions) {
      commissions.push_back({{"referred", c.referred},
                             {"base_part", Round2(c.base_part)},
                             {"bonus_part", Round2(c.bonus_part)},
                             {"months_left", c.months_left}});
    }
    nlohmann::json left_out = nlohmann::json::array();
    for (const auto& n : o.left_out) {
      left_out.push_back({{"node", n.node}, {"measured_minutes", n.measured_minutes}});
    }
    nlohmann::json conflicts = nlohmann::json::array();
    for (const auto& c : o.conflicts) {
      conflicts.push_back(
          {{"node", c.node}, {"first", FormatUtc(c.first)}, {"last", FormatUtc(c.last)}});
    }
    operators.push_back({{"operator", o.operator_id},
                         {"name", o.name},
                         {"nodes", o.nodes},
                         {"measured_nodes", o.measured_nodes},
                         {"paid_nodes", o.paid_nodes},
                         {"left_out", std::move(left_out)},
                         {"base", o.base},
                         {"bonuses", std::move(bonuses)},
                         {"alerts", AlertsJson(o.alerts)},
                         {"late_up_minutes", o.late_up_minutes},
                         {"late_minutes_counted", o.late_minutes_counted},
                         {"conflicting_minutes", o.conflicting_minutes},
                         {"conflicts", std::move(conflicts)},
                         {"partner", o.partner},
                         {"referred_operators", o.referred_operators},
                         {"commissions", std::move(commissions)},
                         {"bonus_total", Round2(o.bonus_total)},
                         {"commission_total", Round2(o.commission_total)},
                         {"total", Round2(o.total)}});
  }
  return {{"month", s.month.label},
          {"bonuses_due", s.bonuses_due},
          {"late_minutes_count", s.policy.late_minutes_count},
          {"late_acks_count", s.policy.late_minutes_count},
          {"operators", std::move(operators)},
          {"total", Round2(s.total)}};
}

std::string StatementToCsv(const MonthStatement& s) {
  std::string out = "operator,item,detail,earned,amount\n";
  for (const auto& o : s.operators) {
    out += Csv(o.operator_id) + ",base," + Csv(BaseFigure(o)) + ",true," + Fixed(o.base) + "\n";
    for (const auto& n : o.left_out) {
      out += Csv(o.operator_id) + ",left_out," + Csv(LeftOutFigure(n)) + ",false,0.00\n";
    }
    for (const auto& c : o.conflicts) {
      out += Csv(o.operator_id) + ",conflict," + Csv(ConflictFigure(c)) + ",false,0.00\n";
    }
    for (const auto& b : o.bonuses) {
      out += Csv(o.operator_id) + "," + b.name + "," + Csv(b.figure) + "," +
             (b.earned ? "true" : "false") + "," + Fixed(b.amount) + "\n";
    }
    for (const auto& a : o.alerts.lines) {
      out += Csv(o.operator_id) + ",alert," + Csv(AlertFigure(a)) + "," +
             (a.answer != AlertAnswer::kNotAnswered ? "true" : "false") + ",0.00\n";
    }
    if (o.alerts.alerts > 0) {
      out += Csv(o.operator_id) + ",alert_times," + Csv(AlertTimesFigure(o.alerts)) + ",,0.00\n";
    }
    for (const auto& c : o.commissions) {
      out += Csv(o.operator_id) + ",commission," +
             Csv(c.referred + " (" + std::to_string(c.months_left) + " months left)") + ",true," +
             Fixed(c.base_part + c.bonus_part) + "\n";
    }
    out += Csv(o.operator_id) + ",total,,," + Fixed(o.total) + "\n";
  }
  return out;
}

std::string StatementToTable(const MonthStatement& s) {
  std::ostringstream out;
  out << "Payout statement " << s.month.label << " (bonuses due by " << s.bonuses_due
      << "; late minutes " << (s.policy.late_minutes_count ? "count" : "do not count")
      << " toward uptime, late acknowledgements toward the alert bonus)\n";
  for (const auto& o : s.operators) {
    out << "\n" << o.operator_id << (o.name.empty() ? "" : " (" + o.name + ")") << "\n";
    out << "  base        " << Money(o.base) << "  " << BaseFigure(o) << "\n";
    for (const auto& n : o.left_out) out << "  left out    " << LeftOutFigure(n) << "\n";
    for (const auto& c : o.conflicts) out << "  conflict    " << ConflictFigure(c) << "\n";
    for (const auto& b : o.bonuses) {
      char name[16];
      std::snprintf(name, sizeof name, "%-11s", b.name.c_str());
      out << "  " << name << " " << Money(b.amount) << "  " << (b.earned ? "earned: " : "missed: ")
          << b.figure << "\n";
    }
    for (const auto& a : o.alerts.lines) out << "  alert       " << AlertFigure(a) << "\n";
    if (o.alerts.alerts > 0) out << "  alert times " << AlertTimesFigure(o.alerts) << "\n";
    if (o.referred_operators > 0 && !o.partner) {
      out << "  partner     " << o.referred_operators
          << " referred operator(s); partner status needs 2\n";
    }
    for (const auto& c : o.commissions) {
      out << "  commission  " << Money(c.base_part + c.bonus_part) << "  20% of " << c.referred
          << "'s base and bonuses, " << c.months_left << " months left\n";
    }
    out << "  total       " << Money(o.total) << "\n";
  }
  out << "\nall operators " << Money(s.total) << "\n";
  return out.str();
}

}  // namespace fleet::receiver
