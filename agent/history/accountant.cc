#include "agent/history/accountant.h"

#include <algorithm>

#include "base/text.h"

namespace fleet {
namespace {

constexpr std::size_t kMaxQueuedHeartbeats = 7 * 1440;  // a week of minutes in memory
constexpr std::size_t kMaxQueuedEntries = 10000;
constexpr UnixSeconds kDiskSampleEvery = 600;

Outcome First(Outcome a, Outcome b) { return a.ok() ? b : a; }

}  // namespace

bool IsUp(const std::map<std::string, Status>& latest, const std::vector<std::string>& require) {
  return std::all_of(require.begin(), require.end(), [&](const std::string& name) {
    auto it = latest.find(name);
    return it != latest.end() && it->second != Status::kCritical;
  });
}

// The task record of a finished run, or nothing for a run that cannot be counted once: an
// id or run time far longer than Hermes writes. Free text is cut, on a UTF-8 boundary, so
// the record stays small (the receiver refuses records over 64 KiB).
std::optional<TaskEntry> TaskOf(const FinishedRun& run) {
  if (run.job.empty() || run.job.size() > protocol::kMaxJobBytes || run.run_at.size() > 64) {
    return std::nullopt;
  }
  TaskEntry task;
  task.job = run.job;
  task.name = TruncateUtf8(run.name.empty() ? run.job : run.name, protocol::kMaxJobBytes);
  task.run_at = run.run_at;
  task.run_at_unix = run.run_at_unix;
  task.ok = run.ok;
  if (!run.ok) task.error = TruncateUtf8(run.error, protocol::kMaxTextBytes);
  return task;
}

Accountant::Accountant(HistoryStore& store, std::vector<std::string> uptime_require,
                       StampSource stamp)
    : store_(store), require_(std::move(uptime_require)), stamp_(std::move(stamp)) {}

Outcome Accountant::Start() {
  auto open = store_.OpenIncidents();
  if (!open) return Error{open.error()};
  for (const auto& incident : *open) {
    open_incidents_[incident.check] = incident.id;
    incident_open_[incident.check] = true;
  }
  auto running = store_.Meta("running");
  auto boot = store_.Meta("boot_id");
  if (!running || !boot) return Error{"reading the previous run's state failed"};
  const RecordStamp stamp = stamp_();
  AgentStartEntry entry;
  entry.clean_previous_stop = !running->has_value() || **running == "0";
  entry.rebooted = boot->has_value() && **boot != stamp.boot_id;
  return store_.AddAgentStart(entry, stamp);
}

Outcome Accountant::Observe(const CheckResult& result) {
  latest_[result.name] = result;
  const RecordStamp stamp = stamp_();
  TrackIncident(result, stamp);
  for (const FinishedRun& run : result.finished_runs) {
    if (auto task = TaskOf(run)) {
      // Already queued: the same run seen again while the store is failing.
      const bool queued =
          std::any_of(pending_tasks_.begin(), pending_tasks_.end(), [&](const auto& p) {
            return p.first.job == task->job && p.first.run_at == task->run_at;
          });
      if (!queued && pending_tasks_.size() < kMaxQueuedEntries) {
        pending_tasks_.emplace_back(std::move(*task), stamp);
      }
    }
  }
  Outcome outcome = Flush();
  if (result.name == "disk" && outcome.ok()) outcome = SampleDisk(result, stamp.wall);
  return outcome;
}

void Accountant::TrackIncident(const CheckResult& result, const RecordStamp& stamp) {
  bool& open = incident_open_[result.name];
  if (result.status == Status::kCritical && !open) {
    open = true;
    incident_events_.push_back(
        {true, result.name, TruncateUtf8(result.summary, kMaxSummaryBytes), stamp});
  } else if ((result.status == Status::kOk || result.status == Status::kWarning) && open) {
    open = false;
    incident_events_.push_back({false, result.name, {}, stamp});
  }
}

Outcome Accountant::Flush() {
  while (!incident_events_.empty()) {
    const IncidentEvent& event = incident_events_.front();
    if (event.opens) {
      auto id = store_.OpenIncident(event.check, event.summary, event.stamp);
      if (!id) return Error{id.error()};
      open_incidents_[event.check] = *id;
    } else if (auto it = open_incidents_.find(event.check); it != open_incidents_.end()) {
      if (auto closed = store_.CloseIncident(it->second, event.stamp); !closed) return closed;
      open_incidents_.erase(it);
    }
    incident_events_.pop_front();
  }
  while (!pending_tasks_.empty()) {
    auto added = store_.AddTask(pending_tasks_.front().first, pending_tasks_.front().second);
    if (!added) return Error{added.error()};
    pending_tasks_.pop_front();
  }
  while (!pending_.empty()) {
    auto added = store_.AddHeartbeat(pending_.front().first, pending_.front().second);
    if (!added) return Error{added.error()};
    pending_.pop_front();
  }
  return Success();
}

Outcome Accountant::SampleDisk(const CheckResult& result, UnixSeconds now) {
  if (now - last_disk_sample_ < kDiskSampleEvery) return Success();
  auto paths = result.details.find("paths");
  if (paths == result.details.end() || !paths->is_array()) return Success();
  Outcome outcome = Success();
  for (const auto& p : *paths) {
    // Capacity as df sees it for users: used + available (root's reserve left out).
    if (!p.is_object() || !p.contains("used_bytes") || !p["used_bytes"].is_number_unsigned() ||
        !p.contains("available_bytes") || !p["available_bytes"].is_number_unsigned()) {
      continue;
    }
    const auto used = p["used_bytes"].get<std::uint64_t>();
    DiskSample sample{now, p.value("path", std::string()), used,
                      used + p["available_bytes"].get<std::uint64_t>()};
    outcome = First(outcome, store_.AddDiskSample(sample));
  }
  if (outcome.ok()) last_disk_sample_ = now;
  return outcome;
}

Outcome Accountant::Heartbeat(UnixMinute minute, bool ntp_synced) {
  HeartbeatEntry entry;
  entry.minute = minute;
  entry.ntp_synced = ntp_synced;
  for (const auto& [name, result] : latest_) entry.checks[name] = result.status;
  entry.up = IsUp(entry.checks, require_);
  if (pending_.size() >= kMaxQueuedHeartbeats) pending_.pop_front();
  pending_.emplace_back(std::move(entry), stamp_());
  return Flush();
}

Outcome Accountant::Stop() {
  (void)Flush();
  return store_.AddAgentStop(stamp_());
}

}  // namespace fleet
