// The signed form of every record (protocol/jws.h): base64url, compact JWS over Ed25519 with
// its header pinned, the strict JSON both sides read, the key id and the public JWK.
#include "protocol/jws.h"

#include <doctest/doctest.h>
#include <sodium.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/support/seed_key.h"

using namespace fleet;

namespace {

// A key pair as the tests make it (tests/support/seed_key.h).
struct TestKey {
  PublicKey public_key{};
  SecretKey secret_key{};
  std::string kid;
};

TestKey KeyFromSeedByte(unsigned char b) { return testing::KeyFromSeedByte<TestKey>(b); }

std::string Part(const std::string& json) { return Base64UrlEncode(json); }

}  // namespace

TEST_CASE("base64url without padding, both ways; garbage refused") {
  CHECK(Base64UrlEncode("") == "");
  CHECK(Base64UrlEncode("f") == "Zg");
  CHECK(Base64UrlEncode("\xfb\xff") == "-_8");
  CHECK(Base64UrlDecode("-_8").value() == "\xfb\xff");
  CHECK_FALSE(Base64UrlDecode("Zg==").ok());  // padding is not base64url-without-padding
  CHECK_FALSE(Base64UrlDecode("a+b/").ok());
  CHECK_FALSE(Base64UrlDecode("a b").ok());
  CHECK(GenesisHash() == Base64UrlEncode(std::string(32, '\0')));
  CHECK(ChainHash("abc") == "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0");  // SHA-256("abc")
}

TEST_CASE("sign and verify a record; header pinned to EdDSA and the record type") {
  TestKey key = KeyFromSeedByte(7);
  const std::string jws = SignCompactJws(R"({"seq":1})", key.secret_key, key.kid);
  auto verified = VerifyCompactJws(jws, key.public_key);
  REQUIRE(verified.ok());
  CHECK(verified->payload == R"({"seq":1})");
  CHECK(verified->kid == key.kid);
  auto header = nlohmann::json::parse(Base64UrlDecode(jws.substr(0, jws.find('.'))).value());
  CHECK(header == nlohmann::json{{"alg", "EdDSA"}, {"kid", key.kid}, {"typ", "fleet-record+jws"}});
  CHECK(key.kid.size() == 11);  // 8 bytes in base64url

  const std::string payload = jws.substr(jws.find('.') + 1);
  const std::string sig = jws.substr(jws.rfind('.') + 1);
  const std::string body = Part(R"({"seq":2})");
  SUBCASE("another key or another payload fails") {
    CHECK_FALSE(VerifyCompactJws(jws, KeyFromSeedByte(8).public_key).ok());
    std::string swapped = jws.substr(0, jws.find('.') + 1) + body + "." + sig;
    CHECK(VerifyCompactJws(swapped, key.public_key).error() == "bad signature");
  }
  SUBCASE("alg none, HS256 and a missing typ are refused before any signature check") {
    for (const char* h : {R"({"alg":"none","kid":"x","typ":"fleet-record+jws"})",
                          R"({"alg":"HS256","kid":"x","typ":"fleet-record+jws"})",
                          R"({"alg":"EdDSA","kid":"x"})", R"({"kid":"x"})", "[]", "garbage"}) {
      CHECK_FALSE(VerifyCompactJws(Part(h) + "." + body + "." + sig, key.public_key).ok());
    }
    CHECK_FALSE(
        VerifyCompactJws(Part(R"({"alg":"none"})") + "." + body + ".", key.public_key).ok());
  }
  SUBCASE("malformed compact forms") {
    for (std::string bad : {std::string(), std::string("a.b"), std::string("a.b.c.d"), jws + ".",
                            std::string("..."), jws.substr(0, jws.size() - 5)}) {
      CHECK_FALSE(VerifyCompactJws(bad, key.public_key).ok());
    }
  }
}

