// The alerting tables (receiver/alerts/), the same on both stores but for the type of an
// id column numbered by the database: SQLite makes them when missing (SqlLink's opening);
// PostgreSQL gets them by schema migration 6 (postgres_schema.h). What each holds:
// - alert_leases: who does what only one receiver may do (the alert worker, the Telegram
//   poller), until when (unix seconds);
// - alert_cursors: per (node, epoch), the last seq the worker has read (up to the epoch's
//   acknowledged watermark);
// - alert_nodes: per node, the worker's state as JSON (the alert rules' book, the node's
//   open incidents, the alert number of each of its alerts), and
//   since/seen: when the worker first and last looked after it (the statement's window);
// - alert_beats: per node, its last live heartbeat as the worker saw it (apart from
//   alert_nodes: it changes every minute for every node, written in one statement a step);
// - alert_history: every alert the receiver sent, numbered receiver-wide (the number is the
//   alert's key: what an acknowledgement names), what the statement reads;
// - alert_outbox: one row per message and channel, the alert rendered; claimed by a sender
//   (claimed_by, claim_until) before it is sent; alert_messages: the first message each
//   channel took for an alert (what an acknowledgement or a recovery edits);
// - alert_requests: acknowledgements asked for by a command or a button press, answered by
//   the worker; alert_values: small values (the Telegram poll offset, the poller's state);
// - alert_channels: each channel's last state, for `fleet-receiver alerts`;
// - operator_channels: an operator's Telegram chat and ackers, Discord webhook (the URL is a
//   secret: stored here, never printed back).
// Times are unix seconds; flags are 0 or 1.
#pragma once

#include <cstdint>
#include <string_view>

namespace fleet::receiver {

// The worker writes each node's alert_nodes row at least this often, so `seen` plus this
// (and a minute) is as far as the statement may take the worker's watch over the node.
inline constexpr std::int64_t kAlertNodeSeenEvery = 600;

#define FLEET_ALERT_TABLES(ID)                                                                  \
  "CREATE TABLE IF NOT EXISTS alert_leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, "      \
  "expires BIGINT NOT NULL);\n"                                                                 \
  "CREATE TABLE IF NOT EXISTS alert_cursors (node TEXT NOT NULL, epoch BIGINT NOT NULL, "       \
  "seq BIGINT NOT NULL, PRIMARY KEY (node, epoch));\n"                                          \
  "CREATE TABLE IF NOT EXISTS alert_nodes (node TEXT PRIMARY KEY, state TEXT NOT NULL, "        \
  "since BIGINT NOT NULL, seen BIGINT NOT NULL);\n"                                             \
  "CREATE TABLE IF NOT EXISTS alert_beats (node TEXT PRIMARY KEY, received BIGINT NOT NULL, "   \
  "minute BIGINT NOT NULL);\n"                                                                  \
  "CREATE TABLE IF NOT EXISTS alert_history (id " ID                                            \
  ", node TEXT NOT NULL, "                                                                      \
  "operator TEXT NOT NULL, book_alert BIGINT NOT NULL, checks TEXT NOT NULL, "                  \
  "incidents TEXT NOT NULL, silent BIGINT NOT NULL, opened BIGINT NOT NULL, "                   \
  "sent BIGINT NOT NULL, channels TEXT NOT NULL, acked_at BIGINT, acked_by TEXT, "              \
  "acked_via TEXT, ack_note TEXT, ack_source TEXT, resolved BIGINT);\n"                         \
  "CREATE INDEX IF NOT EXISTS alert_history_by_sent ON alert_history (node, sent);\n"           \
  "CREATE INDEX IF NOT EXISTS alert_history_open ON alert_history (resolved, node);\n"          \
  "CREATE TABLE IF NOT EXISTS alert_outbox (id " ID                                             \
  ", alert_key BIGINT NOT NULL, "                                                               \
  "notice TEXT NOT NULL, channel TEXT NOT NULL, action TEXT NOT NULL, "                         \
  "alert_json TEXT NOT NULL, created BIGINT NOT NULL, due BIGINT NOT NULL, "                    \
  "attempts BIGINT NOT NULL DEFAULT 0, state TEXT NOT NULL DEFAULT 'pending', "                 \
  "last_error TEXT, done_at BIGINT, claimed_by TEXT, claim_until BIGINT);\n"                    \
  "CREATE INDEX IF NOT EXISTS alert_outbox_waiting ON alert_outbox (state, channel, id);\n"     \
  "CREATE TABLE IF NOT EXISTS alert_messages (alert_key BIGINT NOT NULL, "                      \
  "channel TEXT NOT NULL, message_id TEXT NOT NULL, PRIMARY KEY (alert_key, channel));\n"       \
  "CREATE TABLE IF NOT EXISTS alert_requests (id " ID                                           \
  ", kind TEXT NOT NULL, "                                                                      \
  "payload TEXT NOT NULL, created BIGINT NOT NULL, answered BIGINT, ok BIGINT, answer TEXT);\n" \
  "CREATE TABLE IF NOT EXISTS alert_values (key TEXT PRIMARY KEY, value TEXT NOT NULL);\n"      \
  "CREATE TABLE IF NOT EXISTS alert_channels (channel TEXT PRIMARY KEY, state TEXT NOT NULL, "  \
  "last_error TEXT, last_sent BIGINT, updated BIGINT NOT NULL);\n"                              \
  "CREATE TABLE IF NOT EXISTS operator_channels (operator TEXT PRIMARY KEY, "                   \
  "telegram_chat TEXT, ackers TEXT, discord_webhook TEXT, updated BIGINT NOT NULL);\n"

inline constexpr std::string_view kSqliteAlertTables = FLEET_ALERT_TABLES("INTEGER PRIMARY KEY");
inline constexpr std::string_view kPostgresAlertTables =
    FLEET_ALERT_TABLES("BIGSERIAL PRIMARY KEY");

#undef FLEET_ALERT_TABLES

}  // namespace fleet::receiver
