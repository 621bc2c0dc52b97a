#include "receiver/cli/receiver_cli.h"

#include "receiver/cli/alert_commands.h"
#include "receiver/cli/report_commands.h"
#include "receiver/cli/statement_commands.h"
#include "receiver/cli/token_commands.h"
#include "receiver/config/receiver_config.h"

#include <CLI/CLI.hpp>
#include <iostream>
#include <map>

namespace fleet::receiver {

namespace {

// Reads receiver.yaml; nullopt after printing its errors.
std::optional<ReceiverConfig> LoadConfig(const std::string& file) {
  ParsedReceiverConfig parsed = ReadReceiverConfig(file);
  for (const auto& error : parsed.errors) std::cerr << "fleet-receiver: " << error << "\n";
  if (!parsed.errors.empty()) return std::nullopt;
  return std::move(parsed.config);
}

bool Given(CLI::App* command, const std::string& flag) {
  return command->get_option(flag)->count() > 0;
}

// receiver.yaml under the flags: a flag given on the command line wins over the file.
void ApplyServeConfig(const ReceiverConfig& c, CLI::App* serve, ServeArgs& args) {
  if (!c.listen.empty() && !Given(serve, "--listen")) args.listen = c.listen;
  if (!Given(serve, "--db")) args.db = c.database.value_or(kDefaultReceiverDb);
  if (c.tls && !Given(serve, "--tls-cert") && !Given(serve, "--tls-key")) {
    args.tls_cert = c.tls->cert;
    args.tls_key = c.tls->key;
  }
  if (c.threads && !Given(serve, "--threads")) args.threads = *c.threads;
  if (c.max_connections && !Given(serve, "--max-connections")) {
    args.max_connections = *c.max_connections;
  }
  if (c.max_connections_per_peer && !Given(serve, "--max-connections-per-peer")) {
    args.max_connections_per_peer = *c.max_connections_per_peer;
  }
  if (c.read_timeout_s && !Given(serve, "--read-timeout")) args.read_timeout_s = *c.read_timeout_s;
  if (c.alerts_file && !Given(serve, "--alerts")) args.alerts_file = *c.alerts_file;
  args.silent_after_s = c.silent_after_s;
  if (c.metrics && !Given(serve, "--metrics")) args.metrics = *c.metrics;
  if (c.dashboard && !Given(serve, "--dashboard")) args.dashboard = *c.dashboard;
  if (c.close_months && !Given(serve, "--close-months")) args.close_months = *c.close_months;
  if (c.close_after && !Given(serve, "--close-after")) args.close_after = *c.close_after;
  if (c.statement_key && !Given(serve, "--statement-key")) args.statement_key = *c.statement_key;
  if (c.live_within) args.live_within = *c.live_within;
  if (c.late_minutes) args.late_minutes = *c.late_minutes;
}

void ApplyReportConfig(const ReceiverConfig& c, CLI::App* report, ReportArgs& args) {
  if (!Given(report, "--db")) args.db = c.database.value_or(kDefaultReceiverDb);
  if (c.live_within && !Given(report, "--live-within")) args.live_within = *c.live_within;
  if (c.late_minutes && !Given(report, "--late-minutes")) args.late_minutes = *c.late_minutes;
}

}  // namespace

int RunReceiverCli(int argc, char** argv) {
  CLI::App app{"fleet-receiver: verifies and stores the records fleet agents push."};
  app.require_subcommand(1);

  ServeArgs serve_args;
  std::string serve_config;
  CLI::App* serve = app.add_subcommand("serve", "Accept records over HTTP (POST /v1/records).");
  serve->add_option("--config", serve_config,
                    "receiver.yaml (e.g. /etc/fleet-receiver/receiver.yaml); flags override it");
  serve
      ->add_option("--listen", serve_args.listen,
                   "host:port to listen on (port 0: any free); repeat for several")
      ->capture_default_str();
  serve->add_option("--db", serve_args.db,
                    "SQLite file (created when missing) or postgresql:// URI (required without "
                    "--config; with it, default " +
                        std::string(kDefaultReceiverDb) + ")");
  serve->add_option("--threads", serve_args.threads, "Threads serving HTTP")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  serve
      ->add_option("--max-connections", serve_args.max_connections,
                   "Open connections at most; more are closed")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  serve
      ->add_option("--max-connections-per-peer", serve_args.max_connections_per_peer,
                   "Open connections from one address at most; more are closed (0: no limit, "
                   "for a proxy in front)")
      ->check(CLI::Range(0, 100000))
      ->capture_default_str();
  serve
      ->add_option("--read-timeout", serve_args.read_timeout_s,
                   "Seconds a client has to send one request")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  serve->add_option("--alerts", serve_args.alerts_file,
                    "YAML file: alert operators and the foundation (Telegram, Discord, webhook)");
  serve->add_option("--tls-cert", serve_args.tls_cert,
                    "PEM certificate chain: serve HTTPS only (TLS 1.2+; reloaded on SIGHUP)");
  serve->add_option("--tls-key", serve_args.tls_key, "PEM private key of --tls-cert");
  serve->add_flag("--close-months", serve_args.close_months,
                  "Close each month's statement once --close-after has passed since its end");
  serve->add_option("--close-after", serve_args.close_after, "The months' verification window")
      ->capture_default_str();
  serve->add_option("--statement-key", serve_args.statement_key,
                    "Receiver key file for closed statements (default: beside the database)");
  serve
      ->add_option("--metrics", serve_args.metrics,
                   "on: GET /metrics in the Prometheus text format (no token, like /healthz); "
                   "token: only with an admin token (Authorization: Bearer); off")
      ->check(CLI::IsMember({"on", "off", "token"}))
      ->capture_default_str();
  serve
      ->add_option("--dashboard", serve_args.dashboard,
                   "on: the web dashboard and the /v1 JSON API (tokens: fleet-receiver tokens)")
      ->transform(
          CLI::CheckedTransformer(std::map<std::string, bool>{{"on", true}, {"off", false}}))
      ->default_str("on");

  std::string checked_config;
  CLI::App* config_command = app.add_subcommand("config", "receiver.yaml.");
  config_command->require_subcommand(1);
  CLI::App* config_check = config_command->add_subcommand(
      "check", "Check receiver.yaml: 'valid', or every error with file:line:column (exit 2).");
  config_check->add_option("FILE", checked_config, "The file")->required();

  CLI::App* nodes = app.add_subcommand("nodes", "The registry of node keys.");
  nodes->require_subcommand(1);
  NodeAddArgs add_args;
  CLI::App* add = nodes->add_subcommand("add", "Register a node and its public key.");
  add->add_option("--db", add_args.db, "SQLite file or postgresql:// URI")->required();
  add->add_option("--node", add_args.node, "Node id, as in the agent's node.id")->required();
  add->add_option("--operator", add_args.operator_id, "Operator id")->required();
  add->add_option("--jwk", add_args.jwk_file, "File with the public JWK (fleet-agent pubkey --jwk)")
      ->required();
  std::string db;
  bool json = false;
  CLI::App* list = nodes->add_subcommand("list", "List the registered nodes.");
  list->add_option("--db", db, "SQLite file or postgresql:// URI")->required();
  list->add_flag("--json", json, "Print JSON");
  RevokeArgs revoke_args;
  CLI::App* revoke = nodes->add_subcommand(
      "revoke", "Refuse the records a node signs after a time (those before still count).");
  revoke->add_option("--db", revoke_args.db, "SQLite file or postgresql:// URI")->required();
  revoke->add_option("--node", revoke_args.id, "Node id")->required();
  revoke->add_option("--at", revoke_args.at,
                     "From when: 2026-11-25T10:00:00Z, or a date for its 00:00 UTC (default: now)");
  revoke->add_option("--reason", revoke_args.reason, "Why (the node is told with each refusal)")
      ->required();

  // The registry beyond node keys, and the monthly reports.
  EnrollTokenArgs enroll_args;
  CLI::App* enroll_token = app.add_subcommand(
      "enroll-token",
      "Print a one-time token a node enrols with (fleet-agent enroll URL --token TOKEN).");
  enroll_token->add_option("--db", enroll_args.db, "SQLite file or postgresql:// URI")->required();
  enroll_token->add_option("--operator", enroll_args.operator_id, "The operator the node joins")
      ->required();
  enroll_token->add_option("--node", enroll_args.node, "Only this node id may enrol with it");
  enroll_token->add_option("--ttl", enroll_args.ttl, "How long it is good for (default 24h)");
  CLI::App* operators = app.add_subcommand("operators", "The operators (id, name, start date).");
  operators->require_subcommand(1);
  OperatorAddArgs operator_args;
  CLI::App* operator_add = operators->add_subcommand("add", "Add an operator (or update it).");
  operator_add->add_option("--db", operator_args.db, "Receiver database")->required();
  operator_add->add_option("--id", operator_args.id, "Operator id")->required();
  operator_add->add_option("--name", operator_args.name, "Operator name")->required();
  operator_add->add_option("--since", operator_args.since, "Start date, YYYY-MM-DD")->required();
  RevokeArgs operator_revoke_args;
  CLI::App* operator_revoke = operators->add_subcommand(
      "revoke", "An operator leaves: revoke all their nodes, enrol none for them again.");
  operator_revoke->add_option("--db", operator_revoke_args.db, "Receiver database")->required();
  operator_revoke->add_option("--id,--operator", operator_revoke_args.id, "Operator id")
      ->required();
  operator_revoke->add_option(
      "--at", operator_revoke_args.at,
      "From when: 2026-11-25T10:00:00Z, or a date for its 00:00 UTC (default: now)");
  operator_revoke
      ->add_option("--reason", operator_revoke_args.reason,
                   "Why (their nodes are told with each refusal)")
      ->required();
  CLI::App* operator_list = operators->add_subcommand("list", "List the operators.");
  operator_list->add_option("--db", db, "Receiver database")->required();
  operator_list->add_flag("--json", json, "Print JSON");
  OperatorChannelsArgs channels_args;
  CLI::App* operator_channels = operators->add_subcommand(
      "channels",
      "Where an operator's alerts go: a Telegram chat and its ackers, a Discord webhook.");
  operator_channels->add_option("--db", channels_args.db, "Receiver database")->required();
  operator_channels->add_option("--id", channels_args.id, "Operator id")->required();
  operator_channels->add_option("--telegram-chat", channels_args.telegram_chat,
                                "Telegram chat id (-1001234567890) or @channel");
  operator_channels->add_option("--ackers", channels_args.ackers,
                                "Telegram user ids allowed to acknowledge there: 123,456");
  operator_channels->add_option(
      "--discord-webhook-file", channels_args.discord_webhook_file,
      "File holding the Discord webhook URL (a secret: stored, never shown)");
  operator_channels->add_flag("--clear", channels_args.clear,
                              "Remove the channels first (alone: the operator has none)");

  // The dashboard's access tokens (token_commands.h).
  CLI::App* tokens = app.add_subcommand("tokens", "Access tokens of the dashboard and its API.");
  tokens->require_subcommand(1);
  TokenAddArgs token_args;
  CLI::App* token_add = tokens->add_subcommand(
      "add", "Issue a token for an operator or the admin; it is printed once, kept hashed.");
  token_add->add_option("--db", token_args.db, "SQLite file or postgresql:// URI")->required();
  CLI::Option* token_operator =
      token_add->add_option("--operator", token_args.operator_id, "Sees this operator only");
  token_add->add_flag("--admin", token_args.admin, "Sees every operator (the foundation)")
      ->excludes(token_operator);
  token_add->add_option("--label", token_args.label, "What it is for (shown by tokens list)");
  token_add->add_option("--ttl", token_args.ttl, "How long it is good for, or never")
      ->capture_default_str();
  std::string token_db, token_id;
  bool tokens_json = false;
  CLI::App* token_list =
      tokens->add_subcommand("list", "List the tokens (never the tokens' text).");
  token_list->add_option("--db", token_db, "SQLite file or postgresql:// URI")->required();
  token_list->add_flag("--json", tokens_json, "Print JSON");
  CLI::App* token_revoke =
      tokens->add_subcommand("revoke", "Revoke a token; its login sessions end with it.");
  token_revoke->add_option("--db", token_db, "SQLite file or postgresql:// URI")->required();
  token_revoke->add_option("ID", token_id, "The token's id (t-...)")->required();

  AckArgs ack_args;
  CLI::App* ack = app.add_subcommand(
      "ack", "Acknowledge an alert (applied by the running alert worker, via receiver).");
  ack->add_option("--db", ack_args.db, "Receiver database")->required();
  ack->add_option("ALERT", ack_args.alert, "The alert's number (fleet-receiver alerts)")
      ->required();
  ack->add_option("--by", ack_args.by, "Who acknowledges (default: $SUDO_USER or $USER)");
  ack->add_option("--note", ack_args.note, "A note kept with the acknowledgement");
  bool alerts_json = false;
  CLI::App* alerts = app.add_subcommand(
      "alerts", "Open alerts per node and operator, the outbox per channel, who works and polls.");
  alerts->add_option("--db", db, "Receiver database")->required();
  alerts->add_flag("--json", alerts_json, "Print JSON");
  CLI::App* referrals = app.add_subcommand("referrals", "Partner referrals.");
  referrals->require_subcommand(1);
  ReferralAddArgs referral_args;
  CLI::App* referral_add = referrals->add_subcommand("add", "A partner referred an operator.");
  referral_add->add_option("--db", referral_args.db, "Receiver database")->required();
  referral_add->add_option("--partner", referral_args.partner, "Partner operator id")->required();
  referral_add->add_option("--referred", referral_args.referred, "Referred operator id")
      ->required();
  referral_add->add_option("--date", referral_args.date, "Referral date, YYYY-MM-DD")->required();
  std::string registry_file;
  CLI::App* registry = app.add_subcommand("registry", "The whole registry at once.");
  registry->require_subcommand(1);
  CLI::App* import = registry->add_subcommand(
      "import", "Import operators (with their nodes and keys) and referrals from a YAML file.");
  import->add_option("--db", db, "Receiver database")->required();
  import->add_option("FILE", registry_file, "YAML file")->required();
  ReportArgs report_args;
  std::string report_config;
  auto add_report = [&](const char* name, const char* about) {
    CLI::App* report = app.add_subcommand(name, about);
    report->add_option("--config", report_config,
                       "receiver.yaml: the database and the reports: policy (flags override it)");
    report->add_option("--db", report_args.db, "Receiver database (required without --config)");
    report->add_option("--month", report_args.month, "Calendar month, UTC: YYYY-MM")->required();
    report->add_flag("--json{json}", report_args.format, "Print JSON");
    report->add_flag("--csv{csv}", report_args.format, "Print CSV");
    report
        ->add_option("--live-within", report_args.live_within,
                     "An up minute (an acknowledgement) is live when it arrived within this "
                     "after the minute (after it was given)")
        ->capture_default_str();
    report
        ->add_option("--late-minutes", report_args.late_minutes,
                     "Whether late (spooled) up minutes count toward the uptime bonus, and "
                     "late acknowledgements toward the alert bonus")
        ->check(CLI::IsMember({"count", "ignore"}))
        ->capture_default_str();
    return report;
  };
  CLI::App* uptime =
      add_report("uptime", "Monthly uptime, tasks and incidents per node and operator.");
  CLI::App* statement = add_report("statement", "Monthly payout statement per operator.");
  // Closed statements (statement_commands.h): `statement --month` needs --month; its
  // subcommands take their own flags.
  statement->get_option("--month")->required(false);
  StatementCloseArgs close_args;
  std::string close_config, statement_key, export_out, verify_path, verify_key;
  CLI::App* close = statement->add_subcommand(
      "close", "Freeze a month: store its statement signed by the receiver's key.");
  close->add_option("--config", close_config, "receiver.yaml: the database and policy");
  close->add_option("--db", close_args.report.db, "Receiver database");
  close->add_option("--month", close_args.report.month, "Calendar month, UTC: YYYY-MM")->required();
  close->add_option("--key", statement_key,
                    "Receiver key file (default: receiver-statement.key beside the database)");
  close->add_option("--live-within", close_args.report.live_within)->capture_default_str();
  close->add_option("--late-minutes", close_args.report.late_minutes)
      ->check(CLI::IsMember({"count", "ignore"}))
      ->capture_default_str();
  ReportArgs export_args;
  CLI::App* export_command = statement->add_subcommand(
      "export", "Write a closed month: statement, signature, records (NDJSON), receiver key.");
  export_command->add_option("--db", export_args.db, "Receiver database")->required();
  export_command->add_option("--month", export_args.month, "YYYY-MM")->required();
  export_command->add_option("--out", export_out, "Directory")->required();
  export_command->add_option("--key", statement_key, "Receiver key file");
  CLI::App* verify = statement->add_subcommand(
      "verify", "Recompute an exported closed statement from its records; check the signature.");
  verify->add_option("PATH", verify_path, "Export directory or its statement.jws")->required();
  verify->add_option("--key", verify_key,
                     "The receiver's public JWK (default: receiver-key.jwk in the export)");
  ReportArgs payout_args;
  CLI::App* payouts = statement->add_subcommand(
      "payouts", "Per operator of a closed month: wallet, chain, token, amount.");
  payouts->add_option("--db", payout_args.db, "Receiver database")->required();
  payouts->add_option("--month", payout_args.month, "YYYY-MM")->required();
  payouts->add_flag("--csv{csv}", payout_args.format, "Print CSV");
  CLI::App* key_command = app.add_subcommand("key", "The receiver's own signing key.");
  key_command->require_subcommand(1);
  std::string key_db;
  CLI::App* key_show = key_command->add_subcommand(
      "show", "Print the receiver's public key as a JWK (made on first use).");
  key_show->add_option("--db", key_db, "Receiver database (its directory holds the key)");
  key_show->add_option("--key", statement_key, "Receiver key file");

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "fleet-receiver: " << e.what() << " (see --help)\n";
    return kExitUsage;
  }
  if (close->parsed()) {
    if (!close_config.empty()) {
      auto config = LoadConfig(close_config);
      if (!config) return kExitUsage;
      ApplyReportConfig(*config, close, close_args.report);
    }
    if (close_args.report.db.empty()) {
      std::cerr << "fleet-receiver: --db or --config is required (see --help)\n";
      return kExitUsage;
    }
    close_args.key = statement_key;
    return RunStatementClose(close_args);
  }
  if (export_command->parsed()) return RunStatementExport(export_args, statement_key, export_out);
  if (verify->parsed()) return RunStatementVerify(verify_path, verify_key);
  if (payouts->parsed()) return RunStatementPayouts(payout_args);
  if (key_show->parsed()) {
    if (key_db.empty() && statement_key.empty()) {
      std::cerr << "fleet-receiver: --db or --key is required (see --help)\n";
      return kExitUsage;
    }
    return RunKeyShow(key_db, statement_key);
  }
  if (statement->parsed() && report_args.month.empty()) {
    std::cerr << "fleet-receiver: statement: --month is required (see --help)\n";
    return kExitUsage;
  }
  if (serve->parsed() || uptime->parsed() || statement->parsed()) {
    CLI::App* command = serve->parsed() ? serve : uptime->parsed() ? uptime : statement;
    const std::string& config_file = serve->parsed() ? serve_config : report_config;
    if (!config_file.empty()) {
      auto config = LoadConfig(config_file);
      if (!config) return kExitUsage;
      if (serve->parsed()) {
        ApplyServeConfig(*config, command, serve_args);
      } else {
        ApplyReportConfig(*config, command, report_args);
      }
    }
    if ((serve->parsed() ? serve_args.db : report_args.db).empty()) {
      std::cerr << "fleet-receiver: --db or --config is required (see --help)\n";
      return kExitUsage;
    }
  }
  if (serve->parsed()) return RunServe(serve_args);
  if (config_check->parsed()) {
    if (!LoadConfig(checked_config)) return kExitUsage;
    std::cout << checked_config << ": valid\n";
    return 0;
  }
  if (add->parsed()) return RunNodesAdd(add_args);
  if (list->parsed()) return RunNodesList(db, json);
  if (revoke->parsed()) return RunNodesRevoke(revoke_args);
  if (enroll_token->parsed()) return RunEnrollToken(enroll_args);
  if (operator_revoke->parsed()) return RunOperatorsRevoke(operator_revoke_args);
  if (operator_add->parsed()) return RunOperatorsAdd(operator_args);
  if (operator_list->parsed()) return RunOperatorsList(db, json);
  if (operator_channels->parsed()) return RunOperatorChannels(channels_args);
  if (token_add->parsed()) return RunTokensAdd(token_args);
  if (token_list->parsed()) return RunTokensList(token_db, tokens_json);
  if (token_revoke->parsed()) return RunTokensRevoke(token_db, token_id);
  if (ack->parsed()) return RunAck(ack_args);
  if (alerts->parsed()) return RunAlertsList(db, alerts_json);
  if (referral_add->parsed()) return RunReferralsAdd(referral_args);
  if (import->parsed()) return RunRegistryImport(db, registry_file);
  if (uptime->parsed()) return RunUptimeReport(report_args);
  if (statement->parsed()) return RunStatement(report_args);
  return kExitUsage;
}

}  // namespace fleet::receiver
