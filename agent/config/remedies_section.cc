#include "agent/config/remedies_section.h"

#include <algorithm>
#include <string_view>

namespace fleet::config {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t kMaxCommandBytes = 1024;
constexpr auto kMaxAge = 3650 * 24h;

bool HasControl(std::string_view text) {
  return std::any_of(text.begin(), text.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7F; });
}

bool Defined(const YAML::Node& node) { return node.IsDefined() && !node.IsNull(); }

// Why a directory to clean is refused, or nullopt. `~` and `~user` are resolved later,
// when the users are known.
std::optional<std::string> BadCleanDir(std::string_view dir) {
  if (dir.empty()) return "must not be empty";
  if (HasControl(dir)) return Quote(dir) + " contains a control character";
  if (dir.front() != '/' && dir.front() != '~') {
    return Quote(dir) +
           " is relative; give an absolute path or one in a home (~/.hermes/logs, "
           "~hermes/.hermes/logs)";
  }
  std::string_view rest = dir;
  while (!rest.empty()) {
    const std::size_t slash = rest.find('/');
    const std::string_view part = rest.substr(0, slash);
    if (part == "..") return Quote(dir) + " contains '..'; name the directory itself";
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  }
  if (dir.front() == '/') {
    std::string_view trimmed = dir;
    while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.remove_suffix(1);
    if (trimmed.find('/', 1) == std::string_view::npos && trimmed != "/tmp") {
      return Quote(dir) +
             " is too wide a directory to clean; name a directory of your own below it";
    }
  }
  return std::nullopt;
}

ValueReader Command(std::string& out) {
  return [&out](ConfigReader& reader, const YAML::Node& value, const std::string& path) {
    auto text = ReadScalar(reader, value, path, "a command (example: hermes chat --yolo)");
    if (!text) return;
    if (text->empty() || text->size() > kMaxCommandBytes || HasControl(*text)) {
      reader.AddError(value, path + " must be a command of 1 to 1024 bytes on one line");
      return;
    }
    out = *text;
  };
}

// remedies.tmux.sessions: {NAME: {command: ...}, ...}; `NAME:` alone runs the runbook's
// command.
ValueReader Sessions(std::map<std::string, std::string>& out, RemedyPositions& positions) {
  return
      [&out, &positions](ConfigReader& reader, const YAML::Node& value, const std::string& path) {
        if (!value.IsMap()) {
          reader.AddError(value, path +
                                     " must be a map of session names, each with its command "
                                     "(BURN: {command: \"hermes chat --yolo\"})");
          return;
        }
        for (const auto& entry : value) {
          const YAML::Node key = entry.first;
          const YAML::Node session = entry.second;
          if (!key.IsScalar() || key.Scalar().empty() || HasControl(key.Scalar())) {
            reader.AddError(key, path + ": a session name must be plain text");
            continue;
          }
          const std::string& name = key.Scalar();
          if (out.contains(name)) {
            reader.AddError(key, "duplicate session " + Quote(name) + " in " + path);
            continue;
          }
          std::string command = "hermes chat --yolo";
          ReadSection(reader, session, path + "." + name, {{"command", Command(command)}});
          out.emplace(name, command);
          positions.sessions.emplace_back(name, key);
        }
      };
}

ValueReader OptionalSeconds(std::optional<std::chrono::seconds>& out, std::chrono::seconds min,
                            std::chrono::seconds max) {
  return [&out, min, max](ConfigReader& reader, const YAML::Node& value, const std::string& path) {
    std::chrono::seconds parsed{-1};
    Seconds(parsed, min, max)(reader, value, path);
    if (parsed >= 0s) out = parsed;
  };
}

