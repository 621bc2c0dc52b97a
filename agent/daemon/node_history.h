// OpenNodeHistory: the node's key and history as `fleet-agent run` starts. Loads the node
// key from the state directory, or creates it (logging the public key to register); opens
// history.db. A history created now in a directory an agent already ran in (status.json is
// there, history.db is not) means the spool was lost: its epochs are unknown here, so the
// new epoch is the current Unix minute, which none of them can hold (epochs only grow, by
// one or to a later minute); should it clash anyway, the receiver's fork reply moves the
// node on. A node set up with `keygen` before its first run starts at epoch 1. Errors say
// what could not be read or created. A key rotation that stopped after its record is
// finished here (node.key.next becomes node.key: PromoteNextNodeKey).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "agent/history/history_store.h"
#include "base/result.h"

namespace fleet {

Result<std::unique_ptr<HistoryStore>> OpenNodeHistory(const std::string& state_dir,
                                                      const std::string& node_id,
                                                      std::chrono::system_clock::time_point now);

}  // namespace fleet
