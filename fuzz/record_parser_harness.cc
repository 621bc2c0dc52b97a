#include "fuzz/record_parser_harness.h"

#include "protocol/key_proof.h"

#include <sodium.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <variant>

#include "fuzz/memory_record_store.h"
#include "protocol/push_reply.h"
#include "protocol/records.h"
#include "receiver/core/ingest.h"

namespace fleet::fuzz {
namespace {

using receiver::RejectKind;
using receiver::VerifiedRecord;
using receiver::VerifyOutcome;

// The receive time: an hour after the seeds' records (2026-11-25T10:00:00Z), which a receive
// time before them would refuse as dated in the future.
constexpr std::int64_t kNow = 1795604400;  // 2026-11-25T11:00:00Z

HarnessKey MakeKey(std::string node, std::string_view seed32) {
  if (sodium_init() < 0) std::abort();
  HarnessKey key;
  key.node = std::move(node);
  crypto_sign_seed_keypair(key.public_key.data(), key.secret_key.data(),
                           reinterpret_cast<const unsigned char*>(seed32.data()));
  key.kid = KeyId(key.public_key);
  return key;
}

// A fresh store that knows the active and the revoked key.
MemoryRecordStore MakeStore() {
  MemoryRecordStore store;
  for (const HarnessKey* key : {&ActiveKey(), &RevokedKey()}) {
    (void)store.AddNode({key->node, "op-fuzz", key->kid, key->public_key, kNow - 86400, {}, ""});
  }
  // Before the records' t (kNow - 3600): what the revoked key signs is refused.
  (void)store.RevokeNode(RevokedKey().node, kNow - 7200, "fuzz: a revoked node");
  return store;
}

receiver::KeyLookup Lookup(MemoryRecordStore& store) {
  return [&store](const std::string& kid) { return store.FindKey(kid); };
}

std::string_view StripCr(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

int StatusFor(RejectKind kind) {
  switch (kind) {
    case RejectKind::kUnknownKey:
      return 401;
    case RejectKind::kRevokedKey:
      return 403;
    default:
      return 400;
  }
}

class Checker {
 public:
  explicit Checker(std::vector<std::string>& broken) : broken_(broken) {}
  void Expect(bool holds, std::string what) {
    if (!holds) broken_.push_back(std::move(what));
  }

 private:
  std::vector<std::string>& broken_;
};

// (a) and the oracle for one accepted record.
void CheckAccepted(const VerifiedRecord& record, std::string_view line, Checker& check) {
  check.Expect(record.node == ActiveKey().node, "accepted a record of node " + record.node);
  check.Expect(record.epoch >= 1 && record.seq >= 1, "accepted epoch or seq < 1");
  check.Expect(record.jws == line, "the verified jws differs from the line");
  check.Expect(record.hash == ChainHash(line), "the record hash is not ChainHash(line)");
  check.Expect(line.size() <= receiver::kMaxRecordBytes, "accepted a record over the size cap");
}

// (b): one batch over a fresh store; checks the reply and what the store kept.
int IngestChecked(std::string_view body, std::string* dumped, Checker& check) {
  MemoryRecordStore store = MakeStore();
  const receiver::IngestReply reply = receiver::IngestBatch(store, body, kNow);
  const int s = reply.status;
  check.Expect(s == 200 || s == 400 || s == 401 || s == 403,
               "IngestBatch answered " + std::to_string(s) + " over a store that cannot fail");
  // The route sends body.dump with error_handler replace; a strict dump must work too,
  // or raw bytes from the input reached the reply.
  std::string text = reply.body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  try {
    (void)reply.body.dump();
  } catch (const nlohmann::json::exception&) {
    check.Expect(false, "the ingest reply carries bytes that are not UTF-8");
  }
  if (s == 200) {
    // What the agent reads back (protocol/push_reply.h) must decode.
    const auto ack = protocol::DecodePushAck(text);
    check.Expect(ack.ok(), "the 200 reply does not decode as a push acknowledgement: " + text);
    check.Expect(ack.ok() && ack->node == ActiveKey().node, "200 for another node");
    const auto mark = store.LoadWatermark(ActiveKey().node, ack.ok() ? ack->epoch : 0);
    check.Expect(ack.ok() && mark && mark->ack_seq == ack->ack_seq,
                 "ack_seq is not the stored watermark");
    check.Expect(store.RecordCount() >= 1, "200 with no record stored");
  } else {
    check.Expect(store.RecordCount() == 0 && store.ForkCount() == 0,
                 "a refused batch left records in the store");
    check.Expect(reply.body.contains("error"), "a refused batch has no error");
  }
  if (dumped != nullptr) *dumped = std::move(text);
  return s;
}

void RunRaw(std::string_view data, ParserRun& run, Checker& check) {
  MemoryRecordStore store = MakeStore();
  auto header = ReadJwsHeader(data);
  run.header_read = header.ok();
  const VerifyOutcome outcome = receiver::VerifyRecord(data, Lookup(store), kNow);
  if (const auto* why = std::get_if<receiver::Rejection>(&outcome)) {
    run.rejected = why->kind;
    run.reason = why->reason;
    check.Expect(why->kind != RejectKind::kStoreError, "a store error from a store that works");
    check.Expect(run.header_read || why->kind == RejectKind::kInvalid,
                 "an unreadable header was refused for its key");
  } else {
    check.Expect(run.header_read, "accepted a record whose header ReadJwsHeader refuses");
    check.Expect(header.ok() && header->alg == "EdDSA" && header->kid == ActiveKey().kid,
                 "accepted a record whose header is not EdDSA with the active kid");
    CheckAccepted(std::get<VerifiedRecord>(outcome), data, check);
  }

  run.batch_status = IngestChecked(data, &run.batch_body, check);
  // One line (no \n): the batch stands or falls with that line (ingest drops one \r).
  const std::string_view line = StripCr(data);
  if (data.find('\n') == std::string_view::npos && !line.empty()) {
    const VerifyOutcome alone =
        line.size() == data.size() ? outcome : receiver::VerifyRecord(line, Lookup(store), kNow);
    const auto* why = std::get_if<receiver::Rejection>(&alone);
    const int expected = why == nullptr ? 200 : StatusFor(why->kind);
    check.Expect(run.batch_status == expected,
                 "one-line batch answered " + std::to_string(run.batch_status) +
                     " but its line alone gives " + std::to_string(expected));
  }
}

// (c) and (d): lines signed with the active key, so the signature holds.
void RunSigned(std::string_view data, ParserRun& run, Checker& check) {
  std::vector<std::string_view> lines;
  for (std::string_view rest = data; lines.size() < kMaxSignedLines;) {
    const auto end = rest.find('\n');
    lines.push_back(rest.substr(0, end));
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end + 1);
  }
  std::string body;
  MemoryRecordStore store = MakeStore();
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string jws = SignPayload(lines[i], ActiveKey());
    body += jws + "\n";
    if (i != 0) continue;
    const VerifyOutcome outcome = receiver::VerifyRecord(jws, Lookup(store), kNow);
    if (const auto* record = std::get_if<VerifiedRecord>(&outcome)) {
      CheckAccepted(*record, jws, check);
      check.Expect(record->payload == lines[i], "the verified payload differs from the signed one");
    } else {
      const auto& why = std::get<receiver::Rejection>(outcome);
      check.Expect(why.kind == RejectKind::kInvalid,
                   "a payload signed with the active key was refused for its key: " + why.reason);
    }
  }
  run.signed_status = IngestChecked(body, nullptr, check);
  check.Expect(run.signed_status == 200 || run.signed_status == 400,
               "signed lines answered " + std::to_string(run.signed_status));

