#include "collectors/gateway/gateway_files.h"

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>

#include "base/json_text.h"

namespace fleet {
namespace {

using nlohmann::json;

constexpr std::int64_t kMaxPid = 4194304;  // PID_MAX_LIMIT on 64-bit Linux

Result<json> ParseJson(std::string_view text) { return ParseJsonText(text); }

Result<std::int64_t> PidFrom(const json& value) {
  if (!value.is_number_integer()) return Error{"pid is not an integer"};
  if (value.is_number_unsigned() && value.get<std::uint64_t>() > kMaxPid) {
    return Error{"pid " + value.dump() + " is out of range"};
  }
  const auto pid = value.get<std::int64_t>();
  if (pid < 1 || pid > kMaxPid) return Error{"pid " + value.dump() + " is out of range"};
  return pid;
}

std::string StringOr(const json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

// The pid record shared by both files: pid required, start_time optional but typed.
Result<GatewayPidRecord> PidRecordFrom(const json& object) {
  GatewayPidRecord record;
  auto pid_it = object.find("pid");
  if (pid_it == object.end()) return Error{"no \"pid\" field"};
  auto pid = PidFrom(*pid_it);
  if (!pid) return Error{pid.error()};
  record.pid = *pid;
  if (auto it = object.find("start_time"); it != object.end() && !it->is_null()) {
    if (!it->is_number_unsigned()) return Error{"start_time is not a non-negative integer"};
    record.start_time = it->get<std::uint64_t>();
  }
  record.kind = StringOr(object, "kind");
  if (auto it = object.find("argv"); it != object.end() && it->is_array()) {
    for (const auto& arg : *it) {
      if (arg.is_string()) record.argv.push_back(arg.get<std::string>());
    }
  }
  return record;
}

}  // namespace

Result<GatewayPidRecord> ParseGatewayPid(std::string_view text) {
  auto parsed = ParseJson(text);
  if (!parsed) return Error{parsed.error()};
  const json& value = *parsed;
  if (value.is_number()) {  // legacy: the pid alone
    auto pid = PidFrom(value);
    if (!pid) return Error{pid.error()};
    GatewayPidRecord record;
    record.pid = *pid;
    record.legacy = true;
    return record;
  }
  if (!value.is_object()) return Error{"neither a pid nor a JSON object"};
  return PidRecordFrom(value);
}

Result<GatewayState> ParseGatewayState(std::string_view text) {
  auto parsed = ParseJson(text);
  if (!parsed) return Error{parsed.error()};
  const json& value = *parsed;
  if (!value.is_object()) return Error{"not a JSON object"};
  GatewayState state;
  if (value.contains("pid")) {
    if (auto record = PidRecordFrom(value)) state.process = std::move(record).value();
  }
  state.gateway_state = StringOr(value, "gateway_state");
  state.exit_reason = StringOr(value, "exit_reason");
  state.updated_at = StringOr(value, "updated_at");
  if (auto it = value.find("active_agents"); it != value.end() && it->is_number_integer()) {
    state.active_agents = it->get<std::int64_t>();
  }
  if (auto it = value.find("platforms"); it != value.end() && it->is_object()) {
    for (const auto& [name, entry] : it->items()) {
      if (!entry.is_object()) continue;
      GatewayPlatform platform;
      platform.name = name;
      platform.state = StringOr(entry, "state");
      platform.error_code = StringOr(entry, "error_code");
      if (auto code = entry.find("error_code"); code != entry.end() && code->is_number()) {
        platform.error_code = code->dump();
      }
      platform.error_message = StringOr(entry, "error_message");
      platform.updated_at = StringOr(entry, "updated_at");
      state.platforms.push_back(std::move(platform));
    }
  }
  std::sort(state.platforms.begin(), state.platforms.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  return state;
}

Result<ProcStat> ParseProcStat(std::string_view text) {
  const auto open = text.find('(');
  const auto close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
    return Error{"no command name in parentheses"};
  }
  // Fields from 3 (state) on, separated by single spaces.
  std::string_view rest = text.substr(close + 1);
  std::vector<std::string_view> fields;
  while (!rest.empty() && fields.size() < 20) {
    auto start = rest.find_first_not_of(" \n");
    if (start == std::string_view::npos) break;
    rest.remove_prefix(start);
    auto end = std::min(rest.find_first_of(" \n"), rest.size());
    fields.push_back(rest.substr(0, end));
    rest.remove_prefix(end);
  }
  if (fields.size() < 20) return Error{"truncated: fewer than 22 fields"};
  if (fields[0].size() != 1) return Error{"unexpected process state field"};
  ProcStat stat;
  stat.state = fields[0][0];
  const std::string_view start_time = fields[19];  // field 22
  auto [ptr, ec] =
      std::from_chars(start_time.data(), start_time.data() + start_time.size(), stat.start_time);
  if (ec != std::errc() || ptr != start_time.data() + start_time.size()) {
    return Error{"start time is not a number"};
  }
  return stat;
}

}  // namespace fleet
