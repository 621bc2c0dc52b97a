#include "receiver/web/node_month.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

namespace fleet::receiver {
namespace {

// Forwards to `inner`, keeping the heartbeats it streams, so the minute map is made from the rows
// ComputeUptime read: the month's heartbeats are read once, and both see the same rows.
class KeptBeats final : public ReportSource {
 public:
  explicit KeptBeats(ReportSource& inner) : inner_(inner) {}

  Result<Registry> LoadRegistry() override { return inner_.LoadRegistry(); }
  Outcome ForEachHeartbeat(const std::string& node, std::int64_t begin, std::int64_t end,
                           const std::function<void(const HeartbeatRow&)>& row) override {
    if (kept_ && node == node_ && begin == begin_ && end == end_) {
      for (const auto& beat : beats_) row(beat);
      return Success();
    }
    kept_ = false;
    beats_.clear();
    auto read = inner_.ForEachHeartbeat(node, begin, end, [&](const HeartbeatRow& beat) {
      beats_.push_back(beat);
      row(beat);
    });
    if (!read) return read;
    kept_ = true;
    node_ = node, begin_ = begin, end_ = end;
    return Success();
  }
  Outcome ForEachTask(const std::string& node, std::int64_t begin, std::int64_t end,
                      const std::function<void(const TaskRow&)>& row) override {
    return inner_.ForEachTask(node, begin, end, row);
  }
  Outcome ForEachIncident(const std::string& node, std::int64_t begin, std::int64_t end,
                          const std::function<void(const IncidentRow&)>& row) override {
    return inner_.ForEachIncident(node, begin, end, row);
  }
  Outcome ForEachAck(const std::string& node, std::int64_t begin, std::int64_t end,
                     const std::function<void(const AckRow&)>& row) override {
    return inner_.ForEachAck(node, begin, end, row);
  }
  Result<std::optional<ReceiverAlerting>> ReceiverAlertingOf(const std::string& node) override {
    return inner_.ReceiverAlertingOf(node);
  }
  Outcome ForEachReceiverAlert(const std::string& node, std::int64_t begin, std::int64_t end,
                               const std::function<void(const ReceiverAlertRow&)>& row) override {
    return inner_.ForEachReceiverAlert(node, begin, end, row);
  }