ValueReader OptionalPercent(std::optional<double>& out) {
  return [&out](ConfigReader& reader, const YAML::Node& value, const std::string& path) {
    double parsed = -1;
    const std::size_t errors_before = reader.error_count();
    Percent(parsed)(reader, value, path);
    if (reader.error_count() != errors_before) return;
    if (parsed <= 0 || parsed >= 100) {
      reader.AddError(value, path + " must be above 0% and below 100%");
      return;
    }
    out = parsed;
  };
}

ValueReader CleanDir(DiskCleanRule& rule) {
  return [&rule](ConfigReader& reader, const YAML::Node& value, const std::string& path) {
    auto text = ReadScalar(reader, value, path, "a directory");
    if (!text) return;
    if (auto why = BadCleanDir(*text)) {
      reader.AddError(value, path + (why->starts_with("must") ? " " : ": ") + *why);
      return;
    }
    rule.dir = *text;
    std::tie(rule.line, rule.column) = reader.PositionOf(value.Mark());
  };
}

ValueReader Glob(std::string& out) {
  return [&out](ConfigReader& reader, const YAML::Node& value, const std::string& path) {
    auto text = ReadScalar(reader, value, path, "a file name pattern (example: \"*.log.*\")");
    if (!text) return;
    if (text->empty() || text->find('/') != std::string::npos || HasControl(*text)) {
      reader.AddError(value, path + " must be a file name pattern without '/' (\"*.log.*\")");
      return;
    }
    out = *text;
  };
}

// remedies.disk.clean: a list of {dir, glob, older_than}.
ValueReader CleanRules(std::vector<DiskCleanRule>& out) {
  return [&out](ConfigReader& reader, const YAML::Node& value, const std::string& path) {
    if (!value.IsSequence() || value.size() == 0) {
      reader.AddError(value, path +
                                 " must be a list of directories to clean "
                                 "({dir: ~/.hermes/cron/output, older_than: 7d})");
      return;
    }
    std::vector<DiskCleanRule> rules;
    for (std::size_t i = 0; i < value.size(); ++i) {
      const YAML::Node item = value[i];
      const std::string where = path + "[" + std::to_string(i) + "]";
      if (!item.IsMap()) {
        reader.AddError(item, where + " must be a map ({dir: ..., older_than: 7d})");
        continue;
      }
      DiskCleanRule rule;
      const std::size_t errors_before = reader.error_count();
      ReadSection(reader, item, where,
                  {{"dir", CleanDir(rule)},
                   {"glob", Glob(rule.glob)},
                   {"older_than", Seconds(rule.older_than, 1min, kMaxAge)}});
      if (reader.error_count() == errors_before && rule.dir.empty()) {
        reader.AddError(item, where + " needs dir (the directory to clean)");
      }
      rules.push_back(std::move(rule));
    }
    out = std::move(rules);
  };
}

ValueReader Script(std::string& out) {
  return [&out](ConfigReader& reader, const YAML::Node& value, const std::string& path) {
    auto text = ReadScalar(reader, value, path, "an absolute path");
    if (!text) return;
    if (text->empty() || text->front() != '/' || HasControl(*text)) {
      reader.AddError(value, path + " must be the absolute path of the operator's script");
      return;
    }
    out = *text;
  };
}

// A section whose node is kept for the rules across sections.
ValueReader Kept(YAML::Node& at, Section keys) {
  return [&at, keys = std::move(keys)](ConfigReader& reader, const YAML::Node& value,
                                       const std::string& path) {
    at = value;
    ReadSection(reader, value, path, keys);
  };
}

Section LimitKeys(RemedyLimits& l) {
  return {
      {"attempts", Integer(l.attempts, 1, 100)},
      {"within", Seconds(l.within, 1min, 7 * 24h)},
      {"backoff", Seconds(l.backoff, 1s, 1h)},
      {"backoff_cap", Seconds(l.backoff_cap, 1s, 24h)},
      {"reset_after", Seconds(l.reset_after, 1min, 7 * 24h)},
  };
}

