#include <doctest/doctest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <map>
#include <set>

#include "collectors/gateway/gateway_check.h"
#include "collectors/gateway/gateway_files.h"
#include "collectors/gateway/systemd_units.h"
#include "tests/support/fake_os.h"
#include "tests/support/temp_dir.h"

using namespace fleet;
using namespace std::chrono_literals;
using fleet::testing::FakeOs;
using fleet::testing::ReadTestData;
using fleet::testing::TempDir;

namespace {

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

bool PrintableAscii(const std::string& text) {
  for (unsigned char c : text) {
    if (c < 0x20 || c >= 0x7f) return false;
  }
  return true;
}

// ---- parsers -------------------------------------------------------------------------

TEST_CASE("gateway.pid: the JSON record and the legacy bare integer") {
  auto record = ParseGatewayPid(ReadTestData("gateway/gateway.pid.json"));
  REQUIRE(record.ok());
  CHECK(record->pid == 4242);
  CHECK(record->start_time == 1234567u);
  CHECK(record->kind == "hermes-gateway");
  CHECK(record->argv.size() == 5);
  CHECK_FALSE(record->legacy);

  auto legacy = ParseGatewayPid(ReadTestData("gateway/gateway.pid.legacy"));
  REQUIRE(legacy.ok());
  CHECK(legacy->pid == 4242);
  CHECK(legacy->legacy);
  CHECK_FALSE(legacy->start_time.has_value());
  CHECK(ParseGatewayPid("  77 ").value().pid == 77);
  // null start_time: nothing to compare, like a legacy file.
  CHECK_FALSE(ParseGatewayPid(R"({"pid": 5, "start_time": null})").value().start_time);
}

TEST_CASE("gateway.pid: truncated, garbage, huge numbers and wrong types are errors") {
  const char* bad[] = {
      "",
      "   \n",
      R"({"pid": 4242, "kind": "hermes-ga)",
      "{\"pid\": 42",
      "hello",
      "4242abc",
      "\xff\xfe\x00\x01",
      "[4242]",
      "null",
      "\"4242\"",
      R"({"pid": "4242"})",
      R"({"kind": "hermes-gateway"})",
      "0",
      "-5",
      "12.5",
      "99999999999999999999",
      "4194305",
      R"({"pid": 18446744073709551615})",
      R"({"pid": 4242, "start_time": "abc"})",
      R"({"pid": 4242, "start_time": -1})",
      R"({"pid": 4242, "start_time": 1.5})",
  };
  for (const char* text : bad) {
    CAPTURE(text);
    auto parsed = ParseGatewayPid(text);
    REQUIRE_FALSE(parsed.ok());
    CHECK(PrintableAscii(parsed.error()));
  }
  CHECK(Has(ParseGatewayPid("{\"pid\": 42").error(), "not valid JSON"));
  CHECK(Has(ParseGatewayPid("99999999999999999999").error(), "pid"));
  // Bytes that are not UTF-8 inside a string must not come back raw in the message.
  CHECK(PrintableAscii(ParseGatewayPid("{\"pid\": \"\xc3\x28\xff\"}").error()));
}

TEST_CASE("gateway_state.json: state, reason, agents and platforms") {
  auto state = ParseGatewayState(ReadTestData("gateway/gateway_state_degraded.json"));
  REQUIRE(state.ok());
  CHECK(state->gateway_state == "degraded");
  CHECK(state->exit_reason.empty());
  CHECK(state->active_agents == 0);
  REQUIRE(state->process.has_value());
  CHECK(state->process->pid == 4242);
  CHECK(state->process->start_time == 1234567u);
  REQUIRE(state->platforms.size() == 3);
  CHECK(state->platforms[0].name == "discord");  // sorted by name
  CHECK(state->platforms[0].state == "retrying");
  CHECK(state->platforms[2].name == "telegram");
  CHECK(state->platforms[2].state == "fatal");
  CHECK(state->platforms[2].error_code == "unauthorized");
  CHECK(Has(state->platforms[2].error_message, "revoked"));

  auto failed = ParseGatewayState(ReadTestData("gateway/gateway_state_startup_failed.json"));
  REQUIRE(failed.ok());
  CHECK(failed->gateway_state == "startup_failed");
  CHECK(failed->exit_reason == "no platform could connect");
}

