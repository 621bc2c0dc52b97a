// ParseConfig on literals: every key lands in its field, every default holds, and every
// kind of mistake is reported with the line:column an editor shows.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "agent/config/config.h"

#include "tests/support/string_lists.h"  // error lists print one per line

using namespace fleet;
using namespace std::chrono_literals;

namespace {

ConfigLoad Parse(std::string_view text) { return ParseConfig(text, "agent.yaml"); }

std::vector<std::string> Errors(std::string_view text) {
  std::vector<std::string> out;
  for (const auto& e : Parse(text).errors) out.push_back(e.ToString());
  return out;
}

// The single error the text must produce.
std::string OneError(std::string_view text) {
  auto errors = Errors(text);
  INFO(text);
  REQUIRE(errors.size() == 1);
  return errors[0];
}

AgentConfig Valid(std::string_view text) {
  ConfigLoad load = Parse(text);
  INFO(text);
  for (const auto& e : load.errors) INFO(e.ToString());
  REQUIRE(load.errors.empty());
  REQUIRE(load.config.has_value());
  return *load.config;
}

void CheckDefaults(const AgentConfig& c) {
  CHECK(c.node_id.empty());
  CHECK(c.hermes_user.empty());
  CHECK(c.hermes_home.empty());
  CHECK(c.checks.tmux.socket.empty());
  CHECK(c.checks.tmux.expect == std::vector<std::string>{"BURN", "BURN2", "FORGE"});
  CHECK(c.checks.tmux.idle_warning == 30min);
  CHECK(c.checks.gateway.units == std::vector<std::string>{"hermes-gateway", "ai.hermes.gateway"});
  CHECK(c.checks.gateway.scope == UnitScope::kAuto);
  CHECK(c.checks.disk.paths == std::vector<std::string>{"/"});
  CHECK(c.checks.disk.warning_free_below == doctest::Approx(15.0));
  CHECK(c.checks.disk.critical_used_above == doctest::Approx(90.0));
  CHECK(c.checks.cron.jobs_file == "cron/jobs.json");
  CHECK(c.checks.cron.critical_failure_streak == 3);
  CHECK(c.checks.dispatch.files ==
        std::vector<std::string>{"fleet-dispatch-state.json", "/tmp/hermes/dispatch-queue.json"});
  CHECK(c.checks.dispatch.stale_after == 1h);
  CHECK(c.uptime_require == std::vector<std::string>{"gateway", "tmux"});
  CHECK(c.state_dir == "/var/lib/fleet-agent");
  REQUIRE(c.settings.size() == BuiltinCheckNames().size());
  for (const auto& name : BuiltinCheckNames()) {
    REQUIRE(c.settings.count(name) == 1);
    CHECK(c.settings.at(name).enabled);
    CHECK(c.settings.at(name).timeout == 2s);
    CHECK(c.settings.at(name).interval == 30s);
  }
}

}  // namespace

TEST_CASE("the example of the issue parses into the collector options") {
  AgentConfig c = Valid(R"(node: {id: vps-fra-01}
hermes:
  user: hermes
  home: /home/hermes/.hermes
checks:
  tmux:     {socket: /tmp/tmux-1000/default, expect: [BURN, BURN2, FORGE], idle_warning: 30m}
  gateway:  {units: [hermes-gateway, ai.hermes.gateway], scope: auto}   # system|user|auto
  disk:     {paths: [/], warning_free_below: 15%, critical_used_above: 90%}
  cron:     {jobs_file: cron/jobs.json, critical_failure_streak: 3}     # relative to hermes.home
  dispatch: {files: [fleet-dispatch-state.json, /tmp/hermes/dispatch-queue.json], stale_after: 1h}
uptime: {require: [gateway, tmux]}
)");
  CHECK(c.node_id == "vps-fra-01");
  CHECK(c.hermes_user == "hermes");
  CHECK(c.hermes_home == "/home/hermes/.hermes");
  CHECK(c.checks.tmux.socket == "/tmp/tmux-1000/default");
  CHECK(c.checks.tmux.expect == std::vector<std::string>{"BURN", "BURN2", "FORGE"});
  CHECK(c.checks.tmux.idle_warning == 30min);
  CHECK(c.checks.gateway.units == std::vector<std::string>{"hermes-gateway", "ai.hermes.gateway"});
  CHECK(c.checks.gateway.scope == UnitScope::kAuto);
  CHECK(c.checks.disk.paths == std::vector<std::string>{"/"});
  CHECK(c.checks.disk.warning_free_below == doctest::Approx(15.0));
  CHECK(c.checks.disk.critical_used_above == doctest::Approx(90.0));
  CHECK(c.checks.cron.jobs_file == "cron/jobs.json");
  CHECK(c.checks.cron.critical_failure_streak == 3);
  CHECK(c.checks.dispatch.files ==
        std::vector<std::string>{"fleet-dispatch-state.json", "/tmp/hermes/dispatch-queue.json"});
  CHECK(c.checks.dispatch.stale_after == 1h);
  CHECK(c.uptime_require == std::vector<std::string>{"gateway", "tmux"});
}

