// AlertBook: the alerting rules of one node, as a pure state machine on a clock the caller
// gives (Unix seconds); the agent keeps one for its own node, the receiver one per node.
// Fed each check's level as it is observed, it decides what the operator is told:
// - a check at or above min_severity must stay bad for `confirm` before anyone is told
//   (like Alertmanager's group_wait); checks that are bad when that happens join the same
//   alert, so several checks failing together make one message;
// - while the alert is open and unacknowledged, a reminder every `repeat` (Nagios's
//   notification_interval) and, after `escalate_after`, one escalation notice;
// - an acknowledgement holds until every check of the alert is fine again (Nagios's sticky
//   ack) and stops reminders and escalation;
// - the alert resolves when all its checks are fine; a resolved notice only follows an
//   alert that was sent: a problem gone before `confirm` is never told;
// - a check that changes state `flap_changes` times within `flap_window` is flapping: one
//   notice, then quiet until it has been stable for a quarter of the window (at least
//   `confirm`), then resolved, or firing again;
// - UNKNOWN (could not look) neither opens nor closes anything;
// - during maintenance nothing opens, reminds or escalates; an alert held back by it is
//   sent when it ends if still bad; resolutions and acknowledgements still go out;
// - what the node's agent did about a check by itself (SetNote) goes with the check in its
//   alert; news worth a message of its own (remediation exhausted) sends it again;
// - a clock that jumps back shifts every time the book holds by the jump, so confirmations
//   and reminders keep their spacing instead of waiting for the clock to catch up.
// Every decision is a Notice appended to the caller's list; the caller turns notices into
// messages (outbox rows). The whole state saves to and loads from JSON, so it survives
// restarts in the caller's database. Not thread-safe; one owner.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "alerting/alert.h"
#include "base/result.h"

namespace fleet::alerting {

// A check's level as the rules see it.
enum class Level { kOk, kWarning, kCritical, kUnknown };

struct AlertPolicy {
  Severity min_severity = Severity::kCritical;
  std::int64_t confirm = 30;                   // seconds
  std::int64_t repeat = 1800;                  // seconds; 0: no reminders
  std::optional<std::int64_t> escalate_after;  // seconds; none: no escalation
  int flap_changes = 6;
  std::int64_t flap_window = 1800;  // seconds
};

enum class NoticeKind {
  kOpened,        // send the alert (firing)
  kReminder,      // send it again (open, unacknowledged)
  kEscalated,     // send it to the escalation channels
  kFlapping,      // send one flapping notice
  kAcknowledged,  // update the messages sent: acknowledged by ...
  kResolved,      // send the resolved notice, update the messages sent
  kUpdated,       // send it again: what the agent did about it changed (SetNote with tell)
};
std::string_view NoticeKindName(NoticeKind kind);

struct Notice {
  NoticeKind kind = NoticeKind::kOpened;
  std::int64_t alert = 0;  // BookAlert::id
  bool operator==(const Notice&) const = default;
};

struct Acknowledgement {
  std::string by;
  std::string via;  // "telegram", "cli", "receiver"
  std::int64_t at = 0;
  std::optional<std::string> note;
  bool operator==(const Acknowledgement&) const = default;
};

// An alert the book holds: open (sent, or held back by maintenance) until resolved.
struct BookAlert {
  std::int64_t id = 0;
  std::vector<AlertCheck> checks;  // as last observed; the first opened it
  Severity severity = Severity::kWarning;
  std::int64_t opened = 0;    // when its first check turned bad
  std::int64_t notified = 0;  // when its opening (or flapping) notice went; 0: held back
  std::int64_t last_notice = 0;
  bool escalated = false;
  bool flapping = false;
  std::optional<Acknowledgement> ack;
  bool operator==(const BookAlert&) const = default;
};

enum class AckResult { kAcknowledged, kAlreadyAcknowledged, kUnknownAlert };

class AlertBook {
 public:
  explicit AlertBook(AlertPolicy policy) : policy_(policy) {}

  // A new policy (configuration reloaded); open alerts and tracks are kept.
  void set_policy(const AlertPolicy& policy) { policy_ = policy; }
  const AlertPolicy& policy() const { return policy_; }

