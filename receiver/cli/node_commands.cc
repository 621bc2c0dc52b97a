// `fleet-receiver nodes add|list|revoke` and `operators revoke`: the registry of node keys in
// the database, and the exit of nodes and operators.
#include <algorithm>
#include <chrono>
#include <ctime>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

#include "base/json_text.h"
#include "base/units.h"
#include "base/utc_time.h"
#include "receiver/cli/receiver_cli.h"
#include "receiver/registry/enrolments.h"
#include "receiver/registry/revocations.h"
#include "receiver/store/open_store.h"
#include "receiver/store/sql_link.h"

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

// --at: RFC 3339 ("2026-11-25T10:00:00Z", an offset or a fraction allowed) or a date (its
// 00:00 UTC); empty: now.
Result<std::int64_t> RevocationTime(const std::string& at) {
  if (at.empty()) return static_cast<std::int64_t>(std::time(nullptr));
  if (auto t = ParseRfc3339(at)) return *t;
  if (at.size() == 10) {
    if (auto t = ParseRfc3339(at + "T00:00:00Z")) return *t;
  }
  return Error{"--at: '" + PrintableAscii(at, 80) +
               "' is not a time (2026-11-25T10:00:00Z, or a date 2026-11-25 for its 00:00 UTC)"};
}

Result<std::string> RevocationReason(const std::string& reason) {
  if (reason.empty() || reason.size() > 1024 || reason.find('\0') != std::string::npos) {
    return Error{
        "--reason: say why in 1 to 1024 bytes (it is shown to the node with each refusal)"};
  }
  return reason;
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
  auto link = OpenSqlLink(args.db);
  if (!link) return Fail(link.error());
  auto left = Revocations(**link).Find(args.operator_id);
  if (!left) return Fail(left.error());
  if (*left) {
    return Fail("operator " + args.operator_id + " was revoked at " + UtcTime((*left)->revoked_at) +
                " (" + (*left)->reason + "): no node is added for them");
  }
  NodeEntry entry{args.node,
                  args.operator_id,
                  KeyId(*key),
                  *key,
                  static_cast<std::int64_t>(std::time(nullptr)),
                  std::nullopt,
                  ""};
  if (auto added = (*store)->AddNode(entry); !added) return Fail(added.error());
  std::cout << "added node " << entry.node << " (operator " << entry.operator_id << ", kid "
            << entry.kid << ")\n";
  return 0;
}

int RunEnrollToken(const EnrollTokenArgs& args) {
  auto ttl = ParseDuration(args.ttl);
  if (!ttl || ttl->count() < 60'000 || *ttl > std::chrono::seconds(kMaxTokenSeconds)) {
    return Fail("--ttl: a duration from 1m to 30d, like 24h", kExitUsage);
  }
  if (!IsIdentifier(args.operator_id)) {
    return Fail("--operator: '" + PrintableAscii(args.operator_id, 80) + "' is not an operator id",
                kExitUsage);
  }
  if (!args.node.empty() && !IsIdentifier(args.node)) {
    return Fail("--node: '" + PrintableAscii(args.node, 80) + "' is not a node id", kExitUsage);
  }
  auto store = OpenRecordStore(args.db, true);  // the schema, when new
  if (!store) return Fail(store.error());
  auto link = OpenSqlLink(args.db);
  if (!link) return Fail(link.error());
  const std::int64_t now = std::time(nullptr);
  auto token = Enrolments(**link).IssueToken(
      args.operator_id, args.node, std::chrono::duration_cast<std::chrono::seconds>(*ttl).count(),
      now);
  if (!token) return Fail(token.error());
  std::cout << token->token << "\n";
  std::cerr << "one-time enrolment token for operator " << args.operator_id
            << (args.node.empty() ? "" : ", node " + args.node) << ", good until "
            << UtcTime(token->expires_at) << "; on the node:\n  fleet-agent enroll https://<this "
            << "receiver> --token " << token->token
            << (args.node.empty() ? "" : " --node " + args.node) << "\n";
  return 0;
}

