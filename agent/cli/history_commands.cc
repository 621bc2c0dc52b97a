#include "agent/cli/history_commands.h"

#include <sys/stat.h>

#include <unistd.h>

#include <iostream>

#include "agent/check/check_report.h"
#include "agent/config/config.h"
#include "agent/config/hermes_target.h"
#include "agent/records/node_key.h"
#include "agent/report/metrics_report.h"
#include "agent/report/status_report.h"

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
  auto report = ReadReport(**store, node, period, now);
  if (!report) {
    std::cerr << "fleet-agent: reading the history in " << *dir << ": " << report.error() << "\n";
    return kStateError;
  }
  if (args.json) {
    std::cout << ReportToJson(*report).dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
              << "\n";
  } else {
    std::cout << FormatReport(*report);
  }
  return 0;
}

std::optional<NodeKeyState> ReadNodeKeyState(const std::string& state_dir) {
  auto key = LoadNodeKey(state_dir);
  if (!key || !key->has_value()) return std::nullopt;
  NodeKeyState state{(*key)->kid, std::nullopt};
  if (::access((state_dir + "/history.db").c_str(), F_OK) == 0) {
    auto store = HistoryStore::Open(state_dir, true, "", FLEET_VERSION);
    if (store) {
      if (auto kid = (*store)->CurrentKid(); kid && *kid) state.kid = **kid;
    }
  }
  if (auto written = NodeKeyWrittenAt(state_dir)) state.written_at = *written;
  return state;
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
  StatusInputs inputs;
  inputs.now = std::chrono::system_clock::now();
  if (auto info = os->Stat(*dir + "/status.json"); info && info->has_value()) {
    inputs.written = (*info)->modified;
  }
  {
    // Read-only, one statement, closed right away: the daemon keeps writing meanwhile.
    auto store = OpenHistory(*dir, node);
    inputs.history = store ? (*store)->Size() : Result<HistorySize>(Error{store.error()});
  }
  std::uint64_t bytes = 0;
  bool any = false;
  for (const char* file : {"/history.db", "/history.db-wal"}) {
    if (auto info = os->Stat(*dir + file); info && info->has_value()) {
      bytes += (*info)->size;
      any = true;
    }
  }
  if (any) inputs.database_bytes = bytes;
  if (auto key = ReadNodeKeyState(*dir)) {
    inputs.key_kid = key->kid;
    inputs.key_written_at = key->written_at;
  }
  status = ComposeStatus(std::move(status), inputs);
  if (args.json) {
    std::cout << status.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else {
    std::cout << FormatStatus(status);
  }
  return 0;
}

}  // namespace fleet
