// Alert: what one notification says about one incident, whichever channel carries it
// (design: issue 13). The agent and the receiver make Alerts from incidents; a channel
// (telegram_api.h, discord_api.h) renders one into its own message and reads its API's
// answer. Every text in it may come from the node (a tmux session name, a cron error) and
// is treated as hostile by every renderer: escaped, cut to the channel's limits, never a
// mention. Plain data.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace fleet::alerting {

enum class Severity { kWarning, kCritical };

// Where the incident is in its life, as the message shows it.
enum class AlertState {
  kFiring,        // opened (after `confirm`), or a reminder while open and unacknowledged
  kAcknowledged,  // someone took it; reminders stop
  kFlapping,      // changing too often: one notice, then quiet until stable
  kResolved,      // the check is fine again
};

struct Alert {
  std::string key;  // the incident's id in the alert store: what an acknowledgement names
  std::string node;
  std::string check;
  Severity severity = Severity::kCritical;
  AlertState state = AlertState::kFiring;
  std::string summary;                   // what is wrong, as the check said it
  std::string fix;                       // the runbook's fix for it; may be empty
  std::int64_t opened = 0;               // unix seconds
  std::optional<std::int64_t> resolved;  // unix seconds, when resolved
  std::optional<std::string> acked_by;   // who acknowledged (a name or a user id)
  std::optional<std::int64_t> acked_at;  // unix seconds
  bool reminder = false;                 // a repeat of an open, unacknowledged alert
  bool test = false;                     // `fleet-agent alerts test`: says so
};

}  // namespace fleet::alerting
