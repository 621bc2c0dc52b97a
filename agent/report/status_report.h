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
};

// status.json with the ages (`age_seconds` of the file, of each check's result and of the
// last evaluation, from its `at`) and `history` (heartbeats, tasks, incidents, starts, database
// size).
nlohmann::json ComposeStatus(nlohmann::json daemon_status, const StatusInputs& inputs);

// The table for people, from ComposeStatus's output.
std::string FormatStatus(const nlohmann::json& status);

// What is wrong with alerting, from status.json's `alerts` part: each channel that refuses,
// is rate limited or retrying, and a Telegram poller in conflict or refused, one line each
// ("telegram refuses alerts: HTTP 401 Unauthorized ..."); empty when all is well. `check`
// and `status` show these.
std::vector<std::string> AlertingProblems(const nlohmann::json& alerts);

}  // namespace fleet
