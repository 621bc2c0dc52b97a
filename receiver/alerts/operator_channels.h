// OperatorChannels: where an operator's alerts go, kept in the registry (the receiver's
// database): a Telegram chat (a number or "@channel") with the user ids allowed to
// acknowledge there, and a Discord webhook URL. The URL is a secret (whoever has it can post
// to the channel): it comes from a file (`fleet-receiver operators channels
// --discord-webhook-file`), is checked with alerting/secret_rules.h, is stored here, and is
// never printed back (listings say "set"). Version() changes whenever a row changes, so a
// sender keeps its channels made until then. Uses the caller's link.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "receiver/store/sql_link.h"

namespace fleet::receiver {

// The owner name of the receiver's own channels ("foundation.telegram"): no operator's.
inline constexpr std::string_view kFoundation = "foundation";

struct OperatorChannelsRow {
  std::string operator_id;
  std::optional<std::string> telegram_chat;
  std::vector<std::int64_t> ackers;
  std::optional<std::string> discord_webhook;
  std::int64_t updated = 0;
};

class OperatorChannels {
 public:
  explicit OperatorChannels(SqlLink& link) : link_(link) {}

  Result<std::vector<OperatorChannelsRow>> All();
  Result<std::optional<OperatorChannelsRow>> Find(const std::string& operator_id);
  // Replaces the operator's row (every field as given); an operator with nothing set has no row.
  Outcome Set(const OperatorChannelsRow& row);
  // "rows:latest update": changes when a row is set, replaced or removed.
  Result<std::string> Version();
  // Known as an operator: in the operators table, or named by a registered node.
  Result<bool> OperatorKnown(const std::string& operator_id);

 private:
  SqlLink& link_;
};

}  // namespace fleet::receiver