  // One observation of a check; `fix` is the runbook's fix for what is wrong (may be empty).
  // `bad_since`: when the caller knows a check that turns bad now has been bad since an
  // earlier time (an incident that opened on the node before the receiver heard of it, a
  // node silent since its last heartbeat), `confirm` counts from then (never from later than
  // now) and the alert shows that opening.
  void Observe(const std::string& check, Level level, const std::string& summary,
               const std::string& fix, std::int64_t now, std::vector<Notice>& out,
               std::optional<std::int64_t> bad_since = std::nullopt);
  // What the agent did about a check by itself (its remedies), shown with the check in its
  // alert (AlertCheck::done) from now on. With `tell`, an alert already sent, open and
  // unacknowledged is sent again (kUpdated): "remediation exhausted, needs you". The note
  // is dropped once the check is fine and its alert resolved (or it never had one).
  void SetNote(const std::string& check, const std::string& note, bool tell, std::int64_t now,
               std::vector<Notice>& out);
  // A check no longer run (removed by a reload): as if it were fine, without a flap.
  void Forget(const std::string& check, std::int64_t now, std::vector<Notice>& out);
  // Time passing: confirmations, reminders, escalations, flapping that settled, the end of
  // maintenance. Call at NextWake() (or any time: it does what is due).
  void Tick(std::int64_t now, std::vector<Notice>& out);
  // When Tick next has something to do; nullopt when nothing is pending.
  std::optional<std::int64_t> NextWake() const;

  AckResult Acknowledge(std::int64_t alert, const Acknowledgement& ack, std::vector<Notice>& out);
  // Silences alerts until `until` (0 or a past time: no maintenance); Tick sends what it held.
  void SetMaintenance(std::int64_t until) { maintenance_until_ = until; }
  std::int64_t maintenance_until() const { return maintenance_until_; }
  bool InMaintenance(std::int64_t now) const { return now < maintenance_until_; }

  const std::map<std::int64_t, BookAlert>& alerts() const { return alerts_; }
  const BookAlert* Find(std::int64_t alert) const;
  // The open alert a check belongs to (0: none).
  std::int64_t AlertOf(const std::string& check) const;

  // The alert as a message shows it for a notice (state, reminder and escalation flags).
  // `resolved_at` for kResolved (the book no longer holds a resolved alert: the caller keeps
  // the BookAlert it rendered before, see ResolvedCopy).
  static Alert Render(const BookAlert& alert, const std::string& node, NoticeKind kind,
                      std::optional<std::int64_t> resolved_at = std::nullopt);
  // A resolved alert's last state: Observe/Forget/Tick keep it here until the next call
  // that appends notices, so the caller can render the kResolved notices it got.
  const std::map<std::int64_t, BookAlert>& just_resolved() const { return just_resolved_; }

  nlohmann::json Save() const;
  // Refuses (with the reason) a saved state it cannot read whole; the caller starts afresh.
  static Result<AlertBook> Load(const nlohmann::json& saved, AlertPolicy policy);

 private:
  struct Track {
    bool bad = false;
    Severity severity = Severity::kWarning;
    std::int64_t bad_since = 0;
    std::string summary;
    std::string fix;
    std::vector<std::int64_t> changes;  // when it turned bad or good, within the window
    bool flapping = false;
    std::string note;  // what the agent did about it (SetNote)
    std::int64_t alert = 0;
    bool operator==(const Track&) const = default;
  };

  bool IsBad(Level level) const;
  void Step(std::int64_t now, std::vector<Notice>& out);
  void Settle(std::int64_t now, std::vector<Notice>& out);
  void OpenDue(std::int64_t now, std::vector<Notice>& out);
  void ResolveIfFine(std::int64_t alert, std::vector<Notice>& out);
  void Emit(NoticeKind kind, BookAlert& alert, std::int64_t now, std::vector<Notice>& out);
  void RefreshChecks(BookAlert& alert) const;
  std::int64_t StableAfter() const;
  // Shifts the book's times back when `now` is before the last time it was given.
  void FollowClock(std::int64_t now);

  AlertPolicy policy_;
  std::map<std::string, Track> tracks_;
  std::map<std::int64_t, BookAlert> alerts_;
  std::map<std::int64_t, BookAlert> just_resolved_;
  std::int64_t next_id_ = 1;
  std::int64_t maintenance_until_ = 0;
  std::int64_t last_now_ = 0;
};

}  // namespace fleet::alerting
