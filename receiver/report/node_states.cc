#include "receiver/report/node_states.h"

#include <algorithm>
#include <limits>

namespace fleet::receiver {

NodeState ClassifyNode(std::optional<std::int64_t> last_minute, std::int64_t now,
                       std::int64_t silent_after) {
  if (!last_minute || *last_minute + 60 < now - kSeenWithinSeconds) return NodeState::kNeverSeen;
  const std::int64_t age = now - (*last_minute + 60);
  if (age <= std::min(kLateAfterSeconds, silent_after)) return NodeState::kLive;
  if (age <= silent_after) return NodeState::kLate;
  return NodeState::kSilent;
}

Result<FleetStates> ReadFleetStates(ReportSource& source, std::int64_t now,
                                    std::int64_t silent_after) {
  auto registry = source.LoadRegistry();
  if (!registry) return Error{registry.error()};
  FleetStates out;
  for (const NodeRegistration& node : registry->nodes) {
    if (node.revoked_at) continue;
    std::optional<std::int64_t> last;
    const auto see = [&last](const HeartbeatRow& row) {
      if (!last || row.minute > *last) last = row.minute;
    };
    // A minute a little ahead of the clock is still taken (record_verify.h allows 300 s).
    if (auto read = source.ForEachHeartbeat(node.node, now - 3600, now + 600, see); !read) {
      return Error{read.error()};
    }
    if (!last) {
      if (auto read = source.ForEachHeartbeat(node.node, now - kSeenWithinSeconds, now - 3600, see);
          !read) {
        return Error{read.error()};
      }
    }
    ++out.nodes[static_cast<std::size_t>(ClassifyNode(last, now, silent_after))];
    auto alerts =
        source.ForEachReceiverAlert(node.node, 0, std::numeric_limits<std::int64_t>::max(),
                                    [&out](const ReceiverAlertRow& alert) {
                                      if (!alert.resolved) ++out.open_alerts;
                                    });
    if (!alerts) return Error{alerts.error()};
  }
  return out;
}

}  // namespace fleet::receiver
