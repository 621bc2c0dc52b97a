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

#include "alerting/alert.h"
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

// node_key: `check` warns when the node key is older than max_age (the operator program asks
// for a new key every 90 days: fleet-agent rotate-key).
struct NodeKeySettings {
  std::chrono::milliseconds max_age{std::chrono::hours(24 * 90)};
  bool operator==(const NodeKeySettings&) const = default;
};

struct SpoolSettings {
  std::uint64_t max_size = 256ull * 1024 * 1024;  // bytes of records awaiting acknowledgement
};

// Where a secret comes from: a file (`token_file: /etc/fleet-agent/telegram.token`, an
// absolute path) or a systemd credential (`token_credential: telegram.token`, a plain name
// of letters, digits, '.', '_', '-', read from $CREDENTIALS_DIRECTORY, for LoadCredential=).
// Exactly one is set. The YAML never holds the secret itself; agent/config/alert_secrets.h
// reads it.
struct SecretSource {
  std::string file;
  std::string credential;
  bool operator==(const SecretSource&) const = default;
};

// alerts.telegram: the Bot API. chat_id is a number ("-1001234") or "@channelname".
// ackers: the Telegram user ids whose button press acknowledges; nobody else's does (empty
// only when poll is false). poll: take button presses by getUpdates here (only with a bot
// of the node's own: one poller per token). api_base: scheme, host and port, no trailing
// '/', "https://api.telegram.org" by default (http:// only to loopback).
struct TelegramSettings {
  SecretSource token;
  std::string chat_id;
  std::vector<std::int64_t> ackers;
  bool poll = true;
  std::string api_base = "https://api.telegram.org";
  bool operator==(const TelegramSettings&) const = default;
};

// alerts.discord: a webhook (its URL is the secret). api_base, when set (scheme, host and
// port, no trailing '/'), replaces the scheme and host of the webhook URL (tests: a fake on
// loopback).
struct DiscordSettings {
  SecretSource webhook_url;
  std::string api_base;
  bool operator==(const DiscordSettings&) const = default;
};

// alerts.webhook: a JSON POST (alerting/webhook_api.h) to a URL kept in a secret.
struct WebhookSettings {
  SecretSource url;
  bool operator==(const WebhookSettings&) const = default;
};

struct AlertChannels {
  std::optional<TelegramSettings> telegram;
  std::optional<DiscordSettings> discord;
  std::optional<WebhookSettings> webhook;
  bool empty() const { return !telegram && !discord && !webhook; }
  bool operator==(const AlertChannels&) const = default;
};

// alerts: who is told when something breaks, and when (alerting/alert_rules.h applies it).
// Defaults: confirm like Alertmanager's group_wait, repeat like Nagios's
// notification_interval; flapping Nagios-style (this many changes within the window).
struct AlertSettings {
  AlertChannels channels;    // telegram, discord, webhook at the top of `alerts:`
  AlertChannels escalation;  // alerts.escalation: told once escalate_after has passed
  alerting::Severity min_severity = alerting::Severity::kCritical;
  std::chrono::seconds confirm{30};
  std::chrono::seconds repeat{1800};                   // 0: no reminders
  std::optional<std::chrono::seconds> escalate_after;  // none: no escalation
  int flap_changes = 6;
  std::chrono::seconds flap_window{1800};
  bool weekly_summary = false;  // Monday before 09:00 UTC, the week's figures
  bool enabled() const { return !channels.empty(); }
  bool operator==(const AlertSettings&) const = default;
};

// remedies.limits: how often the agent may act on one target (a unit, a tmux session, a
// disk path, a dispatch file), in Kubernetes's CrashLoopBackOff manner: a wait doubling from
// `backoff` to `backoff_cap` between attempts, at most `attempts` within `within`, then no
// more (exhausted) until the target has been fine for `reset_after` (a clean slate).
struct RemedyLimits {
  int attempts = 3;
  std::chrono::seconds within{1800};
  std::chrono::seconds backoff{10};
  std::chrono::seconds backoff_cap{300};
  std::chrono::seconds reset_after{600};
  bool operator==(const RemedyLimits&) const = default;
};

// act: do it; dry-run: log and record what would be done, change nothing.
enum class RemedyMode { kAct, kDryRun };

// remedies.gateway: restart a failed or inactive unit over D-Bus, waiting for the job at
// most `timeout`.
struct GatewayRemedySettings {
  bool restart = false;
  std::chrono::seconds timeout{60};
  bool operator==(const GatewayRemedySettings&) const = default;
};

// remedies.tmux: each session (a name of checks.tmux.expect) with the command it runs;
// stuck_after (opt-in): a pane idle this long gets C-c and its command again.
struct TmuxRemedySettings {
  std::map<std::string, std::string> sessions;  // name -> command
  std::optional<std::chrono::seconds> stuck_after;
  bool operator==(const TmuxRemedySettings&) const = default;
};

// remedies.disk.clean: one directory to clean. `dir` is absolute, `~/...` (the Hermes
// user's home) or `~user/...`, resolved when the remedies are set up; line and column say
// where it stood in the file, for errors found then.
struct DiskCleanRule {
  std::string dir;
  std::string glob = "*";  // matched against file names (fnmatch)
  std::chrono::seconds older_than{7 * 86400};
  int line = 0;
  int column = 0;
  bool operator==(const DiskCleanRule&) const = default;
};

// remedies.disk: above `above` percent used (default: the disk check's critical line), the
// listed directories are cleaned oldest file first until usage is under the warning line;
// or the operator's script runs (as hermes.user) within script_timeout.
struct DiskRemedySettings {
  std::optional<double> above;  // percent; none: checks.disk.critical_used_above
  std::vector<DiskCleanRule> clean;
  std::string script;
  std::chrono::seconds script_timeout{300};
  bool enabled() const { return !clean.empty() || !script.empty(); }
  bool operator==(const DiskRemedySettings&) const = default;
};

struct DispatchRemedySettings {
  bool quarantine_broken = false;  // move an unparsable queue file into the state directory
  bool operator==(const DispatchRemedySettings&) const = default;
};

// remedies: what the agent fixes by itself (issue 14). Each remedy is off by default.
struct RemedySettings {
  RemedyMode mode = RemedyMode::kAct;
  GatewayRemedySettings gateway;
  TmuxRemedySettings tmux;
  DiskRemedySettings disk;
  DispatchRemedySettings dispatch;
  RemedyLimits limits;
  bool any() const {
    return gateway.restart || !tmux.sessions.empty() || disk.enabled() ||
           dispatch.quarantine_broken;
  }
  bool operator==(const RemedySettings&) const = default;
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
  AlertSettings alerts;
  RemedySettings remedies;
  NodeKeySettings node_key;
  std::string metrics_listen;  // metrics.listen (metrics_section.h); empty: no /metrics
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
