// Compact JWS (RFC 7515) with EdDSA over Ed25519 (RFC 8037), the form every record takes:
// header {"alg":"EdDSA","kid":...,"typ":"fleet-record+jws"}, payload the record's JSON.
// Pure functions over libsodium; verification pins alg to EdDSA (no "none", no HMAC) and
// never throws. Key material is raw bytes: a 32-byte public key, a 64-byte secret key
// (libsodium's seed || public key). Both sides read JSON strictly (ParseStrictJson): other
// JOSE verifiers resolve a duplicate key or an extension differently, so the protected header
// may hold only alg, kid and typ (no crit, no b64), each once.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace fleet {

// The wire contract's bound on one record (one compact JWS, one line of a batch): the
// receiver refuses anything longer, so the agent never makes a record longer.
inline constexpr std::size_t kMaxRecordBytes = 64 * 1024;

using PublicKey = std::array<std::uint8_t, 32>;
using SecretKey = std::array<std::uint8_t, 64>;

std::string Base64UrlEncode(std::string_view bytes);
Result<std::string> Base64UrlDecode(std::string_view text);

// base64url (no padding) of the first 8 bytes of SHA-256 over the public key.
std::string KeyId(const PublicKey& key);
// base64url (no padding) of SHA-256 over the text: the `prev` link of the next record.
std::string ChainHash(std::string_view text);
// base64url of 32 zero bytes: `prev` at the start of an epoch.
std::string GenesisHash();
// True for the form KeyId gives: 11 base64url characters, canonical (8 bytes).
bool IsKeyIdShape(std::string_view kid);

// JSON text as records are read: no byte order mark, nesting at most max_depth (counted
// before parsing), and no object with the same key twice (nlohmann's DOM keeps the last one
// silently, other verifiers the first). Errors are one printable ASCII line.
Result<nlohmann::json> ParseStrictJson(std::string_view text, int max_depth);

// The typ of a record; a key_rotate's proof has its own (protocol/key_proof.h).
inline constexpr std::string_view kRecordTyp = "fleet-record+jws";

std::string SignCompactJws(std::string_view payload_json, const SecretKey& secret,
                           const std::string& kid, std::string_view typ = kRecordTyp);

struct VerifiedJws {
  std::string kid;
  std::string payload;  // the JSON text
};
// Checks shape, header (alg EdDSA, typ), and the signature with `key`.
Result<VerifiedJws> VerifyCompactJws(std::string_view jws, const PublicKey& key,
                                     std::string_view typ = kRecordTyp);

// The protected header of a compact JWS, read without a key (to pick the key by kid): a
// JSON object with no key but alg, kid and typ, none twice. Fields absent or not strings
// are empty. Says nothing about the signature.
struct JwsHeader {
  std::string alg;
  std::string kid;
  std::string typ;
};
Result<JwsHeader> ReadJwsHeader(std::string_view jws);

// The public JWK {"kty":"OKP","crv":"Ed25519","x":...,"kid":...}, and back.
std::string PublicJwk(const PublicKey& key);
Result<PublicKey> ParsePublicJwk(std::string_view jwk_json);

}  // namespace fleet
