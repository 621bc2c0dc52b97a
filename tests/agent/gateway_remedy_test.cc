// GatewayRemedy (agent/remedies/gateway_remedy.h): what it plans from the gateway check's
// answer. A failed or inactive unit is restarted on the manager the check found it in;
// a healthy one is fine; one systemd is restarting itself, a masked one, a gateway without
// a unit and one found nowhere get a note and no action; details that are not what the
// check writes plan nothing. The restarter is faked: the real one is in
// tests/integration/remedy_gateway_systemd_test.sh.
#include <doctest/doctest.h>

#include "agent/remedies/gateway_remedy.h"

using namespace fleet;
using json = nlohmann::json;

namespace {

struct FakeRestarter final : UnitRestarter {
  std::vector<std::pair<ManagerRef, std::string>> calls;
  RestartReply reply{true, "restart job done; active (running)", false, "done", {}};
  RestartReply Restart(const ManagerRef& manager, const std::string& unit,
                       std::chrono::steady_clock::time_point) override {
    calls.emplace_back(manager, unit);
    return reply;
  }
};

HermesTarget Hermes() { return {{"hermes", 1000, 1000, "/home/hermes"}, "/home/hermes/.hermes"}; }

CheckResult UnitResult(Status status, const std::string& active, const std::string& sub,
                       const std::string& manager = "system", const std::string& load = "loaded") {
  json unit = {{"name", "hermes-gateway.service"}, {"manager", manager}, {"load_state", load},
               {"active_state", active},           {"sub_state", sub},   {"result", "exit-code"}};
  if (manager == "user") unit["user"] = "hermes";
  return MakeResult("gateway", status, "summary", {{"source", "unit"}, {"unit", unit}});
}

struct Fixture {
  std::shared_ptr<FakeRestarter> restarter = std::make_shared<FakeRestarter>();
  GatewayRemedy remedy{Hermes(), restarter, std::chrono::seconds(60)};
};

}  // namespace

TEST_CASE("gateway remedy: a healthy unit is fine, nothing to do") {
  Fixture f;
  for (Status status : {Status::kOk, Status::kWarning}) {
    RemedyPlan plan = f.remedy.Plan(UnitResult(status, "active", "running"));
    CHECK(plan.fine == std::vector<std::string>{"hermes-gateway.service"});
    CHECK(plan.tasks.empty());
    CHECK(plan.bad.empty());
  }
  CHECK(f.remedy.Check() == "gateway");
}

TEST_CASE("gateway remedy: a failed system unit is restarted in the system manager") {
  Fixture f;
  RemedyPlan plan = f.remedy.Plan(UnitResult(Status::kCritical, "failed", "failed"));
  REQUIRE(plan.tasks.size() == 1);
  const RemedyTask& task = plan.tasks[0];
  CHECK(task.target == "hermes-gateway.service");
  CHECK(task.action == protocol::RemedyAction::kRestartUnit);
  CHECK(task.what == "restart hermes-gateway.service in the system manager");
  CHECK(task.did == "restarted hermes-gateway.service in the system manager");
  CHECK(task.timeout == std::chrono::seconds(60));
  CHECK(f.restarter->calls.empty());  // planning does nothing
  RemedyDone done = task.run(std::chrono::steady_clock::now() + std::chrono::seconds(1));
  CHECK(done.ok);
  CHECK(done.changed == "restart job done; active (running)");
  REQUIRE(f.restarter->calls.size() == 1);
  CHECK_FALSE(f.restarter->calls[0].first.user_manager);
  CHECK(f.restarter->calls[0].second == "hermes-gateway.service");

  f.restarter->reply = {false, "restart job failed; then failed (exit-code)", false, "failed", {}};
  done = task.run(std::chrono::steady_clock::now() + std::chrono::seconds(1));
  CHECK_FALSE(done.ok);
  CHECK(done.changed == "restart job failed; then failed (exit-code)");
}

TEST_CASE("gateway remedy: an inactive user unit is restarted in the Hermes user's manager") {
  Fixture f;
  RemedyPlan plan = f.remedy.Plan(UnitResult(Status::kCritical, "inactive", "dead", "user"));
  REQUIRE(plan.tasks.size() == 1);
  CHECK(plan.tasks[0].what == "restart hermes-gateway.service in hermes's user manager");
  plan.tasks[0].run(std::chrono::steady_clock::now());
  REQUIRE(f.restarter->calls.size() == 1);
  CHECK(f.restarter->calls[0].first.user_manager);
  CHECK(f.restarter->calls[0].first.user.uid == 1000);
}

TEST_CASE("gateway remedy: what systemd handles itself, or what has no unit, is not acted on") {
  Fixture f;
  RemedyPlan looping = f.remedy.Plan(UnitResult(Status::kCritical, "activating", "auto-restart"));
  CHECK(looping.tasks.empty());
  CHECK(looping.bad == std::vector<std::string>{"hermes-gateway.service"});
  CHECK(looping.note.find("systemd itself is handling") != std::string::npos);

  RemedyPlan masked =
      f.remedy.Plan(UnitResult(Status::kCritical, "inactive", "dead", "system", "masked"));
  CHECK(masked.tasks.empty());
  CHECK(masked.note.find("masked") != std::string::npos);

  RemedyPlan files =
      f.remedy.Plan(MakeResult("gateway", Status::kCritical, "gone", {{"source", "files"}}));
  CHECK(files.tasks.empty());
  CHECK(files.bad == std::vector<std::string>{"gateway"});
  CHECK(files.note.find("without a systemd unit") != std::string::npos);

  RemedyPlan nowhere =
      f.remedy.Plan(MakeResult("gateway", Status::kCritical, "not found", {{"source", nullptr}}));
  CHECK(nowhere.tasks.empty());
  CHECK(nowhere.note.find("no systemd unit of the gateway was found") != std::string::npos);

  RemedyPlan fine_files =
      f.remedy.Plan(MakeResult("gateway", Status::kOk, "running", {{"source", "files"}}));
  CHECK(fine_files.fine == std::vector<std::string>{"gateway"});
  CHECK(f.restarter->calls.empty());
}

TEST_CASE("gateway remedy: details not as the check writes them plan nothing") {
  Fixture f;
  for (const json& details :
       {json::object(), json{{"source", "unit"}}, json{{"source", "unit"}, {"unit", 7}},
        json{{"source", 3}}, json{{"source", "unit"}, {"unit", {{"name", 5}}}}}) {
    RemedyPlan plan = f.remedy.Plan(MakeResult("gateway", Status::kCritical, "x", details));
    CHECK(plan.tasks.empty());
  }
}
