#include "receiver/web/fleet_page.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "receiver/web/html.h"
#include "receiver/web/page_reads.h"

namespace fleet::receiver {
namespace {

constexpr std::int64_t kDay = 86400;

// The node's last heartbeat minute: its last hour first, then 35 days (ReadFleetStates' way).
Result<std::optional<std::int64_t>> LastMinute(ReportSource& source, const std::string& node,
                                               std::int64_t now) {
  std::optional<std::int64_t> last;
  const auto see = [&last](const HeartbeatRow& row) {
    if (!last || row.minute > *last) last = row.minute;
  };
  if (auto read = source.ForEachHeartbeat(node, now - 3600, now + 600, see); !read) {
    return Error{read.error()};
  }
  if (!last) {
    if (auto read = source.ForEachHeartbeat(node, now - kSeenWithinSeconds, now - 3600, see);
        !read) {
      return Error{read.error()};
    }
  }
  return last;
}

// The receiver's unresolved alerts of the node and its incidents not closed, with their
// first acknowledgement.
Result<std::vector<OpenAlert>> OpenAlertsOf(ReportSource& source, const std::string& node,
                                            std::int64_t now) {
  std::vector<OpenAlert> out;
  std::vector<ReceiverAlertRow> sent;
  if (auto read = source.ForEachReceiverAlert(node, 0, std::numeric_limits<std::int64_t>::max(),
                                              [&sent](const ReceiverAlertRow& row) {
                                                if (!row.resolved) sent.push_back(row);
                                              });
      !read) {
    return Error{read.error()};
  }
  // Incidents: the open and the close record of one are folded; closed if any copy says so.
  // Read from the beginning: an incident's open record comes back for any range after its
  // opening (it has no close time), its close record only for a range reaching its close, so
  // a window shorter than the node's life shows long-closed incidents as open.
  std::map<std::pair<std::int64_t, std::int64_t>, IncidentRow> incidents;  // (id, opened)
  if (auto read = source.ForEachIncident(
          node, 0, now + 600,
          [&incidents](const IncidentRow& row) {
            auto [at, fresh] = incidents.try_emplace({row.id, row.opened}, row);
            if (!fresh && row.closed) at->second.closed = row.closed;
          });
      !read) {
    return Error{read.error()};
  }
  std::int64_t oldest = now;
  for (const auto& alert : sent) oldest = std::min(oldest, alert.opened);
  for (const auto& [key, incident] : incidents) {
    if (!incident.closed) oldest = std::min(oldest, incident.opened);
  }
  std::vector<AckRow> acks;
  if (!sent.empty() || oldest < now) {
    if (auto read = source.ForEachAck(node, oldest, now + 600,
                                      [&acks](const AckRow& row) { acks.push_back(row); });
        !read) {
      return Error{read.error()};
    }
    std::sort(acks.begin(), acks.end(),
              [](const AckRow& a, const AckRow& b) { return a.at < b.at; });
  }
  const auto first_ack = [&acks](const std::vector<std::int64_t>& ids,
                                 std::int64_t opened) -> std::optional<AlertAck> {
    for (const AckRow& ack : acks) {
      if (ack.at < opened) continue;
      if (std::find(ids.begin(), ids.end(), ack.incident) == ids.end()) continue;
      return AlertAck{ack.at, ack.by, ack.via, ack.live};
    }
    return std::nullopt;
  };
  std::set<std::int64_t> told;
  for (const ReceiverAlertRow& row : sent) {
    OpenAlert alert;
    alert.alert = row.key;
    alert.incidents = row.incidents;
    alert.opened = row.opened;
    if (row.silent) {
      alert.what = "no heartbeat";
    } else {
      for (const auto& check : row.checks) alert.what += (alert.what.empty() ? "" : ", ") + check;
    }
    if (row.acked_at) {
      alert.ack = AlertAck{*row.acked_at, row.acked_by, row.acked_via, true};
    } else {
      alert.ack = first_ack(row.incidents, row.opened);
    }
    told.insert(row.incidents.begin(), row.incidents.end());
    out.push_back(std::move(alert));
  }
  for (const auto& [key, incident] : incidents) {
    if (incident.closed || told.count(incident.id) > 0) continue;
    OpenAlert alert;
    alert.incidents = {incident.id};
    alert.what = incident.check;
    alert.summary = incident.summary;
    alert.opened = incident.opened;
    alert.ack = first_ack(alert.incidents, incident.opened);
    out.push_back(std::move(alert));
  }
  std::sort(out.begin(), out.end(),
            [](const OpenAlert& a, const OpenAlert& b) { return a.opened < b.opened; });
  return out;
}

std::string AckText(const OpenAlert& alert) {
  if (!alert.ack) return "not acknowledged";
  return "acknowledged by " + alert.ack->by + " via " + alert.ack->via + " at " +
         FormatUtc(alert.ack->at) + (alert.ack->live ? "" : " (arrived late)");
}

std::string UptimeText(const UptimeFigures& figures, double percent) {
  return figures.minutes > 0 ? TwoDecimals(percent) + "%" : "no minutes yet";
}

}  // namespace

std::int64_t BudgetLeft(std::int64_t month_minutes, const UptimeFigures& to_date,
                        bool late_minutes_count) {
  const auto budget = static_cast<std::int64_t>(
      std::floor(static_cast<double>(month_minutes) * (100.0 - kUptimeLinePercent) / 100.0));
  const std::int64_t counted_up = late_minutes_count ? to_date.up : to_date.up_live;
  return budget - (to_date.minutes - counted_up);
}

namespace {

// The figures that add up over consecutive periods.
UptimeFigures Additive(const UptimeFigures& f) {
  UptimeFigures out;
  out.minutes = f.minutes;
  out.up = f.up;
  out.down = f.down;
  out.unmeasured = f.unmeasured;
  out.up_live = f.up_live;
  out.up_late = f.up_late;
  out.conflicting = f.conflicting;
  out.task_runs = f.task_runs;
  out.task_ok = f.task_ok;
  return out;
}

using Marks = std::map<std::int64_t, std::int64_t>;  // epoch -> ack_seq

// The watermarks of the viewer's nodes (an operator's only), in one query.
Result<std::map<std::string, Marks>> Watermarks(SqlLink& link, const Viewer& viewer) {
  auto rows = viewer.admin()
                  ? link.Run("SELECT node, epoch, ack_seq FROM watermarks")
                  : link.Run(
                        "SELECT w.node, w.epoch, w.ack_seq FROM watermarks w JOIN nodes n "
                        "ON n.node = w.node WHERE n.operator = $1",
                        {*viewer.operator_id});
  if (!rows) return Error{rows.error()};
  std::map<std::string, Marks> out;
  for (int i = 0; i < rows->size(); ++i) out[rows->Text(i, 0)][rows->Int(i, 1)] = rows->Int(i, 2);
  return out;
}

// Whether a record acknowledged since `before` was read (a heartbeat or task run) lies before
// `until`: then the cached figures may be stale.
Result<bool> ChangedBefore(SqlLink& link, const std::string& node,
                           const std::map<std::int64_t, std::int64_t>& before,
                           const std::map<std::int64_t, std::int64_t>& now, std::int64_t until) {
  for (const auto& [epoch, ack_seq] : now) {
    const auto old = before.find(epoch);
    const std::int64_t from = old == before.end() ? 0 : old->second;
    if (ack_seq == from) continue;
    if (ack_seq < from) return true;  // cannot happen; read again
    auto rows = link.Run(
        "SELECT (SELECT MIN(minute) FROM heartbeats WHERE node = $1 AND epoch = CAST($2 AS BIGINT) "
        "AND seq > CAST($3 AS BIGINT) AND seq <= CAST($4 AS BIGINT)), "
        "(SELECT MIN(run_at) FROM task_runs WHERE node = $1 AND epoch = CAST($2 AS BIGINT) "
        "AND seq > CAST($3 AS BIGINT) AND seq <= CAST($4 AS BIGINT))",
        {node, epoch, from, ack_seq});
    if (!rows) return Error{rows.error()};
    if (rows->empty()) continue;
    for (int column = 0; column < 2; ++column) {
      const auto earliest = rows->IntOr(0, column);
      if (earliest && *earliest < until) return true;
    }
  }
  return false;
}

// What ComputeUptime reads for the fleet's figures: heartbeats and task runs only (the
// incidents, acknowledgements and receiver alerts make alert figures the fleet page does not
// use: answered here as none, which saves their queries). Notes each node's newest heartbeat
// minute on the way.
class MinutesOnly : public ReportSource {
 public:
  explicit MinutesOnly(ReportSource& source) : source_(source) {}
  Result<Registry> LoadRegistry() override { return source_.LoadRegistry(); }
  Outcome ForEachHeartbeat(const std::string& node, std::int64_t begin, std::int64_t end,
                           const std::function<void(const HeartbeatRow&)>& row) override {
    std::optional<std::int64_t>& newest = newest_[node];
    return source_.ForEachHeartbeat(node, begin, end, [&](const HeartbeatRow& beat) {
      if (!newest || beat.minute > *newest) newest = beat.minute;
      row(beat);
    });
  }
  Outcome ForEachTask(const std::string& node, std::int64_t begin, std::int64_t end,
                      const std::function<void(const TaskRow&)>& row) override {
    return source_.ForEachTask(node, begin, end, row);
  }
  Outcome ForEachIncident(const std::string&, std::int64_t, std::int64_t,
                          const std::function<void(const IncidentRow&)>&) override {
    return Success();
  }
  Outcome ForEachAck(const std::string&, std::int64_t, std::int64_t,
                     const std::function<void(const AckRow&)>&) override {
    return Success();
  }
  // ReceiverAlertingOf and ForEachReceiverAlert: the base class's, none.

