// The `remedies:` section (issue 14): the issue's example lands in RemedySettings, every
// remedy is off by default, bad values and missing keys are one error each at their
// line:column (a session not in checks.tmux.expect, a relative or too wide directory, a
// script that is not an absolute path, a remedy whose check is disabled), and truncated or
// garbage text is refused cleanly.
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "tests/support/string_lists.h"  // error lists print one per line

using namespace fleet;
using namespace std::chrono_literals;

namespace {

constexpr char kExample[] = R"(remedies:
  mode: act                      # or dry-run: log and record what would be done
  gateway: {restart: true}
  tmux:
    sessions:
      BURN:  {command: "hermes chat --yolo"}
      BURN2: {command: "hermes chat --yolo"}
    stuck_after: 2h              # optional: idle this long = stuck (send C-c, then command)
  disk:
    above: 90%
    clean:                       # oldest first, until below the warning line
      - {dir: ~/.hermes/cron/output, older_than: 7d}
      - {dir: ~/.hermes/logs, glob: "*.log.*", older_than: 14d}
    script: /home/hermes/scripts/cleanup-disk.sh   # optional, run as the operator, with a deadline
  dispatch: {quarantine_broken: true}
  limits: {attempts: 3, within: 30m, backoff: 10s, backoff_cap: 5m, reset_after: 10m}
)";

std::vector<std::string> Errors(std::string_view text) {
  std::vector<std::string> out;
  for (const auto& e : ParseConfig(text, "agent.yaml").errors) out.push_back(e.ToString());
  return out;
}

std::string OneError(std::string_view text) {
  auto errors = Errors(text);
  INFO(text);
  REQUIRE(errors.size() == 1);
  return errors[0];
}

RemedySettings Valid(std::string_view text) {
  ConfigLoad load = ParseConfig(text, "agent.yaml");
  INFO(text);
  for (const auto& e : load.errors) INFO(e.ToString());
  REQUIRE(load.errors.empty());
  REQUIRE(load.config.has_value());
  return load.config->remedies;
}

}  // namespace

TEST_CASE("remedies: the issue's example") {
  const RemedySettings r = Valid(kExample);
  CHECK(r.any());
  CHECK(r.mode == RemedyMode::kAct);
  CHECK(r.gateway.restart);
  CHECK(r.gateway.timeout == 60s);
  CHECK(r.tmux.sessions == std::map<std::string, std::string>{{"BURN", "hermes chat --yolo"},
                                                              {"BURN2", "hermes chat --yolo"}});
  CHECK(r.tmux.stuck_after == std::optional<std::chrono::seconds>(2h));
  CHECK(r.disk.above == std::optional<double>(90.0));
  REQUIRE(r.disk.clean.size() == 2);
  CHECK(r.disk.clean[0].dir == "~/.hermes/cron/output");
  CHECK(r.disk.clean[0].glob == "*");
  CHECK(r.disk.clean[0].older_than == 7 * 24h);
  CHECK(r.disk.clean[0].line == 12);
  CHECK(r.disk.clean[0].column == 15);
  CHECK(r.disk.clean[1].glob == "*.log.*");
  CHECK(r.disk.clean[1].older_than == 14 * 24h);
  CHECK(r.disk.script == "/home/hermes/scripts/cleanup-disk.sh");
  CHECK(r.disk.script_timeout == 5min);
  CHECK(r.dispatch.quarantine_broken);
  CHECK(r.limits == RemedyLimits{3, 30min, 10s, 5min, 10min});
}

TEST_CASE("remedies: off by default, each on its own") {
  CHECK_FALSE(DefaultConfig().remedies.any());
  CHECK_FALSE(Valid("remedies:\n").any());
  CHECK_FALSE(Valid("remedies: {mode: dry-run}\n").any());
  CHECK(Valid("remedies: {mode: dry-run}\n").mode == RemedyMode::kDryRun);
  CHECK_FALSE(Valid("remedies: {gateway: {restart: false}}\n").any());
  CHECK(Valid("remedies: {gateway: {restart: true, timeout: 2m}}\n").gateway.timeout == 2min);
  const RemedySettings tmux = Valid("remedies: {tmux: {sessions: {BURN: }}}\n");
  CHECK(tmux.tmux.sessions.at("BURN") == "hermes chat --yolo");  // the runbook's command
  CHECK_FALSE(tmux.tmux.stuck_after.has_value());
  const RemedySettings disk = Valid("remedies: {disk: {script: /usr/local/bin/clean}}\n");
  CHECK(disk.disk.enabled());
  CHECK_FALSE(disk.disk.above.has_value());  // the disk check's critical line
  CHECK(Valid("remedies: {dispatch: {quarantine_broken: true}}\n").any());
  CHECK(DefaultConfig().remedies.limits == RemedyLimits{3, 30min, 10s, 5min, 10min});
}

