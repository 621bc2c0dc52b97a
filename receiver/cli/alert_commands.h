// The alerting commands of fleet-receiver: `operators channels` (an operator's Telegram chat,
// the user ids allowed to acknowledge there, its Discord webhook from a file: stored in the
// registry, the URL never printed back), `ack ALERT` (an acknowledgement from the command
// line, applied by the running alert worker, via "receiver") and `alerts` (open alerts per
// node and operator, the outbox per channel, who works and who polls). Exit codes as the
// rest of the CLI: 0, 1 runtime (and a refused acknowledgement), 2 usage.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace fleet::receiver {

struct OperatorChannelsArgs {
  std::string db;
  std::string id;
  std::optional<std::string> telegram_chat;
  std::optional<std::string> ackers;  // "1,2"
  std::optional<std::string> discord_webhook_file;
  bool clear = false;
};
int RunOperatorChannels(const OperatorChannelsArgs& args);

struct AckArgs {
  std::string db;
  std::int64_t alert = 0;
  std::string by;  // empty: $SUDO_USER, else $USER, else "receiver"
  std::optional<std::string> note;
  int wait_s = 15;  // for the worker's answer
};
int RunAck(const AckArgs& args);

int RunAlertsList(const std::string& db, bool json);

}  // namespace fleet::receiver