  std::optional<std::int64_t> Newest(const std::string& node) const {
    const auto at = newest_.find(node);
    return at == newest_.end() ? std::nullopt : at->second;
  }

 private:
  ReportSource& source_;
  std::map<std::string, std::optional<std::int64_t>> newest_;
};

// Each node's additive figures over [begin, end), for nodes grouped by their begin.
Outcome AddFigures(ReportSource& source, const std::vector<NodeRegistration>& nodes,
                   std::int64_t begin, std::int64_t end, std::int64_t live_within_s,
                   std::map<std::string, UptimeFigures>& into) {
  if (nodes.empty() || end <= begin) return Success();
  Registry registry;
  registry.nodes = nodes;
  auto uptime = ComputeUptime(source, registry, {begin, end, ""}, live_within_s);
  if (!uptime) return Error{uptime.error()};
  for (const NodeUptime& row : uptime->nodes) into[row.node].Add(Additive(row.figures));
  return Success();
}

}  // namespace

Result<FleetView> ReadFleet(WebReads& reads, const Viewer& viewer, FleetCache* cache) {
  FleetView view;
  view.now = reads.now;
  view.month = MonthOf(reads.now);
  view.to_date = {view.month.begin, std::max(view.month.begin, reads.now - reads.now % 60),
                  view.month.label};
  view.late_minutes_count = reads.policy.late_minutes_count;
  auto registry = ViewerRegistry(reads.source, viewer);
  if (!registry) return Error{registry.error()};

  // The settled part: whole hours that ended at least 10 minutes ago.
  const std::int64_t settled = std::clamp<std::int64_t>(
      (reads.now - 600) - (reads.now - 600) % 3600, view.month.begin, view.to_date.end);
  FleetCache scratch;
  FleetCache& kept = cache != nullptr ? *cache : scratch;
  std::map<std::int64_t, std::vector<NodeRegistration>> by_start;  // settled part to read
  auto marks = Watermarks(reads.link, viewer);
  if (!marks) return Error{marks.error()};
  std::map<std::string, UptimeFigures> figures;
  for (const NodeRegistration& node : registry->nodes) {
    const Marks& now_marks = (*marks)[node.node];
    std::int64_t start = view.month.begin;
    auto entry = kept.entries.find(node.node);
    if (entry != kept.entries.end() && entry->second.begin == view.month.begin &&
        entry->second.added_at == node.added_at && entry->second.revoked_at == node.revoked_at &&
        entry->second.until <= settled) {
      auto changed = ChangedBefore(reads.link, node.node, entry->second.watermarks, now_marks,
                                   entry->second.until);
      if (!changed) return Error{changed.error()};
      if (!*changed) {
        start = entry->second.until;
        figures[node.node] = entry->second.figures;
      }
    }
    by_start[start].push_back(node);
  }
  for (const auto& [start, nodes] : by_start) {
    MinutesOnly minutes(reads.source);
    if (auto added = AddFigures(minutes, nodes, start, settled, reads.live_within_s, figures);
        !added) {
      return Error{added.error()};
    }
  }
  for (const NodeRegistration& node : registry->nodes) {
    kept.entries[node.node] = {node.added_at, node.revoked_at,    view.month.begin,
                               settled,       figures[node.node], (*marks)[node.node]};
  }
  // The rest, read every time; its heartbeats also give most nodes' newest minute.
  MinutesOnly recent(reads.source);
  if (auto added = AddFigures(recent, registry->nodes, settled, view.to_date.end,
                              reads.live_within_s, figures);
      !added) {
    return Error{added.error()};
  }

  std::map<std::string, std::size_t> index;
  for (const OperatorEntry& op : registry->operators) {
    index[op.id] = view.operators.size();
    view.operators.push_back({op.id, op.name, {}, {}});
  }
  for (const NodeRegistration& registration : registry->nodes) {
    auto at = index.find(registration.operator_id);
    if (at == index.end()) {  // a node of an operator missing from the operators table
      at = index.emplace(registration.operator_id, view.operators.size()).first;
      view.operators.push_back({registration.operator_id, "", {}, {}});
    }
    FleetOperator& op = view.operators[at->second];
    op.figures.Add(figures[registration.node]);
    if (registration.revoked_at) continue;
    FleetNode node;
    node.node = registration.node;
    // The newest heartbeat minute before the current one, when the recent part had one
    // (settled is at most 70 minutes back); else read as ReadFleetStates reads it.
    Result<std::optional<std::int64_t>> last = recent.Newest(registration.node);
    if (!*last) last = LastMinute(reads.source, registration.node, reads.now);
    if (!last) return Error{last.error()};
    node.last_minute = *last;
    node.state = ClassifyNode(*last, reads.now, reads.silent_after);
    if (*last) node.age_s = reads.now - (**last + 60);
    node.figures = figures[registration.node];
    node.uptime_percent = node.figures.UptimePercent(view.late_minutes_count);
    const std::int64_t from =
        std::max(view.month.begin, registration.added_at - registration.added_at % kDay);
    const std::int64_t month_minutes = std::max<std::int64_t>(0, (view.month.end - from) / 60);
    node.budget_minutes = static_cast<std::int64_t>(
        std::floor(static_cast<double>(month_minutes) * (100.0 - kUptimeLinePercent) / 100.0));
    node.budget_left = BudgetLeft(month_minutes, node.figures, view.late_minutes_count);
    auto alerts = OpenAlertsOf(reads.source, registration.node, reads.now);
    if (!alerts) return Error{alerts.error()};
    node.open_alerts = std::move(alerts).value();
    op.nodes.push_back(std::move(node));
  }
  return view;
}

HttpResponse FleetPage(WebReads& reads, const Viewer& viewer, FleetCache* cache) {
  auto view = ReadFleet(reads, viewer, cache);
  if (!view) return ReadFailed("the fleet", view.error(), false, viewer);
  std::string body;
  body += "<p>Now " + Escape(FormatUtc(view->now)) +
          ". Month to date: " + Escape(FormatUtc(view->to_date.begin)) + " to " +
          Escape(FormatUtc(view->to_date.end)) + " (" + Escape(view->month.label) +
          "). Uptime against the " + TwoDecimals(kUptimeLinePercent) +
          "% line; the downtime budget is 0.5% of the node's minutes in the whole month, less "
          "the minutes so far not counted up" +
          (view->late_minutes_count ? "" : " (late minutes do not count)") + ". " +
          "<a href=\"/uptime\">Uptime of other dates</a>.</p>\n";
  if (view->operators.empty()) body += "<p>No operators registered.</p>\n";
  for (const FleetOperator& op : view->operators) {
    body += "<section data-operator=\"" + Escape(op.id) + "\"><h2>" + Escape(op.id);
    if (!op.name.empty()) body += " — " + Escape(op.name);
    body += "</h2>\n<p>Month to date: " +
            UptimeText(op.figures, op.figures.UptimePercent(view->late_minutes_count)) +
            " uptime over " + std::to_string(op.figures.minutes) +
            " node minutes. <a href=\"/statements/" + UrlPart(op.id) + "/" +
            Escape(view->month.label) + "\">Statement " + Escape(view->month.label) + "</a></p>\n";
    if (op.nodes.empty()) {
      body += "<p>No nodes.</p></section>\n";
      continue;
    }
    body +=
        "<table class=\"fleet\"><thead><tr><th scope=\"col\">Node</th><th scope=\"col\">State</th>"
        "<th scope=\"col\">Last heartbeat</th><th scope=\"col\">Uptime (month to date)</th>"
        "<th scope=\"col\">Against 99.5%</th><th scope=\"col\">Budget left (min)</th>"
        "<th scope=\"col\">Open alerts</th><th scope=\"col\">Tasks</th></tr></thead><tbody>\n";
    for (const FleetNode& node : op.nodes) {
      const std::string state(kNodeStateNames[static_cast<std::size_t>(node.state)]);
      body += "<tr data-node=\"" + Escape(node.node) + "\" data-state=\"" + state + "\">";
      body +=
          "<td><a href=\"/nodes/" + UrlPart(node.node) + "\">" + Escape(node.node) + "</a></td>";
      body += "<td class=\"state\">" + (state == "never_seen" ? std::string("never seen") : state) +
              "</td>";
      body += "<td class=\"age\">" +
              (node.age_s ? AgeText(*node.age_s) + " ago" : std::string("none")) + "</td>";
      body += "<td class=\"uptime\">" + UptimeText(node.figures, node.uptime_percent) + "</td>";
      body += "<td class=\"line\">" +
              std::string(node.figures.minutes == 0                   ? "—"
                          : node.uptime_percent >= kUptimeLinePercent ? "above"
                                                                      : "below") +
              "</td>";
      body += "<td class=\"budget\">" + std::to_string(node.budget_left) +
              (node.budget_left < 0 ? " (overspent)" : "") + " of " +
              std::to_string(node.budget_minutes) + "</td>";
      body += "<td class=\"alerts\">";
      if (node.open_alerts.empty()) body += "none";
      for (const OpenAlert& alert : node.open_alerts) {
        body += "<div class=\"alert\" data-acked=\"" + std::string(alert.ack ? "yes" : "no") +
                "\">" + Escape(alert.what);
        if (!alert.summary.empty()) body += ": " + Escape(alert.summary);
        body +=
            " since " + Escape(FormatUtc(alert.opened)) + "; " + Escape(AckText(alert)) + "</div>";
      }
      body += "</td>";
      const auto tasks = node.figures.TaskCompletionPercent();
      body += "<td class=\"tasks\">" +
              (tasks ? TwoDecimals(*tasks) + "% of " + std::to_string(node.figures.task_runs)
                     : std::string("no runs")) +
              "</td></tr>\n";
    }
    body += "</tbody></table></section>\n";
  }
  return HtmlPage(200, Page("Fleet", viewer, body));
}

HttpResponse FleetJson(WebReads& reads, const Viewer& viewer, FleetCache* cache) {
  auto view = ReadFleet(reads, viewer, cache);
  if (!view) return ReadFailed("the fleet", view.error(), true, viewer);
  nlohmann::json operators = nlohmann::json::array();
  for (const FleetOperator& op : view->operators) {
    nlohmann::json nodes = nlohmann::json::array();
    for (const FleetNode& node : op.nodes) {
      nlohmann::json alerts = nlohmann::json::array();
      for (const OpenAlert& alert : node.open_alerts) {
        nlohmann::json a = {{"alert", alert.alert ? nlohmann::json(*alert.alert) : nullptr},
                            {"incidents", alert.incidents},
                            {"what", alert.what},
                            {"summary", alert.summary},
                            {"opened", FormatUtc(alert.opened)},
                            {"acknowledged", nullptr}};
        if (alert.ack) {
          a["acknowledged"] = {{"at", FormatUtc(alert.ack->at)},
                               {"by", alert.ack->by},
                               {"via", alert.ack->via},
                               {"live", alert.ack->live}};
        }
        alerts.push_back(std::move(a));
      }
      const auto tasks = node.figures.TaskCompletionPercent();
      nodes.push_back(
          {{"node", node.node},
           {"state", kNodeStateNames[static_cast<std::size_t>(node.state)]},
           {"last_heartbeat", node.last_minute ? nlohmann::json(FormatUtc(*node.last_minute))
                                               : nlohmann::json(nullptr)},
           {"age_s", node.age_s ? nlohmann::json(*node.age_s) : nlohmann::json(nullptr)},
           {"minutes", node.figures.minutes},
           {"up", node.figures.up},
           {"up_late", node.figures.up_late},
           {"down", node.figures.down},
           {"unmeasured", node.figures.unmeasured},
           {"uptime_percent", node.uptime_percent},
           {"budget_minutes", node.budget_minutes},
           {"budget_left_minutes", node.budget_left},
           {"task_runs", node.figures.task_runs},
           {"task_ok", node.figures.task_ok},
           {"task_completion_percent", tasks ? nlohmann::json(*tasks) : nlohmann::json(nullptr)},
           {"open_alerts", std::move(alerts)}});
    }
    operators.push_back({{"operator", op.id},
                         {"name", op.name},
                         {"minutes", op.figures.minutes},
                         {"uptime_percent", op.figures.UptimePercent(view->late_minutes_count)},
                         {"nodes", std::move(nodes)}});
  }
  return JsonReply({{"now", FormatUtc(view->now)},
                    {"month", view->month.label},
                    {"from", FormatUtc(view->to_date.begin)},
                    {"to", FormatUtc(view->to_date.end)},
                    {"uptime_line_percent", kUptimeLinePercent},
                    {"late_minutes_count", view->late_minutes_count},
                    {"operators", std::move(operators)}});
}

}  // namespace fleet::receiver
