// AlertText: the words of an alert, before a channel formats them: a title line and the
// lines under it, the same on every channel. Node-supplied text (node, check, summary, fix,
// what the agent did, who acknowledged) is cut to kMaxNodeText on a UTF-8 boundary (base/text.h)
// but not escaped: each channel escapes for its own markup. Pure.
#pragma once

#include <string>
#include <vector>

#include "alerting/alert.h"

namespace fleet::alerting {

inline constexpr std::size_t kMaxNodeText = 1000;  // bytes of any one text from the node
inline constexpr std::size_t kMaxNameText = 100;   // bytes of a node, check or person name

struct AlertText {
  std::string status;  // "CRITICAL", "WARNING", "ACKNOWLEDGED", "FLAPPING", "RESOLVED"
  std::string title;   // "CRITICAL: tmux on vps-fra-03", "Reminder: ...", "[test] ..."
  std::string summary;
  std::vector<std::string> lines;  // fix, done, opened, resolved after, acknowledged by
};

AlertText TextOf(const Alert& alert);

}  // namespace fleet::alerting
