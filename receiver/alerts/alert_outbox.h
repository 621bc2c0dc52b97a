// AlertOutbox: the receiver's messages to send, one row per message and channel
// ("op-7.telegram", "op-7.discord", "foundation.telegram", ...), each holding the alert as
// the message shows it (alerting/alert_json.h), and, per alert and channel, the first message
// the channel took (what an acknowledgement or a recovery edits). Queued by the alert worker
// in the transaction of the decision that made them; sent by any receiver: a sender CLAIMS a
// row before sending it (a conditional UPDATE: only the oldest waiting row of a channel, only
// when nobody else's claim on it is alive), so two receivers never send the same row and a
// channel's messages go in order; a claim runs out after its ttl, so a sender that died
// mid-send leaves the row to another (the price: that message may go twice). A message
// leaves the waiting set only when its channel took it (sent), refused it for good
// (failed), or the outbox dropped it (its channel gone; past kMaxPendingPerChannel waiting
// messages, the oldest reminders, then the oldest edits, then the oldest of any kind).
// Counts and each channel's last state are kept for `fleet-receiver alerts`. Uses the
// caller's link (one thread).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "receiver/store/sql_link.h"

namespace fleet::receiver {

inline constexpr std::int64_t kMaxPendingPerChannel = 1000;
// The longest a message waits for its channel (a rate limit is honoured up to an hour): a due
// time further ahead is read as a wall clock that went back, and is due now.
inline constexpr std::int64_t kMaxOutboxWait = 3600 + 600;

enum class OutboxAction { kSend, kEdit };

struct OutboxMessage {
  std::int64_t key = 0;  // the alert's number (alert_history.h)
  std::string notice;    // alerting::NoticeKindName
  std::string channel;
  OutboxAction action = OutboxAction::kSend;
  std::string alert_json;
};

struct OutboxRow {
  std::int64_t id = 0;
  OutboxMessage message;
  std::int64_t created = 0;
  std::int64_t due = 0;
  std::int64_t attempts = 0;
};

struct ChannelCounts {
  std::int64_t pending = 0;
  std::int64_t sent = 0;
  std::int64_t failed = 0;   // refused for good by the channel
  std::int64_t dropped = 0;  // never sent: the outbox was full, the channel is gone
  std::optional<std::int64_t> oldest_pending;  // created
};

struct ChannelState {
  std::string channel;
  std::string state;  // "ok", "rate limited", "refused", "retrying", "unknown channel"
  std::optional<std::string> last_error;
  std::optional<std::int64_t> last_sent;
  std::int64_t updated = 0;
};

class AlertOutbox {
 public:
  explicit AlertOutbox(SqlLink& link) : link_(link) {}

  // Due now.
  Outcome Queue(const std::vector<OutboxMessage>& messages, std::int64_t now);
  // Drops what is past the bound of each channel; returns how many were dropped.
  Result<std::int64_t> Bound(std::int64_t now,
                             std::int64_t max_per_channel = kMaxPendingPerChannel);

  // Channels with waiting messages.
  Result<std::vector<std::string>> Waiting();
  // The channel's oldest waiting message, claimed by `holder` until now + ttl, when it is due
  // and nobody else's claim on it is alive; nullopt otherwise.
  Result<std::optional<OutboxRow>> Claim(const std::string& channel, const std::string& holder,
                                         std::int64_t now, std::int64_t ttl);
  // The channel took it (only while the claim is `holder`'s); a send's message id is kept
  // for later edits.
  Outcome MarkSent(const OutboxRow& row, const std::string& holder, const std::string& message_id,
                   std::int64_t now);
  // Not taken now: the claim is given up, the row waits until `due`.
  Outcome Reschedule(std::int64_t id, const std::string& holder, std::int64_t due,
                     const std::string& error);
  // Every waiting message of the channel waits until `due` at least (a rate limit, a refusal).
  Outcome HoldChannel(const std::string& channel, std::int64_t due, const std::string& error);
  // Refused for good ("failed") or never to be sent ("dropped").
  Outcome SetAside(std::int64_t id, const std::string& state, const std::string& error,
                   std::int64_t now);
  // Every waiting message of a channel that no longer exists.
  Result<std::int64_t> DropChannel(const std::string& channel, const std::string& error,
                                   std::int64_t now);
  Result<std::optional<std::string>> FirstMessage(std::int64_t key, const std::string& channel);
  // Messages the channel took since `since` (the pace shared by every receiver).
  Result<std::int64_t> SentSince(const std::string& channel, std::int64_t since);

  Result<std::map<std::string, ChannelCounts>> Counts();
  Outcome SetChannelState(const ChannelState& state);
  Result<std::vector<ChannelState>> ChannelStates();
  // Sent, failed and dropped rows done before `before` leave the table.
  Outcome Prune(std::int64_t before);

 private:
  SqlLink& link_;
};

}  // namespace fleet::receiver