Section RemedyKeys(RemedySettings& r, RemedyPositions& positions) {
  return {
      {"mode",
       Choice<RemedyMode>(r.mode, {{"act", RemedyMode::kAct}, {"dry-run", RemedyMode::kDryRun}})},
      {"gateway", Kept(positions.gateway, {{"restart", Bool(r.gateway.restart)},
                                           {"timeout", Seconds(r.gateway.timeout, 1s, 10min)}})},
      {"tmux",
       Kept(positions.tmux, {{"sessions", Sessions(r.tmux.sessions, positions)},
                             {"stuck_after", OptionalSeconds(r.tmux.stuck_after, 1min, 7 * 24h)}})},
      {"disk", Kept(positions.disk, {{"above", OptionalPercent(r.disk.above)},
                                     {"clean", CleanRules(r.disk.clean)},
                                     {"script", Script(r.disk.script)},
                                     {"script_timeout", Seconds(r.disk.script_timeout, 1s, 1h)}})},
      {"dispatch",
       Kept(positions.dispatch, {{"quarantine_broken", Bool(r.dispatch.quarantine_broken)}})},
      {"limits", Nested(LimitKeys(r.limits))},
  };
}

}  // namespace

ValueReader RemediesSection(RemedySettings& remedies, RemedyPositions& positions) {
  return [&remedies, &positions](ConfigReader& reader, const YAML::Node& value,
                                 const std::string& path) {
    const std::size_t errors_before = reader.error_count();
    ReadSection(reader, value, path, RemedyKeys(remedies, positions));
    if (reader.error_count() != errors_before) return;
    const RemedyLimits& limits = remedies.limits;
    if (limits.backoff_cap < limits.backoff) {
      reader.AddError(FindValue(FindValue(value, "limits"), "backoff_cap"),
                      path + ".limits.backoff_cap (" + FormatMilliseconds(limits.backoff_cap) +
                          ") is shorter than " + path + ".limits.backoff (" +
                          FormatMilliseconds(limits.backoff) + ")");
    }
    if (Defined(positions.disk) && !remedies.disk.enabled()) {
      reader.AddError(positions.disk, path +
                                          ".disk needs clean (directories to clean) or "
                                          "script (the operator's clean-up script)");
    }
  };
}

void CheckRemedies(ConfigReader& reader, const AgentConfig& config,
                   const RemedyPositions& positions) {
  const RemedySettings& remedies = config.remedies;
  const auto& expect = config.checks.tmux.expect;
  for (const auto& [name, node] : positions.sessions) {
    if (std::find(expect.begin(), expect.end(), name) == expect.end()) {
      reader.AddError(node, "remedies.tmux.sessions names " + Quote(name) +
                                ", which is not in checks.tmux.expect" +
                                SuggestName(name, expect, "expected names"));
    }
  }
  const auto require_check = [&](bool on, const YAML::Node& at, const std::string& remedy,
                                 const std::string& check) {
    auto settings = config.settings.find(check);
    if (!on || settings == config.settings.end() || settings->second.enabled) return;
    reader.AddError(at, "remedies." + remedy + " acts on what checks." + check +
                            " finds, but checks." + check +
                            ".enabled is false (enable it or drop the remedy)");
  };
  require_check(remedies.gateway.restart, positions.gateway, "gateway", "gateway");
  require_check(!remedies.tmux.sessions.empty() || remedies.tmux.stuck_after.has_value(),
                positions.tmux, "tmux", "tmux");
  require_check(remedies.disk.enabled(), positions.disk, "disk", "disk");
  require_check(remedies.dispatch.quarantine_broken, positions.dispatch, "dispatch", "dispatch");
  if (remedies.tmux.stuck_after && remedies.tmux.sessions.empty()) {
    reader.AddError(FindValue(positions.tmux, "stuck_after"),
                    "remedies.tmux.stuck_after needs remedies.tmux.sessions (the command each "
                    "stuck pane is given again)");
  }
}

}  // namespace fleet::config
