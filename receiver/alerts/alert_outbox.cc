#include "receiver/alerts/alert_outbox.h"

namespace fleet::receiver {
namespace {

std::string ActionName(OutboxAction action) {
  return action == OutboxAction::kEdit ? "edit" : "send";
}

Outcome Done(const Result<SqlRows>& rows, const char* what) {
  if (!rows) return Error{std::string("alert outbox (") + what + "): " + rows.error()};
  return Success();
}

}  // namespace

Outcome AlertOutbox::Queue(const std::vector<OutboxMessage>& messages, std::int64_t now) {
  for (const OutboxMessage& m : messages) {
    auto done = link_.Run(
        "INSERT INTO alert_outbox (alert_key, notice, channel, action, alert_json, created, due) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7)",
        {m.key, m.notice, m.channel, ActionName(m.action), m.alert_json, now, now});
    if (auto ok = Done(done, "queue"); !ok) return ok;
  }
  return Success();
}

Result<std::int64_t> AlertOutbox::Bound(std::int64_t now, std::int64_t max_per_channel) {
  auto over = link_.Run(
      "SELECT channel, count(*) FROM alert_outbox WHERE state = 'pending' GROUP BY channel "
      "HAVING count(*) > $1",
      {max_per_channel});
  if (!over) return Error{"alert outbox (bound): " + over.error()};
  std::int64_t dropped = 0;
  for (int i = 0; i < over->size(); ++i) {
    const std::string channel = over->Text(i, 0);
    std::int64_t excess = over->Int(i, 1) - max_per_channel;
    // Reminders first (the alert was told already), then edits (what a message shows), then
    // the oldest of any kind.
    for (const char* which : {"notice = 'reminder'", "action = 'edit'", "1 = 1"}) {
      if (excess <= 0) break;
      auto done = link_.Run(
          std::string("UPDATE alert_outbox SET state = 'dropped', done_at = $1, "
                      "last_error = 'the outbox was full', claimed_by = NULL, claim_until = NULL "
                      "WHERE id IN (SELECT id FROM alert_outbox WHERE state = 'pending' AND "
                      "channel = $2 AND ") +
              which + " ORDER BY id LIMIT $3)",
          {now, channel, excess});
      if (!done) return Error{"alert outbox (bound): " + done.error()};
      excess -= done->affected();
      dropped += done->affected();
    }
  }
  return dropped;
}

Result<std::vector<std::string>> AlertOutbox::Waiting() {
  auto rows = link_.Run("SELECT DISTINCT channel FROM alert_outbox WHERE state = 'pending'");
  if (!rows) return Error{"alert outbox (waiting): " + rows.error()};
  std::vector<std::string> channels;
  for (int i = 0; i < rows->size(); ++i) channels.push_back(rows->Text(i, 0));
  return channels;
}

Result<std::optional<OutboxRow>> AlertOutbox::Claim(const std::string& channel,
                                                    const std::string& holder, std::int64_t now,
                                                    std::int64_t ttl) {
  auto rows = link_.Run(
      "SELECT id, alert_key, notice, action, alert_json, created, due, attempts, claimed_by, "
      "claim_until FROM alert_outbox WHERE state = 'pending' AND channel = $1 "
      "ORDER BY id LIMIT 1",
      {channel});
  if (!rows) return Error{"alert outbox (claim): " + rows.error()};
  if (rows->empty()) return std::optional<OutboxRow>();
  // Oldest first, whatever its due: a later message never overtakes an earlier one. A due
  // further ahead than any wait a sender sets means the wall clock went back: due now.
  const std::int64_t due = rows->Int(0, 6);
  if (due > now && due <= now + kMaxOutboxWait) return std::optional<OutboxRow>();
  const bool claimed_by_other = !rows->IsNull(0, 8) && rows->Text(0, 8) != holder &&
                                rows->Int(0, 9) >= now && rows->Int(0, 9) <= now + 2 * ttl;
  if (claimed_by_other) return std::optional<OutboxRow>();
  const std::int64_t id = rows->Int(0, 0);
  // Another receiver may have claimed it since the SELECT: the UPDATE looks again (on
  // PostgreSQL after the other's UPDATE committed), and only one of them changes the row.
  auto claimed = link_.Run(
      "UPDATE alert_outbox SET claimed_by = $2, claim_until = $3 WHERE id = $1 "
      "AND state = 'pending' AND (claimed_by IS NULL OR claimed_by = $2 OR claim_until < $4 "
      "OR claim_until > $5)",
      {id, holder, now + ttl, now, now + 2 * ttl});
  if (!claimed) return Error{"alert outbox (claim): " + claimed.error()};
  if (claimed->affected() != 1) return std::optional<OutboxRow>();
  OutboxRow row;
  row.id = id;
  row.message.key = rows->Int(0, 1);
  row.message.notice = rows->Text(0, 2);
  row.message.channel = channel;
  row.message.action = rows->Text(0, 3) == "edit" ? OutboxAction::kEdit : OutboxAction::kSend;
  row.message.alert_json = rows->Text(0, 4);
  row.created = rows->Int(0, 5);
  row.due = due;
  row.attempts = rows->Int(0, 7);
  return std::optional<OutboxRow>(std::move(row));
}

Outcome AlertOutbox::MarkSent(const OutboxRow& row, const std::string& holder,
                              const std::string& message_id, std::int64_t now) {
  return InTransaction(link_, [&]() -> Outcome {
    auto done = link_.Run(
        "UPDATE alert_outbox SET state = 'sent', done_at = $3, attempts = attempts + 1, "
        "last_error = NULL, claimed_by = NULL, claim_until = NULL "
        "WHERE id = $1 AND claimed_by = $2",
        {row.id, holder, now});
    if (auto ok = Done(done, "sent"); !ok) return ok;
    if (done->affected() != 1) {
      return Error{"alert outbox: message " + std::to_string(row.id) +
                   " was no longer claimed by this receiver when its channel took it"};
    }
    if (row.message.action == OutboxAction::kSend && !message_id.empty()) {
      auto kept = link_.Run(
          "INSERT INTO alert_messages (alert_key, channel, message_id) VALUES ($1, $2, $3) "
          "ON CONFLICT (alert_key, channel) DO NOTHING",
          {row.message.key, row.message.channel, message_id});
      if (auto ok = Done(kept, "first message"); !ok) return ok;
    }
    return Success();
  });
}

Outcome AlertOutbox::Reschedule(std::int64_t id, const std::string& holder, std::int64_t due,
                                const std::string& error) {
  return Done(link_.Run("UPDATE alert_outbox SET due = $3, attempts = attempts + 1, "
                        "last_error = $4, claimed_by = NULL, claim_until = NULL "
                        "WHERE id = $1 AND claimed_by = $2",
                        {id, holder, due, error}),
              "reschedule");
}

Outcome AlertOutbox::HoldChannel(const std::string& channel, std::int64_t due,
                                 const std::string& error) {
  return Done(link_.Run("UPDATE alert_outbox SET due = CASE WHEN due > $2 THEN due ELSE $2 END, "
                        "last_error = $3, claimed_by = NULL, claim_until = NULL "
                        "WHERE channel = $1 AND state = 'pending'",
                        {channel, due, error}),
              "hold");
}

Outcome AlertOutbox::SetAside(std::int64_t id, const std::string& state, const std::string& error,
                              std::int64_t now) {
  return Done(link_.Run("UPDATE alert_outbox SET state = $2, done_at = $3, "
                        "attempts = attempts + 1, last_error = $4, claimed_by = NULL, "
                        "claim_until = NULL WHERE id = $1 AND state = 'pending'",
                        {id, state, now, error}),
              "set aside");
}

Result<std::int64_t> AlertOutbox::DropChannel(const std::string& channel, const std::string& error,
                                              std::int64_t now) {
  auto done = link_.Run(
      "UPDATE alert_outbox SET state = 'dropped', done_at = $2, last_error = $3, "
      "claimed_by = NULL, claim_until = NULL WHERE channel = $1 AND state = 'pending'",
      {channel, now, error});
  if (!done) return Error{"alert outbox (drop): " + done.error()};
  return done->affected();
}

Result<std::optional<std::string>> AlertOutbox::FirstMessage(std::int64_t key,
                                                             const std::string& channel) {
  auto rows =
      link_.Run("SELECT message_id FROM alert_messages WHERE alert_key = $1 AND channel = $2",
                {key, channel});
  if (!rows) return Error{"alert outbox (first message): " + rows.error()};
  if (rows->empty()) return std::optional<std::string>();
  return std::optional<std::string>(rows->Text(0, 0));
}

Result<std::int64_t> AlertOutbox::SentSince(const std::string& channel, std::int64_t since) {
  auto rows = link_.Run(
      "SELECT count(*) FROM alert_outbox WHERE channel = $1 AND state = 'sent' AND done_at >= $2",
      {channel, since});
  if (!rows) return Error{"alert outbox (pace): " + rows.error()};
  return rows->Int(0, 0);
}

Result<std::map<std::string, ChannelCounts>> AlertOutbox::Counts() {
  auto rows = link_.Run(
      "SELECT channel, sum(CASE WHEN state = 'pending' THEN 1 ELSE 0 END), "
      "sum(CASE WHEN state = 'sent' THEN 1 ELSE 0 END), "
      "sum(CASE WHEN state = 'failed' THEN 1 ELSE 0 END), "
      "sum(CASE WHEN state = 'dropped' THEN 1 ELSE 0 END), "
      "min(CASE WHEN state = 'pending' THEN created END) FROM alert_outbox GROUP BY channel");
  if (!rows) return Error{"alert outbox (counts): " + rows.error()};
  std::map<std::string, ChannelCounts> counts;
  for (int i = 0; i < rows->size(); ++i) {
    ChannelCounts& c = counts[rows->Text(i, 0)];
    c.pending = rows->Int(i, 1);
    c.sent = rows->Int(i, 2);
    c.failed = rows->Int(i, 3);
    c.dropped = rows->Int(i, 4);
    c.oldest_pending = rows->IntOr(i, 5);
  }
  return counts;
}

Outcome AlertOutbox::SetChannelState(const ChannelState& s) {
  return Done(
      link_.Run("INSERT INTO alert_channels (channel, state, last_error, last_sent, updated) "
                "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (channel) DO UPDATE SET "
                "state = excluded.state, last_error = COALESCE(excluded.last_error, "
                "alert_channels.last_error), last_sent = COALESCE(excluded.last_sent, "
                "alert_channels.last_sent), updated = excluded.updated",
                {s.channel, s.state, SqlOr(s.last_error), SqlOr(s.last_sent), s.updated}),
      "channel state");
}

Result<std::vector<ChannelState>> AlertOutbox::ChannelStates() {
  auto rows = link_.Run(
      "SELECT channel, state, last_error, last_sent, updated FROM alert_channels ORDER BY channel");
  if (!rows) return Error{"alert outbox (channel states): " + rows.error()};
  std::vector<ChannelState> out;
  for (int i = 0; i < rows->size(); ++i) {
    out.push_back({rows->Text(i, 0), rows->Text(i, 1), rows->TextOr(i, 2), rows->IntOr(i, 3),
                   rows->Int(i, 4)});
  }
  return out;
}

Outcome AlertOutbox::Prune(std::int64_t before) {
  return Done(
      link_.Run("DELETE FROM alert_outbox WHERE state <> 'pending' AND done_at < $1", {before}),
      "prune");
}

}  // namespace fleet::receiver
