// AlertLedger: the node's alerting in history.db, beside its history: the alert rules'
// state (alerting/alert_rules.h, saved whole), the outbox of messages to send (one row per
// message and channel, the alert rendered when it was queued), the first message each
// channel took for an alert (what an acknowledgement or a recovery edits), and the inbox
// through which `fleet-agent ack` and `maintenance` reach the running daemon. The rules'
// state and the messages its notices make are written in one transaction, so a decision is
// never half kept; a message leaves the outbox's pending set only when its channel took it
// (or refused it for good), so nothing is lost across kill -9, reboot or hours offline, and
// nothing a channel took is sent again. The outbox is bounded: past kMaxPending waiting
// messages the oldest reminders, then the oldest of any kind, are dropped (kept, marked).
// One object per connection, per thread: the daemon's loop, the sender thread and the
// commands each open their own.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/sqlite_db.h"

namespace fleet {

inline constexpr std::int64_t kMaxPendingMessages = 1000;
// The longest a message waits for its channel (a rate limit is honoured up to an hour): a
// due time further ahead is read as a wall clock that went back, and is due now.
inline constexpr std::int64_t kMaxOutboxWait = 3600 + 600;

// What the sender does with a row: send a new message, or edit the one the channel took
// first for this alert.
enum class OutboxAction { kSend, kEdit };

struct QueuedMessage {
  std::int64_t alert = 0;
  std::string notice;   // alerting::NoticeKindName
  std::string channel;  // "telegram", "discord", "webhook", "escalation.telegram", ...
  OutboxAction action = OutboxAction::kSend;
  nlohmann::json alert_json;  // alerting::AlertToJson of the alert as the message shows it
};

struct OutboxRow {
  std::int64_t id = 0;
  std::int64_t alert = 0;
  std::string notice;
  std::string channel;
  OutboxAction action = OutboxAction::kSend;
  std::string alert_json;
  std::int64_t created = 0;
  std::int64_t due = 0;
  std::int64_t attempts = 0;
};

struct ChannelCounts {
  std::int64_t pending = 0;
  std::int64_t sent = 0;
  std::int64_t failed = 0;                     // refused for good by the channel
  std::int64_t dropped = 0;                    // never sent: outbox full, channel gone
  std::optional<std::int64_t> oldest_pending;  // created, unix seconds
};

// A request from a command to the daemon (kind "ack" or "maintenance"), and its answer.
struct InboxRequest {
  std::int64_t id = 0;
  std::string kind;
  nlohmann::json payload;
  std::int64_t created = 0;
};
struct InboxAnswer {
  bool ok = false;
  std::string text;
};

class AlertLedger {
 public:
  // Opens <state_dir>/history.db; read_only for `fleet-agent alerts` (tables may be absent:
  // then everything reads as empty).
  static Result<std::unique_ptr<AlertLedger>> Open(const std::string& state_dir, bool read_only);

  // The rules' saved state; nullopt when none was saved yet.
  Result<std::optional<nlohmann::json>> LoadBook();
  // Saves the rules' state and queues `messages` (due now), in one transaction.
  Outcome Record(const nlohmann::json& book, const std::vector<QueuedMessage>& messages,
                 std::int64_t now);

  // The oldest waiting message of a channel, when it is due at `now`.
  Result<std::optional<OutboxRow>> NextDue(const std::string& channel, std::int64_t now);
  // The channel took it; a first message id of a sent alert is kept for later edits.
  Outcome MarkSent(const OutboxRow& row, const std::string& message_id, std::int64_t now);
  // Not taken now: try again at `due`.
  Outcome Reschedule(std::int64_t id, std::int64_t due, const std::string& error);
  // Every waiting message of the channel from `due` on (a rate limit or a refusal holds the
  // whole channel, in order).
  Outcome HoldChannel(const std::string& channel, std::int64_t due, const std::string& error);
  // Refused for good, or impossible (an edit with no message to edit): kept, not retried.
  Outcome MarkFailed(std::int64_t id, const std::string& error, std::int64_t now);
  // Waiting messages of channels not in `configured` are dropped (the channel was removed).
  Result<std::int64_t> DropUnrouted(const std::vector<std::string>& configured, std::int64_t now);
  Result<std::optional<std::string>> FirstMessage(std::int64_t alert, const std::string& channel);
  Result<std::map<std::string, ChannelCounts>> Counts();
  // Sent, failed and dropped rows older than `before` leave the table.
  Outcome Prune(std::int64_t before);

  // Commands -> daemon.
  Result<std::int64_t> Request(const std::string& kind, const nlohmann::json& payload,
                               std::int64_t now);
  Result<std::vector<InboxRequest>> PendingRequests();
  Outcome Answer(std::int64_t id, const InboxAnswer& answer, std::int64_t now);
  Result<std::optional<InboxAnswer>> AnswerOf(std::int64_t id);
  // The command gives up on its request: true when it was still unanswered (the daemon will
  // never act on it), false when the daemon answered meanwhile.
  Result<bool> Withdraw(std::int64_t id, std::int64_t now);

  // Small values that survive restarts (the Telegram poll offset).
  Result<std::optional<std::string>> Value(const std::string& key);
  Outcome SetValue(const std::string& key, const std::string& value);

 private:
  explicit AlertLedger(std::unique_ptr<SqliteDb> db, bool tables)
      : db_(std::move(db)), tables_(tables) {}
  Outcome Bound(std::int64_t now);

  std::unique_ptr<SqliteDb> db_;
  bool tables_ = true;  // false: opened read-only before the daemon made them
};

}  // namespace fleet
