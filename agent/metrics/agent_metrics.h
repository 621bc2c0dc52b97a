// AgentMetrics: the agent's Prometheus series (text format 0.0.4, base/prometheus_text.h)
// spelled from the daemon's status document (status_document.h, what status.json and
// `fleet-agent status --json` show), so the two never disagree. Pure. Series:
//   fleet_agent_info{node,version} 1
//   fleet_agent_up, fleet_agent_ready                           0/1
//   fleet_agent_check_status{check}                             0 ok, 1 warning, 2 critical, 3
//   unknown fleet_agent_check_last_run_timestamp_seconds{check}         unix seconds (no result
//   yet: absent) fleet_agent_check_duration_seconds{check}                   the last run's wall
//   time fleet_agent_last_evaluation_timestamp_seconds               the last minute evaluated
//   (start) fleet_agent_spool_records, fleet_agent_spool_bytes, fleet_agent_spool_max_bytes
//   fleet_agent_push_state{state}                               1 for the pusher's state, else 0
//   fleet_agent_push_failures_in_a_row
//   fleet_agent_push_records_acknowledged_total                 since the pusher started
//   fleet_agent_status_timestamp_seconds                        when the document was made
// A push state outside kPushStates counts as "other" (the label set stays closed).
#pragma once

#include <array>
#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

#include "base/prometheus_text.h"

namespace fleet {

inline constexpr std::array<std::string_view, 9> kPushStates = {
    "off",     "starting",          "idle", "sending", "retrying", "refused",
    "stopped", "spool_unavailable", "other"};

std::vector<MetricFamily> AgentFamilies(const nlohmann::json& status_document);

}  // namespace fleet
