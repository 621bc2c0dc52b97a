// NodeStates: each registered node's state now, from its heartbeats, for the receiver's
// metrics: LIVE when its latest heartbeat minute ended at most kLateAfterSeconds ago (one is due
// every minute), LATE when older but within `silent_after` (the alert worker's threshold for
// "silent", default 180 s), SILENT when older, NEVER SEEN when it has no heartbeat within
// kSeenWithinSeconds (35 days: further back is not read, so a node silent that long counts as
// never seen). Heartbeats are those the reports count (ReportSource: chained and acknowledged
// records); revoked nodes are left out. Also the receiver's open alerts (sent, not resolved).
// ClassifyNode is pure; ReadFleetStates reads the source: a query per node over its last hour,
// another over 35 days only for a node with none in that hour.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "base/result.h"
#include "receiver/report/report_source.h"

namespace fleet::receiver {

enum class NodeState { kLive = 0, kLate = 1, kSilent = 2, kNeverSeen = 3 };
inline constexpr std::array<std::string_view, 4> kNodeStateNames = {"live", "late", "silent",
                                                                    "never_seen"};
inline constexpr std::int64_t kLateAfterSeconds = 120;
inline constexpr std::int64_t kSeenWithinSeconds = 35 * 86400;

// last_minute: the start (unix seconds) of the node's latest heartbeat minute, if any.
NodeState ClassifyNode(std::optional<std::int64_t> last_minute, std::int64_t now,
                       std::int64_t silent_after);

struct FleetStates {
  std::array<std::int64_t, 4> nodes{};  // by NodeState
  std::int64_t open_alerts = 0;
};

Result<FleetStates> ReadFleetStates(ReportSource& source, std::int64_t now,
                                    std::int64_t silent_after);

}  // namespace fleet::receiver
