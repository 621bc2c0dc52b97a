// AgentConfig: the agent's configuration, from optional YAML (contract in the issues and
// README). ParseConfig is pure: it turns text into a config or into every error found,
// each with file:line:column; unknown keys, wrong types and bad durations, sizes or
// percentages are errors. Every key is optional, and a key set to null (`tmux:` alone)
// keeps its defaults. yaml-cpp exceptions never leave this module; hostile text (alias
// bombs, deep nesting, binary) is refused quickly with an error.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/os.h"
#include "collectors/builtin.h"

namespace fleet {

struct CheckSettings {
  bool enabled = true;
  std::chrono::milliseconds timeout{2000};
  std::chrono::milliseconds interval{30000};
};

struct AgentConfig {
  std::string node_id;      // empty: the hostname
  std::string hermes_user;  // empty: the user running fleet-agent
  std::string hermes_home;  // empty: $HERMES_HOME, else ~user/.hermes
  CollectorOptions checks;
  std::map<std::string, CheckSettings> settings;  // one per built-in check name
  std::vector<std::string> uptime_require{"gateway", "tmux"};
  std::string state_dir = "/var/lib/fleet-agent";  // `fleet-agent run` history and status
};

struct ConfigError {
  std::string file;
  int line = 0;    // 1-based; 0 when the error has no position
  int column = 0;  // 1-based
  std::string message;

  // "file:line:column: message" (or "file: message" without a position).
  std::string ToString() const;
};

struct ConfigLoad {
  std::optional<AgentConfig> config;  // set only when errors is empty
  std::vector<ConfigError> errors;
};

// The embedded defaults (no file at all).
AgentConfig DefaultConfig();

// Larger configuration files (and texts) are refused.
inline constexpr std::size_t kMaxConfigBytes = 1 << 20;

// Parses YAML text; `file_name` is only used in error positions.
ConfigLoad ParseConfig(std::string_view yaml_text, const std::string& file_name);

// Reads and parses a file (refusing unreadable, non-regular or over-1-MiB files with one
// error). The first form reads through the real machine (MakeLinuxOs).
ConfigLoad LoadConfigFile(const std::string& path);
ConfigLoad LoadConfigFile(const std::string& path, const Os& os);

}  // namespace fleet
