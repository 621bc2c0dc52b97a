#include "collectors/gateway/gateway_process.h"

#include <optional>

namespace fleet {
namespace {

using nlohmann::json;

constexpr std::uint64_t kMaxPidFile = 64 * 1024;
constexpr std::uint64_t kMaxStateFile = 1024 * 1024;
constexpr std::uint64_t kMaxProcStat = 8192;

// One line, at most `limit` bytes, cut on a UTF-8 character boundary.
std::string Clip(std::string_view text, std::size_t limit = 160) {
  std::string out;
  for (char c : text) out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  if (out.size() <= limit) return out;
  std::size_t cut = limit;
  while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
  out.resize(cut);
  return out + "...";
}

json PidDetails(const GatewayPidRecord& record, const std::string& source) {
  json argv = json::array();
  for (std::size_t i = 0; i < record.argv.size() && i < 16; ++i)
    argv.push_back(Clip(record.argv[i]));
  json details = {{"source", source},
                  {"pid", record.pid},
                  {"legacy", record.legacy},
                  {"kind", Clip(record.kind)},
                  {"argv", std::move(argv)}};
  details["start_time"] = record.start_time ? json(*record.start_time) : json(nullptr);
  return details;
}

json StateDetails(const GatewayState& state) {
  json platforms = json::object();
  for (const auto& p : state.platforms) {
    platforms[p.name] = {{"state", Clip(p.state)},
                         {"error_code", Clip(p.error_code)},
                         {"error_message", Clip(p.error_message, 400)},
                         {"updated_at", Clip(p.updated_at)}};
  }
  json details = {{"gateway_state", Clip(state.gateway_state)},
                  {"exit_reason", Clip(state.exit_reason, 400)},
                  {"updated_at", Clip(state.updated_at)},
                  {"platforms", std::move(platforms)}};
  details["active_agents"] = state.active_agents ? json(*state.active_agents) : json(nullptr);
  details["pid"] = state.process ? json(state.process->pid) : json(nullptr);
  return details;
}

// The state file describes this process (or names none, so cannot contradict it).
bool StateBelongsTo(const GatewayState& state, const GatewayPidRecord& record) {
  if (!state.process) return true;
  if (state.process->pid != record.pid) return false;
  return !state.process->start_time || !record.start_time ||
         *state.process->start_time == *record.start_time;
}

struct StateFile {
  bool present = false;
  std::optional<GatewayState> state;  // when present and valid
};

StateFile ReadStateFile(const Os& os, const HermesTarget& hermes, json& details) {
  const std::string path = ResolveInHome(hermes, "gateway_state.json");
  details["state_file"] = {{"path", path}};
  StateFile file;
  auto text = os.ReadFile(path, kMaxStateFile);
  if (!text) {
    file.present = true;
    details["state_file"]["error"] = Clip(text.error(), 400);
    return file;
  }
  if (!text->has_value()) {
    details["state_file"]["present"] = false;
    return file;
  }
  file.present = true;
  details["state_file"]["present"] = true;
  auto parsed = ParseGatewayState(**text);
  if (!parsed) {
    details["state_file"]["error"] = Clip(parsed.error(), 400);
    return file;
  }
  details["state_file"].update(StateDetails(*parsed));
  file.state = std::move(parsed).value();
  return file;
}

std::string LastState(const std::optional<GatewayState>& state) {
  if (!state || state->gateway_state.empty()) return "";
  std::string text = " (last state " + Clip(state->gateway_state, 40);
  if (!state->exit_reason.empty()) text += ": " + Clip(state->exit_reason, 80);
  return text + ")";
}

}  // namespace

ProcessProbe ProbeProcess(const Os& os, const GatewayPidRecord& record) {
  const std::string pid = std::to_string(record.pid);
  auto text = os.ReadFile(os.ProcRoot() + "/" + pid + "/stat", kMaxProcStat);
  if (!text) return {Liveness::kUnknown, "cannot read " + Clip(text.error())};
  if (!text->has_value()) return {Liveness::kGone, "no process " + pid};
  auto stat = ParseProcStat(**text);
  if (!stat) {
    // A legacy pid file asks only whether the process exists, and it does.
    if (!record.start_time) return {Liveness::kAlive, ""};
    return {Liveness::kUnknown, "cannot parse /proc/" + pid + "/stat: " + stat.error()};
  }
  if (stat->state == 'Z' || stat->state == 'X') {
    return {Liveness::kGone, "pid " + pid + " has exited (zombie)"};
  }
  if (record.start_time && *record.start_time != stat->start_time) {
    return {Liveness::kGone, "pid " + pid + " is now another process (started at tick " +
                                 std::to_string(stat->start_time) + ", the gateway at tick " +
                                 std::to_string(*record.start_time) + ")"};
  }
  return {Liveness::kAlive, ""};
}

std::vector<Finding> JudgeGatewayState(const GatewayState& state) {
  std::vector<Finding> findings;
  const std::string& s = state.gateway_state;
  const std::string reason =
      state.exit_reason.empty() ? "" : " (" + Clip(state.exit_reason, 80) + ")";
  if (s == "stopped") {
    findings.push_back({Status::kCritical, "gateway stopped" + reason});
  } else if (s == "startup_failed") {
    findings.push_back({Status::kCritical, "gateway failed to start" + reason});
  } else if (s == "degraded") {
    findings.push_back({Status::kWarning, "gateway degraded"});
  } else if (s == "draining") {
    findings.push_back({Status::kWarning, "gateway draining (shutting down)"});
  } else if (!s.empty() && s != "running" && s != "starting") {
    findings.push_back({Status::kWarning, "gateway in unknown state '" + Clip(s, 40) + "'"});
  }
  std::string troubled;
  for (const auto& p : state.platforms) {
    if (p.state != "fatal" && p.state != "retrying") continue;
    std::string item = p.name + " " + p.state;
    std::string why = Clip(p.error_message, 80);
    if (!p.error_code.empty()) why = Clip(p.error_code, 40) + (why.empty() ? "" : " " + why);
    if (!why.empty()) item += " (" + why + ")";
    troubled += (troubled.empty() ? "" : ", ") + item;
  }
  if (!troubled.empty()) {
    findings.push_back({Status::kWarning, "platform " + troubled + " — see logs/gateway.log"});
  }
  return findings;
}

FileVerdict InspectGatewayFiles(const Os& os, const HermesTarget& hermes) {
  FileVerdict verdict;
  json& details = verdict.details;
  const std::string pid_path = ResolveInHome(hermes, "gateway.pid");
  details["pid_file"] = {{"path", pid_path}};
  std::optional<GatewayPidRecord> record;
  std::string source = "gateway.pid";
  bool pid_file_present = false;
  if (auto text = os.ReadFile(pid_path, kMaxPidFile); !text) {
    pid_file_present = true;
    details["pid_file"]["error"] = Clip(text.error(), 400);
    verdict.findings.push_back({Status::kUnknown, "cannot read " + Clip(text.error())});
  } else if (text->has_value()) {
    pid_file_present = true;
    auto parsed = ParseGatewayPid(**text);
    if (parsed) {
      record = std::move(parsed).value();
    } else {
      details["pid_file"]["error"] = parsed.error();
      verdict.findings.push_back(
          {Status::kUnknown, pid_path + " is not a valid pid file: " + Clip(parsed.error())});
    }
  }
  details["pid_file"]["present"] = pid_file_present;
  StateFile state_file = ReadStateFile(os, hermes, details);
  verdict.found = pid_file_present || state_file.present;
  const auto& state = state_file.state;
  if (!pid_file_present && state && state->process) {
    record = state->process;
    source = "gateway_state.json";
  }
  if (!record) {
    if (!pid_file_present && state_file.present) {
      verdict.findings.push_back(
          {Status::kUnknown,
           "gateway_state.json names no pid to check and there is no gateway.pid"});
    }
    return verdict;
  }
  ProcessProbe probe = ProbeProcess(os, *record);
  details["process"] = PidDetails(*record, source);
  details["process"]["alive"] = probe.liveness == Liveness::kAlive;
  if (!probe.reason.empty()) details["process"]["reason"] = probe.reason;
  const std::string pid = std::to_string(record->pid);
  if (probe.liveness == Liveness::kGone) {
    verdict.findings.push_back(
        {Status::kCritical, "gateway process gone: " + probe.reason + " (from " + source + ")" +
                                LastState(state) +
                                " — start it again; `hermes gateway install` sets up a unit "
                                "that restarts it"});
    return verdict;
  }
  if (probe.liveness == Liveness::kUnknown) {
    verdict.findings.push_back(
        {Status::kUnknown, "cannot tell whether gateway pid " + pid + " runs: " + probe.reason});
    return verdict;
  }
  if (state && StateBelongsTo(*state, *record)) {
    for (auto& finding : JudgeGatewayState(*state)) verdict.findings.push_back(std::move(finding));
  } else if (state) {
    details["state_file"]["ignored"] =
        "describes pid " + std::to_string(state->process->pid) + ", not the running gateway";
  }
  std::string running = "gateway running as pid " + pid + " (no unit; " + source;
  if (record->legacy) running += ", legacy pid file: start time not checked";
  verdict.findings.push_back({Status::kOk, running + ")"});
  return verdict;
}

FileVerdict InspectGatewayStateOnly(const Os& os, const HermesTarget& hermes) {
  FileVerdict verdict;
  StateFile file = ReadStateFile(os, hermes, verdict.details);
  if (!file.state) return verdict;
  verdict.found = true;
  if (!file.state->process) {
    verdict.details["state_file"]["ignored"] = "names no pid, so it may be stale";
    return verdict;
  }
  ProcessProbe probe = ProbeProcess(os, *file.state->process);
  if (probe.liveness != Liveness::kAlive) {
    verdict.details["state_file"]["ignored"] = "its process is not running: " + probe.reason;
    return verdict;
  }
  verdict.findings = JudgeGatewayState(*file.state);
  return verdict;
}

}  // namespace fleet