TEST_CASE("remedies: a session must be one the tmux check expects") {
  CHECK(OneError("checks: {tmux: {expect: [BURN, BURN2]}}\n"
                 "remedies: {tmux: {sessions: {BURN3: {command: x}}}}\n") ==
        "agent.yaml:2:30: remedies.tmux.sessions names 'BURN3', which is not in "
        "checks.tmux.expect (did you mean 'BURN'?)");
  CHECK(OneError("remedies:\n  tmux:\n    sessions:\n      FORGE: {}\n      SENTRY: {}\n") ==
        "agent.yaml:5:7: remedies.tmux.sessions names 'SENTRY', which is not in "
        "checks.tmux.expect (expected names: BURN, BURN2, FORGE)");
  CHECK(OneError("remedies: {tmux: {stuck_after: 2h}}\n") ==
        "agent.yaml:1:32: remedies.tmux.stuck_after needs remedies.tmux.sessions (the command "
        "each stuck pane is given again)");
  CHECK(OneError("remedies: {tmux: {sessions: [BURN]}}\n") ==
        "agent.yaml:1:29: remedies.tmux.sessions must be a map of session names, each with its "
        "command (BURN: {command: \"hermes chat --yolo\"})");
  CHECK(OneError("remedies: {tmux: {sessions: {BURN: {command: \"\"}}}}\n") ==
        "agent.yaml:1:46: remedies.tmux.sessions.BURN.command must be a command of 1 to 1024 "
        "bytes on one line");
  CHECK(OneError("remedies: {tmux: {sessions: {BURN: {cmd: x}}}}\n") ==
        "agent.yaml:1:37: unknown key 'cmd' in remedies.tmux.sessions.BURN (known keys: "
        "command)");
}

TEST_CASE("remedies: directories to clean are absolute or in a home, never too wide") {
  const auto clean = [](const std::string& dir) {
    return "remedies: {disk: {clean: [{dir: " + dir + "}]}}\n";
  };
  CHECK(Valid(clean("/var/log/hermes")).disk.clean[0].dir == "/var/log/hermes");
  CHECK(Valid(clean("~hermes/.hermes/logs")).disk.clean[0].dir == "~hermes/.hermes/logs");
  CHECK(Valid(clean("/tmp")).disk.clean[0].dir == "/tmp");
  CHECK(OneError(clean("cron/output")) ==
        "agent.yaml:1:33: remedies.disk.clean[0].dir: 'cron/output' is relative; give an "
        "absolute path or one in a home (~/.hermes/logs, ~hermes/.hermes/logs)");
  CHECK(OneError(clean("/")) ==
        "agent.yaml:1:33: remedies.disk.clean[0].dir: '/' is too wide a directory to clean; name "
        "a directory of your own below it");
  CHECK(OneError(clean("/home/")) ==
        "agent.yaml:1:33: remedies.disk.clean[0].dir: '/home/' is too wide a directory to clean; "
        "name a directory of your own below it");
  CHECK(OneError(clean("/var/log/../../etc")) ==
        "agent.yaml:1:33: remedies.disk.clean[0].dir: '/var/log/../../etc' contains '..'; name "
        "the directory itself");
  CHECK(OneError("remedies: {disk: {clean: [{glob: '*.log'}]}}\n") ==
        "agent.yaml:1:27: remedies.disk.clean[0] needs dir (the directory to clean)");
  CHECK(OneError("remedies: {disk: {clean: [{dir: /srv/x, glob: a/b}]}}\n") ==
        "agent.yaml:1:47: remedies.disk.clean[0].glob must be a file name pattern without '/' "
        "(\"*.log.*\")");
  CHECK(OneError("remedies: {disk: {clean: [{dir: /srv/x, older_than: 10s}]}}\n") ==
        "agent.yaml:1:53: remedies.disk.clean[0].older_than must be at least 1m (got 10s)");
  CHECK(OneError("remedies: {disk: {clean: []}}\n") ==
        "agent.yaml:1:26: remedies.disk.clean must be a list of directories to clean ({dir: "
        "~/.hermes/cron/output, older_than: 7d})");
  CHECK(OneError("remedies: {disk: {clean: [/srv/x]}}\n") ==
        "agent.yaml:1:27: remedies.disk.clean[0] must be a map ({dir: ..., older_than: 7d})");
  CHECK(OneError("remedies: {disk: {above: 90%}}\n") ==
        "agent.yaml:1:18: remedies.disk needs clean (directories to clean) or script (the "
        "operator's clean-up script)");
  CHECK(OneError("remedies: {disk: {above: 100%, script: /x/y}}\n") ==
        "agent.yaml:1:26: remedies.disk.above must be above 0% and below 100%");
  CHECK(OneError("remedies: {disk: {script: cleanup.sh}}\n") ==
        "agent.yaml:1:27: remedies.disk.script must be the absolute path of the operator's "
        "script");
  CHECK(OneError("remedies: {disk: {script: /x/y, script_timeout: 2h}}\n") ==
        "agent.yaml:1:49: remedies.disk.script_timeout must be at most 1h (got 2h)");
}

