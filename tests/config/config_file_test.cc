// LoadConfigFile: the example files in tests/data/config, and files that are not
// configuration files at all (missing, a directory, a FIFO, 2 MB, unreadable).
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "tests/support/fake_os.h"
#include "tests/support/temp_dir.h"

#include "tests/support/string_lists.h"  // error lists print one per line

using namespace fleet;
using namespace std::chrono_literals;

namespace {

std::string DataPath(const std::string& name) {
  return std::string(FLEET_TEST_DATA) + "/config/" + name;
}

// The errors without the file name in front.
std::vector<std::string> Messages(const ConfigLoad& load, const std::string& path) {
  std::vector<std::string> out;
  for (const auto& e : load.errors) {
    std::string line = e.ToString();
    REQUIRE(line.rfind(path + ":", 0) == 0);
    out.push_back(line.substr(path.size() + 1));
  }
  return out;
}

// The one error a file gives, as printed.
std::string OnlyError(const std::string& path) {
  auto start = std::chrono::steady_clock::now();
  ConfigLoad load = LoadConfigFile(path);
  CHECK(std::chrono::steady_clock::now() - start < 10s);  // a hang guard
  CHECK_FALSE(load.config.has_value());
  REQUIRE(load.errors.size() == 1);
  return load.errors[0].ToString();
}

class UnreadableOs : public testing::FakeOs {
 public:
  Result<std::optional<std::string>> ReadFile(const std::string& path,
                                              std::uint64_t) const override {
    return Error{path + ": Permission denied"};
  }
};

}  // namespace

TEST_CASE("good.yaml: every key, read from disk") {
  ConfigLoad load = LoadConfigFile(DataPath("good.yaml"));
  for (const auto& e : load.errors) INFO(e.ToString());
  REQUIRE(load.errors.empty());
  REQUIRE(load.config.has_value());
  const AgentConfig& c = *load.config;
  CHECK(c.node_id == "vps-fra-01");
  CHECK(c.hermes_user == "hermes");
  CHECK(c.hermes_home == "/home/hermes/.hermes");
  CHECK(c.checks.tmux.socket == "/tmp/tmux-1000/default");
  CHECK(c.checks.tmux.idle_warning == 45min);
  CHECK(c.checks.gateway.scope == UnitScope::kUser);
  CHECK(c.settings.at("gateway").timeout == 5s);
  CHECK(c.checks.disk.paths == std::vector<std::string>{"/", "/var/lib"});
  CHECK(c.checks.disk.warning_free_below == doctest::Approx(20.0));
  CHECK(c.checks.disk.critical_used_above == doctest::Approx(85.0));
  CHECK(c.settings.at("disk").interval == 5min);
  CHECK(c.checks.cron.critical_failure_streak == 4);
  CHECK(c.checks.dispatch.stale_after == 2h);
  CHECK_FALSE(c.settings.at("dispatch").enabled);
  CHECK(c.uptime_require == std::vector<std::string>{"gateway", "tmux"});
}

TEST_CASE("comments-only.yaml: the defaults") {
  ConfigLoad load = LoadConfigFile(DataPath("comments-only.yaml"));
  REQUIRE(load.config.has_value());
  CHECK(load.config->checks.tmux.expect == DefaultConfig().checks.tmux.expect);
  CHECK(load.config->settings.size() == BuiltinCheckNames().size());
}

TEST_CASE("bad.yaml: every mistake, each on its own line with its position") {
  const std::string path = DataPath("bad.yaml");
  ConfigLoad load = LoadConfigFile(path);
  CHECK_FALSE(load.config.has_value());
  std::vector<std::string> expected{
      "2:12: node.id: 'vps fra 01' is not a node id (1 to 64 letters, digits, '.', '-', '_')",
      "4:9: hermes.home: 'hermes' is not an absolute path (start it with /)",
      "7:5: unknown key 'expcet' in checks.tmux (did you mean 'expect'?)",
      "8:19: checks.tmux.idle_warning: duration '30 minutes' has an unknown unit 'minutes' (use "
      "ms, s, m, h, d)",
      "9:20: checks.gateway.units must not be empty (list at least one unit name)",
      "9:31: checks.gateway.scope must be one of system, user, auto (got 'both')",
      "11:12: checks.disk.paths must be a list of paths (for one, write [/])",
      "12:25: checks.disk.warning_free_below: '15' is not a percentage (example: 15%)",
      "13:26: checks.disk.critical_used_above: percentage '120%' is above 100%",
      "14:35: checks.cron.critical_failure_streak must be at least 1 (got 0)",
      "14:47: checks.cron.enabled must be true or false, not a quoted string",
      "16:14: checks.dispatch.timeout (45s) is longer than checks.dispatch.interval (30s); a "
      "check must finish before its next run",
      "17:3: duplicate key 'dispatch' in checks (first at line 15)",
      "18:29: uptime.require: unknown check 'tmx' (did you mean 'tmux'?)",
      "19:1: unknown key 'colour' at the top level (known keys: node, interval, hermes, checks, "
      "uptime, "
      "state_dir, upstream, spool, alerts, remedies, node_key, metrics)",
  };
  CHECK(Messages(load, path) == expected);
}