TEST_CASE("gateway_state.json: odd optional fields are ignored, bad files are errors") {
  auto odd = ParseGatewayState(
      R"({"gateway_state": 5, "platforms": ["telegram"], "active_agents": "two", "pid": "x"})");
  REQUIRE(odd.ok());
  CHECK(odd->gateway_state.empty());
  CHECK(odd->platforms.empty());
  CHECK_FALSE(odd->active_agents);
  CHECK_FALSE(odd->process);  // an unusable pid record is no pid record

  auto mixed = ParseGatewayState(
      R"({"gateway_state": "running", "platforms": {"a": 1, "b": {"state": "fatal", "error_code": 403}}})");
  REQUIRE(mixed.ok());
  REQUIRE(mixed->platforms.size() == 1);
  CHECK(mixed->platforms[0].error_code == "403");

  for (const char* text : {"", "[]", "\"running\"", R"({"gateway_state": "runn)", "\x01\x02"}) {
    CAPTURE(text);
    auto parsed = ParseGatewayState(text);
    REQUIRE_FALSE(parsed.ok());
    CHECK(PrintableAscii(parsed.error()));
  }
  CHECK_FALSE(ParseGatewayState(std::string(100000, '[')).ok());  // no stack blow-up
}

TEST_CASE("/proc/N/stat: fields are counted from the last parenthesis") {
  auto tricky = ParseProcStat(ReadTestData("gateway/proc_stat_tricky_comm.txt"));
  REQUIRE(tricky.ok());
  CHECK(tricky->state == 'S');
  CHECK(tricky->start_time == 1234567u);

  auto spaces = ParseProcStat(
      "17 (a b) c) Z 1 17 17 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 99 0 0 18446744073709551615");
  REQUIRE(spaces.ok());
  CHECK(spaces->state == 'Z');
  CHECK(spaces->start_time == 99u);

  CHECK_FALSE(ParseProcStat("").ok());
  CHECK_FALSE(ParseProcStat("17 python S 1 2 3").ok());           // no parentheses
  CHECK_FALSE(ParseProcStat("17 (python) S 1 17 17 0 -1").ok());  // truncated
  CHECK_FALSE(ParseProcStat("17 (p) S 1 17 17 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 12x4 0").ok());
  CHECK_FALSE(ParseProcStat("17 (p) S 1 17 17 0 -1 4 0 0 0 0 0 0 0 0 20 0 1 0 "
                            "999999999999999999999999 0")
                  .ok());
}

TEST_CASE("unit names without a type get .service") {
  CHECK(NormaliseUnitName("hermes-gateway") == "hermes-gateway.service");
  CHECK(NormaliseUnitName("ai.hermes.gateway") == "ai.hermes.gateway.service");
  CHECK(NormaliseUnitName("hermes-gateway.service") == "hermes-gateway.service");
  CHECK(NormaliseUnitName("hermes.timer") == "hermes.timer");
}

// ---- the check, with a fake systemd and a fixture /proc -------------------------------

// Answers like a systemd manager that knows the units given to it; records who was asked.
class FakeUnits : public UnitStateSource {
 public:
  std::map<bool, std::map<std::string, UnitState>> units;  // by user_manager, then name
  std::map<bool, ManagerReply::Reach> reach{{false, ManagerReply::Reach::kAnswered},
                                            {true, ManagerReply::Reach::kAnswered}};
  std::vector<ManagerRef> asked;
  std::vector<std::string> names_asked;
  std::chrono::steady_clock::time_point last_deadline;

  void Add(bool user, std::string name, std::string active, std::string sub,
           std::optional<std::uint32_t> restarts = 0, std::string result = "success") {
    UnitState unit;
    unit.name = name;
    unit.load_state = "loaded";
    unit.active_state = std::move(active);
    unit.sub_state = std::move(sub);
    unit.result = std::move(result);
    unit.n_restarts = restarts;
    // 2026-06-13T09:00:00Z, three hours before FakeOs's clock.
    unit.state_change_usec = 1781341200ull * 1000000;
    units[user][name] = unit;
  }

