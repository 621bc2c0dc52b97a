// Test helpers for the receiver: a node with a fresh libsodium key that signs records the
// way the agent does (design.md, "Record payloads"), and a chain that links them by prev.
#pragma once

#include <sodium.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "protocol/jws.h"
#include "protocol/key_proof.h"
#include "protocol/records.h"
#include "receiver/core/record_store.h"

namespace fleet::receiver::testing {

struct TestNode {
  std::string node;
  PublicKey public_key{};
  SecretKey secret_key{};
  std::string kid;

  explicit TestNode(std::string id) : node(std::move(id)) {
    if (sodium_init() < 0) throw std::runtime_error("sodium_init failed");
    crypto_sign_keypair(public_key.data(), secret_key.data());
    kid = KeyId(public_key);
  }

  // revoked_at: the node revoked at that time (records it signs after it are refused).
  RegisteredKey Key(std::optional<std::int64_t> revoked_at = std::nullopt) const {
    return {node, kid, public_key, revoked_at, revoked_at ? "retired" : "", std::nullopt, ""};
  }
  // A key registry that knows this node's key only (under any kid asked for).
  KeyLookup Lookup() const {
    return [key = Key()](const std::string&) -> Result<std::optional<RegisteredKey>> {
      return std::optional<RegisteredKey>(key);
    };
  }
  NodeEntry Entry(const std::string& operator_id = "op1") const {
    return {node, operator_id, kid, public_key, 1700000000, std::nullopt, ""};
  }

  // A payload as the contract encodes it (protocol/records.h), made 2025-11-25T10:00:00Z,
  // as JSON the tests can edit.
  nlohmann::json Payload(std::int64_t epoch, std::int64_t seq, const std::string& prev,
                         const std::string& type = "heartbeat") const {
    using namespace protocol;
    constexpr UnixSeconds kAt = 1764064800;  // 2025-11-25T10:00:00Z
    Record record{{node, epoch, seq, prev, kAt, "97fe4a08-17ea-4d7f", 1000 + seq % 1000, "0.1.0"},
                  AgentStop{}};
    switch (ParseRecordType(type).value_or(RecordType::kAgentStop)) {
      case RecordType::kHeartbeat:
        record.body = Heartbeat{kAt, true, {{"tmux", CheckState::kOk}}, true};
        break;
      case RecordType::kTask:
        record.body = TaskRun{"job-1", "job", kAt - 60, true, std::nullopt};
        break;
      case RecordType::kIncident:
        record.body = Incident{1, "tmux", kAt - 60, std::nullopt, "down"};
        break;
      case RecordType::kAgentStart:
        record.body = AgentStart{true, false};
        break;
      case RecordType::kAgentStop:
        break;
      case RecordType::kAck:
        record.body = Ack{1, kAt - 30, "ada_l", AckVia::kTelegram, std::nullopt};
        break;
      case RecordType::kMaintenance:
        record.body = Maintenance{kAt, kAt + 3600, "kernel upgrade", "hermes"};
        break;
      case RecordType::kRemediation:
        record.body =
            Remediation{"tmux",   "BURN2",  RemedyAction::kCreateSession, "BURN2 missing", 1,
                        kAt - 20, kAt - 19, RemedyOutcome::kSucceeded,    std::nullopt,    1};
        break;
      case RecordType::kKeyRotate:  // RotateTo makes a real one
        break;
    }
    auto p = nlohmann::json::parse(EncodeRecord(record));
    if (!ParseRecordType(type)) p[fields::kType] = type;  // a type the contract does not know
    return p;
  }
  // A key_rotate payload: this node's key moving to next's (a key of the same node id),
  // with next's proof over this node, this kid, next's kid and the payload's t.
  nlohmann::json RotatePayload(const TestNode& next, std::int64_t epoch, std::int64_t seq,
                               const std::string& prev) const {
    auto p = Payload(epoch, seq, prev, "agent_stop");
    p[protocol::fields::kType] = "key_rotate";
    p[protocol::fields::kNewJwk] = nlohmann::json::parse(PublicJwk(next.public_key));
    const auto t = ParseUtcSeconds(p[protocol::fields::kT].get<std::string>()).value();
    p[protocol::fields::kProof] = protocol::SignKeyProof({node, kid, next.kid, t}, next.secret_key);
    return p;
  }
  std::string Sign(const nlohmann::json& payload) const {
    return SignCompactJws(payload.dump(), secret_key, kid);
  }
  std::string SignText(const std::string& payload) const {
    return SignCompactJws(payload, secret_key, kid);
  }
};

// The JSON text `"field":value_json`, for payloads only JSON text can make (a key twice,
// JSON cut short): the field named by protocol::fields.
inline std::string Member(const char* field, const std::string& value_json) {
  return nlohmann::json(field).dump() + ":" + value_json;
}

// A compact JWS of payload under header_json taken as it is (headers the agent never writes).
inline std::string SignWithHeader(const TestNode& node, const std::string& header_json,
                                  const std::string& payload) {
  const std::string input = Base64UrlEncode(header_json) + "." + Base64UrlEncode(payload);
  unsigned char signature[crypto_sign_BYTES];
  crypto_sign_detached(signature, nullptr, reinterpret_cast<const unsigned char*>(input.data()),
                       input.size(), node.secret_key.data());
  return input + "." +
         Base64UrlEncode(
             std::string_view(reinterpret_cast<const char*>(signature), sizeof signature));
}

// Records 1..n of one epoch, each linked to the one before.
inline std::vector<std::string> MakeChain(const TestNode& node, std::int64_t epoch, int n) {
  std::vector<std::string> chain;
  std::string prev = GenesisHash();
  for (int seq = 1; seq <= n; ++seq) {
    chain.push_back(node.Sign(node.Payload(epoch, seq, prev)));
    prev = ChainHash(chain.back());
  }
  return chain;
}

// An ndjson body of chain[i - 1] for each 1-based seq i in seqs.
inline std::string Body(const std::vector<std::string>& chain, const std::vector<int>& seqs) {
  std::string body;
  for (int seq : seqs) body += chain.at(static_cast<std::size_t>(seq - 1)) + "\n";
  return body;
}

}  // namespace fleet::receiver::testing
