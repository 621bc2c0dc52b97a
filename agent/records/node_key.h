// NodeKey: the node's Ed25519 identity, kept in <state_dir>/node.key (mode 0600, the
// 32-byte seed in base64url on one line). Load reads it; Create makes one with libsodium
// and refuses to replace an existing key unless forced (a new key means the foundation
// must register the new public key). Errors are values with the path and the reason.
// Rotation (fleet-agent rotate-key, agent/records/key_rotation.h) uses two more files of
// the same form: node.key.next, the new key, written and synced before the key_rotate
// record that names it is committed to the history; and node.key.<kid>, a key the node
// moved away from, kept until its key_rotate record is acknowledged (a spooled record it
// signed may have to be re-signed in another place of the chain, NodeKeyRing). The history
// names the current kid (meta node_kid): the key with that kid among these files signs.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/jws.h"

namespace fleet {

struct NodeKey {
  PublicKey public_key{};
  SecretKey secret_key{};
  std::string kid;
};

std::string NodeKeyPath(const std::string& state_dir);
// nullopt when there is no key file yet.
Result<std::optional<NodeKey>> LoadNodeKey(const std::string& state_dir);
Result<NodeKey> CreateNodeKey(const std::string& state_dir, bool force);

std::string NextNodeKeyPath(const std::string& state_dir);
std::string RetiredNodeKeyPath(const std::string& state_dir, const std::string& kid);
// The key with this kid among node.key, node.key.next and node.key.<kid>.
Result<NodeKey> FindNodeKey(const std::string& state_dir, const std::string& kid);
// A fresh key in node.key.next (replacing one left by a rotation that stopped before its
// record), synced with its directory.
Result<NodeKey> CreateNextNodeKey(const std::string& state_dir);
// After the key_rotate record from old_kid to new_kid is committed: node.key is kept as
// node.key.<old_kid>, node.key.next becomes node.key, the directory synced. Run again after
// a crash part way (or by another process at once), it finishes what is left; done already,
// it changes nothing.
Outcome PromoteNextNodeKey(const std::string& state_dir, const std::string& old_kid,
                           const std::string& new_kid);
// Removes the kept keys (node.key.<kid>): once no key_rotate record waits in the spool, the
// receiver knows the current key and it may re-sign anything.
Outcome ForgetRetiredNodeKeys(const std::string& state_dir);
// For the crash tests of rotation only: with FLEET_TEST_CRASH_AT=step in the environment,
// the process kills itself (SIGKILL, as kill -9) at that step.
void RotationCrashPoint(const char* step);

// When node.key was written (its modification time, unix seconds): the key's age.
Result<std::int64_t> NodeKeyWrittenAt(const std::string& state_dir);

// The keys a spool re-signs with: a record is re-signed by the key that signed it when that
// key is still kept, else by the current key.
class NodeKeyRing {
 public:
  NodeKeyRing(std::string state_dir, NodeKey current)
      : state_dir_(std::move(state_dir)), current_(std::move(current)) {}
  const NodeKey& current() const { return current_; }
  const NodeKey& SignerOf(std::string_view jws);

 private:
  std::string state_dir_;
  NodeKey current_;
  std::deque<NodeKey> kept_;  // references stay valid as it grows
};

}  // namespace fleet
