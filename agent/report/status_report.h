// StatusReport: what `fleet-agent status` shows. It joins the daemon's status.json (each
// check's last result with its wall time `checked_at`, the last evaluated minute, spool and
// push) with the history's size read from the database, and takes every age against `now`,
// so the figures are the daemon's view as of now. ComposeStatus and FormatStatus are pure:
// the CLI reads the files (the database read-only, in one short statement) and tests feed
// literals. Fields status.json lacks (an older daemon, a hand-edited file) show as "?".
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "agent/history/history_store.h"
#include "base/result.h"

namespace fleet {

// What the CLI read beside status.json.
struct StatusInputs {
  std::chrono::system_clock::time_point now;
  std::optional<std::chrono::system_clock::time_point> written;  // status.json's mtime
  Result<HistorySize> history = Error{"not read"};
  std::optional<std::uint64_t> database_bytes;  // history.db plus its WAL
  // The key that signs (the history's node_kid, else node.key's) and when node.key was
  // written; absent when there is no key.
  std::optional<std::string> key_kid;
  std::optional<std::int64_t> key_written_at;  // unix seconds
};

// status.json with the ages (`age_seconds` of the file, of each check's result and of the
// last evaluation, from its `at`) and `history` (heartbeats, tasks, incidents, starts, database
// size) and `node_key` ({"kid","written_at","age_days"}, or null without a key).
nlohmann::json ComposeStatus(nlohmann::json daemon_status, const StatusInputs& inputs);

// The table for people, from ComposeStatus's output.
std::string FormatStatus(const nlohmann::json& status);

// What is wrong with alerting, from status.json's `alerts` part: each channel that refuses,
// is rate limited or retrying, and a Telegram poller in conflict or refused, one line each
// ("telegram refuses alerts: HTTP 401 Unauthorized ..."); empty when all is well. `check`
// and `status` show these.
std::vector<std::string> AlertingProblems(const nlohmann::json& alerts);

// The node key's age in whole days at `now`, and whether `check` should warn (older than
// max_age): the CHECK row, "node key <kid> is N days old (more than M): rotate it with
// fleet-agent rotate-key".
struct NodeKeyAge {
  std::int64_t days = 0;
  bool too_old = false;
  std::string summary;
};
NodeKeyAge AgeOfNodeKey(const std::string& kid, std::int64_t written_at, std::int64_t now,
                        std::chrono::milliseconds max_age);

}  // namespace fleet
