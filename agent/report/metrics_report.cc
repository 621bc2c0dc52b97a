#include "agent/report/metrics_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "base/units.h"

namespace fleet {
namespace {

constexpr double kUptimeBonus = 99.5;
constexpr double kCompletionBonus = 95.0;
constexpr std::int64_t kIncidentTargetSeconds = 30 * 60;

std::string Percent(double value) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f%%", value);
  return buf;
}

std::string OnTrack(bool yes) { return yes ? "on track" : "NOT on track"; }

}  // namespace

std::int64_t IncidentSeconds(const IncidentEntry& incident, UnixSeconds now) {
  return std::max<std::int64_t>(0, incident.closed.value_or(now) - incident.opened);
}

std::optional<double> DaysUntilFull(const std::vector<DiskSample>& samples) {
  if (samples.size() < 2) return std::nullopt;
  const double t0 = static_cast<double>(samples.front().t);
  double n = 0, sum_t = 0, sum_u = 0, sum_tt = 0, sum_tu = 0;
  for (const auto& s : samples) {
    const double t = (static_cast<double>(s.t) - t0) / 86400.0;  // days
    const double u = static_cast<double>(s.used_bytes);
    n += 1;
    sum_t += t;
    sum_u += u;
    sum_tt += t * t;
    sum_tu += t * u;
  }
  const double denominator = n * sum_tt - sum_t * sum_t;
  if (denominator <= 0) return std::nullopt;
  const double slope = (n * sum_tu - sum_t * sum_u) / denominator;  // bytes per day
  if (slope <= 0) return std::nullopt;
  const auto& last = samples.back();
  if (last.used_bytes >= last.size_bytes) return 0.0;
  return static_cast<double>(last.size_bytes - last.used_bytes) / slope;
}

MetricsReport ComputeReport(std::string node, Period period, UnixSeconds now, MinuteCounts counts,
                            const std::vector<TaskEntry>& tasks,
                            std::vector<IncidentEntry> incidents,
                            const std::vector<DiskSample>& disk_samples) {
  MetricsReport r;
  r.node = std::move(node);
  r.period = std::move(period);
  r.now = now;
  const UnixSeconds until = std::clamp(now, r.period.begin, r.period.end);
  // Minutes so far, counting the current minute once it has started.
  r.minutes = (until - r.period.begin + 59) / 60;
  r.counts = counts;
  r.minutes = std::max(r.minutes, counts.up + counts.down);
  r.unmeasured = r.minutes - counts.up - counts.down;
  r.uptime_percent = r.minutes > 0 ? 100.0 * static_cast<double>(counts.up) / r.minutes : 0;
  for (const auto& t : tasks) (t.ok ? r.tasks_ok : r.tasks_failed)++;
  if (r.tasks_ok + r.tasks_failed > 0) {
    r.completion_percent = 100.0 * r.tasks_ok / static_cast<double>(r.tasks_ok + r.tasks_failed);
  }
  r.incidents = std::move(incidents);
  for (std::size_t i = 0; i < r.incidents.size(); ++i) {
    if (!r.worst_incident || IncidentSeconds(r.incidents[i], now) >
                                 IncidentSeconds(r.incidents[*r.worst_incident], now)) {
      r.worst_incident = i;
    }
  }
  std::map<std::string, std::vector<DiskSample>> by_path;
  for (const auto& s : disk_samples) by_path[s.path].push_back(s);
  for (const auto& [path, samples] : by_path) {
    const auto& last = samples.back();
    DiskTrend trend;
    trend.path = path;
    // Rounded up, as df (and the disk check) show it.
    trend.used_percent =
        last.size_bytes ? std::ceil(100.0 * static_cast<double>(last.used_bytes) / last.size_bytes)
                        : 0;
    trend.free_bytes = last.size_bytes > last.used_bytes ? last.size_bytes - last.used_bytes : 0;
    trend.days_until_full = DaysUntilFull(samples);
    r.disks.push_back(std::move(trend));
  }
  r.uptime_on_track = r.uptime_percent > kUptimeBonus;
  r.completion_on_track = !r.completion_percent || *r.completion_percent > kCompletionBonus;
  // The quality standard: answered (acknowledged, or resolved) within 30 min of opening.
  r.incidents_on_track = std::all_of(r.incidents.begin(), r.incidents.end(), [&](const auto& i) {
    return (i.acked && *i.acked - i.opened <= kIncidentTargetSeconds) ||
           IncidentSeconds(i, now) <= kIncidentTargetSeconds;
  });
  return r;
}

