// `fleet-receiver nodes add|list|revoke`: the registry of node keys in the database.
#include <ctime>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/json_text.h"
#include "receiver/cli/receiver_cli.h"
#include "receiver/store/open_store.h"

namespace fleet::receiver {
namespace {

constexpr std::size_t kMaxJwkFile = 64 * 1024;

// Same rule as the agent's node.id: 1 to 64 letters, digits, '.', '-', '_'.
bool IsIdentifier(const std::string& text) {
  if (text.empty() || text.size() > 64) return false;
  for (char c : text) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') {
      return false;
    }
  }
  return true;
}

int Fail(const std::string& message, int code = kExitRuntime) {
  std::cerr << "fleet-receiver: " << message << "\n";
  return code;
}

Result<std::string> ReadSmallFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"cannot read " + path};
  std::string text;
  text.resize(kMaxJwkFile + 1);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > kMaxJwkFile) return Error{path + ": larger than 64 KiB, not a JWK"};
  return text;
}

// The key in a JWK file; a "kid" in the file must be the one computed from the key.
Result<PublicKey> ReadJwkFile(const std::string& path) {
  auto text = ReadSmallFile(path);
  if (!text) return Error{text.error()};
  auto json = ParseJsonText(*text, 8);
  if (!json) return Error{path + ": " + json.error()};
  auto key = ParsePublicJwk(*text);
  if (!key) return Error{path + ": " + key.error()};
  if (auto kid = json->find("kid"); kid != json->end()) {
    if (!kid->is_string() || kid->get<std::string>() != KeyId(*key)) {
      return Error{path + ": the kid in the file does not match the key (expected " + KeyId(*key) +
                   ")"};
    }
  }
  return key;
}

std::string UtcTime(std::int64_t seconds) {
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::ostringstream out;
  out << std::put_time(&tm, "%Y-%m-%dT%H:%M:%SZ");
  return out.str();
}

}  // namespace

int RunNodesAdd(const NodeAddArgs& args) {
  if (!IsIdentifier(args.node)) {
    return Fail("--node: '" + PrintableAscii(args.node, 80) +
                    "' is not a node id (1 to 64 letters, digits, '.', '-', '_')",
                kExitUsage);
  }
  if (!IsIdentifier(args.operator_id)) {
    return Fail("--operator: '" + PrintableAscii(args.operator_id, 80) +
                    "' is not an operator id (1 to 64 letters, digits, '.', '-', '_')",
                kExitUsage);
  }
  auto key = ReadJwkFile(args.jwk_file);
  if (!key) return Fail(key.error());
  auto store = OpenRecordStore(args.db, true);
  if (!store) return Fail(store.error());
  NodeEntry entry{args.node,
                  args.operator_id,
                  KeyId(*key),
                  *key,
                  static_cast<std::int64_t>(std::time(nullptr)),
                  std::nullopt};
  if (auto added = (*store)->AddNode(entry); !added) return Fail(added.error());
  std::cout << "added node " << entry.node << " (operator " << entry.operator_id << ", kid "
            << entry.kid << ")\n";
  return 0;
}

int RunNodesList(const std::string& db, bool json) {
  auto store = OpenRecordStore(db, false);
  if (!store) return Fail(store.error());
  auto nodes = (*store)->ListNodes();
  if (!nodes) return Fail(nodes.error());
  if (json) {
    auto out = nlohmann::json::array();
    for (const auto& n : *nodes) {
      out.push_back({{"node", n.node},
                     {"operator", n.operator_id},
                     {"kid", n.kid},
                     {"revoked", n.revoked_at.has_value()},
                     {"added_at", UtcTime(n.added_at)},
                     {"revoked_at", n.revoked_at ? nlohmann::json(UtcTime(*n.revoked_at))
                                                 : nlohmann::json(nullptr)}});
    }
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  std::cout << std::left << std::setw(24) << "NODE" << std::setw(20) << "OPERATOR" << std::setw(14)
            << "KID"
            << "STATUS\n";
  for (const auto& n : *nodes) {
    std::cout << std::setw(24) << n.node << std::setw(20) << n.operator_id << std::setw(14) << n.kid
              << (n.revoked_at ? "revoked " + UtcTime(*n.revoked_at) : "active") << "\n";
  }
  return 0;
}

int RunNodesRevoke(const std::string& db, const std::string& node) {
  auto store = OpenRecordStore(db, false);
  if (!store) return Fail(store.error());
  if (auto revoked = (*store)->RevokeNode(node, static_cast<std::int64_t>(std::time(nullptr)));
      !revoked) {
    return Fail(revoked.error());
  }
  std::cout << "revoked node " << node << ": its records are refused from now on\n";
  return 0;
}

}  // namespace fleet::receiver