TEST_CASE("every key moves its own field away from the default") {
  AgentConfig c = Valid(R"(node:
  id: node_7.b
hermes:
  user: ops
  home: /srv/hermes
checks:
  tmux:
    socket: /run/tmux/s
    expect: [ALPHA, "my window"]
    idle_warning: 90s
    interval: 10s
  gateway:
    units: [gw.service]
    scope: system
    timeout: 250ms
  disk:
    paths: [/, /var/lib]
    warning_free_below: 12.5%
    critical_used_above: 95%
    enabled: no
  cron:
    jobs_file: /var/cron.json
    critical_failure_streak: 7
    timeout: 1m
    interval: 5m
  dispatch:
    files: [a.json]
    stale_after: 2h
uptime:
  require: [gateway]
state_dir: /srv/fleet-state
)");
  CHECK(c.node_id == "node_7.b");
  CHECK(c.hermes_user == "ops");
  CHECK(c.hermes_home == "/srv/hermes");
  CHECK(c.checks.tmux.socket == "/run/tmux/s");
  CHECK(c.checks.tmux.expect == std::vector<std::string>{"ALPHA", "my window"});
  CHECK(c.checks.tmux.idle_warning == 90s);
  CHECK(c.settings["tmux"].interval == 10s);
  CHECK(c.settings["tmux"].timeout == 2s);
  CHECK(c.checks.gateway.units == std::vector<std::string>{"gw.service"});
  CHECK(c.checks.gateway.scope == UnitScope::kSystem);
  CHECK(c.settings["gateway"].timeout == 250ms);
  CHECK(c.checks.disk.paths == std::vector<std::string>{"/", "/var/lib"});
  CHECK(c.checks.disk.warning_free_below == doctest::Approx(12.5));
  CHECK(c.checks.disk.critical_used_above == doctest::Approx(95.0));
  CHECK_FALSE(c.settings["disk"].enabled);
  CHECK(c.settings["gateway"].enabled);
  CHECK(c.checks.cron.jobs_file == "/var/cron.json");
  CHECK(c.checks.cron.critical_failure_streak == 7);
  CHECK(c.settings["cron"].timeout == 60s);
  CHECK(c.settings["cron"].interval == 5min);
  CHECK(c.checks.dispatch.files == std::vector<std::string>{"a.json"});
  CHECK(c.checks.dispatch.stale_after == 2h);
  CHECK(c.uptime_require == std::vector<std::string>{"gateway"});
  CHECK(c.state_dir == "/srv/fleet-state");
  CHECK(Valid("checks: {gateway: {scope: user}}").checks.gateway.scope == UnitScope::kUser);
}

TEST_CASE("no file, an empty file, comments or nulls: the defaults") {
  CheckDefaults(DefaultConfig());
  CheckDefaults(Valid(""));
  CheckDefaults(Valid("\n\n"));
  CheckDefaults(Valid("# nothing here\n   # indented comment\n"));
  CheckDefaults(Valid("---\n"));
  CheckDefaults(Valid("~\n"));
  CheckDefaults(Valid("\xEF\xBB\xBF# with a byte order mark\n"));
  CheckDefaults(Valid("node:\nhermes:\nchecks:\nuptime:\n"));
  CheckDefaults(Valid("checks:\n  tmux:\n  gateway: ~\n  disk: null\n  cron: {}\n  dispatch:\n"));
  CheckDefaults(Valid("checks:\n  tmux: {expect: ~, idle_warning: , timeout: null}\n"));
  CheckDefaults(Valid("node: {id: ~}\r\nchecks: {}\r\n"));
}

