// AlertHistory: every alert the receiver sent, one row each, numbered receiver-wide: the
// number is the alert's key (what its messages carry, what a button press or `fleet-receiver
// ack` names: "ack:17" fits Telegram's 64-byte callback data whatever the node's name). A row
// says whose it is (node, operator), which checks and which of the node's incidents it told
// of (the silent-node alert has none), when it opened (when its first check turned bad: the
// incident's own opening, or the last live heartbeat of a silent node), when it was first
// sent, to which channels, its first acknowledgement (by whom, how: via telegram or
// receiver, or a node's ack record; `source` says which) and when it resolved. The
// statement reads it (report_source.h); `fleet-receiver alerts` lists the open ones. Uses
// the caller's link; the worker writes it in its step's transaction.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "receiver/store/sql_link.h"

namespace fleet::receiver {

struct HistoryAck {
  std::int64_t at = 0;
  std::string by;
  std::string via;  // telegram, receiver, cli (a node's own)
  std::optional<std::string> note;
  std::string source;  // "receiver" (a press or a command here) or "node" (an ack record)
};

struct HistoryEntry {
  std::int64_t key = 0;
  std::string node;
  std::string operator_id;
  std::int64_t book_alert = 0;  // the alert's id in the node's AlertBook
  std::vector<std::string> checks;
  std::vector<std::int64_t> incidents;  // the node's incident ids
  bool silent = false;
  std::int64_t opened = 0;
  std::int64_t sent = 0;
  std::vector<std::string> channels;
  std::optional<HistoryAck> ack;
  std::optional<std::int64_t> resolved;
};

class AlertHistory {
 public:
  explicit AlertHistory(SqlLink& link) : link_(link) {}

  // A new row (key, ack and resolved are ignored); returns its key.
  Result<std::int64_t> Add(const HistoryEntry& entry);
  Outcome SetChannels(std::int64_t key, const std::vector<std::string>& channels);
  // The first acknowledgement only: a later one changes nothing.
  Outcome SetAck(std::int64_t key, const HistoryAck& ack);
  Outcome SetResolved(std::int64_t key, std::int64_t at);
  Result<std::optional<HistoryEntry>> Find(std::int64_t key);
  // Not resolved, by node and key.
  Result<std::vector<HistoryEntry>> Unresolved();

 private:
  SqlLink& link_;
};

}  // namespace fleet::receiver
