// KeyProof: the new key's half of a key_rotate record (protocol/records.h). A node moving
// from its old key to a new one signs the key_rotate record with the old key, in its chain,
// and the record carries this proof: a compact JWS the NEW key signed, header
// {"alg":"EdDSA","kid":<new kid>,"typ":"fleet-key-proof+jws"}, payload
// {"v":1,"node":...,"old_kid":...,"new_kid":...,"t":...}. So both keys sign the move: the old
// one vouches for the new one, the new one proves its holder is that node and that move
// (proof of possession), and neither can be replayed for another node, another old key or
// another record (t is the record's own). Epoch, seq and prev are left out on purpose: a
// spooled record may be moved in the chain (re-chained after a refused one) and keeps its
// proof. Both signatures verify with any JOSE library. Pure.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"
#include "base/utc_time.h"
#include "protocol/jws.h"

namespace fleet::protocol {

inline constexpr std::string_view kKeyProofTyp = "fleet-key-proof+jws";

// What a proof says; all of it must match the record that carries it.
struct KeyProofClaims {
  std::string node;
  std::string old_kid;
  std::string new_kid;
  UnixSeconds t = 0;  // the key_rotate record's t
  bool operator==(const KeyProofClaims&) const = default;
};

// Signed with the new key (its kid must be claims.new_kid).
std::string SignKeyProof(const KeyProofClaims& claims, const SecretKey& new_secret);
// The proof verifies with new_key (typ, alg, kid new_kid) and its payload, read strictly,
// claims exactly `expected`; an Error names what does not hold.
Outcome VerifyKeyProof(std::string_view proof, const PublicKey& new_key,
                       const KeyProofClaims& expected);

// Enrolment's proof of possession (fleet-agent enroll, POST /v1/enroll): a compact JWS the
// node's key signed, header {"alg":"EdDSA","kid":<its kid>,"typ":"fleet-enrol+jws"}, payload
// {"v":1,"node":...,"nonce":...,"token_sha256":...}: the node id it enrols as, the nonce the
// receiver handed out (POST /v1/enroll/nonce, once) and the digest of the one-time token, so
// a proof is good for one enrolment of one node with one token and one nonce.
inline constexpr std::string_view kEnrolProofTyp = "fleet-enrol+jws";

struct EnrolClaims {
  std::string node;
  std::string nonce;
  std::string token_sha256;  // TokenDigest(token)
  bool operator==(const EnrolClaims&) const = default;
};

// base64url(SHA-256(token)): how a token is stored and proven (never the token itself).
std::string TokenDigest(std::string_view token);
std::string SignEnrolProof(const EnrolClaims& claims, const SecretKey& secret,
                           const std::string& kid);
// Verifies with `key` (kid KeyId(key)), the payload exactly `expected`.
Outcome VerifyEnrolProof(std::string_view proof, const PublicKey& key, const EnrolClaims& expected);

}  // namespace fleet::protocol