TEST_CASE("empty lists where they make sense") {
  AgentConfig c = Valid("checks:\n  tmux: {expect: []}\n  dispatch: {files: []}\n");
  CHECK(c.checks.tmux.expect.empty());
  CHECK(c.checks.dispatch.files.empty());
  CHECK(OneError("checks:\n  disk: {paths: []}\n") ==
        "agent.yaml:2:17: checks.disk.paths must not be empty (list at least one absolute path)");
  CHECK(OneError("checks:\n  gateway:\n    units: []\n") ==
        "agent.yaml:3:12: checks.gateway.units must not be empty (list at least one unit name)");
  CHECK(OneError("uptime: {require: []}") ==
        "agent.yaml:1:19: uptime.require must not be empty (list at least one check name)");
}

TEST_CASE("unknown keys, with the closest known key when it is a typo") {
  CHECK(OneError("checks:\n  tmux:\n    expcet: [BURN]\n") ==
        "agent.yaml:3:5: unknown key 'expcet' in checks.tmux (did you mean 'expect'?)");
  CHECK(OneError("checks:\n  tmx: {}\n") ==
        "agent.yaml:2:3: unknown key 'tmx' in checks (did you mean 'tmux'?)");
  CHECK(OneError("chekcs: {}\n") ==
        "agent.yaml:1:1: unknown key 'chekcs' at the top level (did you mean 'checks'?)");
  CHECK(OneError("checks: {cron: {timout: 3s}}") ==
        "agent.yaml:1:17: unknown key 'timout' in checks.cron (did you mean 'timeout'?)");
  CHECK(OneError("colour: red\n") ==
        "agent.yaml:1:1: unknown key 'colour' at the top level "
        "(known keys: node, interval, hermes, checks, uptime, state_dir, upstream, spool, alerts, "
        "remedies, node_key, metrics)");
  CHECK(OneError("node: {name: x}") ==
        "agent.yaml:1:8: unknown key 'name' in node (known keys: id)");
  // YAML merge keys are not a feature of yaml-cpp; they are an unknown key like any other.
  CHECK(OneError("node: {<<: {id: a}}") ==
        "agent.yaml:1:8: unknown key '<<' in node (known keys: id)");
}

