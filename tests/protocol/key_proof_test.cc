// The new key's half of a key_rotate (protocol/key_proof.h): it verifies with the new key
// for exactly the node, old kid, new kid and t it was made for, and for nothing else.
#include "protocol/key_proof.h"

#include <doctest/doctest.h>
#include <sodium.h>

#include <nlohmann/json.hpp>
#include <string>

using namespace fleet;
using namespace fleet::protocol;

namespace {

struct Pair {
  PublicKey public_key{};
  SecretKey secret_key{};
  std::string kid;
  Pair() {
    REQUIRE(sodium_init() >= 0);
    crypto_sign_keypair(public_key.data(), secret_key.data());
    kid = KeyId(public_key);
  }
};

constexpr UnixSeconds kAt = 1795600800;  // 2026-11-25T10:00:00Z

}  // namespace

TEST_CASE("a key proof verifies with the new key for exactly its claims") {
  const Pair old_key, new_key, stranger;
  const KeyProofClaims claims{"node-1", old_key.kid, new_key.kid, kAt};
  const std::string proof = SignKeyProof(claims, new_key.secret_key);
  CHECK(VerifyKeyProof(proof, new_key.public_key, claims).ok());

  // Its header and payload, as any JOSE library reads them.
  auto header = ReadJwsHeader(proof);
  REQUIRE(header.ok());
  CHECK(header->alg == "EdDSA");
  CHECK(header->typ == "fleet-key-proof+jws");
  CHECK(header->kid == new_key.kid);

  SUBCASE("signed by another key (the old one, a stranger)") {
    const std::string by_old = SignKeyProof(claims, old_key.secret_key);
    auto why = VerifyKeyProof(by_old, new_key.public_key, claims);
    REQUIRE_FALSE(why.ok());
    CHECK(why.error().starts_with("not signed by the new key"));
    CHECK_FALSE(VerifyKeyProof(proof, stranger.public_key, claims).ok());
  }
  SUBCASE("replayed for another node, old key, new kid or time") {
    KeyProofClaims other_node = claims, other_old = claims, other_new = claims, other_t = claims;
    other_node.node = "node-2";
    other_old.old_kid = stranger.kid;
    other_new.new_kid = stranger.kid;
    other_t.t = kAt + 1;
    for (const KeyProofClaims& other : {other_node, other_old, other_new, other_t}) {
      CAPTURE(other.node);
      CAPTURE(other.old_kid);
      CAPTURE(other.t);
      CHECK_FALSE(VerifyKeyProof(proof, new_key.public_key, other).ok());
    }
  }
  SUBCASE("a record's JWS is no proof (typ), nor is a proof a record") {
    const std::string record = SignCompactJws(R"({"v":1})", new_key.secret_key, new_key.kid);
    auto why = VerifyKeyProof(record, new_key.public_key, claims);
    REQUIRE_FALSE(why.ok());
    CHECK(why.error().find("typ must be fleet-key-proof+jws") != std::string::npos);
    CHECK_FALSE(VerifyCompactJws(proof, new_key.public_key).ok());
  }
  SUBCASE("a claim more, or one missing, is another claim") {
    nlohmann::json payload = {{"v", 1},
                              {"node", claims.node},
                              {"old_kid", claims.old_kid},
                              {"new_kid", claims.new_kid},
                              {"t", "2026-11-25T10:00:00Z"}};
    CHECK(VerifyKeyProof(
              SignCompactJws(payload.dump(), new_key.secret_key, new_key.kid, kKeyProofTyp),
              new_key.public_key, claims)
              .ok());
    payload["seq"] = 4;
    CHECK_FALSE(VerifyKeyProof(
                    SignCompactJws(payload.dump(), new_key.secret_key, new_key.kid, kKeyProofTyp),
                    new_key.public_key, claims)
                    .ok());
    payload.erase("seq");
    payload.erase("old_kid");
    CHECK_FALSE(VerifyKeyProof(
                    SignCompactJws(payload.dump(), new_key.secret_key, new_key.kid, kKeyProofTyp),
                    new_key.public_key, claims)
                    .ok());
  }
  SUBCASE("its kid not the new key's") {
    const std::string wrong_kid = SignCompactJws(nlohmann::json::parse(R"({"v":1})").dump(),
                                                 new_key.secret_key, old_key.kid, kKeyProofTyp);
    auto why = VerifyKeyProof(wrong_kid, new_key.public_key, claims);
    REQUIRE_FALSE(why.ok());
    CHECK(why.error().find("is not the new key's") != std::string::npos);
  }
  SUBCASE("truncated and garbage") {
    for (std::size_t n = 0; n < proof.size(); ++n) {
      CHECK_FALSE(VerifyKeyProof(proof.substr(0, n), new_key.public_key, claims).ok());
    }
    CHECK_FALSE(VerifyKeyProof("a.b.c", new_key.public_key, claims).ok());
    CHECK_FALSE(VerifyKeyProof("", new_key.public_key, claims).ok());
  }
}

TEST_CASE("an enrolment proof verifies with the key sent, for its node, nonce and token only") {
  const Pair key, stranger;
  const EnrolClaims claims{"vps-fra-03", "nonce-1", TokenDigest("token-1")};
  CHECK(TokenDigest("token-1") == ChainHash("token-1"));
  CHECK(TokenDigest("token-1") != TokenDigest("token-2"));
  const std::string proof = SignEnrolProof(claims, key.secret_key, key.kid);
  CHECK(VerifyEnrolProof(proof, key.public_key, claims).ok());
  CHECK(ReadJwsHeader(proof)->typ == "fleet-enrol+jws");
  auto why = VerifyEnrolProof(proof, stranger.public_key, claims);
  REQUIRE_FALSE(why.ok());
  CHECK(why.error().starts_with("not signed by the key sent"));
  for (EnrolClaims other : {EnrolClaims{"vps-fra-04", "nonce-1", TokenDigest("token-1")},
                            EnrolClaims{"vps-fra-03", "nonce-2", TokenDigest("token-1")},
                            EnrolClaims{"vps-fra-03", "nonce-1", TokenDigest("token-2")}}) {
    CHECK_FALSE(VerifyEnrolProof(proof, key.public_key, other).ok());
  }
  // Signed by the right key under another kid, or as another kind of JWS: refused.
  CHECK_FALSE(
      VerifyEnrolProof(SignEnrolProof(claims, key.secret_key, stranger.kid), key.public_key, claims)
          .ok());
  CHECK_FALSE(VerifyEnrolProof(SignKeyProof({"vps-fra-03", "a", key.kid, kAt}, key.secret_key),
                               key.public_key, claims)
                  .ok());
  for (std::size_t n = 0; n < proof.size(); n += 7) {
    CHECK_FALSE(VerifyEnrolProof(proof.substr(0, n), key.public_key, claims).ok());
  }
}
