// AgentConfig: the agent's configuration, from optional YAML (contract in the issues and
// README). ParseConfig is pure: it turns text into a config or into every error found,
// each with file:line:column; unknown keys, wrong types and bad durations, sizes or
// percentages are errors. Every key is optional, and a key set to null (`tmux:` alone)
// keeps its defaults. yaml-cpp exceptions never leave this module; hostile text (alias
// bombs, deep nesting, binary) is refused quickly with an error.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/builtin.h"
#include "core/os.h"

namespace fleet {

struct CheckSettings {
  bool enabled = true;
  std::chrono::milliseconds timeout{2000};
  std::chrono::milliseconds interval{30000};
};

// Where `run` pushes its signed records (design.md, "Push protocol"). No url: no push, the
// records stay in the spool. The url is https:// (plain http:// only to a loopback
// address, for a local TLS proxy and tests); TLS verification is always on.
struct UpstreamSettings {
  std::string url;            // base; records go to <url>/v1/records
  std::string ca_file;        // PEM bundle to trust instead of the system's
  std::string pinned_pubkey;  // curl's form: "sha256//<base64>[;sha256//...]" or a PEM/DER file
  int batch_records = 500;
  std::uint64_t batch_bytes = 256 * 1024;
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds timeout{30'000};  // a whole request, reply included
  int drain_rate = 1000;                      // records per second at most, draining a backlog
  std::chrono::milliseconds refused_retry{600'000};  // after 400/401/403/...: retry this slowly
  std::chrono::milliseconds backoff_cap{300'000};    // longest wait between retries

  bool operator==(const UpstreamSettings&) const = default;
};

struct SpoolSettings {
  std::uint64_t max_size = 256ull * 1024 * 1024;  // bytes of records awaiting acknowledgement
};

struct AgentConfig {
  std::string node_id;      // empty: the hostname
  std::string hermes_user;  // empty: the user running fleet-agent
  std::string hermes_home;  // empty: $HERMES_HOME, else ~user/.hermes
  CollectorOptions checks;
  std::map<std::string, CheckSettings> settings;  // one per built-in check name
  // The top-level `interval:`, every check's default (a check's own `interval` wins).
  std::chrono::milliseconds default_interval{30000};
  std::vector<std::string> uptime_require{"gateway", "tmux"};
  std::string state_dir = "/var/lib/fleet-agent";  // `fleet-agent run` history and status
  UpstreamSettings upstream;
  SpoolSettings spool;
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
