#include "agent/cli/cli.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "agent/check/check_report.h"
#include "agent/check/check_runner.h"
#include "agent/cli/alert_commands.h"
#include "agent/cli/config_command.h"
#include "agent/cli/fix_command.h"
#include "agent/cli/history_commands.h"
#include "agent/cli/record_commands.h"
#include "agent/config/config.h"
#include "agent/config/hermes_target.h"
#include "agent/daemon/daemon.h"
#include "agent/remedies/builtin_remedies.h"
#include "agent/report/status_report.h"
#include "base/utc_time.h"

namespace fleet {
namespace {

constexpr int kUsageError = 3;

// The rest of the manual page (man fleet-agent), printed after the commands by --help.
constexpr const char* kHelpFooter = R"(FILES:
  /etc/fleet-agent/agent.yaml        the service's configuration (defaults commented out)
  /var/lib/fleet-agent/history.db    history and the spool of signed records (SQLite)
  /var/lib/fleet-agent/status.json   what the running daemon sees (fleet-agent status)
  /var/lib/fleet-agent/node.key      the node's Ed25519 private key (mode 0600)
  /lib/systemd/system/fleet-agent.service   the hardened systemd unit

SIGNALS (fleet-agent run):
  SIGHUP             reread the configuration (systemctl reload fleet-agent); a broken
                     file is refused with its errors and the old one keeps running
  SIGTERM, SIGINT    stop cleanly, writing an agent_stop record

EXIT STATUS:
  check              0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN or a usage/configuration error
  fix                as check, for the checks after the fixes (before them with --dry-run)
  config check, verify   0 valid, 1 invalid

EXAMPLES:
  fleet-agent check --config /etc/fleet-agent/agent.yaml
  fleet-agent config check /etc/fleet-agent/agent.yaml && systemctl reload fleet-agent
  fleet-agent pubkey --jwk
  fleet-agent rotate-key
  fleet-agent enroll https://receiver.example --token TOKEN
  fleet-agent report --week
  fleet-agent alerts && fleet-agent ack 12 --note "restarting the gateway"
  fleet-agent fix --dry-run && fleet-agent fix --only gateway
  fleet-agent maintenance --for 2h --reason "kernel upgrade"

Run `fleet-agent COMMAND --help` for a command's options; see also man fleet-agent.)";

struct CheckArgs {
  std::string config_file;
  bool json = false;
  std::vector<std::string> only;
  bool no_colour = false;
};

bool UseColour(bool no_colour) {
  if (no_colour || std::getenv("NO_COLOR") != nullptr) return false;
  const char* term = std::getenv("TERM");
  if (term != nullptr && std::string_view(term) == "dumb") return false;
  return ::isatty(STDOUT_FILENO) == 1;
}

void PrintConfigErrors(const std::vector<ConfigError>& errors) {
  for (const auto& e : errors) std::cerr << e.ToString() << "\n";
}

// Which checks to run: --only names (even if disabled), else every enabled check.
std::optional<std::vector<std::string>> SelectChecks(const AgentConfig& config,
                                                     const std::vector<std::string>& only) {
  std::vector<std::string> names;
  const auto& known = BuiltinCheckNames();
  if (!only.empty()) {
    for (const auto& name : only) {
      if (std::find(known.begin(), known.end(), name) == known.end()) {
        std::string list;
        for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
        std::cerr << "fleet-agent: unknown check '" << name << "' (known: " << list << ")\n";
        return std::nullopt;
      }
      if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
    }
    return names;
  }
  for (const auto& name : known) {
    auto it = config.settings.find(name);
    if (it == config.settings.end() || it->second.enabled) names.push_back(name);
  }
  return names;
}

// What the running daemon knows of its alert channels (a refused token, a deleted webhook,
// a second poller on the bot token), from its status.json when that is fresh: one WARNING
// row, `alerts`, so the operator's daily command shows that alerts would not reach them.
void AddAlertingHealth(const std::string& state_dir, std::chrono::system_clock::time_point now,
                       CheckRound& round) {
  std::ifstream in(state_dir + "/status.json");
  if (!in) return;
  std::stringstream text;
  text << in.rdbuf();
  const nlohmann::json status = nlohmann::json::parse(text.str(), nullptr, false);
  if (!status.is_object() || !status.contains("alerts") || !status.contains("updated") ||
      !status["updated"].is_string()) {
    return;
  }
  auto updated = ParseUtcSeconds(status["updated"].get<std::string>());
  if (!updated || ToUnixSeconds(now) - *updated > 120) return;  // not a running daemon's
  const std::vector<std::string> problems = AlertingProblems(status["alerts"]);
  if (problems.empty()) return;
  std::string summary;
  for (const auto& p : problems) summary += (summary.empty() ? "" : "; ") + p;
  round.results.push_back(
      MakeResult("alerts", Status::kWarning, summary, {{"problems", problems}}));
  round.overall = OverallStatus(round.results);
}

// The node key older than node_key.max_age (90 days by default): one WARNING row,
// `node_key`, naming the command that makes a new one.
void AddNodeKeyAge(const AgentConfig& config, std::chrono::system_clock::time_point now,
                   CheckRound& round) {
  auto key = ReadNodeKeyState(config.state_dir);
  if (!key || !key->written_at) return;
  const NodeKeyAge age =
      AgeOfNodeKey(key->kid, *key->written_at, ToUnixSeconds(now), config.node_key.max_age);
  if (!age.too_old) return;
  round.results.push_back(MakeResult("node_key", Status::kWarning, age.summary,
                                     {{"kid", key->kid}, {"age_days", age.days}}));
  round.overall = OverallStatus(round.results);
}

int RunCheckCommand(const CheckArgs& args) {
  ConfigLoad load =
      args.config_file.empty() ? ConfigLoad{DefaultConfig(), {}} : LoadConfigFile(args.config_file);
  if (!load.config) {
    PrintConfigErrors(load.errors);
    std::cerr << "fleet-agent: configuration rejected (" << load.errors.size() << " error"
              << (load.errors.size() == 1 ? "" : "s") << ")\n";
    return kUsageError;
  }
  const AgentConfig& config = *load.config;
  auto names = SelectChecks(config, args.only);
  if (!names) return kUsageError;

  std::shared_ptr<const Os> os = MakeLinuxOs();
  auto target = ResolveHermesTarget(config, *os);
  if (!target) {
    std::cerr << "fleet-agent: " << target.error() << "\n";
    return kUsageError;
  }
  auto hermes = std::make_shared<const HermesTarget>(std::move(target).value());

  std::vector<ScheduledCheck> checks;
  for (const auto& name : *names) {
    ScheduledCheck check;
    check.collector = MakeBuiltinCollector(name, config.checks);
    auto it = config.settings.find(name);
    if (it != config.settings.end()) check.timeout = it->second.timeout;
    checks.push_back(std::move(check));
  }
  CheckReport report{ResolveNodeId(config), os->Now(), RunChecks(checks, os, hermes)};
  if (args.only.empty()) {
    AddAlertingHealth(config.state_dir, os->Now(), report.round);
    AddNodeKeyAge(config, os->Now(), report.round);
  }
  if (args.json) {
    std::cout << ToJson(report).dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
              << "\n";
  } else {
    std::cout << FormatTable(report, UseColour(args.no_colour));
  }
  std::cout.flush();
  const int code = NagiosExitCode(report.round.overall);
  // A collector stuck past its deadline still owns a thread; do not wait for it.
  if (report.round.abandoned > 0) std::_Exit(code);
  return code;
}

int RunDropInCommand(const std::string& file) {
  ConfigLoad load = LoadConfigFile(file);
  if (!load.config) {
    PrintConfigErrors(load.errors);
    return 1;
  }
  std::shared_ptr<const Os> os = MakeLinuxOs();
  auto target = ResolveHermesTarget(*load.config, *os);
  if (!target) {
    std::cerr << "fleet-agent: " << target.error() << "\n";
    return 1;
  }
  auto paths = RemedyWritePaths(*load.config, *target, *os);
  if (!paths) {
    std::cerr << file << ": remedies: " << paths.error() << "\n";
    return 1;
  }
  std::cout << RemediesDropIn(*paths);
  return 0;
}

}  // namespace

int RunCli(int argc, char** argv) {
  CLI::App app{
      "fleet-agent: health checks, uptime history and signed reports for a Hermes agent "
      "node.\n\nRun `fleet-agent check` for the operator's daily checklist at a glance.",
      "fleet-agent"};
  app.set_version_flag("--version", std::string("fleet-agent ") + FLEET_VERSION);
  app.require_subcommand(1);
  app.footer(kHelpFooter);

  CheckArgs check_args;
  CLI::App* check = app.add_subcommand(
      "check", "Run the checks once and print the node's health (Nagios exit codes).");
  check->add_option("--config", check_args.config_file,
                    "YAML configuration file (default: embedded defaults)");
  check->add_flag("--json", check_args.json, "Print one JSON document instead of the table");
  check->add_option("--only", check_args.only, "Run only this check (repeatable)")->delimiter(',');
  check->add_flag("--no-color", check_args.no_colour, "Never colour the table");

  FixArgs fix_args;
  CLI::App* fix = app.add_subcommand(
      "fix", "Run the enabled remedies once for what the checks find now and print what was done.");
  fix->add_option("--config", fix_args.config_file, "YAML configuration file");
  fix->add_option("--state-dir", fix_args.state_dir,
                  "Directory holding the history (where the running daemon records actions)");
  fix->add_flag("--dry-run", fix_args.dry_run, "Say what would be done; change nothing");
  fix->add_option("--only", fix_args.only, "Only this remedy: gateway, tmux, disk, dispatch")
      ->delimiter(',');

  std::string config_file;
  CLI::App* config = app.add_subcommand("config", "Work with configuration files.");
  config->require_subcommand(1);
  CLI::App* config_check = config->add_subcommand(
      "check",
      "Validate a configuration file and read the alert secrets it names; print every error "
      "as file:line:column.");
  config_check->add_option("FILE", config_file, "The YAML file")->required();
  bool no_secrets = false;
  config_check->add_flag("--no-secrets", no_secrets,
                         "Check the file only; do not read the secret files it names");

  std::string dropin_file;
  CLI::App* config_dropin = config->add_subcommand(
      "dropin",
      "Print the systemd drop-in giving the enabled remedies write access to their "
      "directories only (nothing when none writes).");
  config_dropin->add_option("FILE", dropin_file, "The YAML file")->required();

  DaemonOptions daemon_options;
  CLI::App* run = app.add_subcommand(
      "run", "Run the checks on a schedule as a daemon (systemd Type=notify), keeping history.");
  run->add_option("--config", daemon_options.config_file,
                  "YAML configuration file (default: embedded defaults); SIGHUP rereads it");
  run->add_option("--state-dir", daemon_options.state_dir,
                  "Directory for the history (default: state_dir, /var/lib/fleet-agent)");

  ReportArgs report_args;
  CLI::App* report = app.add_subcommand(
      "report", "Print the weekly (or monthly) metrics report from the node's history.");
  report->add_option("--config", report_args.config_file, "YAML configuration file");
  report->add_option("--state-dir", report_args.state_dir, "Directory holding the history");
  report->add_option("--week", report_args.week, "ISO week, e.g. 2026-W48 (default: this week)")
      ->expected(0, 1)
      ->default_str("current");
  report->add_option("--month", report_args.month, "Calendar month, e.g. 2026-11");
  report->add_flag("--json", report_args.json, "Print JSON");

  StatusArgs status_args;
  CLI::App* status = app.add_subcommand(
      "status",
      "Show what the running daemon sees now (last results and their age, history size).");
  status->add_option("--config", status_args.config_file, "YAML configuration file");
  status->add_option("--state-dir", status_args.state_dir, "Directory holding the history");
  status->add_flag("--json", status_args.json, "Print JSON");

  KeyArgs key_args;
  CLI::App* keygen = app.add_subcommand(
      "keygen", "Create the node's Ed25519 key in the state directory (mode 0600).");
  CLI::App* pubkey = app.add_subcommand("pubkey", "Print the node's kid and public key.");
  CLI::App* records =
      app.add_subcommand("records", "Print the signed records, one compact JWS per line.");
  CLI::App* rotate_key = app.add_subcommand(
      "rotate-key",
      "Move the node to a new key: a key_rotate record signed by the old key, in the chain, "
      "carrying the new public key and its proof; later records are signed with the new key.");
  for (CLI::App* sub : {keygen, pubkey, records, rotate_key}) {
    sub->add_option("--config", key_args.config_file, "YAML configuration file");
    sub->add_option("--state-dir", key_args.state_dir, "State directory");
  }
  keygen->add_flag("--force", key_args.force, "Replace an existing key");
  for (CLI::App* sub : {keygen, pubkey}) {
    sub->add_flag("--jwk", key_args.jwk, "Print the public key as a JWK");
  }
  EnrollArgs enroll_args;
  CLI::App* enroll = app.add_subcommand(
      "enroll", "Register this node's key with the receiver at URL, with a one-time token.");
  enroll->add_option("URL", enroll_args.url, "The receiver, e.g. https://receiver.example")
      ->required();
  enroll->add_option("--token", enroll_args.token, "The token from the foundation")->required();
  enroll->add_option("--node", enroll_args.node, "The node id (the configuration's)");
  enroll->add_option("--config", enroll_args.config_file, "YAML configuration file");
  enroll->add_option("--state-dir", enroll_args.state_dir, "State directory");
  std::string verify_file;
  std::string verify_jwk;
  CLI::App* verify = app.add_subcommand(
      "verify", "Check a file of records: signatures, seq continuity, the prev chain.");
  verify->add_option("FILE", verify_file, "Records, one JWS per line")->required();
  verify->add_option("--jwk", verify_jwk, "The node's public JWK file")->required();

  AlertsArgs alerts_args;
  CLI::App* alerts = app.add_subcommand(
      "alerts", "List the open alerts, the maintenance window and each channel's state.");
  alerts->add_option("--config", alerts_args.config_file, "YAML configuration file");
  alerts->add_option("--state-dir", alerts_args.state_dir, "Directory holding the history");
  alerts->add_flag("--json", alerts_args.json, "Print JSON");
  std::string alerts_test_config;
  CLI::App* alerts_test = alerts->add_subcommand(
      "test", "Send a test message to every alert channel and say what each answered.");
  alerts_test->add_option("--config", alerts_test_config, "YAML configuration file")->required();

  AckArgs ack_args;
  std::int64_t ack_incident = 0;
  CLI::App* ack = app.add_subcommand(
      "ack",
      "Acknowledge an incident's alert (all open alerts without INCIDENT); recorded as a "
      "signed ack record.");
  ack->add_option("INCIDENT", ack_incident, "The incident number (fleet-agent alerts lists them)")
      ->check(CLI::PositiveNumber);
  ack->add_option("--note", ack_args.note, "A note for the record and the alert message");
  ack->add_option("--config", ack_args.config_file, "YAML configuration file");
  ack->add_option("--state-dir", ack_args.state_dir, "Directory holding the history");

  MaintenanceArgs maintenance_args;
  CLI::App* maintenance = app.add_subcommand(
      "maintenance",
      "Silence alerts for a while (uptime is still measured); recorded as a signed record.");
  maintenance->add_option("--for", maintenance_args.duration, "How long, e.g. 2h (1m to 30d)");
  maintenance->add_option("--reason", maintenance_args.reason, "Why, for the record");
  maintenance->add_flag("--end", maintenance_args.end, "End the current maintenance window now");
  maintenance->add_option("--config", maintenance_args.config_file, "YAML configuration file");
  maintenance->add_option("--state-dir", maintenance_args.state_dir,
                          "Directory holding the history");

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kUsageError;
  }
  if (check->parsed()) return RunCheckCommand(check_args);
  if (fix->parsed()) return RunFixCommand(fix_args);
  if (config_dropin->parsed()) return RunDropInCommand(dropin_file);
  if (config_check->parsed()) {
    return RunConfigCheck(config_file, *MakeLinuxOs(), std::cout, std::cerr, !no_secrets);
  }
  if (run->parsed()) return RunDaemon(daemon_options);
  if (report->parsed()) {
    if (!report_args.week.empty() && !report_args.month.empty()) {
      std::cerr << "fleet-agent: give --week or --month, not both\n";
      return kUsageError;
    }
    return RunReportCommand(report_args);
  }
  if (status->parsed()) return RunStatusCommand(status_args);
  if (keygen->parsed()) return RunKeygenCommand(key_args);
  if (pubkey->parsed()) return RunPubkeyCommand(key_args);
  if (records->parsed()) return RunRecordsCommand(key_args);
  if (rotate_key->parsed()) return RunRotateKeyCommand(key_args);
  if (enroll->parsed()) return RunEnrollCommand(enroll_args);
  if (verify->parsed()) return RunVerifyCommand(verify_file, verify_jwk);
  if (alerts_test->parsed()) return RunAlertsTestCommand(alerts_test_config);
  if (alerts->parsed()) return RunAlertsCommand(alerts_args);
  if (ack->parsed()) {
    if (ack->count("INCIDENT") > 0) ack_args.incident = ack_incident;
    return RunAckCommand(ack_args);
  }
  if (maintenance->parsed()) {
    if (maintenance_args.end == !maintenance_args.duration.empty()) {
      std::cerr << "fleet-agent: give --for DURATION --reason TEXT, or --end\n";
      return kUsageError;
    }
    if (maintenance_args.end && !maintenance_args.reason.empty()) {
      std::cerr << "fleet-agent: --end takes no --reason\n";
      return kUsageError;
    }
    return RunMaintenanceCommand(maintenance_args);
  }
  return kUsageError;
}

}  // namespace fleet