  // The decoder is total and its encoding is a fixed point: what decodes encodes to a
  // payload that decodes to the same record, and encodes the same again.
  if (auto decoded = protocol::DecodeRecord(lines[0])) {
    const std::string once = protocol::EncodeRecord(*decoded);
    auto again = protocol::DecodeRecord(once);
    check.Expect(again.ok(), "an encoded record does not decode: " + once);
    check.Expect(again.ok() && protocol::EncodeRecord(*again) == once,
                 "encode(decode(encode(r))) differs from encode(r): " + once);
  }

  // (d) The first line as the protected header of a good record.
  const std::string jws =
      SignWithHeader(lines[0], RecordPayload(ActiveKey(), 1, 1, GenesisHash()), ActiveKey());
  (void)ReadJwsHeader(jws);
  const VerifyOutcome outcome = receiver::VerifyRecord(jws, Lookup(store), kNow);
  if (const auto* record = std::get_if<VerifiedRecord>(&outcome)) {
    CheckAccepted(*record, jws, check);
  }
}

}  // namespace

const HarnessKey& ActiveKey() {
  static const HarnessKey key = MakeKey("fuzz-node", "fleet fuzz: the active node key!");
  return key;
}
const HarnessKey& RevokedKey() {
  static const HarnessKey key = MakeKey("fuzz-revoked", "fleet fuzz: a revoked node key.!");
  return key;
}
const HarnessKey& NextKey() {
  static const HarnessKey key = MakeKey("fuzz-node", "fleet fuzz: the node's next key!");
  return key;
}
const HarnessKey& UnknownKey() {
  static const HarnessKey key = MakeKey("fuzz-stranger", "fleet fuzz: a key nobody knows.!");
  return key;
}

