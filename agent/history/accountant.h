// Accountant: turns check results into the node's history (design.md "Uptime, tasks and
// incidents"). It keeps the latest result per check; every minute it applies the uptime
// rule (up when every check in uptime.require has a result and none is CRITICAL) and
// writes that minute's heartbeat; each finished run a check reports (CheckResult's
// finished_runs: the cron check's Hermes jobs) becomes a task, counted once by (job id,
// run time as written); a check turning CRITICAL
// opens an incident that its recovery (OK or WARNING; UNKNOWN keeps it open) closes.
// Writes that fail (disk full, read-only state dir) are not lost: heartbeats, tasks and
// incident openings/closings wait in bounded queues, in order, and are written with their
// original timestamps on the next attempt that succeeds. Free text is cut where records
// are made, on a UTF-8 character boundary with "..." appended, to the contract's size limit
// of its field (protocol/records.h), so the receiver never refuses a record for its size:
// an incident's summary and a task's error to kMaxTextBytes, a task's name to kMaxJobBytes.
// Single-threaded.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/history/history_store.h"
#include "core/check_result.h"
#include "protocol/records.h"

namespace fleet {

// An incident summary (a check's one-line summary, which may quote a tmux session name or a
// file's content) is cut to this many bytes, "..." included.
inline constexpr std::size_t kMaxSummaryBytes = protocol::kMaxTextBytes;

// Pure: the uptime rule on the latest statuses.
bool IsUp(const std::map<std::string, Status>& latest, const std::vector<std::string>& require);

// Pure: the task record of a check's finished run; nothing for a run that cannot be
// counted once (no id, an id over kMaxJobBytes or a run time over 64 bytes). Name and error
// are cut to kMaxJobBytes and kMaxTextBytes on a UTF-8 boundary.
std::optional<TaskEntry> TaskOf(const FinishedRun& run);

class Accountant {
 public:
  using StampSource = std::function<RecordStamp()>;

  Accountant(HistoryStore& store, std::vector<std::string> uptime_require, StampSource stamp);

  // Loads open incidents and writes agent_start (clean previous stop? rebooted since?).
  Outcome Start();
  // Feeds one result. Returns the first write error, if any (the rest is still tried).
  Outcome Observe(const CheckResult& result);
  // Writes the heartbeat of `minute` from the latest results, plus any queued ones.
  Outcome Heartbeat(UnixMinute minute, bool ntp_synced);
  Outcome Stop();

  void set_uptime_require(std::vector<std::string> require) { require_ = std::move(require); }
  // A check disabled by a reload: its last result leaves the heartbeats and the status.
  void Forget(const std::string& check) { latest_.erase(check); }
  const std::map<std::string, CheckResult>& latest() const { return latest_; }
  // The incident open for a check, as written (an opening still queued has no number yet).
  std::optional<std::int64_t> OpenIncidentOf(const std::string& check) const {
    auto it = open_incidents_.find(check);
    return it == open_incidents_.end() ? std::nullopt : std::optional(it->second);
  }
  std::size_t queued_heartbeats() const { return pending_.size(); }
  std::size_t queued_entries() const {
    return pending_.size() + incident_events_.size() + pending_tasks_.size();
  }

 private:
  struct IncidentEvent {
    bool opens = true;
    std::string check;
    std::string summary;
    RecordStamp stamp;
  };

  void TrackIncident(const CheckResult& result, const RecordStamp& stamp);
  Outcome SampleDisk(const CheckResult& result, UnixSeconds now);
  // Writes everything queued, oldest first; stops at the first failure.
  Outcome Flush();

  HistoryStore& store_;
  std::vector<std::string> require_;
  StampSource stamp_;
  std::map<std::string, CheckResult> latest_;
  std::map<std::string, std::int64_t> open_incidents_;  // written: check -> incident id
  std::map<std::string, bool> incident_open_;           // as observed, queue included
  std::deque<IncidentEvent> incident_events_;
  std::deque<std::pair<TaskEntry, RecordStamp>> pending_tasks_;
  std::deque<std::pair<HeartbeatEntry, RecordStamp>> pending_;
  UnixSeconds last_disk_sample_ = 0;
};

}  // namespace fleet
