#include "protocol/key_proof.h"

#include <nlohmann/json.hpp>

#include "base/json_text.h"

namespace fleet::protocol {
namespace {

using nlohmann::json;

json ClaimsJson(const KeyProofClaims& c) {
  return {{"v", 1},
          {"node", c.node},
          {"old_kid", c.old_kid},
          {"new_kid", c.new_kid},
          {"t", FormatUtc(c.t)}};
}

json EnrolJson(const EnrolClaims& c) {
  return {{"v", 1}, {"node", c.node}, {"nonce", c.nonce}, {"token_sha256", c.token_sha256}};
}

}  // namespace

std::string TokenDigest(std::string_view token) { return ChainHash(token); }

std::string SignEnrolProof(const EnrolClaims& claims, const SecretKey& secret,
                           const std::string& kid) {
  return SignCompactJws(DumpJson(EnrolJson(claims)), secret, kid, kEnrolProofTyp);
}

Outcome VerifyEnrolProof(std::string_view proof, const PublicKey& key,
                         const EnrolClaims& expected) {
  auto verified = VerifyCompactJws(proof, key, kEnrolProofTyp);
  if (!verified) return Error{"not signed by the key sent: " + verified.error()};
  if (verified->kid != KeyId(key)) {
    return Error{"its kid " + PrintableAscii(verified->kid, 40) + " is not the key's " +
                 KeyId(key)};
  }
  auto claims = ParseStrictJson(verified->payload, 2);
  if (!claims) return Error{"its payload: " + claims.error()};
  if (!claims->is_object() || *claims != EnrolJson(expected)) {
    return Error{"it does not claim this node, nonce and token"};
  }
  return Success();
}

std::string SignKeyProof(const KeyProofClaims& claims, const SecretKey& new_secret) {
  return SignCompactJws(DumpJson(ClaimsJson(claims)), new_secret, claims.new_kid, kKeyProofTyp);
}

Outcome VerifyKeyProof(std::string_view proof, const PublicKey& new_key,
                       const KeyProofClaims& expected) {
  auto verified = VerifyCompactJws(proof, new_key, kKeyProofTyp);
  if (!verified) return Error{"not signed by the new key: " + verified.error()};
  if (verified->kid != expected.new_kid) {
    return Error{"its kid " + PrintableAscii(verified->kid, 40) + " is not the new key's " +
                 expected.new_kid};
  }
  auto claims = ParseStrictJson(verified->payload, 2);
  if (!claims) return Error{"its payload: " + claims.error()};
  // Exactly the claims, as SignKeyProof writes them (strict JSON, so no key twice).
  if (!claims->is_object() || *claims != ClaimsJson(expected)) {
    return Error{"it claims " + PrintableAscii(verified->payload, 300) + ", not " +
                 DumpJson(ClaimsJson(expected))};
  }
  return Success();
}

}  // namespace fleet::protocol