TEST_CASE("wrong types") {
  CHECK(OneError("checks:\n  disk:\n    paths: {a: 1}\n") ==
        "agent.yaml:3:12: checks.disk.paths must be a list of paths");
  CHECK(OneError("checks:\n  disk:\n    paths: /\n") ==
        "agent.yaml:3:12: checks.disk.paths must be a list of paths (for one, write [/])");
  CHECK(OneError("checks:\n  disk:\n    paths: [/, [/tmp]]\n") ==
        "agent.yaml:3:16: checks.disk.paths must be a list of paths");
  CHECK(OneError("checks: [tmux]") ==
        "agent.yaml:1:9: checks must be a map of keys (tmux, gateway, disk, cron, dispatch)");
  CHECK(OneError("checks: {tmux: yes}") ==
        "agent.yaml:1:16: checks.tmux must be a map of keys "
        "(socket, expect, idle_warning, enabled, timeout, interval)");
  CHECK(OneError("node: {id: [a]}") == "agent.yaml:1:12: node.id must be a node id");
  CHECK(OneError("checks: {tmux: {idle_warning: {m: 5}}}") ==
        "agent.yaml:1:31: checks.tmux.idle_warning must be a duration (examples: 30s, 5m, 2h)");
  CHECK(OneError("checks: {disk: {warning_free_below: [15%]}}") ==
        "agent.yaml:1:37: checks.disk.warning_free_below must be a percentage (example: 15%)");
  CHECK(
      OneError("checks: {cron: {critical_failure_streak: three}}") ==
      "agent.yaml:1:42: checks.cron.critical_failure_streak must be a whole number (got 'three')");
  CHECK(OneError("checks: {cron: {critical_failure_streak: 2.5}}") ==
        "agent.yaml:1:42: checks.cron.critical_failure_streak must be a whole number (got '2.5')");
  CHECK(OneError("checks: {cron: {critical_failure_streak: \"3\"}}") ==
        "agent.yaml:1:42: checks.cron.critical_failure_streak must be a whole number, not a "
        "quoted string");
  CHECK(OneError("checks: {tmux: {enabled: maybe}}") ==
        "agent.yaml:1:26: checks.tmux.enabled must be true or false (got 'maybe')");
  CHECK(OneError("checks: {tmux: {enabled: 'false'}}") ==
        "agent.yaml:1:26: checks.tmux.enabled must be true or false, not a quoted string");
  CHECK(OneError("checks: {gateway: {scope: both}}") ==
        "agent.yaml:1:27: checks.gateway.scope must be one of system, user, auto (got 'both')");
  CHECK(OneError("node: {id: !secret abc}") ==
        "agent.yaml:1:12: node.id: YAML tags such as '!secret' are not supported");
  CHECK(OneError("checks: {tmux: {expect: [BURN, ~]}}") ==
        "agent.yaml:1:32: checks.tmux.expect must be a list of names");
  CHECK(OneError("checks: {tmux: {expect: [BURN, '']}}") ==
        "agent.yaml:1:32: checks.tmux.expect: an item must not be empty");
  CHECK(OneError("- a\n- b\n") ==
        "agent.yaml:1:1: the top level must be a map of keys (node, interval, hermes, checks, "
        "uptime, "
        "state_dir, upstream, spool, alerts, remedies, node_key, metrics)");
  CHECK(OneError("just text\n") ==
        "agent.yaml:1:1: the top level must be a map of keys (node, interval, hermes, checks, "
        "uptime, "
        "state_dir, upstream, spool, alerts, remedies, node_key, metrics)");
  CHECK(OneError("[a]: 1\n") ==
        "agent.yaml:1:1: a list or map as a key at the top level (keys are plain names)");
  CHECK(OneError("node:\n  ~: x\n") == "agent.yaml:2:3: empty key in node (keys are plain names)");
}

TEST_CASE("bad durations, percentages and numbers, with the reason from units.h") {
  CHECK(OneError("checks:\n  tmux: {idle_warning: 30 minutes}\n") ==
        "agent.yaml:2:24: checks.tmux.idle_warning: duration '30 minutes' has an unknown unit "
        "'minutes' (use ms, s, m, h, d)");
  CHECK(OneError("checks: {tmux: {timeout: 5}}") ==
        "agent.yaml:1:26: checks.tmux.timeout: duration '5' needs a unit (ms, s, m, h, d)");
  CHECK(OneError("checks: {tmux: {timeout: -5s}}") ==
        "agent.yaml:1:26: checks.tmux.timeout: '-5s' is not a duration (examples: 30s, 5m, 2h)");
  CHECK(OneError("checks:\n  disk:\n    warning_free_below: 15\n") ==
        "agent.yaml:3:25: checks.disk.warning_free_below: '15' is not a percentage (example: 15%)");
  CHECK(OneError("checks: {disk: {critical_used_above: 120%}}") ==
        "agent.yaml:1:38: checks.disk.critical_used_above: percentage '120%' is above 100%");
  CHECK(OneError("checks: {disk: {critical_used_above: -5%}}") ==
        "agent.yaml:1:38: checks.disk.critical_used_above: '-5%' is not a percentage (example: "
        "15%)");
  AgentConfig edges = Valid("checks: {disk: {warning_free_below: 0%, critical_used_above: 100%}}");
  CHECK(edges.checks.disk.warning_free_below == doctest::Approx(0.0));
  CHECK(edges.checks.disk.critical_used_above == doctest::Approx(100.0));
}

