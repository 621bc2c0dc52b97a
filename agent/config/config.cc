// ParseConfig: the configuration keys as tables (config_schema.h walks them), the rules
// that span keys (timeout within interval, uptime.require), and reading the file.
#include "agent/config/config.h"

#include <yaml-cpp/anchor.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <exception>
#include <sstream>
#include <utility>

#include "agent/config/alerts_section.h"
#include "agent/config/config_schema.h"
#include "agent/config/metrics_section.h"
#include "agent/config/remedies_section.h"
#include "base/units.h"
#include "base/yaml_text.h"

namespace fleet {
namespace {

using namespace std::chrono_literals;
using config::ConfigReader;
using config::Section;
using config::Text;
using config::ValueReader;

// yaml-cpp recurses once per level; a configuration needs four.
constexpr int kMaxNesting = 64;
constexpr auto kMaxDuration = 366 * 24h;
using RequiredChecks = std::vector<std::pair<std::string, YAML::Node>>;

Section TmuxKeys(TmuxOptions& o) {
  return {
      {"socket", config::String(o.socket, Text::kAbsolutePath)},
      {"expect", config::StringList(o.expect, Text::kName, /*may_be_empty=*/true)},
      {"idle_warning", config::Seconds(o.idle_warning, 0s, kMaxDuration)},  // 0s: never
  };
}

Section GatewayKeys(GatewayOptions& o) {
  return {
      {"units", config::StringList(o.units, Text::kUnitName, /*may_be_empty=*/false)},
      {"scope", config::Choice<UnitScope>(o.scope, {{"system", UnitScope::kSystem},
                                                    {"user", UnitScope::kUser},
                                                    {"auto", UnitScope::kAuto}})},
  };
}

Section DiskKeys(DiskOptions& o) {
  return {
      {"paths", config::StringList(o.paths, Text::kAbsolutePath, /*may_be_empty=*/false)},
      {"warning_free_below", config::Percent(o.warning_free_below)},
      {"critical_used_above", config::Percent(o.critical_used_above)},
  };
}

Section CronKeys(CronOptions& o) {
  return {
      {"jobs_file", config::String(o.jobs_file, Text::kPath)},
      {"critical_failure_streak", config::Integer(o.critical_failure_streak, 1, 1000)},
  };
}

Section DispatchKeys(DispatchOptions& o) {
  return {
      {"files", config::StringList(o.files, Text::kPath, /*may_be_empty=*/true)},
      {"stale_after", config::Seconds(o.stale_after, 1s, kMaxDuration)},
  };
}

// A check's own keys plus the ones every check takes; then the rule across them: a check
// must finish before its next run starts (a default timeout shrinks to a short interval).
ValueReader CheckSection(CheckSettings& s, Section keys) {
  keys.push_back({"enabled", config::Bool(s.enabled)});
  keys.push_back({"timeout", config::Duration(s.timeout, 1ms, 60s)});
  keys.push_back({"interval", config::Duration(s.interval, 1s, 24h)});
  return [&s, keys = std::move(keys)](ConfigReader& reader, const YAML::Node& value,
                                      const std::string& path) {
    const std::size_t errors_before = reader.error_count();
    config::ReadSection(reader, value, path, keys);
    if (reader.error_count() != errors_before || s.timeout <= s.interval) return;
    YAML::Node at = config::FindValue(value, "timeout");
    if (!at.IsDefined() || at.IsNull()) {
      // Only the interval was given, shorter than the default timeout: the timeout
      // follows it (`interval: 1s` alone means "every second, within the second").
      s.timeout = s.interval;
      return;
    }
    reader.AddError(at, path + ".timeout (" + config::FormatMilliseconds(s.timeout) +
                            ") is longer than " + path + ".interval (" +
                            config::FormatMilliseconds(s.interval) +
                            "); a check must finish before its next run");
  };
}

// One row per entry of BuiltinCheckNames() (a test holds them together).
Section CheckKeys(AgentConfig& c) {
  CollectorOptions& o = c.checks;
  return {
      {"tmux", CheckSection(c.settings["tmux"], TmuxKeys(o.tmux))},
      {"gateway", CheckSection(c.settings["gateway"], GatewayKeys(o.gateway))},
      {"disk", CheckSection(c.settings["disk"], DiskKeys(o.disk))},
      {"cron", CheckSection(c.settings["cron"], CronKeys(o.cron))},
      {"dispatch", CheckSection(c.settings["dispatch"], DispatchKeys(o.dispatch))},
  };
}

// Check names only; whether they are enabled is known once all of `checks` is read.
ValueReader UptimeRequire(std::vector<std::string>& out, RequiredChecks& required) {
  return [&out, &required](ConfigReader& reader, const YAML::Node& value, const std::string& path) {
    auto items = config::ReadStringList(reader, value, path, Text::kCheckName, false);
    if (!items) return;
    const auto& known = BuiltinCheckNames();
    bool ok = true;
    for (const auto& [name, node] : *items) {
      if (std::find(known.begin(), known.end(), name) == known.end()) {
        reader.AddError(node, path + ": unknown check " + config::Quote(name) +
                                  config::SuggestName(name, known, "known checks"));
        ok = false;
      }
    }
    if (!ok) return;
    out.clear();
    for (const auto& item : *items) out.push_back(item.first);
    required = std::move(*items);
  };
}

Section UpstreamKeys(UpstreamSettings& u) {
  return {
      {"url", config::String(u.url, Text::kUpstreamUrl)},
      {"ca_file", config::String(u.ca_file, Text::kAbsolutePath)},
      {"pinned_pubkey", config::String(u.pinned_pubkey, Text::kPath)},
      {"batch_records", config::Integer(u.batch_records, 1, 10'000)},
      {"batch_bytes", config::Size(u.batch_bytes, 4 * 1024, 1024 * 1024)},
      {"connect_timeout", config::Duration(u.connect_timeout, 100ms, 5min)},
      {"timeout", config::Duration(u.timeout, 1s, 30min)},
      {"drain_rate", config::Integer(u.drain_rate, 1, 1'000'000)},
      {"refused_retry", config::Duration(u.refused_retry, 1s, 24h)},
      {"backoff_cap", config::Duration(u.backoff_cap, 1s, 1h)},
  };
}

// The top level. Later keys are one row each.
Section TopLevelKeys(AgentConfig& c, RequiredChecks& required, config::RemedyPositions& remedies) {
  return {
      {"node", config::Nested({{"id", config::String(c.node_id, Text::kNodeId)}})},
      {"interval", config::Duration(c.default_interval, 1s, 24h)},
      {"hermes", config::Nested({{"user", config::String(c.hermes_user, Text::kUserName)},
                                 {"home", config::String(c.hermes_home, Text::kAbsolutePath)}})},
      {"checks", config::Nested(CheckKeys(c))},
      {"uptime", config::Nested({{"require", UptimeRequire(c.uptime_require, required)}})},
      {"state_dir", config::String(c.state_dir, Text::kAbsolutePath)},
      {"upstream", config::Nested(UpstreamKeys(c.upstream))},
      {"spool",
       config::Nested({{"max_size", config::Size(c.spool.max_size, 1024 * 1024, 1ull << 40)}})},
      {"alerts", config::AlertsSection(c.alerts)},
      {"remedies", config::RemediesSection(c.remedies, remedies)},
      {"node_key",
       config::Nested({{"max_age", config::Duration(c.node_key.max_age, 24h, 24h * 3650)}})},
      {"metrics", config::MetricsSection(c.metrics_listen)},
  };
}

// yaml-cpp's LoadAll loops forever on a stray ',' at the top level (",", "[a],"): its
// parser hands out empty documents without moving on. So documents are walked with the
// event parser, and one that starts where the previous one did is the syntax error it is.
class DocumentWalker final : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override {
    start = mark;
    content = false;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override { content = true; }
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {
    content = true;
  }
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    content = true;
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    content = true;
  }
  void OnMapEnd() override {}

  YAML::Mark start;
  bool content = false;
};

// The first document (null when there is none), once the others are known to be empty.
std::optional<YAML::Node> LoadSingleDocument(ConfigReader& reader, const std::string& text) {
  std::istringstream stream(text);
  YAML::Parser parser(stream);
  DocumentWalker walker;
  int previous_start = -1;
  for (int index = 0; parser.HandleNextDocument(walker); ++index) {
    if (walker.start.pos <= previous_start) {
      const auto at = static_cast<std::size_t>(walker.start.pos);
      const bool printable = at < text.size() && text[at] > ' ' && text[at] < 0x7F;
      reader.AddError(walker.start, "YAML syntax error: unexpected " +
                                        (printable ? config::Quote(text.substr(at, 1)) : "token"));
      return std::nullopt;
    }
    previous_start = walker.start.pos;
    if (index > 0 && walker.content) {
      reader.AddError(walker.start,
                      "a second YAML document (after '---'); the configuration "
                      "is a single document");
      return std::nullopt;
    }
  }
  return YAML::Load(text);
}

// The top-level `interval:` becomes every check's interval before the checks are read, so
// that it applies wherever it stands in the file and a check's own `interval` overrides it.
// Checks with a section of their own apply the timeout rule there (CheckSection); for the
// others a default timeout longer than the interval shrinks to it.
void ApplyDefaultInterval(const YAML::Node& document, AgentConfig& config) {
  if (!document.IsMap()) return;
  YAML::Node at = config::FindValue(document, "interval");
  if (!at.IsDefined() || at.IsNull()) return;
  ConfigReader quiet("", "");  // the real read of the key reports its errors
  std::chrono::milliseconds interval = config.default_interval;
  config::Duration(interval, 1s, 24h)(quiet, at, "interval");
  if (quiet.error_count() > 0) return;
  YAML::Node checks = config::FindValue(document, "checks");
  for (auto& [name, settings] : config.settings) {
    settings.interval = interval;
    const bool own_section =
        checks.IsDefined() && checks.IsMap() && config::FindValue(checks, name).IsDefined();
    if (!own_section) settings.timeout = std::min(settings.timeout, interval);
  }
}

void ReadDocument(ConfigReader& reader, const YAML::Node& document, AgentConfig& config) {
  RequiredChecks required;
  config::RemedyPositions remedies;
  ApplyDefaultInterval(document, config);
  const std::size_t errors_before = reader.error_count();
  config::ReadSection(reader, document, "", TopLevelKeys(config, required, remedies));
  if (reader.error_count() == errors_before) config::CheckRemedies(reader, config, remedies);
  for (const auto& [name, node] : required) {
    if (!config.settings[name].enabled) {
      reader.AddError(node, "uptime.require names " + config::Quote(name) + ", but checks." + name +
                                ".enabled is false (enable it or drop it from the list)");
    }
  }
}

std::string TooLarge(std::uint64_t bytes) {
  return "too large (" + FormatBytes(bytes) + "); a configuration file is at most " +
         FormatBytes(kMaxConfigBytes);
}

ConfigLoad Finish(ConfigReader& reader, AgentConfig config) {
  if (reader.error_count() > 0) return {std::nullopt, reader.TakeErrors()};
  return {std::move(config), {}};
}

ConfigLoad FileError(const std::string& path, std::string message) {
  ConfigError error;
  error.file = path;
  error.message = std::move(message);
  return {std::nullopt, {std::move(error)}};
}

// The Os seam says "path: reason"; ConfigError adds the path itself.
std::string Reason(const std::string& path, const std::string& message) {
  if (message.starts_with(path + ": ")) return message.substr(path.size() + 2);
  return message;
}

}  // namespace

std::string ConfigError::ToString() const {
  if (line > 0) {
    return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
  }
  return file + ": " + message;
}

AgentConfig DefaultConfig() {
  AgentConfig config;
  for (const auto& name : BuiltinCheckNames()) config.settings[name] = CheckSettings{};
  return config;
}

ConfigLoad ParseConfig(std::string_view yaml_text, const std::string& file_name) {
  ConfigReader reader(file_name, yaml_text);
  AgentConfig config = DefaultConfig();
  if (yaml_text.size() > kMaxConfigBytes) {
    reader.AddFileError(TooLarge(yaml_text.size()));
    return Finish(reader, std::move(config));
  }
  for (auto& problem : FindTextProblems(yaml_text, kMaxNesting)) {
    reader.AddErrorAtOffset(problem.offset, std::move(problem.message));
  }
  if (reader.error_count() > 0) return Finish(reader, std::move(config));
  // yaml-cpp skips a byte order mark too, and its marks do not count it.
  if (yaml_text.starts_with("\xEF\xBB\xBF")) yaml_text.remove_prefix(3);
  try {
    if (auto document = LoadSingleDocument(reader, std::string(yaml_text))) {
      ReadDocument(reader, *document, config);
    }
  } catch (const YAML::Exception& e) {
    reader.AddError(e.mark, "YAML syntax error: " + e.msg);
  } catch (const std::exception& e) {
    reader.AddFileError(std::string("cannot be read as YAML: ") + e.what());
  }
  return Finish(reader, std::move(config));
}

ConfigLoad LoadConfigFile(const std::string& path, const Os& os) {
  auto info = os.Stat(path, /*follow=*/true);
  if (!info) return FileError(path, Reason(path, info.error()));
  if (!*info) return FileError(path, "No such file or directory");
  if ((*info)->kind == FileInfo::Kind::kDirectory) {
    return FileError(path, "is a directory, not a configuration file");
  }
  if ((*info)->kind != FileInfo::Kind::kRegular) {
    return FileError(path, "is not a regular file (a FIFO, socket or device); give a YAML file");
  }
  if ((*info)->size > kMaxConfigBytes) return FileError(path, TooLarge((*info)->size));
  auto content = os.ReadFile(path, kMaxConfigBytes);
  if (!content) return FileError(path, Reason(path, content.error()));
  if (!*content) return FileError(path, "No such file or directory");
  return ParseConfig(**content, path);
}

ConfigLoad LoadConfigFile(const std::string& path) { return LoadConfigFile(path, *MakeLinuxOs()); }

}  // namespace fleet
