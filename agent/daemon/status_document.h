// StatusDocument: the daemon's status.json (what `fleet-agent status` reads) and its
// one-line systemd STATUS=, from a snapshot of what the daemon knows. Pure: the daemon
// gathers the facts, this spells the document (its field names are status.json's, README
// "fleet-agent run", not the record contract's). STATUS= reads "starting" before the first
// result of every check, then "up" or "DOWN", then each check's status.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/utc_time.h"
#include "core/status.h"

namespace fleet {

// The last minute the uptime rule was applied to.
struct Evaluation {
  UnixMinute minute = 0;
  std::chrono::system_clock::time_point at;  // when
  bool up = false;
  bool written = false;  // its heartbeat is committed (else queued in memory)
};

struct CheckView {
  std::string name;
  Status status = Status::kUnknown;
  std::string summary;
  std::optional<std::chrono::system_clock::time_point> checked_at;
  std::chrono::microseconds duration{0};
  bool enabled = true;  // false: disabled by a reload, its last result still shown
};

struct StatusFacts {
  long pid = 0;
  std::string node;
  std::string agent_version;
  std::string started;  // RFC 3339
  std::chrono::system_clock::time_point now;
  std::string config_file;  // empty: embedded defaults
  bool ready = false;
  bool stopping = false;
  bool up = false;
  std::uint64_t reloads = 0;
  std::optional<Evaluation> evaluation;
  std::size_t queued_heartbeats = 0;
  std::size_t queued_entries = 0;
  std::uint64_t history_write_failures = 0;
  std::vector<CheckView> checks;
  nlohmann::json spool;     // SpoolWatch's part
  nlohmann::json push;      // the pusher's part, or {"state": "off"}
  nlohmann::json alerts;    // alerting's part (channels, poller, open alerts, maintenance)
  nlohmann::json remedies;  // the remedies' part (mode, running, exhausted, recent actions)
};

nlohmann::json StatusDocument(const StatusFacts& facts);
std::string StatusLine(const StatusFacts& facts);

}  // namespace fleet