int RunNodesList(const std::string& db, bool json) {
  auto store = OpenRecordStore(db, false);
  if (!store) return Fail(store.error());
  auto nodes = (*store)->ListNodes();
  if (!nodes) return Fail(nodes.error());
  // Each node's keys in the order it moved to them (key_rotate records): the first, as
  // added, then each rotated to; the last one signs now.
  std::map<std::string, std::vector<RotatedKey>> rotated;
  for (const auto& n : *nodes) {
    auto keys = (*store)->RotatedKeys(n.node);
    if (!keys) return Fail(keys.error());
    rotated[n.node] = std::move(keys).value();
  }
  const auto current_kid = [&](const NodeEntry& n) {
    const auto& keys = rotated[n.node];
    return keys.empty() ? n.kid : keys.back().kid;
  };
  if (json) {
    auto out = nlohmann::json::array();
    for (const auto& n : *nodes) {
      auto keys = nlohmann::json::array(
          {{{"kid", n.kid}, {"jwk", nlohmann::json::parse(PublicJwk(n.key))}, {"since", nullptr}}});
      for (const auto& k : rotated[n.node]) {
        keys.push_back({{"kid", k.kid},
                        {"jwk", nlohmann::json::parse(PublicJwk(k.key))},
                        {"since", UtcTime(k.since)},
                        {"epoch", k.epoch},
                        {"seq", k.seq}});
      }
      out.push_back({{"node", n.node},
                     {"operator", n.operator_id},
                     {"kid", current_kid(n)},
                     {"keys", std::move(keys)},
                     {"revoked", n.revoked_at.has_value()},
                     {"added_at", UtcTime(n.added_at)},
                     {"revoked_at", n.revoked_at ? nlohmann::json(UtcTime(*n.revoked_at))
                                                 : nlohmann::json(nullptr)},
                     {"revoke_reason",
                      n.revoked_at ? nlohmann::json(n.revoke_reason) : nlohmann::json(nullptr)}});
    }
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  std::cout << std::left << std::setw(24) << "NODE" << std::setw(20) << "OPERATOR" << std::setw(14)
            << "KID"
            << "STATUS\n";
  for (const auto& n : *nodes) {
    std::cout << std::setw(24) << n.node << std::setw(20) << n.operator_id << std::setw(14)
              << current_kid(n)
              << (n.revoked_at ? "revoked " + UtcTime(*n.revoked_at) + " (" +
                                     PrintableAscii(n.revoke_reason, 200) + ")"
                               : "active")
              << "\n";
  }
  return 0;
}

int RunNodesRevoke(const RevokeArgs& args) {
  auto at = RevocationTime(args.at);
  if (!at) return Fail(at.error(), kExitUsage);
  auto reason = RevocationReason(args.reason);
  if (!reason) return Fail(reason.error(), kExitUsage);
  auto store = OpenRecordStore(args.db, false);
  if (!store) return Fail(store.error());
  auto nodes = (*store)->ListNodes();
  if (!nodes) return Fail(nodes.error());
  for (const auto& n : *nodes) {
    if (n.node != args.id || !n.revoked_at) continue;
    std::cout << "node " << n.node << " was revoked already at " << UtcTime(*n.revoked_at) << " ("
              << n.revoke_reason << "); unchanged\n";
    return 0;
  }
  if (auto revoked = (*store)->RevokeNode(args.id, *at, *reason); !revoked) {
    return Fail(revoked.error());
  }
  std::cout << "revoked node " << args.id << " at " << UtcTime(*at) << " (" << *reason
            << "): records it signs after that are refused (403, with the reason); those "
               "signed before still count\n";
  return 0;
}

int RunOperatorsRevoke(const RevokeArgs& args) {
  auto at = RevocationTime(args.at);
  if (!at) return Fail(at.error(), kExitUsage);
  auto reason = RevocationReason(args.reason);
  if (!reason) return Fail(reason.error(), kExitUsage);
  auto store = OpenRecordStore(args.db, false);
  if (!store) return Fail(store.error());
  auto nodes = (*store)->ListNodes();
  if (!nodes) return Fail(nodes.error());
  auto link = OpenSqlLink(args.db);
  if (!link) return Fail(link.error());
  const bool has_nodes = std::any_of(nodes->begin(), nodes->end(),
                                     [&](const NodeEntry& n) { return n.operator_id == args.id; });
  auto known = (*link)->Run("SELECT count(*) FROM operators WHERE id = $1", {args.id});
  if (!has_nodes && (!known || known->Int(0, 0) == 0)) {
    return Fail("no operator " + args.id + " (no node of theirs, not in operators list)");
  }
  auto revoked = Revocations(**link).RevokeOperator(args.id, *at, *reason);
  if (!revoked) return Fail(revoked.error());
  const OperatorRevocation& r = revoked->revocation;
  if (revoked->already) {
    std::cout << "operator " << args.id << " was revoked already at " << UtcTime(r.revoked_at)
              << " (" << r.reason << ")";
  } else {
    std::cout << "revoked operator " << args.id << " at " << UtcTime(r.revoked_at) << " ("
              << r.reason << ")";
  }
  std::cout << ": " << revoked->nodes_revoked
            << " node(s) revoked now; records their nodes sign after that are refused, those "
               "signed before still count\n";
  return 0;
}

}  // namespace fleet::receiver