TEST_CASE("the protected header holds alg, kid and typ, each once, and nothing else") {
  TestKey key = KeyFromSeedByte(7);
  const std::string payload = Part(R"({"seq":1})");
  auto signed_with = [&](const std::string& header) {
    const std::string input = Part(header) + "." + payload;
    unsigned char signature[crypto_sign_BYTES];
    crypto_sign_detached(signature, nullptr, reinterpret_cast<const unsigned char*>(input.data()),
                         input.size(), key.secret_key.data());
    return input + "." +
           Base64UrlEncode(
               std::string_view(reinterpret_cast<const char*>(signature), sizeof signature));
  };
  const std::string usual = R"("alg":"EdDSA","kid":")" + key.kid + R"(","typ":"fleet-record+jws")";
  CHECK(VerifyCompactJws(signed_with("{" + usual + "}"), key.public_key).ok());
  // Signed correctly, yet other verifiers would read these otherwise (RFC 7515 crit,
  // RFC 7797 b64, a key they understand and we do not, the first of two values).
  for (const std::string& extra :
       {std::string(R"(,"crit":["exp"],"exp":1)"), std::string(R"(,"b64":false,"crit":["b64"])"),
        std::string(R"(,"jwk":{"kty":"OKP"})"), std::string(R"(,"alg":"none")"),
        std::string(R"(,"typ":"JWT")")}) {
    CAPTURE(extra);
    auto verified = VerifyCompactJws(signed_with("{" + usual + extra + "}"), key.public_key);
    REQUIRE_FALSE(verified.ok());
    CHECK(verified.error().starts_with("the JWS header"));
  }
}

TEST_CASE("strict JSON: no key twice at any depth, no byte order mark, bounded depth") {
  CHECK(ParseStrictJson(R"({"a":1,"b":{"c":[{"d":1},{"d":2}]}})", 8).ok());
  CHECK(ParseStrictJson(R"({"a":1,"a":1})", 8).error() == "duplicate key 'a'");
  CHECK(ParseStrictJson(R"({"a":{"b":1,"b":2}})", 8).error() == "duplicate key 'b'");
  CHECK(ParseStrictJson(R"([{"k":1,"k":2}])", 8).error() == "duplicate key 'k'");
  CHECK(ParseStrictJson("\xEF\xBB\xBF{}", 8).error().find("byte order mark") != std::string::npos);
  CHECK(ParseStrictJson("[[[[1]]]]", 3).error() == "nested deeper than 3 levels");
  CHECK(ParseStrictJson("{\"a\":", 8).error().starts_with("not valid JSON"));
}

TEST_CASE("a key id has KeyId's shape: 11 canonical base64url characters") {
  CHECK(IsKeyIdShape(KeyFromSeedByte(3).kid));
  for (const char* bad :
       {"", "k", "AAAAAAAAAA", "AAAAAAAAAAAA", "AAAAAAAAAA=", "AAAAAAAAAA.", "AAAAAAAAAAB"}) {
    CAPTURE(bad);
    CHECK_FALSE(IsKeyIdShape(bad));
  }
}

TEST_CASE("public JWK: printed and parsed; wrong kinds refused") {
  TestKey key = KeyFromSeedByte(1);
  auto jwk = nlohmann::json::parse(PublicJwk(key.public_key));
  CHECK(jwk["kty"] == "OKP");
  CHECK(jwk["crv"] == "Ed25519");
  CHECK(jwk["kid"] == key.kid);
  CHECK(ParsePublicJwk(jwk.dump()).value() == key.public_key);
  CHECK_FALSE(ParsePublicJwk(R"({"kty":"EC","crv":"P-256","x":"AA"})").ok());
  CHECK_FALSE(ParsePublicJwk(R"({"kty":"OKP","crv":"Ed25519","x":"AAAA"})").ok());
  CHECK_FALSE(ParsePublicJwk(R"({"kty":1,"crv":[],"x":{}})").ok());
  CHECK_FALSE(ParsePublicJwk("not json").ok());
}