  ManagerReply Query(const ManagerRef& manager, const std::vector<std::string>& names,
                     std::chrono::steady_clock::time_point deadline) override {
    asked.push_back(manager);
    names_asked = names;
    last_deadline = deadline;
    ManagerReply reply;
    reply.reach = reach[manager.user_manager];
    if (reply.reach == ManagerReply::Reach::kAbsent) reply.problem = "no socket";
    if (reply.reach == ManagerReply::Reach::kFailed) reply.problem = "Permission denied";
    if (reply.reach != ManagerReply::Reach::kAnswered) return reply;
    for (const auto& name : names) {
      auto it = units[manager.user_manager].find(name);
      reply.units.push_back(it != units[manager.user_manager].end()
                                ? it->second
                                : UnitState{name, "not-found", "inactive", "dead", "", {}, 0, 0});
    }
    return reply;
  }
};

std::string StatLine(int pid, std::uint64_t start_time, char state = 'S') {
  std::string line = std::to_string(pid) + " (python3) " + state;
  for (int field = 4; field <= 21; ++field) line += " 0";
  return line + " " + std::to_string(start_time) + " 1065213952 23911\n";
}

struct Node {
  TempDir dir;
  FakeOs os;
  HermesTarget hermes;
  std::shared_ptr<FakeUnits> units = std::make_shared<FakeUnits>();
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::now() + 2s;

  Node() {
    os.proc_root = dir.Path("proc");
    os.euid = 0;
    hermes.user = UserInfo{"hermes", 1000, 1000, dir.Path("home")};
    hermes.home = dir.Path("home/.hermes");
  }
  void Process(int pid, std::uint64_t start_time, char state = 'S') {
    dir.WriteFile("proc/" + std::to_string(pid) + "/stat", StatLine(pid, start_time, state));
  }
  void HomeFile(const std::string& name, const std::string& content) {
    dir.WriteFile("home/.hermes/" + name, content);
  }
  CheckResult Run(GatewayOptions options = {}) {
    auto check = MakeGatewayCheck(std::move(options), units);
    CheckContext context{os, hermes, deadline};
    CheckResult result = check->Run(context);
    // Details must always dump, even with the strict UTF-8 handler.
    CHECK_NOTHROW((void)result.details.dump());
    return result;
  }
};

TEST_CASE("an active unit is OK and says where and for how long") {
  Node node;
  node.units->Add(false, "hermes-gateway.service", "active", "running");
  CheckResult r = node.Run();
  CHECK(r.status == Status::kOk);
  CHECK(Has(r.summary, "hermes-gateway.service active (running) in the system manager"));
  CHECK(Has(r.summary, "for 3h"));
  CHECK(r.details["source"] == "unit");
  CHECK(r.details["unit"]["since"] == "2026-06-13T09:00:00Z");
  // Found in the system manager: the user manager was not needed.
  REQUIRE(node.units->asked.size() == 1);
  CHECK_FALSE(node.units->asked[0].user_manager);
  CHECK(node.units->names_asked ==
        std::vector<std::string>{"hermes-gateway.service", "ai.hermes.gateway.service"});
  CHECK(node.units->last_deadline <= node.deadline);
}

TEST_CASE("an inactive, failed or crash-looping unit is CRITICAL with what to do") {
  Node node;
  node.units->Add(false, "hermes-gateway.service", "inactive", "dead");
  CheckResult r = node.Run();
  CHECK(r.status == Status::kCritical);
  CHECK(Has(r.summary, "inactive (dead)"));
  CHECK(Has(r.summary, "`systemctl start hermes-gateway.service`"));

  node.units->Add(false, "hermes-gateway.service", "failed", "failed", 0, "exit-code");
  r = node.Run();
  CHECK(r.status == Status::kCritical);
  CHECK(Has(r.summary, "failed (exit-code)"));
  CHECK(Has(r.summary, "journalctl -u hermes-gateway.service"));

  node.units->Add(false, "hermes-gateway.service", "activating", "auto-restart", 7);
  r = node.Run();
  CHECK(r.status == Status::kCritical);
  CHECK(Has(r.summary, "crash-looping"));
  CHECK(Has(r.summary, "7 restarts"));
}

