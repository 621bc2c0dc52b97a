#include "agent/daemon/status_document.h"

namespace fleet {

using nlohmann::json;

json StatusDocument(const StatusFacts& facts) {
  json checks = json::array();
  for (const CheckView& check : facts.checks) {
    checks.push_back(
        {{"name", check.name},
         {"status", StatusName(check.status)},
         {"summary", check.summary},
         {"checked_at", check.checked_at ? json(FormatUtc(*check.checked_at)) : json()},
         {"duration_ms", static_cast<double>(check.duration.count()) / 1000.0},
         {"enabled", check.enabled}});
  }
  json evaluation = nullptr;
  if (facts.evaluation) {
    const Evaluation& e = *facts.evaluation;
    evaluation = {{"minute", FormatUtc(e.minute * 60)},
                  {"at", FormatUtc(e.at)},
                  {"up", e.up},
                  {"heartbeat", e.written ? "written" : "queued"}};
  }
  return {{"pid", facts.pid},
          {"node", facts.node},
          {"agent", facts.agent_version},
          {"started", facts.started},
          {"updated", FormatUtc(facts.now)},
          {"config_file", facts.config_file},
          {"ready", facts.ready},
          {"stopping", facts.stopping},
          {"up", facts.up},
          {"reloads", facts.reloads},
          {"last_evaluation", std::move(evaluation)},
          {"queued_heartbeats", facts.queued_heartbeats},
          {"queued_entries", facts.queued_entries},
          {"history_write_failures", facts.history_write_failures},
          {"checks", std::move(checks)},
          {"spool", facts.spool},
          {"push", facts.push},
          {"alerts", facts.alerts.is_null() ? nlohmann::json{{"channels", nlohmann::json::array()}}
                                            : facts.alerts},
          {"remedies", facts.remedies}};
}

std::string StatusLine(const StatusFacts& facts) {
  std::string line = facts.ready ? (facts.up ? "up" : "DOWN") : "starting";
  for (const CheckView& check : facts.checks) {
    line += " " + check.name + "=" + std::string(StatusName(check.status));
  }
  return line;
}

}  // namespace fleet
