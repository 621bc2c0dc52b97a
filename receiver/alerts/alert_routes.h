// AlertRoutes: where the receiver's alerts go, and the messages each notice makes (the
// receiver's counterpart of the node's Alerter::MessagesOf, agent/alerts/alerter.h). Channels
// are named "<operator>.telegram", "<operator>.discord" (an operator's, from the registry:
// operator_channels.h) and "foundation.telegram", "foundation.discord",
// "foundation.webhook" (the receiver's own, from its --alerts file). Who gets what:
// - an opening, a reminder or a flapping notice: a new message on each of the node's
//   operator's channels (an operator without any: the foundation's instead), and, for a
//   silent node (the receiver's own alert: the agent cannot tell of its death), on the
//   foundation's too;
// - an escalation: the foundation's channels;
// - an acknowledgement edits the first message each channel told so far took (a webhook,
//   which cannot edit, gets the alert again); a recovery is a new message on each of them
//   and an edit of the first (so no Acknowledge button is left on a resolved alert).
// The message carries the alert as Render shows it, keyed by the receiver's alert number.
// Pure.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "receiver/alerts/alert_outbox.h"
#include "receiver/alerts/node_alerts.h"

namespace fleet::receiver {

struct AlertRoutes {
  std::vector<std::string> foundation;                        // channel names
  std::map<std::string, std::vector<std::string>> operators;  // operator -> channel names

  // The operator's channels; the foundation's when it has none.
  std::vector<std::string> OperatorChannels(const std::string& operator_id) const;
};

// "op-7.telegram" -> ("op-7", "telegram"); the kind is after the last '.'.
std::pair<std::string, std::string> SplitChannel(const std::string& channel);
std::string ChannelName(std::string_view owner, std::string_view kind);

// The messages of one notice of a node's alert numbered `key`; `told` (the channels the
// alert went to so far) grows by the channels told now.
std::vector<OutboxMessage> MessagesOf(const NoticeEvent& event, const std::string& node,
                                      std::int64_t key, const std::string& operator_id,
                                      const AlertRoutes& routes, std::vector<std::string>& told,
                                      std::int64_t now);

}  // namespace fleet::receiver
