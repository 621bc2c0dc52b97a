// Key rotation at the receiver (issue 16): a node's new key is taken only through a
// key_rotate record its current key signed, in its chain, with the new key's proof; for that
// node alone; records the old key signed before the move still count, none after it. Every
// test runs once per store in FLEET_RECEIVER_STORES (store_factory.h).
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "protocol/key_proof.h"
#include "receiver/core/ingest.h"
#include "receiver/core/record_verify.h"
#include "tests/receiver/store_factory.h"
#include "tests/receiver/test_records.h"

namespace fleet::receiver {
namespace {

using testing::TestNode;
using Json = nlohmann::json;
namespace fields = protocol::fields;

constexpr std::int64_t kNow = 1764064800;  // the test records' t

std::string Reason(const Json& reply, std::size_t i) {
  return reply.at("rejected").at(i).at("reason").get<std::string>();
}

// A chain of node-1's records as its agent makes them: seq 1..3 heartbeats with the first
// key, seq 4 the move to the second key (signed by the first), then seq 5..6 with the second.
struct RotatingNode {
  TestNode first{"node-1"};
  TestNode second{"node-1"};  // the same node, its next key
  std::vector<std::string> chain;

  RotatingNode() {
    std::string prev = GenesisHash();
    const auto add = [&](std::string jws) {
      chain.push_back(std::move(jws));
      prev = ChainHash(chain.back());
    };
    for (int seq = 1; seq <= 3; ++seq) add(first.Sign(first.Payload(1, seq, prev)));
    add(first.Sign(first.RotatePayload(second, 1, 4, prev)));
    for (int seq = 5; seq <= 6; ++seq) add(second.Sign(second.Payload(1, seq, prev)));
  }
  std::string Prev(int seq) const { return seq == 1 ? GenesisHash() : ChainHash(chain[seq - 2]); }
  std::string Body(std::initializer_list<int> seqs) const { return testing::Body(chain, seqs); }
};

template <typename Maker>
struct World {
  Maker maker;
  std::unique_ptr<RecordStore> store = maker.Make();
  RotatingNode n;
  TestNode other{"node-2"};

