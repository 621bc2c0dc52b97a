// NodeKey: the node's Ed25519 identity, kept in <state_dir>/node.key (mode 0600, the
// 32-byte seed in base64url on one line). Load reads it; Create makes one with libsodium
// and refuses to replace an existing key unless forced (a new key means the foundation
// must register the new public key). Errors are values with the path and the reason.
#pragma once

#include <optional>
#include <string>

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

}  // namespace fleet