TEST_CASE("restarts climbing: NRestarts of 3 or more is a WARNING") {
  Node node;
  node.units->Add(false, "hermes-gateway.service", "active", "running", 2);
  CHECK(node.Run().status == Status::kOk);
  node.units->Add(false, "hermes-gateway.service", "active", "running", 3);
  CheckResult r = node.Run();
  CHECK(r.status == Status::kWarning);
  CHECK(Has(r.summary, "restarted 3 times"));
  CHECK(r.details["unit"]["n_restarts"] == 3);
}

TEST_CASE("a user unit is found in the Hermes user's manager, with the right commands") {
  Node node;
  node.units->Add(true, "hermes-gateway.service", "inactive", "dead");
  CheckResult r = node.Run();
  CHECK(r.status == Status::kCritical);
  CHECK(Has(r.summary, "in hermes's user manager"));
  CHECK(Has(r.summary, "`systemctl --user -M hermes@ start hermes-gateway.service`"));
  REQUIRE(node.units->asked.size() == 2);
  CHECK(node.units->asked[1].user_manager);
  CHECK(node.units->asked[1].user.uid == 1000);
  CHECK(r.details["unit"]["manager"] == "user");

  node.os.euid = 1000;  // the agent runs as hermes
  CHECK(Has(node.Run().summary, "`systemctl --user start hermes-gateway.service`"));
}

TEST_CASE("the first configured unit that exists wins, in either manager") {
  Node node;
  node.units->Add(false, "ai.hermes.gateway.service", "inactive", "dead");
  node.units->Add(true, "hermes-gateway.service", "active", "running");
  CheckResult r = node.Run();
  CHECK(r.status == Status::kOk);
  CHECK(r.details["unit"]["name"] == "hermes-gateway.service");

  Node other;
  other.units->Add(false, "ai.hermes.gateway.service", "failed", "failed");
  r = other.Run();
  CHECK(r.status == Status::kCritical);
  CHECK(r.details["unit"]["name"] == "ai.hermes.gateway.service");
}

TEST_CASE("scope limits the managers asked") {
  Node node;
  node.units->Add(false, "hermes-gateway.service", "active", "running");
  GatewayOptions user_only;
  user_only.scope = UnitScope::kUser;
  CheckResult r = node.Run(user_only);
  CHECK(r.status == Status::kCritical);  // the system unit is not looked at
  for (const auto& asked : node.units->asked) CHECK(asked.user_manager);

  node.units->asked.clear();
  node.units->Add(true, "hermes-gateway.service", "active", "running");
  GatewayOptions system_only;
  system_only.scope = UnitScope::kSystem;
  system_only.units = {"hermes-gateway"};
  CHECK(node.Run(system_only).status == Status::kOk);
  for (const auto& asked : node.units->asked) CHECK_FALSE(asked.user_manager);
}

TEST_CASE("no unit: a live gateway.pid with the same start time is OK") {
  Node node;
  node.HomeFile("gateway.pid", ReadTestData("gateway/gateway.pid.json"));
  node.HomeFile("gateway_state.json", ReadTestData("gateway/gateway_state_running.json"));
  node.Process(4242, 1234567);
  CheckResult r = node.Run();
  CHECK(r.status == Status::kOk);
  CHECK(Has(r.summary, "gateway running as pid 4242 (no unit"));
  CHECK(r.details["source"] == "files");
  CHECK(r.details["process"]["alive"] == true);
  CHECK(r.details["state_file"]["gateway_state"] == "running");
  CHECK(r.details["state_file"]["platforms"]["telegram"]["state"] == "connected");
}

TEST_CASE("no unit: a reused pid, a dead pid or a zombie is CRITICAL") {
  Node node;
  node.HomeFile("gateway.pid", ReadTestData("gateway/gateway.pid.json"));
  node.Process(4242, 7654321);  // same pid, another process
  CheckResult r = node.Run();
  CHECK(r.status == Status::kCritical);
  CHECK(Has(r.summary, "gateway process gone"));
  CHECK(Has(r.summary, "another process"));

  Node dead;
  dead.HomeFile("gateway.pid", ReadTestData("gateway/gateway.pid.json"));
  dead.HomeFile("gateway_state.json", ReadTestData("gateway/gateway_state_startup_failed.json"));
  r = dead.Run();
  CHECK(r.status == Status::kCritical);
  CHECK(Has(r.summary, "no process 4242"));
  CHECK(Has(r.summary, "last state startup_failed: no platform could connect"));

  Node zombie;
  zombie.HomeFile("gateway.pid", ReadTestData("gateway/gateway.pid.json"));
  zombie.Process(4242, 1234567, 'Z');
  CHECK(zombie.Run().status == Status::kCritical);
}

