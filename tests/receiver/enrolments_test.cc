// Enrolment on both stores (receiver/registry/enrolments.h): a node registers its own key with
// a one-time token and a nonce, proving it holds the key; every refusal the issue lists, and
// the honest node losing nothing.
#include "receiver/registry/enrolments.h"

#include <doctest/doctest.h>

#include "protocol/key_proof.h"
#include "receiver/core/ingest.h"
#include "receiver/registry/revocations.h"
#include "tests/receiver/store_factory.h"
#include "tests/receiver/test_records.h"

namespace fleet::receiver {
namespace {

using testing::MakeChain;
using testing::TestNode;

constexpr std::int64_t kNow = 1764064800;  // the test records' t

template <typename Maker>
struct World {
  Maker maker;
  std::unique_ptr<RecordStore> store = maker.Make();
  std::unique_ptr<SqlLink> link = [this] {
    auto made = OpenSqlLink(maker.Db());
    REQUIRE_MESSAGE(made.ok(), (made ? "" : made.error()));
    return std::move(made).value();
  }();
  Enrolments enrolments{*link};

  std::string Token(const std::string& op = "op-7", const std::string& node = "",
                    std::int64_t ttl = kDefaultTokenSeconds) {
    auto token = enrolments.IssueToken(op, node, ttl, kNow - 60);
    REQUIRE_MESSAGE(token.ok(), (token ? "" : token.error()));
    return token->token;
  }
  std::string Nonce() { return enrolments.IssueNonce(kNow).value(); }
  // What fleet-agent enroll sends, for `as` (node id) with the key of `key`.
  EnrolRequest Request(const TestNode& key, const std::string& as, const std::string& token) {
    EnrolRequest r{token, as, PublicJwk(key.public_key), Nonce(), ""};
    r.proof = protocol::SignEnrolProof({as, r.nonce, protocol::TokenDigest(token)}, key.secret_key,
                                       key.kid);
    return r;
  }
  EnrolOutcome Enrol(const EnrolRequest& r, std::int64_t now = kNow) {
    auto outcome = enrolments.Enrol(r, now);
    REQUIRE_MESSAGE(outcome.ok(), (outcome ? "" : outcome.error()));
    return *outcome;
  }
};

EnrolRefusal Refused(const EnrolOutcome& outcome) {
  REQUIRE(std::holds_alternative<EnrolRefusal>(outcome));
  return std::get<EnrolRefusal>(outcome);
}

}  // namespace

TEST_CASE_TEMPLATE("enrolment: the node registers its own key, the token is burnt", Maker,
                   FLEET_RECEIVER_STORES) {
  World<Maker> w;
  TestNode node("vps-fra-03");
  const std::string token = w.Token("op-7", "vps-fra-03");
  const EnrolRequest request = w.Request(node, "vps-fra-03", token);
  EnrolOutcome outcome = w.Enrol(request);
  REQUIRE(std::holds_alternative<Enrolled>(outcome));
  CHECK(std::get<Enrolled>(outcome).node == "vps-fra-03");
  CHECK(std::get<Enrolled>(outcome).operator_id == "op-7");
  CHECK(std::get<Enrolled>(outcome).kid == node.kid);
  auto key = w.store->FindKey(node.kid);
  REQUIRE(key.ok());
  REQUIRE(key->has_value());
  CHECK((*key)->node == "vps-fra-03");
  CHECK((*key)->key == node.public_key);
  CHECK(w.store->ListNodes()->at(0).operator_id == "op-7");
  // Its records are taken.
  auto chain = MakeChain(node, 1, 2);
  CHECK(IngestBatch(*w.store, testing::Body(chain, {1, 2}), kNow).status == 200);

  // Sent again (the reply lost; a new nonce, a new proof): the same answer, nothing added.
  outcome = w.Enrol(w.Request(node, "vps-fra-03", token));
  REQUIRE(std::holds_alternative<Enrolled>(outcome));
  CHECK(w.store->ListNodes()->size() == 1);
  // The nonce went with the first try.
  CHECK(Refused(w.Enrol(request)).reason.starts_with("unknown, used or expired nonce"));
}

TEST_CASE_TEMPLATE("enrolment refusals: tokens, nonces, proofs, keys and node ids", Maker,
                   FLEET_RECEIVER_STORES) {
  World<Maker> w;
  TestNode first("node-a");
  REQUIRE(std::holds_alternative<Enrolled>(w.Enrol(w.Request(first, "node-a", w.Token()))));

  SUBCASE("a token used, by another node") {
    const std::string token = w.Token();
    TestNode other("node-b");
    REQUIRE(std::holds_alternative<Enrolled>(w.Enrol(w.Request(other, "node-b", token))));
    TestNode third("node-c");
    const EnrolRefusal why = Refused(w.Enrol(w.Request(third, "node-c", token)));
    CHECK(why.status == 403);
    CHECK(why.reason.starts_with("token already used at "));
  }
  SUBCASE("a token unknown, expired, or for another node") {
    TestNode other("node-b");
    CHECK(Refused(w.Enrol(w.Request(other, "node-b", "made-up")))
              .reason.starts_with("unknown token"));
    const std::string short_lived = w.Token("op-7", "", 30);
    const EnrolRefusal expired = Refused(w.Enrol(w.Request(other, "node-b", short_lived)));
    CHECK(expired.status == 403);
    CHECK(expired.reason.starts_with("token expired at "));
    const EnrolRefusal bound =
        Refused(w.Enrol(w.Request(other, "node-b", w.Token("op-7", "node-x"))));
    CHECK(bound.reason == "this token enrols node node-x only");
    CHECK(w.store->ListNodes()->size() == 1);
  }
  SUBCASE("the first node's key for a second node: one key, one node; the event flagged") {
    TestNode stolen = first;  // someone who copied node-a's public JWK (and even its key)
    const EnrolRefusal why = Refused(w.Enrol(w.Request(stolen, "node-b", w.Token())));
    CHECK(why.status == 409);
    CHECK(why.reason.find("a key may belong to one node only") != std::string::npos);
    CHECK(why.foundation_event);
    CHECK((*w.store->FindKey(first.kid))->node == "node-a");
  }
  SUBCASE("a node id taken by another key") {
    TestNode impostor("node-a");
    const EnrolRefusal why = Refused(w.Enrol(w.Request(impostor, "node-a", w.Token())));
    CHECK(why.status == 409);
    CHECK(why.reason == "node id node-a is taken by another key");
  }
  SUBCASE("a public JWK without its private key: the proof fails") {
    TestNode thief("node-b");
    EnrolRequest r = w.Request(thief, "node-b", w.Token());
    TestNode victim("node-v");
    r.jwk = PublicJwk(victim.public_key);  // someone else's key, seen in a log
    const EnrolRefusal why = Refused(w.Enrol(r));
    CHECK(why.status == 403);
    CHECK(why.reason.starts_with("proof of possession: "));
  }
  SUBCASE("a proof for another node, nonce or token") {
    TestNode other("node-b");
    const std::string token = w.Token();
    EnrolRequest r = w.Request(other, "node-b", token);
    r.node = "node-z";
    CHECK(Refused(w.Enrol(r)).reason.starts_with("proof of possession: "));
    r = w.Request(other, "node-b", token);
    r.proof = protocol::SignEnrolProof({"node-b", "another-nonce", protocol::TokenDigest(token)},
                                       other.secret_key, other.kid);
    CHECK(Refused(w.Enrol(r)).reason.starts_with("proof of possession: "));
    // The token was not burnt by the failed attempts.
    CHECK(std::holds_alternative<Enrolled>(w.Enrol(w.Request(other, "node-b", token))));
  }
  SUBCASE("a nonce made up, or expired") {
    TestNode other("node-b");
    EnrolRequest r = w.Request(other, "node-b", w.Token());
    EnrolRequest made_up = r;
    made_up.nonce = "nonce-nobody-gave";
    CHECK(Refused(w.Enrol(made_up)).reason.starts_with("unknown, used or expired nonce"));
    CHECK(Refused(w.Enrol(r, kNow + kNonceSeconds + 1))
              .reason.starts_with("unknown, used or expired nonce"));
  }
  SUBCASE("an operator revoked: no token, and tokens given before refused") {
    const std::string token = w.Token("op-9");
    REQUIRE(Revocations(*w.link).RevokeOperator("op-9", kNow - 30, "left").ok());
    TestNode other("node-b");
    CHECK(Refused(w.Enrol(w.Request(other, "node-b", token))).reason ==
          "operator op-9 was revoked");
    CHECK_FALSE(w.enrolments.IssueToken("op-9", "", 3600, kNow).ok());
  }
  SUBCASE("a malformed request or node id") {
    TestNode other("node-b");
    EnrolRequest r = w.Request(other, "node b", w.Token());
    CHECK(Refused(w.Enrol(r)).status == 400);
    r = w.Request(other, "node-b", w.Token());
    r.jwk = R"({"kty":"RSA"})";
    CHECK(Refused(w.Enrol(r)).status == 400);
  }
  // node-a's registration and records are untouched by any of it.
  CHECK((*w.store->FindKey(first.kid))->node == "node-a");
  auto chain = MakeChain(first, 1, 3);
  CHECK(IngestBatch(*w.store, testing::Body(chain, {1, 2, 3}), kNow).status == 200);
}

TEST_CASE("enrolment requests are read strictly; tokens and limits") {
  auto good = ParseEnrolRequest(
      R"({"token":"t","node":"n","jwk":{"kty":"OKP"},"nonce":"x","proof":"a.b.c"})");
  REQUIRE(good.ok());
  CHECK(good->jwk == R"({"kty":"OKP"})");
  CHECK_FALSE(ParseEnrolRequest(R"({"token":"t","node":"n","jwk":{},"nonce":"x"})").ok());
  CHECK_FALSE(
      ParseEnrolRequest(R"({"token":"t","node":"n","jwk":{},"nonce":"x","proof":"p","x":1})").ok());
  CHECK_FALSE(
      ParseEnrolRequest(R"({"token":"t","token":"u","node":"n","jwk":{},"nonce":"x","proof":"p"})")
          .ok());
  CHECK_FALSE(ParseEnrolRequest(R"({"token":1,"node":"n","jwk":{},"nonce":"x","proof":"p"})").ok());
  CHECK_FALSE(
      ParseEnrolRequest(R"({"token":"t","node":"n","jwk":"{}","nonce":"x","proof":"p"})").ok());
  CHECK_FALSE(ParseEnrolRequest("").ok());
  CHECK_FALSE(ParseEnrolRequest("[]").ok());
  CHECK_FALSE(ParseEnrolRequest(std::string(20000, ' ')).ok());

  AttemptLimiter limiter(3);
  CHECK(limiter.Allow("10.0.0.1", kNow));
  CHECK(limiter.Allow("10.0.0.1", kNow + 1));
  CHECK(limiter.Allow("10.0.0.1", kNow + 2));
  CHECK_FALSE(limiter.Allow("10.0.0.1", kNow + 3));
  CHECK(limiter.Allow("10.0.0.2", kNow + 3));   // per address
  CHECK(limiter.Allow("10.0.0.1", kNow + 61));  // a minute after the first
}

}  // namespace fleet::receiver