 private:
  ReportSource& inner_;
  bool kept_ = false;
  std::string node_;
  std::int64_t begin_ = 0, end_ = 0;
  std::vector<HeartbeatRow> beats_;
};

// The node's incidents of the month, folded as the report folds them (by check and opening,
// the closing record winning), for their summaries.
Result<std::vector<IncidentRow>> ReadIncidents(ReportSource& source, const std::string& node,
                                               const Period& month) {
  std::map<std::pair<std::string, std::int64_t>, IncidentRow> folded;
  auto read = source.ForEachIncident(node, month.begin, month.end, [&](const IncidentRow& row) {
    auto [it, inserted] = folded.emplace(std::pair(row.check, row.opened), row);
    if (!inserted && row.closed) it->second = row;
  });
  if (!read) return Error{read.error()};
  std::vector<IncidentRow> rows;
  for (auto& [key, row] : folded) rows.push_back(std::move(row));
  return rows;
}

// The summary behind an alert: its own incident's, or for a receiver's alert those of the
// incidents it told of (each the latest of its id opened by the alert's opening).
std::string SummaryOf(const AlertFacts& alert, const std::vector<IncidentRow>& incidents) {
  if (!alert.alert) {
    for (const auto& row : incidents) {
      if (row.id == alert.id && row.opened == alert.opened && row.check == alert.check) {
        return row.summary;
      }
    }
    return "";
  }
  std::string text;
  for (std::int64_t id : alert.incidents) {
    const IncidentRow* latest = nullptr;
    for (const auto& row : incidents) {
      if (row.id == id && row.opened <= alert.opened &&
          (latest == nullptr || row.opened >= latest->opened)) {
        latest = &row;
      }
    }
    if (latest != nullptr) text += (text.empty() ? "" : "; ") + latest->summary;
  }
  return text;
}

IncidentLine LineOf(AlertFacts alert, std::string summary, bool late_acks_count) {
  IncidentLine line{std::move(alert), std::move(summary), std::nullopt, false, std::nullopt};
  for (const AlertAck& ack : line.alert.acks) {
    if (!ack.live && !late_acks_count) continue;
    line.to_ack = ack.at - line.alert.opened;
    line.ack_live = ack.live;
    break;
  }
  if (line.alert.closed) line.to_resolve = *line.alert.closed - line.alert.opened;
  return line;
}

// Remediations started in the month, of chained and acknowledged records (the reports' rule,
// report_source.h), the same remediation from two epochs once.
Result<std::vector<RemediationLine>> ReadRemediations(SqlLink& link, const std::string& node,
                                                      const Period& month, bool& cut) {
  auto rows = link.Run(
      "SELECT r.epoch, r.seq, r.check_name, r.target, r.action, r.reason, r.attempt, r.started, "
      "r.finished, r.outcome, r.changed, r.incident FROM remediations r "
      "WHERE r.node = $1 AND r.started >= $2 AND r.started < $3 AND EXISTS (SELECT 1 FROM "
      "watermarks w WHERE w.node = r.node AND w.epoch = r.epoch AND r.seq <= w.ack_seq) "
      "ORDER BY r.started, r.epoch, r.seq LIMIT " +
          std::to_string(kMaxLines * 2),
      {node, month.begin, month.end});
  if (!rows) return Error{"reading remediations: " + rows.error()};
  std::vector<RemediationLine> lines;
  std::set<std::tuple<std::string, std::string, std::string, std::int64_t, std::int64_t>> seen;
  for (int i = 0; i < rows->size(); ++i) {
    RemediationLine line{rows->Int(i, 0),  rows->Int(i, 1),     rows->Text(i, 2),
                         rows->Text(i, 3), rows->Text(i, 4),    rows->Text(i, 5),
                         rows->Text(i, 9), rows->Int(i, 6),     rows->Int(i, 7),
                         rows->Int(i, 8),  rows->TextOr(i, 10), rows->IntOr(i, 11)};
    if (!seen.emplace(line.check, line.target, line.action, line.started, line.attempt).second) {
      continue;
    }
    if (lines.size() == kMaxLines) {
      cut = true;
      break;
    }
    lines.push_back(std::move(line));
  }
  if (rows->size() == static_cast<int>(kMaxLines * 2)) cut = true;
  return lines;
}

}  // namespace

Result<NodeMonth> LoadNodeMonth(WebReads& reads, const NodeRegistration& node,
                                const Registry& registry, const Period& month) {
  NodeMonth out;
  out.node = node;
  out.month = month;

  // The report for this node alone: the same rules, the same figures; then its minutes, from
  // the heartbeats the report read.
  KeptBeats source(reads.source);
  Registry one{registry.operators, {node}, {}};
  auto report = ComputeUptime(source, one, month, reads.live_within_s);
  if (!report) return Error{"computing uptime: " + report.error()};
  auto map = MapMinutes(source, node, month, reads.live_within_s);
  if (!map) return Error{"reading heartbeats: " + map.error()};
  out.hours = TallyHours(*map);
  auto incidents = ReadIncidents(reads.source, node.node, month);
  if (!incidents) return Error{"reading incidents: " + incidents.error()};
  for (auto& row : report->nodes) {
    if (row.node != node.node) continue;
    out.figures = row.figures;
    out.uptime_percent = row.figures.UptimePercent(reads.policy.late_minutes_count);
    for (auto& alert : row.alerts) {
      if (out.incidents.size() == kMaxLines) {
        out.cut = true;
        break;
      }
      std::string summary = SummaryOf(alert, *incidents);
      out.incidents.push_back(
          LineOf(std::move(alert), std::move(summary), reads.policy.late_minutes_count));
    }
  }

  auto remediations = ReadRemediations(reads.link, node.node, month, out.cut);
  if (!remediations) return Error{remediations.error()};
  out.remediations = std::move(*remediations);

  std::map<std::pair<std::string, std::int64_t>, bool> runs;  // (job, run_at) -> ok
  // Over the time the report reads them: the registered part of the month.
  const std::int64_t from = map->registered() ? map->from : month.begin;
  const std::int64_t to = map->registered() ? map->to : month.end;
  auto tasks = reads.source.ForEachTask(node.node, from, to, [&](const TaskRow& t) {
    runs.emplace(std::pair(t.job, t.run_at), t.ok);
  });
  if (!tasks) return Error{"reading task runs: " + tasks.error()};
  std::vector<TaskLine> lines;
  for (const auto& [key, ok] : runs) {
    ++out.task_runs;
    out.task_ok += ok ? 1 : 0;
    lines.push_back({key.first, key.second, ok});
  }
  std::stable_sort(lines.begin(), lines.end(),
                   [](const TaskLine& a, const TaskLine& b) { return a.run_at < b.run_at; });
  if (lines.size() > kMaxLines) {
    lines.resize(kMaxLines);
    out.cut = true;
  }
  out.tasks = std::move(lines);
  return out;
}

}  // namespace fleet::receiver
