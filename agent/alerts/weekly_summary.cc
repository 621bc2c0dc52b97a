#include "agent/alerts/weekly_summary.h"

#include <chrono>
#include <cstdio>

#include "base/units.h"

namespace fleet {
namespace {

std::string Percent(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f%%", value);
  return text;
}

std::string Track(bool on_track) { return on_track ? "on track" : "NOT on track"; }

}  // namespace

std::optional<Period> WeeklySummaryDue(UnixSeconds now, std::string_view last_sent) {
  const Period week = IsoWeekOf(now);
  if (now - week.begin >= 9 * 3600) return std::nullopt;  // Monday 09:00 UTC or later
  const Period last_week = IsoWeekOf(week.begin - 1);
  if (last_sent == last_week.label) return std::nullopt;
  return last_week;
}

alerting::Alert WeeklySummary(const MetricsReport& r) {
  alerting::Alert alert;
  alert.node = r.node;
  alert.headline = "Weekly report: " + r.node + ", " + r.period.label;
  alert.state = alerting::AlertState::kResolved;  // a report: green, no button
  alert.severity = alerting::Severity::kWarning;
  alert.opened = r.period.begin;
  auto line = [&](std::string name, std::string text) {
    alert.checks.push_back({std::move(name), alerting::Severity::kWarning, std::move(text), ""});
  };
  line("uptime", Percent(r.uptime_percent) + " (" + std::to_string(r.counts.up) + " of " +
                     std::to_string(r.minutes) + " minutes up, " + std::to_string(r.unmeasured) +
                     " unmeasured); > 99.5%: " + Track(r.uptime_on_track));
  line("tasks", std::to_string(r.tasks_ok) + " done, " + std::to_string(r.tasks_failed) +
                    " failed" +
                    (r.completion_percent ? ", completion " + Percent(*r.completion_percent) +
                                                "; > 95%: " + Track(r.completion_on_track)
                                          : std::string(", no runs")));
  std::string incidents = std::to_string(r.incidents.size()) + " critical";
  if (r.worst_incident) {
    const IncidentEntry& worst = r.incidents[*r.worst_incident];
    incidents += ", worst " + worst.check + " for " +
                 FormatDuration(std::chrono::seconds(IncidentSeconds(worst, r.now)));
  }
  line("incidents", incidents + "; answered within 30 min: " + Track(r.incidents_on_track));
  for (const DiskTrend& d : r.disks) {
    char used[32];
    std::snprintf(used, sizeof used, "%.0f%% used", d.used_percent);
    std::string text = d.path + " " + used + ", " + FormatBytes(d.free_bytes) + " free";
    if (d.days_until_full) {
      char days[48];
      std::snprintf(days, sizeof days, ", full in about %.0f days", *d.days_until_full);
      text += days;
    }
    line("disk", text);
  }
  return alert;
}

}  // namespace fleet