TEST_CASE("remedies: limits, mode and a remedy of a disabled check") {
  CHECK(OneError("remedies: {limits: {attempts: 0}}\n") ==
        "agent.yaml:1:31: remedies.limits.attempts must be at least 1 (got 0)");
  CHECK(OneError("remedies: {limits: {backoff: 1m, backoff_cap: 30s}}\n") ==
        "agent.yaml:1:47: remedies.limits.backoff_cap (30s) is shorter than "
        "remedies.limits.backoff (1m)");
  CHECK(OneError("remedies: {limits: {reset_after: 5s}}\n") ==
        "agent.yaml:1:34: remedies.limits.reset_after must be at least 1m (got 5s)");
  CHECK(OneError("remedies: {mode: dryrun}\n") ==
        "agent.yaml:1:18: remedies.mode must be one of act, dry-run (got 'dryrun')");
  CHECK(OneError("remedies: {gateway: {restart: yes please}}\n") ==
        "agent.yaml:1:31: remedies.gateway.restart must be true or false (got 'yes please')");
  CHECK(OneError("remedies: {gatway: {restart: true}}\n") ==
        "agent.yaml:1:12: unknown key 'gatway' in remedies (did you mean 'gateway'?)");
  CHECK(OneError("checks: {gateway: {enabled: false}}\n"
                 "remedies: {gateway: {restart: true}}\n") ==
        "agent.yaml:2:21: remedies.gateway acts on what checks.gateway finds, but "
        "checks.gateway.enabled is false (enable it or drop the remedy)");
  CHECK(OneError("checks: {dispatch: {enabled: false}}\n"
                 "remedies: {dispatch: {quarantine_broken: true}}\n") ==
        "agent.yaml:2:22: remedies.dispatch acts on what checks.dispatch finds, but "
        "checks.dispatch.enabled is false (enable it or drop the remedy)");
  // A disabled check with its remedy off is fine.
  CHECK(Errors("checks: {gateway: {enabled: false}}\nremedies: {gateway: {restart: false}}\n")
            .empty());
}

TEST_CASE("remedies: truncated and garbage text is refused cleanly") {
  const std::string text = kExample;
  for (std::size_t n = 0; n < text.size(); ++n) {
    CAPTURE(n);
    (void)ParseConfig(text.substr(0, n), "agent.yaml");  // an error or a config, never a crash
  }
  for (const char* garbage :
       {"remedies: [1, 2]\n", "remedies: 7\n", "remedies: {tmux: {sessions: {? [a]: b}}}\n",
        "remedies: {disk: {clean: [{dir: [a]}]}}\n", "remedies: {limits: {attempts: 1e9}}\n",
        "remedies: {tmux: {sessions: {\"\\x01\": {}}}}\n"}) {
    CAPTURE(garbage);
    CHECK_FALSE(Errors(garbage).empty());
  }
}
