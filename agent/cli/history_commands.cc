#include "agent/cli/history_commands.h"

#include <sys/stat.h>

#include <iostream>

#include "agent/check/check_report.h"
#include "agent/config/config.h"
#include "agent/config/hermes_target.h"
#include "agent/report/metrics_report.h"

namespace fleet {
namespace {

constexpr int kStateError = 1;
constexpr int kUsageError = 3;

}  // namespace

std::optional<std::string> ResolveStateDir(const std::string& config_file,
                                           const std::string& state_dir, std::string* node) {
  AgentConfig config = DefaultConfig();
  if (!config_file.empty()) {
    ConfigLoad load = LoadConfigFile(config_file);
    if (!load.config) {
      for (const auto& e : load.errors) std::cerr << e.ToString() << "\n";
      return std::nullopt;
    }
    config = *load.config;
  }
  if (node) *node = ResolveNodeId(config);
  return state_dir.empty() ? config.state_dir : state_dir;
}

namespace {

Result<std::unique_ptr<HistoryStore>> OpenHistory(const std::string& dir, const std::string& node) {
  struct stat st {};
  if (::stat((dir + "/history.db").c_str(), &st) != 0) {
    return Error{"no history in " + dir +
                 " (has `fleet-agent run` run here? --state-dir names another directory)"};
  }
  return HistoryStore::Open(dir, true, node, FLEET_VERSION);
}

// Text of a string field, or `fallback` (status.json is ours, but may be from another version).
std::string Field(const nlohmann::json& object, const char* key, const std::string& fallback) {
  if (!object.is_object()) return fallback;
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return fallback;
  return it->is_string() ? it->get<std::string>() : it->dump();
}

void PrintSpoolAndPush(const nlohmann::json& status) {
  if (auto spool = status.find("spool"); spool != status.end() && spool->is_object()) {
    std::cout << "spool: " << Field(*spool, "records", "?") << " records awaiting acknowledgement ("
              << Field(*spool, "percent", "?") << "% of spool.max_size), epoch "
              << Field(*spool, "epoch", "?") << ", next seq " << Field(*spool, "next_seq", "?");
    if (Field(*spool, "full", "false") == "true") std::cout << "; FULL: detail records are shed";
    if (Field(*spool, "shed_records", "0") != "0") {
      std::cout << "; " << Field(*spool, "shed_records", "?") << " detail records shed so far";
    }
    std::cout << "\n";
  }
  if (auto push = status.find("push"); push != status.end() && push->is_object()) {
    const std::string state = Field(*push, "state", "?");
    if (state == "off") {
      std::cout << "push: off (no upstream.url; records stay in the spool)\n";
      return;
    }
    std::cout << "push: " << state << " to " << Field(*push, "url", "?")
              << "; last acknowledgement " << Field(*push, "last_ack", "never") << ", "
              << Field(*push, "records_acknowledged", "0") << " records acknowledged since start\n";
    if (Field(*push, "failures_in_a_row", "0") != "0") {
      std::cout << "  " << Field(*push, "failures_in_a_row", "?")
                << " failures in a row; last error: " << Field(*push, "last_error", "?")
                << "\n  next attempt " << Field(*push, "next_attempt", "soon") << "\n";
    }
  }
}

}  // namespace

int RunReportCommand(const ReportArgs& args) {
  std::string node;
  auto dir = ResolveStateDir(args.config_file, args.state_dir, &node);
  if (!dir) return kUsageError;
  const UnixSeconds now = ToUnixSeconds(std::chrono::system_clock::now());
  Period period = IsoWeekOf(now);
  if (!args.month.empty()) {
    auto month = ParseMonth(args.month);
    if (!month) {
      std::cerr << "fleet-agent: --month '" << args.month << "' is not YYYY-MM\n";
      return kUsageError;
    }
    period = *month;
  } else if (!args.week.empty() && args.week != "current") {
    auto week = ParseIsoWeek(args.week);
    if (!week) {
      std::cerr << "fleet-agent: --week '" << args.week << "' is not an ISO week like 2026-W48\n";
      return kUsageError;
    }
    period = *week;
  }
  auto store = OpenHistory(*dir, node);
  if (!store) {
    std::cerr << "fleet-agent: " << store.error() << "\n";
    return kStateError;
  }
  auto counts = (*store)->CountMinutes(period.begin, period.end);
  auto tasks = (*store)->Tasks(period.begin, period.end);
  auto incidents = (*store)->Incidents(period.begin, period.end);
  auto disks = (*store)->DiskSamples(period.begin, period.end);
  for (const std::string* error :
       {counts ? nullptr : &counts.error(), tasks ? nullptr : &tasks.error(),
        incidents ? nullptr : &incidents.error(), disks ? nullptr : &disks.error()}) {
    if (error) {
      std::cerr << "fleet-agent: reading the history in " << *dir << ": " << *error << "\n";
      return kStateError;
    }
  }
  MetricsReport report =
      ComputeReport(node, period, now, *counts, *tasks, std::move(incidents).value(), *disks);
  if (args.json) {
    std::cout << ReportToJson(report).dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
              << "\n";
  } else {
    std::cout << FormatReport(report);
  }
  return 0;
}

int RunStatusCommand(const StatusArgs& args) {
  std::string node;
  auto dir = ResolveStateDir(args.config_file, args.state_dir, &node);
  if (!dir) return kUsageError;
  auto os = MakeLinuxOs();
  auto text = os->ReadFile(*dir + "/status.json", 1 << 20);
  if (!text || !text->has_value()) {
    std::cerr << "fleet-agent: no daemon status in " << *dir << ": "
              << (text ? "status.json is missing (is `fleet-agent run` running?)" : text.error())
              << "\n";
    return kStateError;
  }
  nlohmann::json status = nlohmann::json::parse(**text, nullptr, false);
  if (status.is_discarded() || !status.is_object()) {
    std::cerr << "fleet-agent: " << *dir << "/status.json is not valid JSON\n";
    return kStateError;
  }
  auto info = os->Stat(*dir + "/status.json");
  const auto now = std::chrono::system_clock::now();
  const auto age = info && info->has_value()
                       ? std::chrono::duration_cast<std::chrono::seconds>(now - (*info)->modified)
                       : std::chrono::seconds(0);
  status["age_seconds"] = age.count();
  if (auto store = OpenHistory(*dir, node); store) {
    if (auto records = (*store)->RecordCount(); records) status["history_records"] = *records;
    if (auto last = (*store)->LastHeartbeatMinute(); last && last->has_value()) {
      status["last_heartbeat_minute"] = FormatUtc(**last * 60);
    }
  }
  if (args.json) {
    std::cout << status.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return 0;
  }
  std::cout << "fleet-agent " << status.value("agent", "?") << " pid " << status.value("pid", 0)
            << " on " << status.value("node", "?") << ", started " << status.value("started", "?")
            << "\nstatus written " << age.count() << "s ago"
            << (age.count() > 120 ? " (STALE: is the daemon running?)" : "") << "; node is "
            << (status.value("up", false) ? "up" : "DOWN") << "\n";
  if (status.contains("checks") && status["checks"].is_array()) {
    for (const auto& c : status["checks"]) {
      std::cout << "  " << c.value("status", "?") << "\t" << c.value("name", "?") << "\t"
                << c.value("summary", "") << "\n";
    }
  }
  std::cout << "history: " << status.value("history_records", 0) << " records, last heartbeat "
            << status.value("last_heartbeat_minute", "none") << ", "
            << status.value("queued_heartbeats", 0) << " queued in memory\n";
  PrintSpoolAndPush(status);
  return 0;
}

}  // namespace fleet
