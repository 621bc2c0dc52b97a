#include "agent/cli/alert_commands.h"

#include <pwd.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "agent/alerts/alert_channels.h"
#include "agent/alerts/alert_ledger.h"
#include "agent/cli/history_commands.h"
#include "agent/config/alert_secrets.h"
#include "agent/config/config.h"
#include "agent/config/hermes_target.h"
#include "agent/history/history_store.h"
#include "alerting/alert_json.h"
#include "alerting/alert_rules.h"
#include "base/json_text.h"
#include "base/text.h"
#include "base/units.h"
#include "base/utc_time.h"
#include "protocol/records.h"

namespace fleet {
namespace {

using json = nlohmann::json;

constexpr int kRefused = 1;
constexpr int kUsageError = 3;
constexpr auto kAnswerWait = std::chrono::seconds(10);

std::int64_t Now() { return ToUnixSeconds(std::chrono::system_clock::now()); }

json TimeOrNull(std::int64_t t) { return t == 0 ? json() : json(FormatUtc(t)); }

std::string StateOf(const alerting::BookAlert& a) {
  if (a.flapping) return "flapping";
  if (a.ack) return "acknowledged";
  if (a.notified == 0) return "held";
  return "firing";
}

// Who runs the command: the user behind sudo, else the effective user.
std::string Invoker() {
  if (const char* sudo = std::getenv("SUDO_USER"); sudo != nullptr && *sudo != '\0') {
    return TruncateUtf8(PrintableAscii(sudo, 64), protocol::kMaxIdBytes);
  }
  if (const passwd* pw = ::getpwuid(::geteuid()); pw != nullptr) {
    return TruncateUtf8(pw->pw_name, protocol::kMaxIdBytes);
  }
  return "uid " + std::to_string(::geteuid());
}

json ReadStatusAlerts(const std::string& dir) {
  std::ifstream in(dir + "/status.json");
  if (!in) return json();
  std::stringstream text;
  text << in.rdbuf();
  json status = json::parse(text.str(), nullptr, false);
  if (!status.is_object() || !status.contains("alerts")) return json();
  return status["alerts"];
}

Result<json> BuildView(const std::string& dir, const std::string& node) {
  auto ledger = AlertLedger::Open(dir, true);
  if (!ledger) return Error{ledger.error()};
  json view = {{"node", node}, {"now", FormatUtc(Now())}};
  json alerts = json::array();
  view["maintenance_until"] = nullptr;
  auto saved = (*ledger)->LoadBook();
  if (!saved) return Error{saved.error()};
  if (*saved) {
    auto book = alerting::AlertBook::Load(**saved, {});
    if (!book) return Error{book.error()};
    if (book->InMaintenance(Now()))
      view["maintenance_until"] = FormatUtc(book->maintenance_until());
    for (const auto& [id, a] : book->alerts()) {
      json checks = json::array();
      for (const auto& c : a.checks) {
        checks.push_back({{"name", c.name},
                          {"severity", alerting::SeverityName(c.severity)},
                          {"summary", c.summary}});
      }
      json entry = {{"id", id},
                    {"state", StateOf(a)},
                    {"checks", checks},
                    {"opened", FormatUtc(a.opened)},
                    {"notified", TimeOrNull(a.notified)},
                    {"acked_by", nullptr},
                    {"acked_via", nullptr},
                    {"acked_at", nullptr}};
      if (a.ack) {
        entry["acked_by"] = a.ack->by;
        entry["acked_via"] = a.ack->via;
        entry["acked_at"] = FormatUtc(a.ack->at);
      }
      alerts.push_back(std::move(entry));
    }
  }
  view["alerts"] = alerts;
  json incidents = json::array();
  auto history = HistoryStore::Open(dir, true, node, FLEET_VERSION);
  if (history) {
    auto open = (*history)->OpenIncidents();
    if (!open) return Error{open.error()};
    for (const auto& i : *open) {
      incidents.push_back({{"id", i.id},
                           {"check", i.check},
                           {"opened", FormatUtc(i.opened)},
                           {"summary", i.summary}});
    }
  }
  view["open_incidents"] = incidents;
  auto counts = (*ledger)->Counts();
  if (!counts) return Error{counts.error()};
  const json status = ReadStatusAlerts(dir);
  json channels = json::array();
  std::map<std::string, json> by_name;
  if (status.is_object() && status.contains("channels") && status["channels"].is_array()) {
    for (const json& c : status["channels"]) {
      if (c.is_object() && c.contains("name") && c["name"].is_string()) by_name[c["name"]] = c;
    }
  }
  for (const auto& [name, c] : *counts) by_name.try_emplace(name, json{{"name", name}});
  for (auto& [name, c] : by_name) {
    auto it = counts->find(name);
    const ChannelCounts n = it == counts->end() ? ChannelCounts{} : it->second;
    c["pending"] = n.pending;
    c["failed"] = n.failed;
    c["dropped"] = n.dropped;
    if (!c.contains("state")) c["state"] = "unknown (the daemon does not send on it now)";
    channels.push_back(c);
  }
  view["channels"] = channels;
  return view;
}

std::string Text(const json& j) { return j.is_string() ? j.get<std::string>() : std::string("-"); }

int PrintAnswer(const InboxAnswer& answer) {
  if (answer.ok) {
    std::cout << answer.text << "\n";
    return 0;
  }
  std::cerr << "fleet-agent: " << answer.text << "\n";
  return kRefused;
}

// Queues a request for the daemon and waits for its answer; withdraws it when none comes.
int AskDaemon(const std::string& dir, const std::string& kind, const json& payload) {
  auto ledger = AlertLedger::Open(dir, false);
  if (!ledger) {
    std::cerr << "fleet-agent: cannot open " << dir << "/history.db: " << ledger.error()
              << " (run as root or the fleet-agent user)\n";
    return kRefused;
  }
  auto id = (*ledger)->Request(kind, payload, Now());
  if (!id) {
    std::cerr << "fleet-agent: " << id.error() << "\n";
    return kRefused;
  }
  const auto deadline = std::chrono::steady_clock::now() + kAnswerWait;
  for (;;) {
    auto answer = (*ledger)->AnswerOf(*id);
    if (!answer) {
      std::cerr << "fleet-agent: " << answer.error() << "\n";
      return kRefused;
    }
    if (*answer) return PrintAnswer(**answer);
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  auto withdrawn = (*ledger)->Withdraw(*id, Now());
  if (withdrawn && !*withdrawn) {  // answered between the last look and the withdrawal
    auto answer = (*ledger)->AnswerOf(*id);
    if (answer && *answer) return PrintAnswer(**answer);
  }
  std::cerr << "fleet-agent: the daemon did not answer within "
            << FormatDuration(std::chrono::duration_cast<std::chrono::seconds>(kAnswerWait))
            << " (is it running? systemctl status fleet-agent); nothing was done\n";
  return kRefused;
}

}  // namespace

std::string FormatAlertsTable(const json& view) {
  std::ostringstream out;
  const json& alerts = view["alerts"];
  if (alerts.empty()) {
    out << "No open alerts on " << Text(view["node"]) << ".\n";
  } else {
    out << "ALERT  STATE         CHECKS                    OPENED                 ACKNOWLEDGED\n";
    for (const json& a : alerts) {
      std::string checks;
      for (const json& c : a["checks"]) checks += (checks.empty() ? "" : ", ") + Text(c["name"]);
      std::string ack = "-";
      if (a["acked_by"].is_string()) {
        ack = Text(a["acked_by"]) + " via " + Text(a["acked_via"]) + " at " + Text(a["acked_at"]);
      }
      char line[512];
      std::snprintf(line, sizeof line, "%-6s %-13s %-25s %-22s %s\n",
                    std::to_string(a["id"].get<std::int64_t>()).c_str(), Text(a["state"]).c_str(),
                    checks.c_str(), Text(a["opened"]).c_str(), ack.c_str());
      out << line;
      for (const json& c : a["checks"]) {
        out << "       " << Text(c["name"]) << ": " << Text(c["summary"]) << "\n";
      }
    }
  }
  if (!view["open_incidents"].empty()) {
    out << "\nOpen incidents (fleet-agent ack INCIDENT):\n";
    for (const json& i : view["open_incidents"]) {
      out << "  " << i["id"].get<std::int64_t>() << "  " << Text(i["check"]) << " since "
          << Text(i["opened"]) << ": " << Text(i["summary"]) << "\n";
    }
  }
  if (view["maintenance_until"].is_string()) {
    out << "\nMaintenance: alerts silenced until " << Text(view["maintenance_until"]) << "\n";
  }
  out << "\nChannels:";
  if (view["channels"].empty()) out << " none configured (alerts: in the configuration)";
  out << "\n";
  for (const json& c : view["channels"]) {
    out << "  " << Text(c["name"]) << ": " << Text(c["state"]);
    if (c.contains("last_error") && c["last_error"].is_string() && Text(c["state"]) != "ok") {
      out << " (" << Text(c["last_error"]) << ")";
    }
    out << "; " << c.value("sent", 0) << " sent, " << c["pending"].get<std::int64_t>()
        << " waiting";
    if (c["failed"].get<std::int64_t>() > 0)
      out << ", " << c["failed"].get<std::int64_t>() << " refused";
    if (c["dropped"].get<std::int64_t>() > 0) {
      out << ", " << c["dropped"].get<std::int64_t>() << " dropped";
    }
    out << "\n";
  }
  return out.str();
}

int RunAlertsCommand(const AlertsArgs& args) {
  std::string node;
  auto dir = ResolveStateDir(args.config_file, args.state_dir, &node);
  if (!dir) return kUsageError;
  auto view = BuildView(*dir, node);
  if (!view) {
    std::cerr << "fleet-agent: reading the alerts in " << *dir << ": " << view.error() << "\n";
    return kRefused;
  }
  if (args.json) {
    std::cout << view->dump(2, ' ', false, json::error_handler_t::replace) << "\n";
  } else {
    std::cout << FormatAlertsTable(*view);
  }
  return 0;
}

int RunAlertsTestCommand(const std::string& config_file) {
  if (config_file.empty()) {
    std::cerr << "fleet-agent: alerts test needs --config FILE with an alerts: section\n";
    return kUsageError;
  }
  ConfigLoad load = LoadConfigFile(config_file);
  if (!load.config) {
    for (const auto& e : load.errors) std::cerr << e.ToString() << "\n";
    return kUsageError;
  }
  const AgentConfig& config = *load.config;
  if (!config.alerts.enabled()) {
    std::cerr << "fleet-agent: " << config_file << " configures no alert channel (alerts:)\n";
    return kUsageError;
  }
  const char* credentials = std::getenv("CREDENTIALS_DIRECTORY");
  auto secrets = LoadAlertSecrets(config.alerts, *MakeLinuxOs(), credentials ? credentials : "");
  if (!secrets) {
    std::cerr << "fleet-agent: alerts: " << secrets.error() << "\n";
    return kUsageError;
  }
  auto transport = alerting::MakeCurlChatTransport({});
  if (!transport) {
    std::cerr << "fleet-agent: " << transport.error() << "\n";
    return kRefused;
  }
  alerting::Alert alert;
  alert.node = ResolveNodeId(config);
  alert.checks.push_back({"test", alerting::Severity::kWarning,
                          "fleet-agent alerts test: if you read this, alerts reach you here.", ""});
  alert.severity = alerting::Severity::kWarning;
  alert.opened = Now();
  alert.test = true;
  int failed = 0;
  for (auto& named : MakeAlertChannels(config.alerts, *secrets, **transport)) {
    const alerting::ApiAnswer answer = named.channel->Send(alert);
    std::cout << named.name << ": ";
    switch (answer.verdict) {
      case alerting::ApiVerdict::kDone:
        std::cout << "sent"
                  << (answer.message_id.empty() ? "" : " (message " + answer.message_id + ")")
                  << "\n";
        continue;
      case alerting::ApiVerdict::kRateLimited:
        std::cout << "rate limited: " << answer.error << "\n";
        break;
      case alerting::ApiVerdict::kRefused:
        std::cout << "REFUSED: " << answer.error << "\n";
        break;
      case alerting::ApiVerdict::kRetryLater:
      case alerting::ApiVerdict::kConflict:
        std::cout << "not sent: " << answer.error << "\n";
        break;
    }
    ++failed;
  }
  return failed == 0 ? 0 : kRefused;
}

int RunAckCommand(const AckArgs& args) {
  auto dir = ResolveStateDir(args.config_file, args.state_dir, nullptr);
  if (!dir) return kUsageError;
  if (args.note.size() > protocol::kMaxTextBytes || !IsPlainUtf8Text(args.note)) {
    std::cerr << "fleet-agent: --note must be UTF-8 text of at most " << protocol::kMaxTextBytes
              << " bytes\n";
    return kUsageError;
  }
  json payload = {{"incident", args.incident ? json(*args.incident) : json()},
                  {"note", args.note.empty() ? json() : json(args.note)},
                  {"by", Invoker()}};
  return AskDaemon(*dir, "ack", payload);
}

int RunMaintenanceCommand(const MaintenanceArgs& args) {
  auto dir = ResolveStateDir(args.config_file, args.state_dir, nullptr);
  if (!dir) return kUsageError;
  json payload = {{"by", Invoker()}};
  if (args.end) {
    payload["end"] = true;
    return AskDaemon(*dir, "maintenance", payload);
  }
  auto duration = ParseDuration(args.duration);
  if (!duration || duration->count() < 60'000 || *duration > std::chrono::hours(24 * 30)) {
    std::cerr << "fleet-agent: --for takes a duration from 1m to 30d, like 2h\n";
    return kUsageError;
  }
  if (args.reason.empty() || args.reason.size() > protocol::kMaxTextBytes ||
      !IsPlainUtf8Text(args.reason)) {
    std::cerr << "fleet-agent: --reason must say why, in at most " << protocol::kMaxTextBytes
              << " bytes of UTF-8\n";
    return kUsageError;
  }
  payload["seconds"] = duration->count() / 1000;
  payload["reason"] = args.reason;
  return AskDaemon(*dir, "maintenance", payload);
}

}  // namespace fleet