TEST_CASE("no unit: a legacy pid file is judged by the pid alone") {
  Node node;
  node.HomeFile("gateway.pid", "4242\n");
  node.Process(4242, 1);
  CheckResult r = node.Run();
  CHECK(r.status == Status::kOk);
  CHECK(Has(r.summary, "legacy"));
  Node gone;
  gone.HomeFile("gateway.pid", "4242\n");
  CHECK(gone.Run().status == Status::kCritical);
}

TEST_CASE("gateway_state.json: degraded or a platform in trouble is a WARNING") {
  Node node;
  node.HomeFile("gateway.pid", ReadTestData("gateway/gateway.pid.json"));
  node.HomeFile("gateway_state.json", ReadTestData("gateway/gateway_state_degraded.json"));
  node.Process(4242, 1234567);
  CheckResult r = node.Run();
  CHECK(r.status == Status::kWarning);
  CHECK(Has(r.summary, "gateway degraded"));
  CHECK(Has(r.summary, "telegram fatal (unauthorized 401 Unauthorized: bot token revoked)"));
  CHECK(Has(r.summary, "discord retrying"));
  CHECK_FALSE(Has(r.summary, "slack"));

  node.HomeFile("gateway_state.json",
                R"({"pid": 4242, "start_time": 1234567, "gateway_state": "running",
                    "platforms": {"telegram": {"state": "retrying"}}})");
  CHECK(node.Run().status == Status::kWarning);
}

TEST_CASE("gateway_state.json: stopped or startup_failed is CRITICAL") {
  for (const char* state : {"stopped", "startup_failed"}) {
    CAPTURE(state);
    Node node;
    node.HomeFile("gateway.pid", ReadTestData("gateway/gateway.pid.json"));
    node.HomeFile("gateway_state.json", std::string(R"({"pid": 4242, "start_time": 1234567,
        "gateway_state": ")") + state + R"(", "exit_reason": "shutdown requested"})");
    node.Process(4242, 1234567);
    CheckResult r = node.Run();
    CHECK(r.status == Status::kCritical);
    CHECK(Has(r.summary, "shutdown requested"));
  }
}

TEST_CASE("gateway_state.json of another process is ignored; alone it can prove life") {
  Node node;
  node.HomeFile("gateway.pid", ReadTestData("gateway/gateway.pid.json"));
  node.HomeFile("gateway_state.json",
                R"({"pid": 999, "start_time": 5, "gateway_state": "stopped"})");
  node.Process(4242, 1234567);
  CheckResult r = node.Run();
  CHECK(r.status == Status::kOk);
  CHECK(r.details["state_file"].contains("ignored"));

  Node state_only;
  state_only.HomeFile("gateway_state.json", ReadTestData("gateway/gateway_state_degraded.json"));
  state_only.Process(4242, 1234567);
  r = state_only.Run();
  CHECK(r.status == Status::kWarning);
  CHECK(r.details["process"]["source"] == "gateway_state.json");
}

TEST_CASE("an unreadable or invalid pid file is UNKNOWN, with bytes kept out of the output") {
  Node node;
  node.HomeFile("gateway.pid", "\xff\xfe{garbage");
  CheckResult r = node.Run();
  CHECK(r.status == Status::kUnknown);
  CHECK(Has(r.summary, "not a valid pid file"));
  CHECK(PrintableAscii(r.summary.substr(r.summary.find("not a valid"))));
}

