// The fleet-receiver command line: `serve` (the HTTP ingest server; `--config FILE` reads
// receiver.yaml, receiver/config/receiver_config.h, flags given win over it), `nodes add|list|
// revoke` (the registry of node keys), `operators ...|revoke` and the reports. Exit codes: 0 ok, 1
// runtime error (database, JWK file, listening), 2 usage error; errors are one line on stderr.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fleet::receiver {

inline constexpr int kExitRuntime = 1;
inline constexpr int kExitUsage = 2;

struct ServeArgs {
  std::vector<std::string> listen{"127.0.0.1:8080"};
  std::string db;
  int threads = 2;
  int max_connections = 256;
  int max_connections_per_peer = 64;
  int read_timeout_s = 30;
  std::string alerts_file;  // --alerts: empty, no alerting
  std::string tls_cert;     // --tls-cert and --tls-key: both or neither (plain HTTP)
  std::string tls_key;
  std::optional<std::int64_t> silent_after_s;  // receiver.yaml: over the alerts file's
  // --close-months: close each month's statement once `close_after` has passed since its
  // end (statement_commands.h), signed with --statement-key (default: beside the database).
  bool close_months = false;
  std::string close_after = "7d";
  std::string statement_key;
  // --metrics on|off|token: GET /metrics (token: only with an admin token, Bearer)
  std::string metrics = "on";
  bool dashboard = true;  // --dashboard on|off: the web pages and the /v1 JSON API
  // The payout policy of the dashboard's figures (receiver.yaml reports:, as the reports).
  std::string live_within = "5m";
  std::string late_minutes = "count";
};
int RunServe(const ServeArgs& args);

struct NodeAddArgs {
  std::string db;
  std::string node;
  std::string operator_id;
  std::string jwk_file;
};
int RunNodesAdd(const NodeAddArgs& args);
int RunNodesList(const std::string& db, bool json);
// `nodes revoke --node ID` and `operators revoke --id OP`: --at (default now), --reason.
struct RevokeArgs {
  std::string db;
  std::string id;  // the node or the operator
  std::string at;  // RFC 3339 or a date; empty: now
  std::string reason;
};
int RunNodesRevoke(const RevokeArgs& args);
// `enroll-token --operator OP [--node ID] [--ttl 24h]`: prints a one-time enrolment token
// (stored as its digest) and the agent's command that uses it.
struct EnrollTokenArgs {
  std::string db;
  std::string operator_id;
  std::string node;
  std::string ttl = "24h";
};
int RunEnrollToken(const EnrollTokenArgs& args);
int RunOperatorsRevoke(const RevokeArgs& args);

int RunReceiverCli(int argc, char** argv);

}  // namespace fleet::receiver
