// NodeAlerts: the alert worker's state for one node, and the rules that feed it: the node's
// AlertBook (alerting/alert_rules.h: confirm, grouping, reminders, escalation, sticky ack,
// flapping, maintenance, clock jumps), fed by what the node's records say and by what the
// receiver alone sees:
// - an incident record that opens a check's incident and arrived LIVE (within
//   kLiveWithinSeconds of its opening, receiver/core/live_arrival.h) is followed; one that
//   came late from a spool pages nobody now (it is not followed); a closing record ends it
//   (late or not). Records are applied as read (Apply) and the book learns the outcome at
//   Sync: the check CRITICAL, bad since the incident opened, for a followed incident still
//   open; fine again, resolved at the node's time of closing, for one that closed. So an
//   incident whose opening and closing were read together (a catch-up after downtime, a
//   first start on an old database) is never told, and a node still catching up (its
//   records read in chunks over several steps) is synced only once it has caught up;
// - a node's ack record (`fleet-agent ack`, its own button) acknowledges, at Sync, the
//   alert of the incident it names when that alert is open; a maintenance record silences
//   the book until its end;
// - SILENT: once the node has sent a live heartbeat, no live heartbeat for `silent_after`
//   makes the check "silent" CRITICAL ("no heartbeat for 4m, the last at ..."), bad since
//   that last heartbeat; a live heartbeat again makes it fine. A retired node (revoked,
//   unregistered) has every check forgotten.
// Each decision is a NoticeEvent with the alert as it was then. The whole state (book, the
// followed incidents, the last live heartbeat, the receiver's number and channels of each
// alert sent) saves to and loads from JSON; the last live heartbeat, which changes every
// minute, is the caller's to keep apart (SeeBeat on load). Pure; not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "alerting/alert_rules.h"
#include "receiver/alerts/alert_feed.h"

namespace fleet::receiver {

inline constexpr std::string_view kSilentCheck = "silent";

struct NoticeEvent {
  alerting::Notice notice;
  alerting::BookAlert alert;                // as it was when the notice came
  std::optional<std::int64_t> resolved_at;  // kResolved: when (the node's closing, a heartbeat)
  std::string ack_source;                   // kAcknowledged: "node" (an ack record) or "receiver"
};

// What the receiver made of an alert it sent: its number and the channels told so far.
struct SentAlert {
  std::int64_t key = 0;
  std::vector<std::string> channels;
};

class NodeAlerts {
 public:
  NodeAlerts(std::string node, const alerting::AlertPolicy& policy)
      : node_(std::move(node)), book_(policy) {}
  // A state this version cannot read whole is an error (the caller starts afresh).
  static Result<NodeAlerts> Load(std::string node, std::string_view saved,
                                 const alerting::AlertPolicy& policy);
  std::string Save() const;
  // Save() without the parts that change at every step (the book's last clock).
  std::string Fingerprint() const;

  void set_policy(const alerting::AlertPolicy& policy) { book_.set_policy(policy); }
  const std::string& node() const { return node_; }
  const alerting::AlertBook& book() const { return book_; }

  void Apply(const FeedEvent& event);
  void Sync(std::int64_t now, std::vector<NoticeEvent>& out);
  // A live heartbeat; true when it is the latest one seen (kept apart from Save()).
  bool SeeBeat(const LiveBeat& beat);
  void CheckSilence(std::int64_t now, std::int64_t silent_after, std::vector<NoticeEvent>& out);
  void Retire(std::int64_t now, std::vector<NoticeEvent>& out);
  void Tick(std::int64_t now, std::vector<NoticeEvent>& out);
  alerting::AckResult Acknowledge(std::int64_t book_alert, const alerting::Acknowledgement& ack,
                                  std::vector<NoticeEvent>& out);

  // The node's incident ids the book follows for these checks.
  std::vector<std::int64_t> IncidentsOf(const std::vector<alerting::AlertCheck>& checks) const;
  const SentAlert* Sent(std::int64_t book_alert) const;
  void SetSent(std::int64_t book_alert, SentAlert sent) { sent_[book_alert] = std::move(sent); }
  void DropSent(std::int64_t book_alert) { sent_.erase(book_alert); }
  const std::optional<LiveBeat>& beat() const { return beat_; }
  bool silent() const { return silent_; }

 private:
  struct Followed {
    std::string check;
    std::int64_t opened = 0;
    std::string summary;
    bool observed = false;  // the book knows it (Sync)
  };
  struct Closing {
    std::string check;
    std::int64_t at = 0;  // the node's time of closing
  };
  struct NodeAck {
    std::int64_t incident = 0;
    alerting::Acknowledgement ack;
  };
  // Turns the notices of one book call into events (resolved_at for its kResolved ones).
  void Collect(const std::vector<alerting::Notice>& notices,
               std::optional<std::int64_t> resolved_at, const std::string& ack_source,
               std::vector<NoticeEvent>& out) const;
  std::string SilentSummary(std::int64_t now) const;

  std::string node_;
  alerting::AlertBook book_;
  std::map<std::int64_t, Followed> incidents_;  // the node's incident id -> its check
  std::vector<Closing> closing_;  // followed incidents the book knows, closed since Sync
  std::vector<NodeAck> acks_;     // ack records read since Sync
  std::optional<LiveBeat> beat_;
  bool silent_ = false;
  std::string silent_summary_;
  std::map<std::int64_t, SentAlert> sent_;  // by book alert id
};

}  // namespace fleet::receiver
