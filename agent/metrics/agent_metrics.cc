#include "agent/metrics/agent_metrics.h"

#include <optional>
#include <string>

#include "base/utc_time.h"
#include "core/status.h"

namespace fleet {
namespace {

using nlohmann::json;

double Number(const json& document, const char* key) {
  auto it = document.find(key);
  return it != document.end() && it->is_number() ? it->get<double>() : 0.0;
}

std::optional<double> Time(const json& value) {
  if (!value.is_string()) return std::nullopt;
  auto seconds = ParseUtcSeconds(value.get<std::string>());
  if (!seconds) return std::nullopt;
  return static_cast<double>(*seconds);
}

MetricFamily Gauge(std::string name, std::string help, double value) {
  return {std::move(name), std::move(help), MetricType::kGauge, {{{}, value}}, {}};
}

}  // namespace

std::vector<MetricFamily> AgentFamilies(const json& status) {
  std::vector<MetricFamily> out;
  const json empty = json::object();
  auto part = [&](const char* key) -> const json& {
    auto it = status.find(key);
    return it != status.end() && it->is_object() ? *it : empty;
  };
  out.push_back({"fleet_agent_info",
                 "The node and the agent's version.",
                 MetricType::kGauge,
                 {{{{"node", status.value("node", std::string())},
                    {"version", status.value("agent", std::string())}},
                   1}},
                 {}});
  out.push_back(Gauge("fleet_agent_up", "1 when the uptime rule holds now (status.json up).",
                      status.value("up", false) ? 1 : 0));
  out.push_back(Gauge("fleet_agent_ready", "1 once every check has answered once.",
                      status.value("ready", false) ? 1 : 0));

  MetricFamily checks{"fleet_agent_check_status",
                      "Each check's last status: 0 ok, 1 warning, 2 critical, 3 unknown.",
                      MetricType::kGauge,
                      {},
                      {}};
  MetricFamily last_run{"fleet_agent_check_last_run_timestamp_seconds",
                        "When each check last answered (unix seconds).",
                        MetricType::kGauge,
                        {},
                        {}};
  MetricFamily duration{"fleet_agent_check_duration_seconds",
                        "Each check's last run time.",
                        MetricType::kGauge,
                        {},
                        {}};
  if (auto list = status.find("checks"); list != status.end() && list->is_array()) {
    for (const json& check : *list) {
      if (!check.is_object()) continue;
      const std::string name = check.value("name", std::string());
      const auto parsed = ParseStatus(check.value("status", std::string("unknown")));
      const MetricLabels labels = {{"check", name}};
      checks.samples.push_back(
          {labels, static_cast<double>(static_cast<int>(parsed.value_or(Status::kUnknown)))});
      if (auto at = Time(check.value("checked_at", json()))) {
        last_run.samples.push_back({labels, *at});
      }
      duration.samples.push_back({labels, Number(check, "duration_ms") / 1000.0});
    }
  }
  out.push_back(std::move(checks));
  out.push_back(std::move(last_run));
  out.push_back(std::move(duration));

  MetricFamily evaluation{"fleet_agent_last_evaluation_timestamp_seconds",
                          "The start of the last minute the uptime rule was applied to.",
                          MetricType::kGauge,
                          {},
                          {}};
  if (auto e = status.find("last_evaluation"); e != status.end() && e->is_object()) {
    if (auto minute = Time(e->value("minute", json()))) evaluation.samples.push_back({{}, *minute});
  }
  out.push_back(std::move(evaluation));

  const json& spool = part("spool");
  out.push_back(Gauge("fleet_agent_spool_records",
                      "Records in the spool awaiting the receiver's acknowledgement.",
                      Number(spool, "records")));
  out.push_back(Gauge("fleet_agent_spool_bytes", "The spool's size.", Number(spool, "bytes")));
  out.push_back(
      Gauge("fleet_agent_spool_max_bytes", "spool.max_size.", Number(spool, "max_bytes")));

  const json& push = part("push");
  std::string state = push.value("state", std::string("off"));
  for (char& c : state) {
    if (c == ' ') c = '_';
  }
  bool known = false;
  for (std::string_view s : kPushStates) known = known || s == state;
  if (!known) state = "other";
  MetricFamily push_state{"fleet_agent_push_state",
                          "1 for the pusher's state now (off: no upstream), 0 for the others.",
                          MetricType::kGauge,
                          {},
                          {}};
  for (std::string_view s : kPushStates) {
    push_state.samples.push_back({{{"state", std::string(s)}}, s == state ? 1.0 : 0.0});
  }
  out.push_back(std::move(push_state));
  out.push_back(Gauge("fleet_agent_push_failures_in_a_row",
                      "Push attempts failed since the last that worked.",
                      Number(push, "failures_in_a_row")));
  out.push_back({"fleet_agent_push_records_acknowledged_total",
                 "Records the receiver acknowledged since the pusher started.",
                 MetricType::kCounter,
                 {{{}, Number(push, "records_acknowledged")}},
                 {}});
  MetricFamily updated{"fleet_agent_status_timestamp_seconds",
                       "When the daemon last gathered these figures (status.json updated).",
                       MetricType::kGauge,
                       {},
                       {}};
  if (auto at = Time(status.value("updated", json()))) updated.samples.push_back({{}, *at});
  out.push_back(std::move(updated));
  return out;
}

}  // namespace fleet