TEST_CASE("numbers that make no sense") {
  CHECK(OneError("checks: {cron: {critical_failure_streak: 0}}") ==
        "agent.yaml:1:42: checks.cron.critical_failure_streak must be at least 1 (got 0)");
  CHECK(OneError("checks: {cron: {critical_failure_streak: -3}}") ==
        "agent.yaml:1:42: checks.cron.critical_failure_streak must be at least 1 (got -3)");
  CHECK(OneError("checks: {cron: {critical_failure_streak: 99999999999999999999}}") ==
        "agent.yaml:1:42: checks.cron.critical_failure_streak must be at most 1000 (got "
        "'99999999999999999999')");
  CHECK(OneError("checks: {tmux: {timeout: 0s}}") ==
        "agent.yaml:1:26: checks.tmux.timeout must be longer than 0 (got 0s)");
  CHECK(OneError("checks: {tmux: {timeout: 61s}}") ==
        "agent.yaml:1:26: checks.tmux.timeout must be at most 1m (got 1m 1s)");
  CHECK(Valid("checks: {tmux: {timeout: 60s, interval: 1m}}").settings["tmux"].timeout == 60s);
  CHECK(OneError("checks: {disk: {interval: 0s}}") ==
        "agent.yaml:1:27: checks.disk.interval must be at least 1s (got 0s)");
  CHECK(OneError("checks: {disk: {interval: 2d}}") ==
        "agent.yaml:1:27: checks.disk.interval must be at most 1d (got 2d)");
  CHECK(Valid("checks: {tmux: {idle_warning: 0m}}").checks.tmux.idle_warning == 0s);  // never
  CHECK(OneError("checks: {dispatch: {stale_after: 500ms}}") ==
        "agent.yaml:1:34: checks.dispatch.stale_after must be at least 1s (got 500ms)");
}

TEST_CASE("a check's timeout must fit in its interval") {
  CHECK(OneError("checks:\n  gateway: {timeout: 20s, interval: 10s}\n") ==
        "agent.yaml:2:22: checks.gateway.timeout (20s) is longer than checks.gateway.interval "
        "(10s); a check must finish before its next run");
  // The default timeout (2s) against a short interval follows the interval instead.
  CHECK(Valid("checks:\n  disk:\n    interval: 1s\n").settings["disk"].timeout == 1s);
  // And a timeout above the default interval.
  CHECK(OneError("checks: {cron: {timeout: 45s}}") ==
        "agent.yaml:1:26: checks.cron.timeout (45s) is longer than checks.cron.interval (30s); a "
        "check must finish before its next run");
  CHECK(Valid("checks: {cron: {timeout: 30s}}").settings["cron"].timeout == 30s);
}

TEST_CASE("paths that must be absolute and names that must be names") {
  CHECK(OneError("hermes:\n  home: hermes-home\n") ==
        "agent.yaml:2:9: hermes.home: 'hermes-home' is not an absolute path (start it with /)");
  CHECK(OneError("checks: {disk: {paths: [/, var]}}") ==
        "agent.yaml:1:28: checks.disk.paths: 'var' is not an absolute path (start it with /)");
  CHECK(OneError("state_dir: state") ==
        "agent.yaml:1:12: state_dir: 'state' is not an absolute path (start it with /)");
  CHECK(OneError("checks: {tmux: {socket: tmp/s}}") ==
        "agent.yaml:1:25: checks.tmux.socket: 'tmp/s' is not an absolute path (start it with /)");
  CHECK(OneError("hermes: {home: ''}") == "agent.yaml:1:16: hermes.home must not be empty");
  CHECK(OneError("hermes: {user: 'a b'}") ==
        "agent.yaml:1:16: hermes.user: 'a b' is not a user name");
  CHECK(OneError("node: {id: vps fra}") ==
        "agent.yaml:1:12: node.id: 'vps fra' is not a node id (1 to 64 letters, digits, '.', '-', "
        "'_')");
  CHECK(OneError("node: {id: \"a\\nb\"}") ==
        "agent.yaml:1:12: node.id: 'a\\nb' contains a control character");
  CHECK(OneError("checks: {gateway: {units: [a/b]}}") ==
        "agent.yaml:1:28: checks.gateway.units: 'a/b' is not a systemd unit name");
  CHECK(Valid("checks: {cron: {jobs_file: jobs.json}}").checks.cron.jobs_file == "jobs.json");
}

