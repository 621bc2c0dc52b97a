#include "receiver/core/record_verify.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/json_text.h"
#include "base/utc_time.h"
#include "protocol/key_proof.h"
#include "protocol/records.h"

namespace fleet::receiver {
namespace {

Rejection Invalid(std::string reason) { return Rejection{RejectKind::kInvalid, std::move(reason)}; }

// A time the payload carries, not ahead of the receive time by more than kMaxFutureSeconds.
std::optional<Rejection> RefuseFuture(const char* name, std::int64_t at, std::int64_t now) {
  if (at <= now + kMaxFutureSeconds) return std::nullopt;
  return Invalid(std::string("payload ") + name + " " + FormatUtc(at) + " is " +
                 std::to_string(at - now) + " s ahead of the receive time (at most " +
                 std::to_string(kMaxFutureSeconds) + " s)");
}

// The header, up to the key: alg, typ and kid's shape, then the registry.
std::variant<RegisteredKey, Rejection> FindSigner(std::string_view line, const KeyLookup& lookup) {
  auto header = ReadJwsHeader(line);
  if (!header) return Invalid(header.error());
  if (header->alg != "EdDSA") {
    return Invalid("alg must be EdDSA, not '" + PrintableAscii(header->alg, 40) + "'");
  }
  if (header->typ != "fleet-record+jws") return Invalid("typ must be fleet-record+jws");
  if (header->kid.empty()) return Invalid("kid missing");
  const std::string kid = PrintableAscii(header->kid, 64);
  // Before any lookup: a registry lookup (under the receiver's key lock) per made-up kid
  // would let one batch hold everyone's ingest.
  if (!IsKeyIdShape(header->kid)) {
    return Invalid("kid '" + kid + "' is not a key id (11 base64url characters)");
  }
  auto found = lookup(header->kid);
  if (!found)
    return Rejection{RejectKind::kStoreError, "reading the key registry: " + found.error()};
  if (!found->has_value()) return Rejection{RejectKind::kUnknownKey, "unknown kid " + kid};
  return std::move(**found);
}

// A revoked node's record signed after its revocation time, refused with the reason.
std::optional<Rejection> RefuseRevoked(const RegisteredKey& key, std::int64_t t) {
  if (!key.revoked_at || t <= *key.revoked_at) return std::nullopt;
  std::string why = "node " + key.node + " is revoked since " + FormatUtc(*key.revoked_at);
  if (!key.revoke_reason.empty()) why += " (" + PrintableAscii(key.revoke_reason, 200) + ")";
  return Rejection{RejectKind::kRevokedKey,
                   why + ": kid " + key.kid + " signed this record at " + FormatUtc(t) +
                       ", after that; records it signed before still count",
                   key.node};
}

// A key the node rotated away from signs nothing after the key_rotate record's t.
std::optional<Rejection> RefuseRetired(const RegisteredKey& key, std::int64_t t) {
  if (!key.retired_at || t <= *key.retired_at) return std::nullopt;
  return Invalid("kid " + key.kid + " of node " + key.node + " was replaced by kid " +
                 key.successor_kid + " at " + FormatUtc(*key.retired_at) +
                 " (key_rotate): it signs nothing after that, and this record says " +
                 FormatUtc(t));
}

// Both halves of a key move: the old key signed the record (verified before), the new one
// the proof, for this node, this old key, that new key and this record's t.
std::optional<Rejection> RefuseKeyRotate(const RegisteredKey& key, const protocol::Envelope& e,
                                         const protocol::KeyRotate& rotate) {
  if (rotate.new_kid == key.kid) {
    return Invalid("payload new_jwk: the key_rotate moves kid " + key.kid + " to itself");
  }
  auto proven = protocol::VerifyKeyProof(rotate.proof, rotate.new_key,
                                         {e.node, key.kid, rotate.new_kid, e.t});
  if (!proven) return Invalid("payload proof: " + proven.error());
  return std::nullopt;
}

}  // namespace

VerifyOutcome VerifyRecord(std::string_view line, const KeyLookup& lookup, std::int64_t now) {
  // An agent's record is well under 4 KiB; a line far beyond that is not one of ours, and
  // stored it would cost every report that reads it.
  if (line.size() > kMaxRecordBytes) {
    return Invalid("record larger than " + std::to_string(kMaxRecordBytes) + " bytes");
  }
  auto signer = FindSigner(line, lookup);
  if (auto* why = std::get_if<Rejection>(&signer)) return std::move(*why);
  const RegisteredKey& key = std::get<RegisteredKey>(signer);
  auto verified = VerifyCompactJws(line, key.key);
  if (!verified) return Invalid(verified.error());

  // The payload must decode under the contract (protocol/records.h): exact types, every
  // field, no duplicate or unknown key, known type and v.
  auto decoded = protocol::DecodeRecord(verified->payload);
  if (!decoded) return Invalid(decoded.error());
  const protocol::Envelope& e = decoded->envelope;
  if (e.node != key.node) {
    return Invalid("payload names node '" + PrintableAscii(e.node, 64) + "' but kid " +
                   PrintableAscii(key.kid, 64) + " belongs to node '" + key.node + "'");
  }
  if (auto why = RefuseFuture(protocol::fields::kT, e.t, now)) return std::move(*why);
  if (auto why = RefuseRevoked(key, e.t)) return std::move(*why);
  if (auto why = RefuseRetired(key, e.t)) return std::move(*why);
  if (const auto* rotate = std::get_if<protocol::KeyRotate>(&decoded->body)) {
    if (auto why = RefuseKeyRotate(key, e, *rotate)) return std::move(*why);
  }
  if (const auto* beat = std::get_if<protocol::Heartbeat>(&decoded->body)) {
    // The minute a heartbeat covers is what uptime counts: bounded like t.
    if (auto why = RefuseFuture(protocol::fields::kMinute, beat->minute, now))
      return std::move(*why);
  }
  if (const auto* ack = std::get_if<protocol::Ack>(&decoded->body)) {
    // When an alert was acknowledged decides whether it was answered in time and whether
    // the acknowledgement arrived live: bounded like t.
    if (auto why = RefuseFuture(protocol::fields::kAt, ack->at, now)) return std::move(*why);
  }
  VerifiedRecord record;
  record.node = e.node;
  record.epoch = e.epoch;
  record.seq = e.seq;
  record.prev = e.prev;
  record.type = std::string(protocol::RecordTypeName(decoded->Type()));
  record.t = FormatUtc(e.t);
  record.t_unix = e.t;
  record.decoded = std::move(decoded).value();
  record.payload = std::move(verified->payload);
  record.jws = std::string(line);
  record.hash = ChainHash(line);
  record.kid = key.kid;
  return record;
}

}  // namespace fleet::receiver
