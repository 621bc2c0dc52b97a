#include "receiver/report/uptime_report.h"

#include <algorithm>
#include <map>

#include "receiver/core/live_arrival.h"
#include "receiver/report/minute_map.h"

namespace fleet::receiver {
namespace {

// Acks of a node given in [begin, end), each with the incident it answers: the latest
// incident of its id opened at or before it (ids start again at 1 when a node's history is
// lost). Copies of one ack (two epochs) are folded, live if any copy came live.
Outcome AttachAcks(ReportSource& source, const std::string& node, std::int64_t begin,
                   std::int64_t end, std::int64_t live_within_s, std::vector<AlertFacts>& alerts) {
  std::map<std::int64_t, std::vector<AlertFacts*>> by_id;  // each list by opened
  for (auto& alert : alerts) {
    for (std::int64_t id : alert.incidents) by_id[id].push_back(&alert);
  }
  auto read = source.ForEachAck(node, begin, end, [&](const AckRow& row) {
    auto candidates = by_id.find(row.incident);
    if (candidates == by_id.end()) return;
    AlertFacts* target = nullptr;
    for (AlertFacts* alert : candidates->second) {
      if (alert->opened <= row.at) target = alert;
    }
    if (target == nullptr) return;  // before any incident of that id opened
    const bool live = ArrivedLive(row.at, row.received_at, live_within_s);
    for (AlertAck& seen : target->acks) {
      if (seen.at == row.at && seen.by == row.by && seen.via == row.via) {
        seen.live = seen.live || live;
        return;
      }
    }
    target->acks.push_back({row.at, row.by, row.via, live});
  });
  if (!read) return read;
  for (auto& alert : alerts) {
    std::stable_sort(alert.acks.begin(), alert.acks.end(),
                     [](const AlertAck& a, const AlertAck& b) { return a.at < b.at; });
  }
  return Success();
}

// Consecutive minutes (unix seconds of their starts) as inclusive ranges.
void AddToRanges(std::vector<std::pair<std::int64_t, std::int64_t>>& ranges, std::int64_t minute) {
  if (!ranges.empty() && ranges.back().second + 60 == minute) {
    ranges.back().second = minute;
  } else {
    ranges.emplace_back(minute, minute);
  }
}

}  // namespace

double UptimeFigures::UptimePercent(bool count_late) const {
  if (minutes <= 0) return 0.0;
  const std::int64_t counted = count_late ? up : up_live;
  return 100.0 * static_cast<double>(counted) / static_cast<double>(minutes);
}

std::optional<double> UptimeFigures::TaskCompletionPercent() const {
  if (task_runs == 0) return std::nullopt;
  return 100.0 * static_cast<double>(task_ok) / static_cast<double>(task_runs);
}

void UptimeFigures::Add(const UptimeFigures& o) {
  minutes += o.minutes;
  up += o.up;
  down += o.down;
  unmeasured += o.unmeasured;
  up_live += o.up_live;
  up_late += o.up_late;
  task_runs += o.task_runs;
  task_ok += o.task_ok;
  incidents += o.incidents;
  incidents_resolved_in_30m += o.incidents_resolved_in_30m;
  incidents_open += o.incidents_open;
  conflicting += o.conflicting;
  if (o.longest_incident_s > longest_incident_s) {
    longest_incident_s = o.longest_incident_s;
    longest_incident_check = o.longest_incident_check;
  }
}

Result<MonthUptime> ComputeUptime(ReportSource& source, const Registry& registry,
                                  const Period& month, std::int64_t live_within_s) {
  MonthUptime report;
  report.month = month;
  report.live_within_s = live_within_s;
  std::map<std::string, OperatorUptime> operators;
  for (const auto& op : registry.operators) operators[op.id] = {op.id, op.name, 0, {}};

  for (const auto& node : registry.nodes) {
    // Each minute as the heartbeats claim it (minute_map.h: the registered span, the clock
    // skew, live or late, repeats folded, conflicts counted down and listed).
    auto map = MapMinutes(source, node, month, live_within_s);
    if (!map) return Error{map.error()};
    if (!map->registered()) continue;
    const std::int64_t from = map->from, to = map->to;
    NodeUptime row{node.node, node.operator_id, {}, {}, {}};
    UptimeFigures& f = row.figures;
    f.minutes = static_cast<std::int64_t>(map->minutes.size());
    for (std::size_t i = 0; i < map->minutes.size(); ++i) {
      switch (map->minutes[i]) {
        case MinuteState::kUpLive:
          ++f.up, ++f.up_live;
          break;
        case MinuteState::kUpLate:
          ++f.up, ++f.up_late;
          break;
        case MinuteState::kConflicting:
          ++f.conflicting;
          AddToRanges(row.conflicting_minutes, from + static_cast<std::int64_t>(i) * 60);
          ++f.down;
          break;
        case MinuteState::kDown:
          ++f.down;
          break;
        case MinuteState::kUnmeasured:
        case MinuteState::kNotRegistered:
          ++f.unmeasured;
      }
    }

    std::map<std::pair<std::string, std::int64_t>, bool> runs;  // (job, run_at) -> ok
    auto tasks = source.ForEachTask(node.node, from, to, [&](const TaskRow& task) {
      runs.emplace(std::pair(task.job, task.run_at), task.ok);
    });
    if (!tasks) return Error{tasks.error()};
    f.task_runs = static_cast<std::int64_t>(runs.size());
    for (const auto& [key, ok] : runs) f.task_ok += ok ? 1 : 0;

    // An incident is written when it opens and again when it closes: fold by
    // (check, opened), the closing record winning.
    std::map<std::pair<std::string, std::int64_t>, IncidentRow> incidents;
    auto events = source.ForEachIncident(node.node, from, to, [&](const IncidentRow& incident) {
      auto [it, inserted] = incidents.emplace(std::pair(incident.check, incident.opened), incident);
      if (!inserted && incident.closed) it->second = incident;
    });
    if (!events) return Error{events.error()};
    auto alerting = source.ReceiverAlertingOf(node.node);
    if (!alerting) return Error{alerting.error()};
    // While the receiver alerted for the node, its sent alerts are the alerts.
    const auto receiver_alerted = [&](std::int64_t opened) {
      return *alerting && opened >= (*alerting)->since && opened <= (*alerting)->until;
    };
    for (const auto& [key, incident] : incidents) {
      if (incident.closed && *incident.closed < from) continue;
      if (!receiver_alerted(incident.opened)) {
        row.alerts.push_back({incident.id,
                              incident.check,
                              incident.opened,
                              incident.closed,
                              {},
                              std::nullopt,
                              {incident.id},
                              false});
      }
      ++f.incidents;
      if (!incident.closed) ++f.incidents_open;
      if (incident.closed && *incident.closed - incident.opened <= kAnswerWithinSeconds) {
        ++f.incidents_resolved_in_30m;
      }
      const std::int64_t start = std::max(incident.opened, from);
      const std::int64_t stop = std::min(incident.closed.value_or(to), to);
      if (stop - start > f.longest_incident_s) {
        f.longest_incident_s = stop - start;
        f.longest_incident_check = incident.check;
      }
    }
    if (*alerting) {
      auto sent = source.ForEachReceiverAlert(node.node, from, to, [&](const ReceiverAlertRow& a) {
        std::string checks;
        for (const auto& c : a.checks) checks += (checks.empty() ? "" : ", ") + c;
        AlertFacts facts{a.incidents.empty() ? 0 : a.incidents.front(),
                         checks,
                         a.opened,
                         a.resolved,
                         {},
                         a.key,
                         a.incidents,
                         a.silent};
        // Given at the receiver, on its clock: live.
        if (a.acked_at) facts.acks.push_back({*a.acked_at, a.acked_by, a.acked_via, true});
        row.alerts.push_back(std::move(facts));
      });
      if (!sent) return Error{sent.error()};
    }
    if (!row.alerts.empty()) {
      std::stable_sort(
          row.alerts.begin(), row.alerts.end(),
          [](const AlertFacts& a, const AlertFacts& b) { return a.opened < b.opened; });
      // Acks from the first incident's opening on, and for an incident opened at the month's
      // end, within the 30 minutes that decide whether it was answered.
      const std::int64_t first = row.alerts.front().opened;
      if (auto acks = AttachAcks(source, node.node, first, month.end + kAnswerWithinSeconds,
                                 live_within_s, row.alerts);
          !acks) {
        return Error{acks.error()};
      }
    }
    auto& op = operators[node.operator_id];
    op.operator_id = node.operator_id;
    ++op.nodes;
    op.figures.Add(f);
    report.nodes.push_back(std::move(row));
  }
  std::sort(report.nodes.begin(), report.nodes.end(),
            [](const auto& a, const auto& b) { return a.node < b.node; });
  for (auto& [id, op] : operators) report.operators.push_back(std::move(op));
  return report;
}

}  // namespace fleet::receiver
