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
#include <vector>

namespace fleet::alerting {

enum class Severity { kWarning, kCritical };

// Where the incident is in its life, as the message shows it.
enum class AlertState {
  kFiring,        // opened (after `confirm`), or a reminder while open and unacknowledged
  kAcknowledged,  // someone took it; reminders stop
  kFlapping,      // changing too often: one notice, then quiet until stable
  kResolved,      // the check is fine again
};

// One check in an alert. Several checks failing together on one node make one alert.
struct AlertCheck {
  std::string name;  // "gateway"
  Severity severity = Severity::kCritical;
  std::string summary;  // what is wrong, as the check said it
  std::string fix;      // the runbook's fix for it; may be empty
  // What the node's agent did about it by itself (its remedies: "restarted ...
  // automatically; healthy after 6 s"); may be empty.
  std::string done{};
  bool operator==(const AlertCheck&) const = default;
};

struct Alert {
  std::string key;  // the alert's id in the alert store: what an acknowledgement names
  std::string node;
  std::vector<AlertCheck> checks;           // at least one; the first is the one that opened it
  Severity severity = Severity::kCritical;  // the highest of its checks
  AlertState state = AlertState::kFiring;
  std::int64_t opened = 0;               // unix seconds
  std::optional<std::int64_t> resolved;  // unix seconds, when resolved
  std::optional<std::string> acked_by;   // who acknowledged (a name or a user id)
  std::optional<std::int64_t> acked_at;  // unix seconds
  std::optional<std::string> ack_note;   // what the acknowledger wrote, if anything
  bool reminder = false;                 // a repeat of an open, unacknowledged alert
  bool update = false;      // sent again because what the agent did about it changed (done)
  bool escalation = false;  // sent to the escalation channels: says so
  bool test = false;        // `fleet-agent alerts test`: says so
  // Not an alert but a report (the weekly summary): this is the title, each check a line
  // ("uptime: 99.8%, on track"), no status word, no opening time, no button.
  std::string headline;
};

}  // namespace fleet::alerting
