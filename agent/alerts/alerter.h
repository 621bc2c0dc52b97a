// Alerter: the node's alert rules (alerting/alert_rules.h) fed by the daemon's check
// results, on its loop thread, and the messages their notices make, written to the outbox
// (alert_ledger.h) in the same transaction as the rules' new state. Who gets what: an
// opening, a reminder or a flapping notice is a new message on every channel; an
// escalation goes to the escalation channels; an acknowledgement edits the first message
// each channel took (a webhook gets a new event instead); a recovery is a new message and
// an edit of the first (so no Acknowledge button is left on a resolved alert). Channels
// are named "telegram", "discord", "webhook" and, for escalation, "escalation.<name>".
// The state is saved only when it changed or messages were queued. Single-threaded.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/alerts/alert_ledger.h"
#include "agent/config/config.h"
#include "alerting/alert_rules.h"
#include "core/check_result.h"

namespace fleet {

// The channel names a configuration routes to.
struct AlertRoutes {
  std::vector<std::string> main;
  std::vector<std::string> escalation;
  std::vector<std::string> All() const;
};
AlertRoutes RoutesOf(const AlertSettings& settings);
alerting::AlertPolicy PolicyOf(const AlertSettings& settings);
alerting::Level LevelOf(Status status);

class Alerter {
 public:
  // Loads the saved rules' state (a state it cannot read is logged by the caller from
  // `warning` and started afresh).
  static Result<std::unique_ptr<Alerter>> Open(std::unique_ptr<AlertLedger> ledger,
                                               std::string node, const AlertSettings& settings);

  void Configure(const AlertSettings& settings);
  // Each returns whether messages were queued (the sender has work), or the write error
  // (the rules' step is then undone in memory, and the next call tries again).
  Result<bool> Observe(const CheckResult& result, std::int64_t now);
  Result<bool> Forget(const std::string& check, std::int64_t now);
  // What the agent's remedies did about a check (AlertBook::SetNote).
  Result<bool> SetNote(const std::string& check, const std::string& note, bool tell,
                       std::int64_t now);
  Result<bool> Tick(std::int64_t now);
  std::optional<std::int64_t> NextWake() const { return book_.NextWake(); }

  struct AckOutcome {
    alerting::AckResult result = alerting::AckResult::kUnknownAlert;
    std::vector<std::string> checks;  // the alert's checks (their open incidents are acked)
    bool queued = false;
  };
  Result<AckOutcome> Acknowledge(std::int64_t alert, const alerting::Acknowledgement& ack,
                                 std::int64_t now);
  Result<bool> SetMaintenance(std::int64_t until, std::int64_t now);
  // A report (the weekly summary) to the Telegram and Discord channels, not the webhook;
  // false when no such channel is configured.
  Result<bool> QueueReport(const alerting::Alert& report, std::int64_t now);

  const alerting::AlertBook& book() const { return book_; }
  AlertLedger& ledger() { return *ledger_; }
  const std::string& load_warning() const { return load_warning_; }

 private:
  Alerter(std::unique_ptr<AlertLedger> ledger, std::string node, alerting::AlertBook book)
      : ledger_(std::move(ledger)), node_(std::move(node)), book_(std::move(book)) {}
  // Writes the book and the messages of `notices`; on failure restores `before`.
  Result<bool> Commit(const std::vector<alerting::Notice>& notices,
                      const alerting::AlertBook& before, std::int64_t now);
  std::vector<QueuedMessage> MessagesOf(const std::vector<alerting::Notice>& notices,
                                        std::int64_t now) const;

  std::unique_ptr<AlertLedger> ledger_;
  std::string node_;
  alerting::AlertBook book_;
  AlertRoutes routes_;
  std::string last_saved_;
  std::string load_warning_;
};

}  // namespace fleet
