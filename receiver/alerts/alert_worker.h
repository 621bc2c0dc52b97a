// AlertWorker: the receiver's alert rules at work, one step at a time (the service calls
// Step every second, and as soon as an ingest commit stored an incident or an ack). Only
// the holder of the "worker" lease (alert_leases.h) steps, so several receivers on one
// PostgreSQL run exactly one worker; a receiver that takes the lease over loads the state
// its predecessor saved. A step:
// 1. reads, in one read-only snapshot, the records stored since its cursors (alert_feed.h:
//    incidents, acks, maintenance windows, the last live heartbeat of each node's new range;
//    at most kFeedChunk seqs of each (node, epoch) per step, so a first start on a large
//    database catches up over several steps, and a node still catching up is neither ticked
//    nor judged silent: nothing is sent for what is long over);
// 2. in ONE transaction, fenced by renewing the lease: feeds each node's rules
//    (node_alerts.h) with them in arrival order, applies the acknowledgements asked for by
//    button presses and `fleet-receiver ack` (alert_requests.h, answered in the same
//    transaction), judges every registered, unrevoked node's silence, ticks every book
//    (confirm, reminders, escalation), numbers each newly sent alert in the history
//    (alert_history.h), turns notices into outbox rows (alert_routes.h) and writes the
//    cursors, the changed node states, the history rows and the messages, bounding the
//    outbox. If anything fails the transaction is rolled back and the state is loaded again
//    from the database at the next step: nothing is half kept.
// Once an hour it prunes the outbox rows done kKeepOutbox ago and old answered requests.
// The clock is the caller's (unix seconds), so tests run it on a fake clock. One thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "alerting/alert_rules.h"
#include "receiver/alerts/alert_routes.h"
#include "receiver/alerts/node_alerts.h"
#include "receiver/store/alert_schema.h"
#include "receiver/store/sql_link.h"

namespace fleet::receiver {

inline constexpr std::int64_t kWorkerLeaseSeconds = 15;
inline constexpr std::int64_t kFeedChunk = 5000;
// A node's state is written at least this often (its `seen`: the statement's window).
inline constexpr std::int64_t kSeenEvery = kAlertNodeSeenEvery;
// Outbox rows done (sent, failed, dropped) and answered requests are kept this long; the
// alert history, which the statement reads, is kept.
inline constexpr std::int64_t kKeepOutbox = 30 * 86400;
inline constexpr std::int64_t kKeepRequests = 86400;

struct WorkerSettings {
  alerting::AlertPolicy policy;
  std::int64_t silent_after = 180;  // seconds
  // The receiver has a Telegram bot: an operator's Telegram chat is a channel.
  bool telegram = false;
  // The foundation's channels ("foundation.telegram", ...).
  std::vector<std::string> foundation;
};

struct WorkerStep {
  bool leader = false;        // this receiver holds the worker lease
  std::int64_t queued = 0;    // messages queued
  std::int64_t answered = 0;  // requests answered
  std::int64_t dropped = 0;   // messages dropped by the outbox bound
  bool behind = false;        // records are still waiting (a catch-up in chunks)
};

class AlertWorker {
 public:
  AlertWorker(SqlLink& link, std::string holder, WorkerSettings settings);

  void Configure(const WorkerSettings& settings);
  Result<WorkerStep> Step(std::int64_t now);
  // Gives the lease up (stopping), so another receiver takes over at once.
  Outcome Resign();

 private:
  struct Registered {
    std::string operator_id;
    bool revoked = false;
  };
  struct Read;  // what a step read before its transaction

  Outcome LoadStates(std::int64_t now);
  Result<Read> ReadInput(std::int64_t now);
  Outcome Apply(const Read& read, std::int64_t now, WorkerStep& step);
  NodeAlerts& StateOf(const std::string& node, std::int64_t now);
  Outcome AnswerRequests(std::int64_t now, std::map<std::string, std::vector<NoticeEvent>>& events,
                         WorkerStep& step);
  Outcome SaveBeats(const std::map<std::string, LiveBeat>& beats);
  Outcome Notify(const std::string& node, const std::vector<NoticeEvent>& events, const Read& read,
                 std::int64_t now, WorkerStep& step);

  SqlLink& link_;
  std::string holder_;
  WorkerSettings settings_;
  bool loaded_ = false;
  std::map<std::string, NodeAlerts> nodes_;
  std::map<std::string, std::string> saved_;  // node -> Fingerprint() as last written
  std::map<std::string, std::int64_t> seen_;  // node -> when last written
  std::map<std::string, std::int64_t> since_;
  std::int64_t pruned_at_ = 0;
};

}  // namespace fleet::receiver