TEST_CASE("uptime.require names known, enabled checks") {
  CHECK(OneError("uptime: {require: [gateway, tmx]}") ==
        "agent.yaml:1:29: uptime.require: unknown check 'tmx' (did you mean 'tmux'?)");
  CHECK(OneError("uptime: {require: [network]}") ==
        "agent.yaml:1:20: uptime.require: unknown check 'network' (known checks: tmux, gateway, "
        "disk, cron, dispatch)");
  CHECK(OneError("uptime: {require: [gateway, tmux]}\nchecks: {tmux: {enabled: false}}\n") ==
        "agent.yaml:1:29: uptime.require names 'tmux', but checks.tmux.enabled is false (enable "
        "it or drop it from the list)");
  // Disabling a check that only the default list requires is fine.
  AgentConfig c = Valid("checks: {tmux: {enabled: false}}");
  CHECK_FALSE(c.settings["tmux"].enabled);
  CHECK(Valid("uptime: {require: [disk]}").uptime_require == std::vector<std::string>{"disk"});
}

TEST_CASE("every built-in check has a section") {
  for (const auto& name : BuiltinCheckNames()) {
    CAPTURE(name);
    AgentConfig c = Valid("checks:\n  " + name + ": {enabled: false, timeout: 1s, interval: 2s}\n");
    CHECK_FALSE(c.settings[name].enabled);
    CHECK(c.settings[name].timeout == 1s);
    CHECK(c.settings[name].interval == 2s);
    for (const auto& other : BuiltinCheckNames()) {
      if (other != name) CHECK(c.settings[other].enabled);
    }
  }
}

TEST_CASE("duplicate keys are errors (yaml-cpp keeps both silently)") {
  CHECK(OneError("checks:\n  tmux: {}\n  tmux: {expect: []}\n") ==
        "agent.yaml:3:3: duplicate key 'tmux' in checks (first at line 2)");
  CHECK(OneError("node: {id: a}\nnode: {id: b}\n") ==
        "agent.yaml:2:1: duplicate key 'node' at the top level (first at line 1)");
  CHECK(OneError("checks: {disk: {paths: [/], paths: [/]}}") ==
        "agent.yaml:1:29: duplicate key 'paths' in checks.disk (first at line 1)");
}

TEST_CASE("YAML syntax errors: one error with its position") {
  CHECK(OneError("checks:\n  tmux: {expect: [BURN, FORGE}\n") ==
        "agent.yaml:2:30: YAML syntax error: illegal flow end");
  CHECK(OneError("node: id: x\n") == "agent.yaml:1:9: YAML syntax error: illegal map value");
  CHECK(OneError("node: *nothing\n") ==
        "agent.yaml:1:7: YAML syntax error: the referenced anchor is not defined");
  CHECK(OneError("node: {id: 'x}\n").find("agent.yaml:") == 0);
  CHECK(OneError("node: {id: a}\n---\nnode: {id: b}\n") ==
        "agent.yaml:2:1: a second YAML document (after '---'); the configuration is a single "
        "document");
  // yaml-cpp's own LoadAll loops forever on these (a stray ',' at the top level).
  CHECK(OneError(",") == "agent.yaml:1:1: YAML syntax error: unexpected ','");
  CHECK(OneError("[a],") == "agent.yaml:1:4: YAML syntax error: unexpected ','");
  CHECK(OneError("node: {id: a}\n...\n,,\n") ==
        "agent.yaml:3:1: YAML syntax error: unexpected ','");
  CHECK(OneError("\xEF\xBB\xBF[a],") == "agent.yaml:1:4: YAML syntax error: unexpected ','");
  CheckDefaults(Valid("---\n# only a marker and a comment\n...\n"));
}

TEST_CASE("columns count characters, not bytes") {
  // "é" is two bytes; the unknown key after it is the 17th character of the line.
  auto errors = Errors("node: {id: \"é\", colour: x}\n");
  REQUIRE(errors.size() == 2);
  CHECK(errors[0] ==
        "agent.yaml:1:12: node.id: 'é' is not a node id (1 to 64 letters, digits, "
        "'.', '-', '_')");
  CHECK(errors[1] == "agent.yaml:1:17: unknown key 'colour' in node (known keys: id)");
  CHECK(OneError("\xEF\xBB\xBFnode: id: x\n") ==
        "agent.yaml:1:9: YAML syntax error: illegal map value");
}

