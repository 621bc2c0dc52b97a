#include "alerting/runbook.h"

namespace fleet::alerting {

std::string RunbookFix(std::string_view check) {
  if (check == "gateway") {
    return "restart the gateway: systemctl restart hermes-gateway (systemctl --user for a user "
           "unit); then journalctl -u hermes-gateway and ~/.hermes/logs/gateway.log";
  }
  if (check == "tmux") {
    return "recreate the session: tmux new -d -s <NAME> 'hermes chat --yolo'; a stuck pane: "
           "tmux send-keys -t BURN:0 C-c, then hermes chat --yolo Enter";
  }
  if (check == "disk") {
    return "free space: old cron outputs in ~/.hermes/cron/output/<job>/ and rotated logs in "
           "~/.hermes/logs";
  }
  if (check == "cron") {
    return "read ~/.hermes/cron/output/<job>/ and ~/.hermes/logs/errors.log; cron runs inside "
           "the gateway, so a dead gateway runs no job";
  }
  if (check == "dispatch") {
    return "inspect the dispatch queue /tmp/hermes/dispatch-queue.json and "
           "~/.hermes/fleet-dispatch-state.json; moved aside, the watchdog recreates the queue";
  }
  if (check == "silent") {
    return "the node sent nothing: is it up? ssh in, then systemctl status fleet-agent and "
           "journalctl -u fleet-agent";
  }
  return {};
}

}  // namespace fleet::alerting
