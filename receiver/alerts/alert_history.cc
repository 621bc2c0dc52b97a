#include "receiver/alerts/alert_history.h"

#include <nlohmann/json.hpp>

#include "base/json_text.h"

namespace fleet::receiver {
namespace {

using json = nlohmann::json;

constexpr const char* kColumns =
    "SELECT id, node, operator, book_alert, checks, incidents, silent, opened, sent, channels, "
    "acked_at, acked_by, acked_via, ack_note, ack_source, resolved FROM alert_history ";

template <typename T>
std::vector<T> ListOf(const std::string& text) {
  json parsed = json::parse(text, nullptr, false);
  std::vector<T> out;
  if (!parsed.is_array()) return out;
  for (const auto& item : parsed) {
    if constexpr (std::is_same_v<T, std::string>) {
      if (item.is_string()) out.push_back(item.get<std::string>());
    } else {
      if (item.is_number_integer()) out.push_back(item.get<T>());
    }
  }
  return out;
}

HistoryEntry EntryOf(const SqlRows& rows, int i) {
  HistoryEntry e;
  e.key = rows.Int(i, 0);
  e.node = rows.Text(i, 1);
  e.operator_id = rows.Text(i, 2);
  e.book_alert = rows.Int(i, 3);
  e.checks = ListOf<std::string>(rows.Text(i, 4));
  e.incidents = ListOf<std::int64_t>(rows.Text(i, 5));
  e.silent = rows.Int(i, 6) != 0;
  e.opened = rows.Int(i, 7);
  e.sent = rows.Int(i, 8);
  e.channels = ListOf<std::string>(rows.Text(i, 9));
  if (!rows.IsNull(i, 10)) {
    e.ack = HistoryAck{rows.Int(i, 10), rows.Text(i, 11), rows.Text(i, 12), rows.TextOr(i, 13),
                       rows.Text(i, 14)};
  }
  e.resolved = rows.IntOr(i, 15);
  return e;
}

}  // namespace

Result<std::int64_t> AlertHistory::Add(const HistoryEntry& e) {
  auto rows = link_.Run(
      "INSERT INTO alert_history (node, operator, book_alert, checks, incidents, silent, opened, "
      "sent, channels) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
      {e.node, e.operator_id, e.book_alert, DumpJson(json(e.checks)), DumpJson(json(e.incidents)),
       std::int64_t{e.silent}, e.opened, e.sent, DumpJson(json(e.channels))});
  if (!rows) return Error{"alert history: " + rows.error()};
  if (rows->empty()) return Error{"alert history: no number for the new alert"};
  return rows->Int(0, 0);
}

Outcome AlertHistory::SetChannels(std::int64_t key, const std::vector<std::string>& channels) {
  auto done = link_.Run("UPDATE alert_history SET channels = $2 WHERE id = $1",
                        {key, DumpJson(json(channels))});
  if (!done) return Error{"alert history: " + done.error()};
  return Success();
}

Outcome AlertHistory::SetAck(std::int64_t key, const HistoryAck& ack) {
  auto done = link_.Run(
      "UPDATE alert_history SET acked_at = $2, acked_by = $3, acked_via = $4, ack_note = $5, "
      "ack_source = $6 WHERE id = $1 AND acked_at IS NULL",
      {key, ack.at, ack.by, ack.via, SqlOr(ack.note), ack.source});
  if (!done) return Error{"alert history: " + done.error()};
  return Success();
}

Outcome AlertHistory::SetResolved(std::int64_t key, std::int64_t at) {
  auto done = link_.Run("UPDATE alert_history SET resolved = $2 WHERE id = $1 AND resolved IS NULL",
                        {key, at});
  if (!done) return Error{"alert history: " + done.error()};
  return Success();
}

Result<std::optional<HistoryEntry>> AlertHistory::Find(std::int64_t key) {
  auto rows = link_.Run(std::string(kColumns) + "WHERE id = $1", {key});
  if (!rows) return Error{"alert history: " + rows.error()};
  if (rows->empty()) return std::optional<HistoryEntry>();
  return std::optional<HistoryEntry>(EntryOf(*rows, 0));
}

Result<std::vector<HistoryEntry>> AlertHistory::Unresolved() {
  auto rows = link_.Run(std::string(kColumns) + "WHERE resolved IS NULL ORDER BY node, id");
  if (!rows) return Error{"alert history: " + rows.error()};
  std::vector<HistoryEntry> out;
  for (int i = 0; i < rows->size(); ++i) out.push_back(EntryOf(*rows, i));
  return out;
}

}  // namespace fleet::receiver