std::string SignWithHeader(std::string_view header_json, std::string_view payload,
                           const HarnessKey& key) {
  const std::string signing_input = Base64UrlEncode(header_json) + "." + Base64UrlEncode(payload);
  unsigned char signature[crypto_sign_BYTES];
  crypto_sign_detached(signature, nullptr,
                       reinterpret_cast<const unsigned char*>(signing_input.data()),
                       signing_input.size(), key.secret_key.data());
  return signing_input + "." +
         Base64UrlEncode(
             std::string_view(reinterpret_cast<const char*>(signature), sizeof signature));
}

std::string SignPayload(std::string_view payload, const HarnessKey& key) {
  return SignCompactJws(payload, key.secret_key, key.kid);
}

protocol::Record HarnessRecord(const HarnessKey& key, std::int64_t epoch, std::int64_t seq,
                               const std::string& prev, protocol::RecordType type) {
  using namespace protocol;
  constexpr UnixSeconds kAt = kNow - 3600;  // 2026-11-25T10:00:00Z
  Record record{{key.node, epoch, seq, prev, kAt, "97fe4a08-17ea-4d7f", 1000 + seq, "0.1.0"},
                AgentStop{}};
  switch (type) {
    case RecordType::kHeartbeat:
      record.body = Heartbeat{
          kAt, true, {{"tmux", CheckState::kOk}, {"gateway", CheckState::kWarning}}, true};
      break;
    case RecordType::kTask:
      record.body = TaskRun{"a1b2c3", "backup", kAt - 60, true, std::nullopt};
      break;
    case RecordType::kIncident:
      record.body = Incident{3, "gateway", kAt - 120, kAt, "gateway: not active (failed)"};
      break;
    case RecordType::kAgentStart:
      record.body = AgentStart{true, false};
      break;
    case RecordType::kAgentStop:
      break;
    case RecordType::kAck:
      record.body = Ack{3, kAt - 60, "ada_l", AckVia::kTelegram, "restarting the gateway"};
      break;
    case RecordType::kMaintenance:
      record.body = Maintenance{kAt, kAt + 7200, "kernel upgrade", "hermes"};
      break;
    case RecordType::kRemediation:
      record.body = Remediation{"gateway",
                                "hermes-gateway.service",
                                RemedyAction::kRestartUnit,
                                "hermes-gateway.service failed (signal)",
                                1,
                                kAt - 10,
                                kAt - 4,
                                RemedyOutcome::kSucceeded,
                                "active (running) after 6 s",
                                3};
      break;
    case RecordType::kKeyRotate: {
      const HarnessKey& next = NextKey();
      record.body = KeyRotate{next.public_key, next.kid,
                              SignKeyProof({key.node, key.kid, next.kid, kAt}, next.secret_key)};
      break;
    }
  }
  return record;
}

std::string RecordPayload(const HarnessKey& key, std::int64_t epoch, std::int64_t seq,
                          const std::string& prev, protocol::RecordType type) {
  return protocol::EncodeRecord(HarnessRecord(key, epoch, seq, prev, type));
}

ParserRun RunRecordParser(std::string_view data) {
  ParserRun run;
  Checker check(run.broken);
  RunRaw(data, run, check);
  RunSigned(data, run, check);
  return run;
}

}  // namespace fleet::fuzz
