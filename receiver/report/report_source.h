// ReportSource: what the monthly reports read from a receiver's database, apart from how
// it is stored: the registry (operators, nodes, referrals) and, per node and time range,
// the heartbeats, task runs, incidents and acknowledgements its records carry, and the alerts
// the receiver itself sent (when it alerts: receiver/alerts/). A store (SQLite,
// PostgreSQL) implements it; the rules in uptime_report.h and statement.h never see SQL. Callbacks
// stream rows so a month of a large fleet never sits in memory at once.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"

namespace fleet::receiver {

struct OperatorEntry {
  std::string id;
  std::string name;
  std::int64_t since = 0;  // unix seconds (00:00 UTC of the start date)
};

struct NodeRegistration {
  std::string node;
  std::string operator_id;
  std::int64_t added_at = 0;  // unix seconds
  std::optional<std::int64_t> revoked_at;
};

struct Referral {
  std::string partner;    // operator id
  std::string referred;   // operator id
  std::int64_t date = 0;  // unix seconds
};

struct Registry {
  std::vector<OperatorEntry> operators;
  std::vector<NodeRegistration> nodes;
  std::vector<Referral> referrals;
};

struct HeartbeatRow {
  std::int64_t minute = 0;  // unix seconds of the minute's start
  bool up = false;
  std::int64_t received_at = 0;
};

struct TaskRow {
  std::string job;
  std::int64_t run_at = 0;
  bool ok = false;
};

struct IncidentRow {
  std::string check;
  std::int64_t opened = 0;
  std::optional<std::int64_t> closed;
  std::string summary;
  std::int64_t id = 0;  // the node's own incident id, which its acks name
};

// An acknowledgement of an incident's alert (an `ack` record).
struct AckRow {
  std::int64_t incident = 0;  // the node's incident id (IncidentRow::id)
  std::int64_t at = 0;        // when it was acknowledged (unix seconds)
  std::string by;
  std::string via;  // telegram, cli, receiver
  std::optional<std::string> note;
  std::int64_t received_at = 0;
  // Arrived within the default allowance after `at` (receiver/core/live_arrival.h), as the
  // store judged it at ingest; the reports judge again with the allowance they are given.
  bool live = false;
};

// An alert the receiver sent (its alert history, receiver/alerts/alert_history.h).
struct ReceiverAlertRow {
  std::int64_t key = 0;  // the receiver's alert number
  std::vector<std::string> checks;
  std::vector<std::int64_t> incidents;  // the node's incident ids it told of (none: silent)
  bool silent = false;                  // the receiver's own alert: no heartbeat
  std::int64_t opened = 0;
  std::int64_t sent = 0;
  std::optional<std::int64_t> resolved;
  // The first acknowledgement given at the receiver (a button press it took, `fleet-receiver
  // ack`): the receiver's clock, so live. A node's ack records come through ForEachAck.
  std::optional<std::int64_t> acked_at;
  std::string acked_by;
  std::string acked_via;
};

// When the receiver's alert worker looked after a node: a critical incident the node opened
// in [since, until] was the receiver's to alert of, so the receiver's sent alerts are that
// time's alerts (not the incidents themselves).
struct ReceiverAlerting {
  std::int64_t since = 0;
  std::int64_t until = 0;
};

class ReportSource {
 public:
  virtual ~ReportSource() = default;
  virtual Result<Registry> LoadRegistry() = 0;
  // Rows whose time (minute, run_at, opened) lies in [begin, end), of records that are
  // chained and acknowledged (at or below their epoch's watermark: a record past a gap or a
  // broken prev link is stored but not counted until the chain reaches it); repeats (the
  // same minute from two epochs, an incident's open and close records) are the caller's to
  // fold.
  virtual Outcome ForEachHeartbeat(const std::string& node, std::int64_t begin, std::int64_t end,
                                   const std::function<void(const HeartbeatRow&)>& row) = 0;
  virtual Outcome ForEachTask(const std::string& node, std::int64_t begin, std::int64_t end,
                              const std::function<void(const TaskRow&)>& row) = 0;
  // Incidents opened before `end` and not closed before `begin`.
  virtual Outcome ForEachIncident(const std::string& node, std::int64_t begin, std::int64_t end,
                                  const std::function<void(const IncidentRow&)>& row) = 0;
  // Acknowledgements given (at) in [begin, end).
  virtual Outcome ForEachAck(const std::string& node, std::int64_t begin, std::int64_t end,
                             const std::function<void(const AckRow&)>& row) = 0;
  // The receiver's alerting of a node; nullopt when the receiver never alerted for it (a node
  // alerting on its own). A source without the receiver's alert history has none.
  virtual Result<std::optional<ReceiverAlerting>> ReceiverAlertingOf(const std::string& node) {
    (void)node;
    return std::optional<ReceiverAlerting>();
  }
  // The receiver's alerts of a node first sent in [begin, end), by opening.
  virtual Outcome ForEachReceiverAlert(const std::string& node, std::int64_t begin,
                                       std::int64_t end,
                                       const std::function<void(const ReceiverAlertRow&)>& row) {
    (void)node, (void)begin, (void)end, (void)row;
    return Success();
  }
};

}  // namespace fleet::receiver
