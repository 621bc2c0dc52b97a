#include "agent/daemon/node_history.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include "agent/records/node_key.h"
#include "base/utc_time.h"

namespace fleet {

Result<std::unique_ptr<HistoryStore>> OpenNodeHistory(const std::string& state_dir,
                                                      const std::string& node_id,
                                                      std::chrono::system_clock::time_point now) {
  auto key = LoadNodeKey(state_dir);
  if (!key) return Error{"cannot read the node key: " + key.error()};
  std::int64_t first_epoch = 1;
  const auto exists = [&](const char* name) {
    return ::access((state_dir + "/" + name).c_str(), F_OK) == 0;
  };
  if (key->has_value() && !exists("history.db") && exists("status.json")) {
    first_epoch = MinuteOf(ToUnixSeconds(now));
    spdlog::warn(
        "{}/history.db is gone but an agent ran here before: the spool was lost; records "
        "start again in epoch {}",
        state_dir, first_epoch);
  }
  if (!key->has_value()) {
    auto created = CreateNodeKey(state_dir, false);
    if (!created) return Error{"cannot create the node key: " + created.error()};
    spdlog::info("created the node key {}; register this public key with the foundation: {}",
                 NodeKeyPath(state_dir), PublicJwk(created->public_key));
    *key = *created;
  }
  auto store = HistoryStore::Open(state_dir, false, node_id, FLEET_VERSION, **key, first_epoch);
  if (!store) return Error{"cannot open the history: " + store.error()};
  // A rotation killed after its record (fleet-agent rotate-key): the new key signs (the
  // store finds it by kid); its file becomes node.key here.
  auto current = (*store)->CurrentKid();
  if (!current) return Error{"cannot read the history: " + current.error()};
  if (*current && **current != (*key)->kid) {
    if (auto done = PromoteNextNodeKey(state_dir, (*key)->kid, **current); !done) {
      spdlog::warn("the node key moved to kid {} but its file is not in place: {}", **current,
                   done.error());
    } else {
      spdlog::info("finished the node key's rotation to kid {} that stopped part way", **current);
    }
  }
  return std::move(store).value();
}

}  // namespace fleet
