#include "agent/remedies/gateway_remedy.h"

#include <nlohmann/json.hpp>

namespace fleet {
namespace {

using json = nlohmann::json;

std::string Text(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

GatewayRemedy::GatewayRemedy(HermesTarget hermes, std::shared_ptr<UnitRestarter> restarter,
                             std::chrono::seconds timeout)
    : hermes_(std::move(hermes)), restarter_(std::move(restarter)), timeout_(timeout) {}

RemedyPlan GatewayRemedy::Plan(const CheckResult& result) const {
  RemedyPlan plan;
  const bool fine = result.status == Status::kOk || result.status == Status::kWarning;
  const std::string source = Text(result.details, "source");
  if (source != "unit") {
    // No unit: nothing the agent can restart. The target is the gateway itself.
    if (fine) {
      plan.fine.push_back("gateway");
    } else {
      plan.bad.push_back("gateway");
      plan.note = source == "files"
                      ? "no automatic restart: the gateway runs without a systemd unit "
                        "(pid/state files only)"
                      : "no automatic restart: no systemd unit of the gateway was found";
    }
    return plan;
  }
  const json unit = result.details.value("unit", json::object());
  const std::string name = Text(unit, "name");
  if (name.empty()) return plan;
  if (fine) {
    plan.fine.push_back(name);
    return plan;
  }
  const std::string active = Text(unit, "active_state");
  const std::string load = Text(unit, "load_state");
  if (load == "masked" || (active != "failed" && active != "inactive")) {
    plan.bad.push_back(name);
    plan.note = load == "masked" ? "no automatic restart: " + name + " is masked"
                                 : "no automatic restart: systemd itself is handling " + name +
                                       " (" + active + " (" + Text(unit, "sub_state") + "))";
    return plan;
  }
  ManagerRef manager;
  if (Text(unit, "manager") == "user") {
    manager.user_manager = true;
    manager.user = hermes_.user;
  }
  RemedyTask task;
  task.target = name;
  task.action = protocol::RemedyAction::kRestartUnit;
  task.what = "restart " + name + " in " + manager.Describe();
  task.did = "restarted " + name + " in " + manager.Describe();
  task.timeout = timeout_;
  task.run = [restarter = restarter_, manager, name](std::chrono::steady_clock::time_point until) {
    RestartReply reply = restarter->Restart(manager, name, until);
    return RemedyDone{reply.ok, reply.text};
  };
  plan.tasks.push_back(std::move(task));
  return plan;
}

}  // namespace fleet