TEST_CASE("an active unit takes the warnings of a live process's gateway_state.json") {
  Node node;
  node.units->Add(false, "hermes-gateway.service", "active", "running");
  node.HomeFile("gateway_state.json", ReadTestData("gateway/gateway_state_degraded.json"));
  node.Process(4242, 1234567);
  CheckResult r = node.Run();
  CHECK(r.status == Status::kWarning);
  CHECK(Has(r.summary, "telegram fatal"));
  CHECK(r.details["source"] == "unit");

  Node stale;  // the file's process is gone: old news, not a finding
  stale.units->Add(false, "hermes-gateway.service", "active", "running");
  stale.HomeFile("gateway_state.json", ReadTestData("gateway/gateway_state_degraded.json"));
  CHECK(stale.Run().status == Status::kOk);
}

TEST_CASE("found nowhere: CRITICAL, and the summary names every place looked") {
  Node node;
  node.units->reach[false] = ManagerReply::Reach::kAbsent;
  CheckResult r = node.Run();
  CHECK(r.status == Status::kCritical);
  CHECK(Has(r.summary, "gateway not found"));
  CHECK(Has(r.summary, "hermes-gateway.service or ai.hermes.gateway.service"));
  CHECK(Has(r.summary, "the system manager (not running) or hermes's user manager"));
  CHECK(Has(r.summary, node.hermes.home + "/gateway.pid"));
  CHECK(Has(r.summary, "hermes gateway install"));
  CHECK(r.details["looked_at"].size() == 4);
  CHECK(r.details["managers"][0]["reach"] == "absent");
}

TEST_CASE("found nowhere while a manager could not be asked is UNKNOWN") {
  Node node;
  node.units->reach[true] = ManagerReply::Reach::kFailed;
  CheckResult r = node.Run();
  CHECK(r.status == Status::kUnknown);
  CHECK(Has(r.summary, "hermes's user manager could not be asked (Permission denied)"));
  CHECK(Has(r.summary, "gateway.pid"));

  // ...but a live pid file still answers the question.
  node.HomeFile("gateway.pid", ReadTestData("gateway/gateway.pid.json"));
  node.Process(4242, 1234567);
  CHECK(node.Run().status == Status::kOk);
}

TEST_CASE("a user unit installed for a user manager that is not running: enable linger") {
  Node node;
  node.units->reach[true] = ManagerReply::Reach::kAbsent;
  node.dir.WriteFile("home/.config/systemd/user/hermes-gateway.service", "[Service]\n");
  CheckResult r = node.Run();
  CHECK(r.status == Status::kCritical);
  CHECK(Has(r.summary, "loginctl enable-linger hermes"));
}

// ---- the real sd-bus source, against sockets that are not systemd --------------------

TEST_CASE("sd-bus source: no socket means the manager is absent") {
  TempDir run;
  auto source = MakeSdBusUnitSource(run.path());
  ManagerRef system;
  ManagerReply reply =
      source->Query(system, {"hermes-gateway.service"}, std::chrono::steady_clock::now() + 1s);
  CHECK(reply.reach == ManagerReply::Reach::kAbsent);
  CHECK(Has(reply.problem, "/systemd/private"));
  ManagerRef user{true, UserInfo{"hermes", 4242, 4242, "/home/hermes"}};
  reply = source->Query(user, {"hermes-gateway.service"}, std::chrono::steady_clock::now() + 1s);
  CHECK(reply.reach == ManagerReply::Reach::kAbsent);
  CHECK(Has(reply.problem, "/user/4242/bus"));
}

TEST_CASE("sd-bus source: a manager that never answers does not hold the check") {
  TempDir run;
  const std::string path = run.Path("systemd/private");
  run.WriteFile("systemd/placeholder", "");
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  REQUIRE(path.size() < sizeof address.sun_path);
  std::copy(path.begin(), path.end(), address.sun_path);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  REQUIRE(::listen(fd, 4) == 0);  // accepts connections into the backlog, never reads

  auto source = MakeSdBusUnitSource(run.path());
  const auto start = std::chrono::steady_clock::now();
  ManagerReply reply = source->Query(ManagerRef{}, {"hermes-gateway.service"}, start + 300ms);
  const auto took = std::chrono::steady_clock::now() - start;
  ::close(fd);
  CHECK(reply.reach == ManagerReply::Reach::kFailed);
  CHECK(Has(reply.problem, "timed out"));
  CHECK(took < 10s);  // a hang guard, not a performance figure
}

}  // namespace
