#include "receiver/alerts/operator_channels.h"

#include <nlohmann/json.hpp>

#include "base/json_text.h"

namespace fleet::receiver {
namespace {

using json = nlohmann::json;

OperatorChannelsRow RowOf(const SqlRows& rows, int i) {
  OperatorChannelsRow row;
  row.operator_id = rows.Text(i, 0);
  row.telegram_chat = rows.TextOr(i, 1);
  const json ackers = json::parse(rows.Text(i, 2), nullptr, false);
  if (ackers.is_array()) {
    for (const auto& a : ackers) {
      if (a.is_number_integer()) row.ackers.push_back(a.get<std::int64_t>());
    }
  }
  row.discord_webhook = rows.TextOr(i, 3);
  row.updated = rows.Int(i, 4);
  return row;
}

constexpr const char* kSelect =
    "SELECT operator, telegram_chat, ackers, discord_webhook, updated FROM operator_channels ";

}  // namespace

Result<std::vector<OperatorChannelsRow>> OperatorChannels::All() {
  auto rows = link_.Run(std::string(kSelect) + "ORDER BY operator");
  if (!rows) return Error{"operator channels: " + rows.error()};
  std::vector<OperatorChannelsRow> out;
  for (int i = 0; i < rows->size(); ++i) out.push_back(RowOf(*rows, i));
  return out;
}

Result<std::optional<OperatorChannelsRow>> OperatorChannels::Find(const std::string& operator_id) {
  auto rows = link_.Run(std::string(kSelect) + "WHERE operator = $1", {operator_id});
  if (!rows) return Error{"operator channels: " + rows.error()};
  if (rows->empty()) return std::optional<OperatorChannelsRow>();
  return std::optional<OperatorChannelsRow>(RowOf(*rows, 0));
}

Outcome OperatorChannels::Set(const OperatorChannelsRow& row) {
  Result<SqlRows> done = Error{""};
  if (!row.telegram_chat && !row.discord_webhook) {
    done = link_.Run("DELETE FROM operator_channels WHERE operator = $1", {row.operator_id});
  } else {
    done = link_.Run(
        "INSERT INTO operator_channels (operator, telegram_chat, ackers, discord_webhook, "
        "updated) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (operator) DO UPDATE SET "
        "telegram_chat = excluded.telegram_chat, ackers = excluded.ackers, "
        "discord_webhook = excluded.discord_webhook, updated = excluded.updated",
        {row.operator_id, SqlOr(row.telegram_chat), DumpJson(json(row.ackers)),
         SqlOr(row.discord_webhook), row.updated});
  }
  if (!done) return Error{"operator channels: " + done.error()};
  return Success();
}

Result<std::string> OperatorChannels::Version() {
  auto rows = link_.Run("SELECT count(*), COALESCE(max(updated), 0) FROM operator_channels");
  if (!rows) return Error{"operator channels: " + rows.error()};
  return rows->Text(0, 0) + ":" + rows->Text(0, 1);
}

Result<bool> OperatorChannels::OperatorKnown(const std::string& operator_id) {
  auto nodes = link_.Run("SELECT count(*) FROM nodes WHERE operator = $1", {operator_id});
  if (!nodes) return Error{"operator channels: " + nodes.error()};
  if (nodes->Int(0, 0) > 0) return true;
  // The operators table comes with the reports' registry (absent on a SQLite database whose
  // operators were never added: then only the nodes say who is an operator).
  auto ops = link_.Run("SELECT count(*) FROM operators WHERE id = $1", {operator_id});
  return ops && ops->Int(0, 0) > 0;
}

}  // namespace fleet::receiver