  World() {
    REQUIRE(store->AddNode(n.first.Entry()).ok());
    REQUIRE(store->AddNode(other.Entry("op2")).ok());
  }
  Json Push(const std::string& body, int expect_status = 200, std::int64_t now = kNow) {
    IngestReply reply = IngestBatch(*store, body, now);
    CAPTURE(reply.body.dump());
    CHECK(reply.status == expect_status);
    return reply.body;
  }
  std::size_t Stored(const std::string& node = "node-1") {
    auto links = store->LinksFrom(node, 1, 1, 1000);
    REQUIRE(links.ok());
    return links->size();
  }
  std::optional<RegisteredKey> Key(const std::string& kid) {
    auto found = store->FindKey(kid);
    REQUIRE(found.ok());
    return *found;
  }
};

}  // namespace

TEST_CASE_TEMPLATE("a key_rotate moves the node to its new key, in its chain", Maker,
                   FLEET_RECEIVER_STORES) {
  World<Maker> w;
  const RotatingNode& n = w.n;

  // All six in one batch: it ends at the key_rotate; the new key's lines are not looked at.
  Json reply = w.Push(n.Body({1, 2, 3, 4, 5, 6}));
  CHECK(reply["stored"] == 4);
  CHECK(reply["ack_seq"] == 4);
  CHECK(reply["rejected"].empty());
  auto second = w.Key(n.second.kid);
  REQUIRE(second.has_value());
  CHECK(second->node == "node-1");
  CHECK(second->key == n.second.public_key);
  CHECK_FALSE(second->retired_at.has_value());
  auto first = w.Key(n.first.kid);
  REQUIRE(first.has_value());
  CHECK(first->retired_at == kNow);
  CHECK(first->successor_kid == n.second.kid);

  // The agent's next push, from seq 5: the new key's records.
  reply = w.Push(n.Body({5, 6}));
  CHECK(reply["stored"] == 2);
  CHECK(reply["ack_seq"] == 6);
  CHECK(w.Stored() == 6);

  // Pushed again whole (a reply lost): duplicates, the move registered once.
  reply = w.Push(n.Body({1, 2, 3, 4}));
  CHECK(reply["duplicates"] == 4);
  CHECK(reply["ack_seq"] == 6);
  auto keys = w.store->RotatedKeys("node-1");
  REQUIRE(keys.ok());
  REQUIRE(keys->size() == 1);
  CHECK(keys->at(0).old_kid == n.first.kid);
  CHECK(keys->at(0).kid == n.second.kid);
  CHECK(keys->at(0).key == n.second.public_key);
  CHECK(keys->at(0).since == kNow);
  CHECK(keys->at(0).epoch == 1);
  CHECK(keys->at(0).seq == 4);
  CHECK(w.store->RotatedKeys("node-2")->empty());

  // A rotated key is a key: no node may be added with it.
  auto entry = n.second.Entry("op3");
  entry.node = "node-3";
  auto taken = w.store->AddNode(entry);
  REQUIRE_FALSE(taken.ok());
  CHECK(taken.error().find("already registered to node node-1") != std::string::npos);

  // Revoking the node revokes every key of it.
  REQUIRE(w.store->RevokeNode("node-1", kNow + 120, "left").ok());
  CHECK(w.Key(n.second.kid)->revoked_at == kNow + 120);
  CHECK(w.Key(n.first.kid)->revoked_at == kNow + 120);
}

TEST_CASE_TEMPLATE("rotating twice: each key signs up to its own move", Maker,
                   FLEET_RECEIVER_STORES) {
  World<Maker> w;
  const RotatingNode& n = w.n;
  TestNode third("node-1");
  std::vector<std::string> chain = n.chain;
  // seq 7: the second key moves to the third, a minute later; seq 8 by the third.
  Json move = n.second.RotatePayload(third, 1, 7, ChainHash(chain.back()));
  move[fields::kT] = FormatUtc(kNow + 60);
  move[fields::kProof] =
      protocol::SignKeyProof({"node-1", n.second.kid, third.kid, kNow + 60}, third.secret_key);
  chain.push_back(n.second.Sign(move));
  Json after = third.Payload(1, 8, ChainHash(chain.back()));
  after[fields::kT] = FormatUtc(kNow + 90);
  chain.push_back(third.Sign(after));

  w.Push(testing::Body(chain, {1, 2, 3, 4}));
  w.Push(testing::Body(chain, {5, 6, 7, 8}));
  Json reply = w.Push(testing::Body(chain, {8}), 200, kNow + 120);
  CHECK(reply["ack_seq"] == 8);
  auto keys = w.store->RotatedKeys("node-1");
  REQUIRE(keys.ok());
  REQUIRE(keys->size() == 2);
  CHECK(keys->at(0).kid == n.second.kid);
  CHECK(keys->at(1).kid == third.kid);
  CHECK(keys->at(1).old_kid == n.second.kid);
  CHECK(w.Key(n.second.kid)->retired_at == kNow + 60);
  CHECK(w.Key(n.first.kid)->retired_at == kNow);
  CHECK_FALSE(w.Key(third.kid)->retired_at.has_value());
}

TEST_CASE_TEMPLATE("after its move, the old key's records made before it count, later ones not",
                   Maker, FLEET_RECEIVER_STORES) {
  World<Maker> w;
  const RotatingNode& n = w.n;
  // The move arrives first (its records before it are still spooled, in a gap).
  w.Push(n.Body({4}));
  Json reply = w.Push(n.Body({1, 2, 3}));
  CHECK(reply["stored"] == 3);
  CHECK(reply["ack_seq"] == 4);

  // The old key signs after its move (t one second after the key_rotate): refused.
  Json late = n.first.Payload(1, 7, ChainHash(n.chain.back()));
  late[fields::kT] = FormatUtc(kNow + 1);
  reply = w.Push(n.first.Sign(late) + "\n", 400);
  CHECK(reply["error"].get<std::string>().find("kid " + n.first.kid +
                                               " of node node-1 was "
                                               "replaced by kid " +
                                               n.second.kid) != std::string::npos);
  // At the key_rotate's own second, it may still sign (the agent's last records before it).
  late[fields::kT] = FormatUtc(kNow);
  reply = w.Push(n.first.Sign(late) + "\n");
  CHECK(reply["stored"] == 1);
  CHECK(w.Stored() == 5);  // 1..4 and 7; nothing earned before the move lost
}

TEST_CASE_TEMPLATE("key_rotate attacks are refused and the honest node loses nothing", Maker,
                   FLEET_RECEIVER_STORES) {
  World<Maker> w;
  const RotatingNode& n = w.n;
  w.Push(n.Body({1, 2, 3}));
  const std::string prev = n.Prev(4);
  TestNode thief("node-1");  // a key someone would slip in as node-1's

  SUBCASE("signed only by the new key: an unknown kid") {
    Json reply = w.Push(thief.Sign(n.first.RotatePayload(thief, 1, 4, prev)) + "\n", 401);
    CHECK(reply["error"].get<std::string>().find("unknown kid " + thief.kid) != std::string::npos);
  }
  SUBCASE("signed by another node's key") {
    TestNode as_other = w.other;
    Json p = n.first.RotatePayload(thief, 1, 4, prev);
    Json reply = w.Push(as_other.Sign(p) + "\n", 400);
    CHECK(reply["error"].get<std::string>().find("payload names node 'node-1' but kid " +
                                                 w.other.kid + " belongs to node 'node-2'") !=
          std::string::npos);
  }
  SUBCASE("another node's proof, replayed in node-1's record") {
    // node-2 moves to its next key; node-1's key tries to take that key with node-2's proof.
    TestNode other_next("node-2");
    Json theirs = w.other.RotatePayload(other_next, 1, 1, GenesisHash());
    Json p = n.first.RotatePayload(thief, 1, 4, prev);
    p[fields::kNewJwk] = theirs[fields::kNewJwk];
    p[fields::kProof] = theirs[fields::kProof];
    Json reply = w.Push(n.first.Sign(p) + "\n", 400);
    CHECK(reply["error"].get<std::string>().find("payload proof: it claims") != std::string::npos);
    // node-2's own record moves node-2 only.
    w.Push(w.other.Sign(theirs) + "\n");
    CHECK(w.Key(other_next.kid)->node == "node-2");
  }
  SUBCASE("the proof signed by the old key, not the new one") {
    Json p = n.first.RotatePayload(thief, 1, 4, prev);
    p[fields::kProof] =
        protocol::SignKeyProof({"node-1", n.first.kid, thief.kid, kNow}, n.first.secret_key);
    Json reply = w.Push(n.first.Sign(p) + "\n", 400);
    CHECK(reply["error"].get<std::string>().find("payload proof: not signed by the new key") !=
          std::string::npos);
  }
  SUBCASE("the proof made for another time (another record)") {
    Json p = n.first.RotatePayload(thief, 1, 4, prev);
    p[fields::kProof] =
        protocol::SignKeyProof({"node-1", n.first.kid, thief.kid, kNow - 60}, thief.secret_key);
    w.Push(n.first.Sign(p) + "\n", 400);
  }
  SUBCASE("moving to itself") {
    Json reply = w.Push(n.first.Sign(n.first.RotatePayload(n.first, 1, 4, prev)) + "\n", 400);
    CHECK(reply["error"].get<std::string>().find("moves kid " + n.first.kid + " to itself") !=
          std::string::npos);
  }
  SUBCASE("moving to a key another node holds: a key belongs to one node") {
    TestNode node2_key = w.other;
    node2_key.node = "node-1";  // the same key pair, proving for node-1
    Json reply = w.Push(n.first.Sign(n.first.RotatePayload(node2_key, 1, 4, prev)) + "\n", 400);
    CHECK(reply["error"].get<std::string>().find("a key may belong to one node only") !=
          std::string::npos);
    CHECK(w.Key(w.other.kid)->node == "node-2");
    CHECK(w.store->RotatedKeys("node-1")->empty());
    CHECK(w.Stored() == 3);  // the refused move is not stored
  }
  SUBCASE("the old key moving a second time, to another key") {
    w.Push(n.Body({4}));
    Json p = n.first.RotatePayload(thief, 1, 5, n.Prev(5));
    Json reply = w.Push(n.first.Sign(p) + "\n", 400);
    CHECK(reply["error"].get<std::string>().find("kid " + n.first.kid + " already moved to kid " +
                                                 n.second.kid) != std::string::npos);
    CHECK_FALSE(w.Key(thief.kid).has_value());
    // The honest chain goes on with the key it moved to.
    reply = w.Push(n.Body({5, 6}));
    CHECK(reply["ack_seq"] == 6);
  }
  SUBCASE("records before a refused move in its batch still count") {
    TestNode node2_key = w.other;
    node2_key.node = "node-1";
    Json reply = w.Push(n.Body({1, 2, 3}) +
                        n.first.Sign(n.first.RotatePayload(node2_key, 1, 4, prev)) + "\n");
    CHECK(reply["duplicates"] == 3);
    CHECK(reply["rejected"].size() == 1);
    CHECK(Reason(reply, 0).find("a key may belong to one node only") != std::string::npos);
  }
  // Whatever was tried, node-1's records stay, and its honest move still goes through.
  CHECK(w.Stored() >= 3);
  if (!w.store->RotatedKeys("node-1")->empty()) return;
  Json reply = w.Push(n.Body({4, 5, 6}));
  CHECK(reply["ack_seq"] == 4);
  CHECK(w.Push(n.Body({5, 6}))["ack_seq"] == 6);
}

TEST_CASE("VerifyRecord: a retired key signs up to its move, the proof names this record") {
  TestNode first("node-1"), second("node-1");
  RegisteredKey key = first.Key();
  const KeyLookup lookup = [&key](const std::string&) -> Result<std::optional<RegisteredKey>> {
    return std::optional<RegisteredKey>(key);
  };
  Json beat = first.Payload(1, 1, GenesisHash());
  CHECK(std::holds_alternative<VerifiedRecord>(VerifyRecord(first.Sign(beat), lookup, kNow)));
  key.retired_at = kNow;
  key.successor_kid = second.kid;
  CHECK(std::holds_alternative<VerifiedRecord>(VerifyRecord(first.Sign(beat), lookup, kNow)));
  beat[fields::kT] = FormatUtc(kNow + 1);
  auto refused = VerifyRecord(first.Sign(beat), lookup, kNow);
  REQUIRE(std::holds_alternative<Rejection>(refused));
  CHECK(std::get<Rejection>(refused).kind == RejectKind::kInvalid);

  key = first.Key();
  auto moved =
      VerifyRecord(first.Sign(first.RotatePayload(second, 1, 2, GenesisHash())), lookup, kNow);
  REQUIRE(std::holds_alternative<VerifiedRecord>(moved));
  CHECK(std::get<VerifiedRecord>(moved).kid == first.kid);
  CHECK(std::get<VerifiedRecord>(moved).type == "key_rotate");
  // The same proof under a record of another t: another claim.
  Json p = first.RotatePayload(second, 1, 2, GenesisHash());
  p[fields::kT] = FormatUtc(kNow - 1);
  auto other_t = VerifyRecord(first.Sign(p), lookup, kNow);
  REQUIRE(std::holds_alternative<Rejection>(other_t));
  CHECK(std::get<Rejection>(other_t).reason.starts_with("payload proof: it claims"));
}

}  // namespace fleet::receiver