TEST_CASE("every error at once, in file order") {
  auto errors = Errors(R"(node: {id: "bad id"}
checks:
  tmux:
    expcet: [BURN]
    idle_warning: 5 weeks
  disk: {paths: relative, warning_free_below: 15}
  cron: {critical_failure_streak: 0}
  cron: {}
uptime: {require: [tmx]}
extra: 1
)");
  std::vector<std::string> expected{
      "agent.yaml:1:12: node.id: 'bad id' is not a node id (1 to 64 letters, digits, '.', '-', "
      "'_')",
      "agent.yaml:4:5: unknown key 'expcet' in checks.tmux (did you mean 'expect'?)",
      "agent.yaml:5:19: checks.tmux.idle_warning: duration '5 weeks' has an unknown unit 'weeks' "
      "(use ms, s, m, h, d)",
      "agent.yaml:6:17: checks.disk.paths must be a list of paths (for one, write [relative])",
      "agent.yaml:6:47: checks.disk.warning_free_below: '15' is not a percentage (example: 15%)",
      "agent.yaml:7:35: checks.cron.critical_failure_streak must be at least 1 (got 0)",
      "agent.yaml:8:3: duplicate key 'cron' in checks (first at line 7)",
      "agent.yaml:9:20: uptime.require: unknown check 'tmx' (did you mean 'tmux'?)",
      "agent.yaml:10:1: unknown key 'extra' at the top level (known keys: node, interval, hermes, "
      "checks, "
      "uptime, state_dir, upstream, spool, alerts, remedies, node_key, metrics)",
  };
  CHECK(errors == expected);
  CHECK_FALSE(Parse("extra: 1").config.has_value());
}

TEST_CASE("a short interval alone pulls the default timeout down with it") {
  fleet::ConfigLoad load = fleet::ParseConfig("checks: {disk: {interval: 1s}}\n", "a.yaml");
  REQUIRE(load.config.has_value());
  CHECK(load.config->settings.at("disk").interval == std::chrono::seconds(1));
  CHECK(load.config->settings.at("disk").timeout == std::chrono::seconds(1));
  fleet::ConfigLoad both =
      fleet::ParseConfig("checks: {disk: {interval: 1s, timeout: 2s}}\n", "a.yaml");
  REQUIRE_FALSE(both.config.has_value());
  CHECK(both.errors.at(0).ToString().find("is longer than checks.disk.interval") !=
        std::string::npos);
}

TEST_CASE("upstream and spool: defaults, every key, and mistakes") {
  AgentConfig defaults = Valid("");
  CHECK(defaults.upstream.url.empty());
  CHECK(defaults.upstream.batch_records == 500);
  CHECK(defaults.upstream.batch_bytes == 256 * 1024);
  CHECK(defaults.upstream.backoff_cap == 5min);
  CHECK(defaults.spool.max_size == 256ull * 1024 * 1024);

  AgentConfig c = Valid(
      "upstream:\n"
      "  url: https://fleet.example.org/ingest\n"
      "  ca_file: /etc/fleet-agent/ca.pem\n"
      "  pinned_pubkey: sha256//YhKJKSzoTt2b5FP18fvpHo7fJYqQCjAa3HWY3tvRMwE=\n"
      "  batch_records: 100\n"
      "  batch_bytes: 64KiB\n"
      "  connect_timeout: 3s\n"
      "  timeout: 20s\n"
      "  drain_rate: 50\n"
      "  refused_retry: 15m\n"
      "  backoff_cap: 1m\n"
      "spool: {max_size: 64MiB}\n");
  CHECK(c.upstream.url == "https://fleet.example.org/ingest");
  CHECK(c.upstream.ca_file == "/etc/fleet-agent/ca.pem");
  CHECK(c.upstream.batch_records == 100);
  CHECK(c.upstream.batch_bytes == 64 * 1024);
  CHECK(c.upstream.connect_timeout == 3s);
  CHECK(c.upstream.timeout == 20s);
  CHECK(c.upstream.drain_rate == 50);
  CHECK(c.upstream.refused_retry == 15min);
  CHECK(c.upstream.backoff_cap == 1min);
  CHECK(c.spool.max_size == 64ull * 1024 * 1024);
  for (const char* loopback : {"http://127.0.0.1:8080", "http://localhost:1/", "http://[::1]:80",
                               "https://[2001:db8::1]:8443/x"}) {
    INFO(loopback);
    CHECK(Valid(std::string("upstream: {url: \"") + loopback + "\"}").upstream.url == loopback);
  }

  CHECK(OneError("upstream: {url: \"http://fleet.example.org\"}") ==
        "agent.yaml:1:17: upstream.url: 'http://fleet.example.org' is plain http to another "
        "machine; records travel over https (http:// is only for a loopback address, such as a "
        "local TLS proxy)");
  // A name that starts like a loopback address is a name anyone's DNS may answer.
  CHECK(OneError("upstream: {url: \"http://127.evil.example:8080\"}") ==
        "agent.yaml:1:17: upstream.url: 'http://127.evil.example:8080' is plain http to another "
        "machine; records travel over https (http:// is only for a loopback address, such as a "
        "local TLS proxy)");
  CHECK(OneError("upstream: {url: ftp://x}") ==
        "agent.yaml:1:17: upstream.url: 'ftp://x' is not an https:// URL");
  CHECK(OneError("upstream: {url: \"https://user:pw@x\"}") ==
        "agent.yaml:1:17: upstream.url: 'https://user:pw@x' is not a plain URL (no spaces, user "
        "names, queries or fragments)");
  CHECK(OneError("upstream: {url: \"https://\"}") ==
        "agent.yaml:1:17: upstream.url: 'https://' has no host");
  CHECK(OneError("upstream: {batch_records: 0}") ==
        "agent.yaml:1:27: upstream.batch_records must be at least 1 (got 0)");
  CHECK(OneError("upstream: {batch_bytes: 2MiB}") ==
        "agent.yaml:1:25: upstream.batch_bytes must be at most 1.0 MiB (got 2.0 MiB)");
  CHECK(OneError("upstream: {batch_bytes: lots}") ==
        "agent.yaml:1:25: upstream.batch_bytes: 'lots' is not a size (examples: 512MiB, 1GiB, "
        "4096)");
  CHECK(OneError("spool: {max_size: 10KiB}") ==
        "agent.yaml:1:19: spool.max_size must be at least 1.0 MiB (got 10 KiB)");
  CHECK(OneError("upstream: {ur1: x}") ==
        "agent.yaml:1:12: unknown key 'ur1' in upstream (did you mean 'url'?)");
}