Result<MetricsReport> ReadReport(HistoryStore& store, std::string node, Period period,
                                 UnixSeconds now) {
  auto counts = store.CountMinutes(period.begin, period.end);
  if (!counts) return Error{counts.error()};
  auto tasks = store.Tasks(period.begin, period.end);
  if (!tasks) return Error{tasks.error()};
  auto incidents = store.Incidents(period.begin, period.end);
  if (!incidents) return Error{incidents.error()};
  auto disks = store.DiskSamples(period.begin, period.end);
  if (!disks) return Error{disks.error()};
  auto remediations = store.Remediations(period.begin, period.end);
  if (!remediations) return Error{remediations.error()};
  MetricsReport report = ComputeReport(std::move(node), std::move(period), now, *counts, *tasks,
                                       std::move(incidents).value(), *disks);
  report.remediations = std::move(remediations).value();
  return report;
}

namespace {

std::string RemediationLine(const RemediationEntry& e) {
  return FormatUtc(e.started) + "  " + std::string(protocol::RemedyActionName(e.action)) + " " +
         e.target + ": " + std::string(protocol::RemedyOutcomeName(e.outcome)) + " (attempt " +
         std::to_string(e.attempt) + ")" + (e.changed ? ", " + *e.changed : "");
}

}  // namespace

std::string FormatReport(const MetricsReport& r) {
  std::string out = "Node " + r.node + ", " + r.period.label + " (" + FormatUtc(r.period.begin) +
                    " to " + FormatUtc(std::min(r.now, r.period.end)) + ")\n\n";
  out += "Uptime      " + Percent(r.uptime_percent) + " of " + std::to_string(r.minutes) +
         " minutes: " + std::to_string(r.counts.up) + " up, " + std::to_string(r.counts.down) +
         " down, " + std::to_string(r.unmeasured) + " unmeasured (counted as down)\n";
  out += "Tasks       " + std::to_string(r.tasks_ok) + " done, " + std::to_string(r.tasks_failed) +
         " failed" +
         (r.completion_percent ? ", completion " + Percent(*r.completion_percent) : "") + "\n";
  out += "Incidents   " + std::to_string(r.incidents.size());
  if (r.worst_incident) {
    const auto& w = r.incidents[*r.worst_incident];
    out += ", worst: " + w.check + " for " +
           FormatDuration(std::chrono::seconds(IncidentSeconds(w, r.now))) +
           (w.closed ? "" : " (still open)");
  }
  out += "\n";
  for (const auto& i : r.incidents) {
    out += "  " + FormatUtc(i.opened) + "  " + i.check + "  " +
           FormatDuration(std::chrono::seconds(IncidentSeconds(i, r.now))) +
           (i.closed ? "" : " (open)") + "  " + i.summary + "\n";
    for (const auto& e : r.remediations) {
      if (e.incident == i.id) out += "      fixed by the agent: " + RemediationLine(e) + "\n";
    }
  }
  if (!r.remediations.empty()) {
    std::map<std::string, int> by_outcome;
    for (const auto& e : r.remediations) {
      ++by_outcome[std::string(protocol::RemedyOutcomeName(e.outcome))];
    }
    std::string counts;
    for (const auto& [outcome, n] : by_outcome) {
      counts += (counts.empty() ? "" : ", ") + std::to_string(n) + " " + outcome;
    }
    out += "Remedies    " + std::to_string(r.remediations.size()) + " action(s): " + counts + "\n";
    for (const auto& e : r.remediations) {
      const bool shown = std::any_of(r.incidents.begin(), r.incidents.end(),
                                     [&](const IncidentEntry& i) { return e.incident == i.id; });
      if (!shown) out += "  " + RemediationLine(e) + "\n";
    }
  }
  for (const auto& d : r.disks) {
    char used[32];
    std::snprintf(used, sizeof used, "%.0f%%", d.used_percent);
    std::string projection = "not filling up";
    if (d.days_until_full) {
      char days[48];
      std::snprintf(days, sizeof days, "full in about %.0f days", *d.days_until_full);
      projection = days;
    }
    out += "Disk        " + d.path + " " + used + " used, " + FormatBytes(d.free_bytes) +
           " free, " + projection + "\n";
  }
  out += "\nBonus thresholds\n";
  out += "  uptime > 99.5%                      " + OnTrack(r.uptime_on_track) + " (" +
         Percent(r.uptime_percent) + ")\n";
  out += "  task completion > 95%               " + OnTrack(r.completion_on_track) + " (" +
         (r.completion_percent ? Percent(*r.completion_percent) : std::string("no runs yet")) +
         ")\n";
  out += "  critical alerts answered in 30 min  " + OnTrack(r.incidents_on_track) + "\n";
  return out;
}

