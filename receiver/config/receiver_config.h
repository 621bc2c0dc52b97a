// ReceiverConfig: /etc/fleet-receiver/receiver.yaml, what `fleet-receiver serve --config FILE`
// (and the reports' --config) read: the listen addresses, the database (a SQLite file or a
// postgresql:// URL; default /var/lib/fleet-receiver/receiver.db), TLS (cert and key files),
// the connection limits, the alerts file (the `--alerts FILE` format, pointed to, not
// embedded: alerts_file), silent_after (over the alerts file's), and the payout policy the
// report commands default to, whether GET /metrics and the dashboard are served, and whether
// statements close themselves (statements: close auto, close_after, key). ParseReceiverConfig is
// strict like the agent's configuration: unknown or repeated keys, wrong types and bad values are
// errors with file:line:column, all of them at once. A key left out leaves its field empty (the
// flag or built-in default applies). Pure but for ReadReceiverConfig (reads the file).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fleet::receiver {

inline constexpr char kDefaultReceiverConfig[] = "/etc/fleet-receiver/receiver.yaml";
inline constexpr char kDefaultReceiverDb[] = "/var/lib/fleet-receiver/receiver.db";
inline constexpr std::size_t kMaxReceiverConfigBytes = 64 * 1024;

struct ReceiverTlsConfig {
  std::string cert;  // absolute paths
  std::string key;
};

struct ReceiverConfig {
  std::vector<std::string> listen;  // "host:port" or "[v6]:port", each checked
  std::optional<std::string> database;
  std::optional<ReceiverTlsConfig> tls;
  std::optional<int> threads;
  std::optional<int> max_connections;
  std::optional<int> max_connections_per_peer;
  std::optional<int> read_timeout_s;
  std::optional<std::string> alerts_file;
  std::optional<std::int64_t> silent_after_s;
  // reports: the payout policy `uptime` and `statement` take unless their flags say
  std::optional<std::string> live_within;   // a duration as written ("5m")
  std::optional<std::string> late_minutes;  // count | ignore
  std::optional<std::string>
      metrics;                    // on | off | token: GET /metrics (token: an admin bearer token)
  std::optional<bool> dashboard;  // on | off: the web pages and the /v1 JSON API
  // statements: close: auto (each month closed once close_after has passed since its end)
  // or manual (`fleet-receiver statement close`); the receiver's key file
  std::optional<bool> close_months;
  std::optional<std::string> close_after;  // a duration as written ("7d")
  std::optional<std::string> statement_key;
};

struct ParsedReceiverConfig {
  ReceiverConfig config;
  std::vector<std::string> errors;  // "file:line:column: reason", in file order
};

// `file` names the text in messages.
ParsedReceiverConfig ParseReceiverConfig(const std::string& file, std::string_view text);
ParsedReceiverConfig ReadReceiverConfig(const std::string& file);

}  // namespace fleet::receiver