TEST_CASE("a top-level interval is every check's default; a check's own interval wins") {
  // Written first, as users do, or after the checks: the same.
  for (const char* text : {"interval: 1m\nchecks:\n  disk: {interval: 10s}\n",
                           "checks:\n  disk: {interval: 10s}\ninterval: 1m\n"}) {
    AgentConfig c = Valid(text);
    CHECK(c.default_interval == 1min);
    CHECK(c.settings["tmux"].interval == 1min);
    CHECK(c.settings["cron"].interval == 1min);
    CHECK(c.settings["disk"].interval == 10s);
    CHECK(c.settings["tmux"].timeout == 2s);
  }
  // A short default pulls the default timeout down with it, as a check's own would.
  AgentConfig fast = Valid("interval: 1s\n");
  CHECK(fast.settings["gateway"].interval == 1s);
  CHECK(fast.settings["gateway"].timeout == 1s);
  // A check's own timeout must still fit in the interval it inherits.
  CHECK(OneError("interval: 10s\nchecks: {cron: {timeout: 20s}}\n") ==
        "agent.yaml:2:26: checks.cron.timeout (20s) is longer than checks.cron.interval (10s); "
        "a check must finish before its next run");
  CHECK(OneError("interval: 0s\n").find("agent.yaml:1:11: interval") == 0);
  CHECK(OneError("interval: soon\n").find("agent.yaml:1:11:") == 0);
}

TEST_CASE("node_key.max_age: 90 days by default, a duration of 1 to 3650 days") {
  CHECK(Valid("").node_key.max_age == std::chrono::hours(24 * 90));
  CHECK(Valid("node_key: {max_age: 30d}").node_key.max_age == std::chrono::hours(24 * 30));
  CHECK(Valid("node_key:\n  max_age: 2160h\n").node_key.max_age == std::chrono::hours(2160));
  CHECK_FALSE(Errors("node_key: {max_age: 1h}").empty());
  CHECK_FALSE(Errors("node_key: {max_age: 4000d}").empty());
  CHECK_FALSE(Errors("node_key: {max_age: soon}").empty());
  CHECK_FALSE(Errors("node_key: {age: 30d}").empty());
}