TEST_CASE("syntax-error.yaml: one error at the broken bracket") {
  const std::string path = DataPath("syntax-error.yaml");
  CHECK(OnlyError(path) == path + ":2:30: YAML syntax error: illegal flow end");
}

TEST_CASE("files that are not configuration files: one error, no hang") {
  testing::TempDir dir;
  CHECK(OnlyError(dir.Path("absent.yaml")) ==
        dir.Path("absent.yaml") + ": No such file or directory");
  CHECK(OnlyError(dir.Path("no/such/dir/agent.yaml")) ==
        dir.Path("no/such/dir/agent.yaml") + ": No such file or directory");

  CHECK(OnlyError(dir.path()) == dir.path() + ": is a directory, not a configuration file");

  const std::string fifo = dir.Path("fifo.yaml");
  REQUIRE(::mkfifo(fifo.c_str(), 0644) == 0);  // no writer: an open without O_NONBLOCK hangs
  CHECK(OnlyError(fifo) ==
        fifo + ": is not a regular file (a FIFO, socket or device); give a YAML file");
  const std::string link = dir.Path("link.yaml");
  REQUIRE(::symlink(fifo.c_str(), link.c_str()) == 0);
  CHECK(OnlyError(link).find("is not a regular file") != std::string::npos);
  CHECK(OnlyError("/dev/null").find("is not a regular file") != std::string::npos);

  const std::string big = dir.WriteFile("big.yaml", std::string(2 * 1024 * 1024, '#'));
  CHECK(OnlyError(big) == big + ": too large (2.0 MiB); a configuration file is at most 1.0 MiB");
  const std::string limit = dir.WriteFile("limit.yaml", std::string(kMaxConfigBytes, '#'));
  CHECK(LoadConfigFile(limit).config.has_value());
  const std::string over = dir.WriteFile("over.yaml", std::string(kMaxConfigBytes + 1, '#'));
  CHECK(OnlyError(over).find("too large") != std::string::npos);
}

TEST_CASE("an unreadable file: the OS reason") {
  testing::TempDir dir;
  const std::string path = dir.WriteFile("agent.yaml", "node: {id: a}\n", 0000);
  UnreadableOs os;
  ConfigLoad load = LoadConfigFile(path, os);
  REQUIRE(load.errors.size() == 1);
  CHECK(load.errors[0].ToString() == path + ": Permission denied");
  if (::geteuid() != 0) {  // root reads mode 000 files; the fake above covers CI
    CHECK(OnlyError(path) == path + ": Permission denied");
  }
  ::chmod(path.c_str(), 0644);
  CHECK(LoadConfigFile(path).config->node_id == "a");
}

TEST_CASE("the shipped agent.yaml: its alerts block, uncommented, is valid") {
  std::ifstream in(std::string(FLEET_TEST_DATA) + "/../../packaging/agent.yaml");
  REQUIRE(in.good());
  std::string text;
  bool inside = false;
  for (std::string line; std::getline(in, line);) {
    if (line == "# alerts:") inside = true;
    if (inside && !line.starts_with("#")) break;
    if (inside) text += line.substr(2) + "\n";
  }
  REQUIRE_FALSE(text.empty());
  ConfigLoad load = ParseConfig(text, "agent.yaml");
  for (const auto& e : load.errors) INFO(e.ToString());
  REQUIRE(load.config.has_value());
  const AlertSettings& a = load.config->alerts;
  CHECK(a.channels.telegram.has_value());
  CHECK(a.channels.discord.has_value());
  CHECK(a.channels.webhook.has_value());
  CHECK(a.escalation.telegram.has_value());
  // The values shown are the defaults.
  AlertSettings defaults;
  CHECK(a.min_severity == defaults.min_severity);
  CHECK(a.confirm == defaults.confirm);
  CHECK(a.repeat == defaults.repeat);
  CHECK(a.flap_changes == defaults.flap_changes);
  CHECK(a.flap_window == defaults.flap_window);
  CHECK(a.weekly_summary == defaults.weekly_summary);
  CHECK(a.channels.telegram->poll == TelegramSettings{}.poll);
  CHECK(a.channels.telegram->api_base == TelegramSettings{}.api_base);
}
