// MetricsReport: the operator's weekly (or monthly) figures from the node's own history,
// with no network: uptime (up minutes / minutes of the period so far; unmeasured minutes
// shown apart and counted as down), tasks done / failed / completion, incidents with
// their durations and the worst, disk use with a projected days-until-full from the
// trend, what the remedies did (each under its incident), and whether each bonus threshold is on
// track (uptime > 99.5%, completion > 95%, every critical incident answered, acknowledged or
// resolved, within 30 minutes). Compute is pure over the data.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "agent/history/history_store.h"

namespace fleet {

struct DiskTrend {
  std::string path;
  double used_percent = 0;
  std::uint64_t free_bytes = 0;
  std::optional<double> days_until_full;  // none when not growing or too few samples
};

struct MetricsReport {
  std::string node;
  Period period;
  UnixSeconds now = 0;
  std::int64_t minutes = 0;  // of the period so far
  MinuteCounts counts;
  std::int64_t unmeasured = 0;
  double uptime_percent = 0;
  std::int64_t tasks_ok = 0;
  std::int64_t tasks_failed = 0;
  std::optional<double> completion_percent;  // none without finished runs
  std::vector<IncidentEntry> incidents;
  std::optional<std::size_t> worst_incident;  // index into incidents
  std::vector<DiskTrend> disks;
  bool uptime_on_track = false;
  bool completion_on_track = false;
  bool incidents_on_track = false;
  // What the agent's remedies did in the period, oldest first (shown under their incident).
  std::vector<RemediationEntry> remediations;
};

// Seconds an incident lasted (or has lasted so far, when open).
std::int64_t IncidentSeconds(const IncidentEntry& incident, UnixSeconds now);

// Least-squares trend of the samples of one path; days until used reaches the size.
std::optional<double> DaysUntilFull(const std::vector<DiskSample>& samples_of_one_path);

MetricsReport ComputeReport(std::string node, Period period, UnixSeconds now, MinuteCounts counts,
                            const std::vector<TaskEntry>& tasks,
                            std::vector<IncidentEntry> incidents,
                            const std::vector<DiskSample>& disk_samples);

// The report of `period` as of `now`, read from the history (what `fleet-agent report` runs).
Result<MetricsReport> ReadReport(HistoryStore& store, std::string node, Period period,
                                 UnixSeconds now);

std::string FormatReport(const MetricsReport& report);
nlohmann::json ReportToJson(const MetricsReport& report);

}  // namespace fleet
