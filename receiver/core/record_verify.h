// Record verification, the receiver's first gate: one line of a pushed batch (a compact
// JWS) becomes a VerifiedRecord or a Rejection with a reason naming the field. The header
// (strict JSON: alg, kid, typ only, each once; jws.h) is read without a key to find the
// signer by `kid`; `alg` is pinned to EdDSA and `typ` to fleet-record+jws; a kid not of
// KeyId's shape is refused before any lookup; the signature must verify with that node's
// key; the payload (strict JSON: depth-limited, no duplicate key) must carry the common
// fields with the right types and name the key's own node. A revoked node's records signed
// (t) after its revocation time are refused with the revocation's reason; those signed
// before it (spooled, late) are taken as any other. A key the node rotated away from (a
// key_rotate record it signed, stored) signs nothing after that record's t. A key_rotate
// record must carry a proof (protocol/key_proof.h) the new key signed for this node, this
// signer's kid, the new kid and this record's t: both keys sign the move. node, type, t and prev
// hold no control character (PostgreSQL would cut a string at NUL where SQLite keeps it); epoch and
// seq lie in [1, 2^53) (exact in every JSON reader, no overflow in seq arithmetic); t (and a
// heartbeat's minute, on a minute boundary, and an ack's at) is RFC 3339 UTC as the agent
// writes it and at most kMaxFutureSeconds ahead of the receive time `now`. (A maintenance
// window's from and until may lie ahead: a window can be planned.) Pure: the key registry is
// reached through the lookup function the caller passes.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "base/result.h"
#include "protocol/jws.h"
#include "protocol/records.h"

namespace fleet::receiver {

// A record (one line) larger than this is refused: an agent's records are a few hundred
// bytes, their free-text fields cut to 1 KiB at most (the contract's bound, protocol/jws.h).
inline constexpr std::size_t kMaxRecordBytes = fleet::kMaxRecordBytes;

// A node's registered key, as the registry knows it. revoked_at: the node's revocation
// time (unix seconds), when it is revoked; records it signed after that are refused.
struct RegisteredKey {
  std::string node;
  std::string kid;
  PublicKey key{};
  std::optional<std::int64_t> revoked_at;
  std::string revoke_reason;
  // The node moved from this key to successor_kid by a key_rotate record signed at
  // retired_at (unix seconds): records it signs after that are refused.
  std::optional<std::int64_t> retired_at;
  std::string successor_kid;
};

// Finds the key registered under a kid (nullopt when unknown); an Error when the registry
// cannot be read.
using KeyLookup = std::function<Result<std::optional<RegisteredKey>>(const std::string& kid)>;

struct VerifiedRecord {
  std::string node;
  std::int64_t epoch = 0;
  std::int64_t seq = 0;
  std::string prev;          // chain hash of the record before (GenesisHash at seq 1)
  std::string type;          // heartbeat, task, incident, agent_start, agent_stop...
  std::string t;             // RFC 3339 UTC, as the agent wrote it
  std::string payload;       // the JSON text
  std::string jws;           // the compact JWS, as received
  std::string hash;          // ChainHash(jws): what the next record's prev must be
  std::int64_t t_unix = 0;   // t in unix seconds
  protocol::Record decoded;  // the payload as the contract decodes it: the typed columns
  std::string kid;           // the key that signed it
};

enum class RejectKind {
  kInvalid,     // malformed, wrong alg/typ, bad signature, bad payload
  kUnknownKey,  // kid not registered
  kRevokedKey,  // kid of a revoked node, the record signed after the revocation
  kStoreError,  // the registry could not be read
};

struct Rejection {
  Rejection(RejectKind k = RejectKind::kInvalid, std::string why = {}, std::string of = {})
      : kind(k), reason(std::move(why)), node(std::move(of)) {}
  RejectKind kind;
  std::string reason;
  std::string node;  // kRevokedKey: the revoked node
};

using VerifyOutcome = std::variant<VerifiedRecord, Rejection>;

// A record's t (or a heartbeat's minute, an ack's at) more than this ahead of the receive time is
// refused: a node's clock a few minutes fast still gets through, next month's minutes do not.
inline constexpr std::int64_t kMaxFutureSeconds = 300;
// epoch and seq are below this (2^53): integers every JSON reader (and double) holds exactly.
inline constexpr std::int64_t kMaxChainNumber = protocol::kMaxChainNumber;

// now: the receive time, unix seconds.
VerifyOutcome VerifyRecord(std::string_view line, const KeyLookup& lookup, std::int64_t now);

}  // namespace fleet::receiver