nlohmann::json ReportToJson(const MetricsReport& r) {
  nlohmann::json incidents = nlohmann::json::array();
  for (const auto& i : r.incidents) {
    incidents.push_back({{"id", i.id},
                         {"check", i.check},
                         {"opened", FormatUtc(i.opened)},
                         {"closed", i.closed ? nlohmann::json(FormatUtc(*i.closed)) : nullptr},
                         {"duration_seconds", IncidentSeconds(i, r.now)},
                         {"acked", i.acked ? nlohmann::json(FormatUtc(*i.acked)) : nullptr},
                         {"summary", i.summary}});
  }
  nlohmann::json disks = nlohmann::json::array();
  for (const auto& d : r.disks) {
    disks.push_back(
        {{"path", d.path},
         {"used_percent", d.used_percent},
         {"free_bytes", d.free_bytes},
         {"days_until_full", d.days_until_full ? nlohmann::json(*d.days_until_full) : nullptr}});
  }
  nlohmann::json remediations = nlohmann::json::array();
  for (const auto& e : r.remediations) {
    remediations.push_back({{"check", e.check},
                            {"target", e.target},
                            {"action", protocol::RemedyActionName(e.action)},
                            {"outcome", protocol::RemedyOutcomeName(e.outcome)},
                            {"attempt", e.attempt},
                            {"started", FormatUtc(e.started)},
                            {"finished", FormatUtc(e.finished)},
                            {"changed", e.changed ? nlohmann::json(*e.changed) : nullptr},
                            {"incident", e.incident ? nlohmann::json(*e.incident) : nullptr}});
  }
  return {{"node", r.node},
          {"remediations", std::move(remediations)},
          {"period",
           {{"label", r.period.label},
            {"begin", FormatUtc(r.period.begin)},
            {"end", FormatUtc(r.period.end)}}},
          {"as_of", FormatUtc(r.now)},
          {"uptime",
           {{"minutes", r.minutes},
            {"up", r.counts.up},
            {"down", r.counts.down},
            {"unmeasured", r.unmeasured},
            {"percent", r.uptime_percent}}},
          {"tasks",
           {{"done", r.tasks_ok},
            {"failed", r.tasks_failed},
            {"completion_percent",
             r.completion_percent ? nlohmann::json(*r.completion_percent) : nullptr}}},
          {"incidents", std::move(incidents)},
          {"worst_incident",
           r.worst_incident ? nlohmann::json(r.incidents[*r.worst_incident].id) : nullptr},
          {"disks", std::move(disks)},
          {"bonus",
           {{"uptime_over_99_5", r.uptime_on_track},
            {"completion_over_95", r.completion_on_track},
            {"incidents_within_30m", r.incidents_on_track}}}};
}

}  // namespace fleet
