// The ingest rules against the RecordStore interface: every test runs once per store in
// FLEET_RECEIVER_STORES (store_factory.h).
#include "receiver/core/ingest.h"

#include <doctest/doctest.h>

#include "tests/receiver/store_factory.h"
#include "tests/receiver/test_records.h"

namespace fleet::receiver {
namespace {

using testing::Body;
using testing::MakeChain;
using testing::TestNode;
using Json = nlohmann::json;

constexpr std::int64_t kNow = 1764064800;

template <typename Maker>
struct World {
  Maker maker;
  std::unique_ptr<RecordStore> store = maker.Make();
  TestNode node{"node-1"};

  World() { REQUIRE(store->AddNode(node.Entry()).ok()); }

  Json Push(const std::string& body, int expect_status = 200) {
    IngestReply reply = IngestBatch(*store, body, kNow);
    CAPTURE(reply.body.dump());
    CHECK(reply.status == expect_status);
    return reply.body;
  }
  // Number of stored records of (node, epoch).
  std::size_t Stored(std::int64_t epoch = 1, const std::string& id = "node-1") {
    auto links = store->LinksFrom(id, epoch, 1, 100000);
    REQUIRE(links.ok());
    return links->size();
  }
};

Json Gaps(std::initializer_list<std::pair<int, int>> ranges) {
  Json out = Json::array();
  for (auto [a, b] : ranges) out.push_back({a, b});
  return out;
}

TEST_CASE_TEMPLATE("records in order are stored once and acknowledged", Maker,
                   FLEET_RECEIVER_STORES) {
  World<Maker> w;
  auto chain = MakeChain(w.node, 1, 5);
  Json reply = w.Push(Body(chain, {1, 2, 3, 4, 5}));
  CHECK(reply["node"] == "node-1");
  CHECK(reply["epoch"] == 1);
  CHECK(reply["ack_seq"] == 5);
  CHECK(reply["gaps"] == Json::array());
  CHECK(reply["stored"] == 5);
  CHECK(reply["duplicates"] == 0);
  CHECK(reply["forks"] == Json::array());
  CHECK(reply["rejected"] == Json::array());
  CHECK_FALSE(reply.contains("next_epoch"));
  CHECK_FALSE(reply.contains("chain_break"));
  CHECK(w.Stored() == 5);
  auto links = w.store->LinksFrom("node-1", 1, 1, 10);
  REQUIRE(links.ok());
  CHECK(links->at(4).hash == ChainHash(chain[4]));
}

TEST_CASE_TEMPLATE("a reordered batch is acknowledged as a whole", Maker, FLEET_RECEIVER_STORES) {
  World<Maker> w;
  auto chain = MakeChain(w.node, 1, 6);
  Json reply = w.Push(Body(chain, {3, 1, 6, 2, 5, 4}));
  CHECK(reply["ack_seq"] == 6);
  CHECK(reply["stored"] == 6);
  CHECK(reply["gaps"] == Json::array());
}

TEST_CASE_TEMPLATE("a replay is counted as duplicates and stored nothing twice", Maker,
                   FLEET_RECEIVER_STORES) {
  World<Maker> w;
  auto chain = MakeChain(w.node, 1, 4);
  w.Push(Body(chain, {1, 2, 3, 4}));
  Json reply = w.Push(Body(chain, {1, 2, 3, 4, 4}));
  CHECK(reply["stored"] == 0);
  CHECK(reply["duplicates"] == 5);
  CHECK(reply["ack_seq"] == 4);
  CHECK(reply["forks"] == Json::array());
  CHECK(w.Stored() == 4);

  SUBCASE("the same record twice in one batch") {
    auto more = MakeChain(w.node, 2, 2);
    Json twice = w.Push(Body(more, {1, 1, 2}));
    CHECK(twice["stored"] == 2);
    CHECK(twice["duplicates"] == 1);
    CHECK(twice["ack_seq"] == 2);
  }
  SUBCASE("an older part again: ack_seq stays above the batch") {
    Json old = w.Push(Body(chain, {1, 2}));
    CHECK(old["ack_seq"] == 4);
    CHECK(old["duplicates"] == 2);
  }
}

TEST_CASE_TEMPLATE("gaps are reported, then filled", Maker, FLEET_RECEIVER_STORES) {
  World<Maker> w;
  auto chain = MakeChain(w.node, 1, 9);
  Json reply = w.Push(Body(chain, {1, 2, 5, 6, 9}));
  CHECK(reply["ack_seq"] == 2);
  CHECK(reply["gaps"] == Gaps({{3, 4}, {7, 8}}));
  CHECK(reply["stored"] == 5);

  reply = w.Push(Body(chain, {3}));
  CHECK(reply["ack_seq"] == 3);
  CHECK(reply["gaps"] == Gaps({{4, 4}, {7, 8}}));

  reply = w.Push(Body(chain, {8, 4}));
  CHECK(reply["ack_seq"] == 6);
  CHECK(reply["gaps"] == Gaps({{7, 7}}));

  reply = w.Push(Body(chain, {7}));
  CHECK(reply["ack_seq"] == 9);
  CHECK(reply["gaps"] == Json::array());
  CHECK(w.Stored() == 9);

  SUBCASE("a first batch that starts late") {
    World<Maker> late;
    auto c = MakeChain(late.node, 1, 5);
    Json r = late.Push(Body(c, {4, 5}));
    CHECK(r["ack_seq"] == 0);
    CHECK(r["gaps"] == Gaps({{1, 3}}));
  }
}

TEST_CASE_TEMPLATE("a fork is quarantined, reported, and the original stays", Maker,
                   FLEET_RECEIVER_STORES) {
  World<Maker> w;
  auto chain = MakeChain(w.node, 1, 3);
  w.Push(Body(chain, {1, 2, 3}));
  auto forked_payload = w.node.Payload(1, 2, ChainHash(chain[0]), "agent_stop");
  const std::string forked = w.node.Sign(forked_payload);
  Json reply = w.Push(forked + "\n");
  CHECK(reply["forks"] == Json::array({2}));
  CHECK(reply["stored"] == 0);
  CHECK(reply["duplicates"] == 0);
  CHECK(reply["ack_seq"] == 3);
  CHECK(reply["next_epoch"] == 2);
  auto links = w.store->LinksFrom("node-1", 1, 2, 1);
  REQUIRE(links.ok());
  CHECK(links->at(0).hash == ChainHash(chain[1]));

  SUBCASE("next_epoch is above the highest epoch stored") {
    w.Push(Body(MakeChain(w.node, 4, 1), {1}));
    CHECK(w.Push(forked + "\n")["next_epoch"] == 5);
  }
}

TEST_CASE_TEMPLATE("the watermark does not pass a chain break", Maker, FLEET_RECEIVER_STORES) {
  World<Maker> w;
  auto chain = MakeChain(w.node, 1, 2);
  // seq 3 links to something else; seq 4 links to that seq 3.
  chain.push_back(w.node.Sign(w.node.Payload(1, 3, ChainHash("not the record before"))));
  chain.push_back(w.node.Sign(w.node.Payload(1, 4, ChainHash(chain[2]))));
  Json reply = w.Push(Body(chain, {1, 2, 3, 4}));
  CHECK(reply["stored"] == 4);
  CHECK(reply["ack_seq"] == 2);
  CHECK(reply["chain_break"] == 3);
  CHECK(reply["gaps"] == Json::array());
  CHECK(w.Push(Body(chain, {4}))["ack_seq"] == 2);

  SUBCASE("seq 1 must link to the genesis hash") {
    World<Maker> other;
    const std::string first = other.node.Sign(other.node.Payload(1, 1, ChainHash("x")));
    Json r = other.Push(first + "\n");
    CHECK(r["ack_seq"] == 0);
    CHECK(r["chain_break"] == 1);
  }
}

TEST_CASE_TEMPLATE("epochs are independent, and one batch is one epoch", Maker,
                   FLEET_RECEIVER_STORES) {
  World<Maker> w;
  auto one = MakeChain(w.node, 1, 3);
  auto two = MakeChain(w.node, 2, 2);
  CHECK(w.Push(Body(one, {1, 2, 3}))["ack_seq"] == 3);
  Json reply = w.Push(Body(two, {1, 2}));
  CHECK(reply["epoch"] == 2);
  CHECK(reply["ack_seq"] == 2);
  CHECK(w.Stored(1) == 3);
  CHECK(w.Stored(2) == 2);

  auto three = MakeChain(w.node, 3, 2);
  reply = w.Push(three[0] + "\n" + one[0] + "\n" + three[1] + "\n");
  CHECK(reply["epoch"] == 3);
  CHECK(reply["ack_seq"] == 2);
  CHECK(reply["duplicates"] == 0);
  REQUIRE(reply["rejected"].size() == 1);
  CHECK(reply["rejected"][0]["line"] == 2);
  CHECK(reply["rejected"][0]["reason"] == "batch mixes epochs: 1 after 3");
}

TEST_CASE_TEMPLATE("a batch is one node", Maker, FLEET_RECEIVER_STORES) {
  World<Maker> w;
  TestNode other("node-2");
  REQUIRE(w.store->AddNode(other.Entry()).ok());
  auto mine = MakeChain(w.node, 1, 2);
  auto theirs = MakeChain(other, 1, 1);
  Json reply = w.Push(mine[0] + "\n" + theirs[0] + "\n" + mine[1]);
  CHECK(reply["stored"] == 2);
  CHECK(reply["rejected"][0]["reason"] == "batch mixes nodes: node-2 after node-1");
  CHECK(w.Stored(1, "node-2") == 0);
}

TEST_CASE_TEMPLATE("bad lines are rejected by line number; valid ones still count", Maker,
                   FLEET_RECEIVER_STORES) {
  World<Maker> w;
  auto chain = MakeChain(w.node, 1, 2);
  Json reply = w.Push(chain[0] + "\r\n\ngarbage\n" + chain[1]);
  CHECK(reply["stored"] == 2);
  CHECK(reply["ack_seq"] == 2);
  REQUIRE(reply["rejected"].size() == 1);
  CHECK(reply["rejected"][0]["line"] == 3);
}

TEST_CASE_TEMPLATE("nothing valid: 401 unknown key, 403 revoked, 400 otherwise", Maker,
                   FLEET_RECEIVER_STORES) {
  World<Maker> w;
  TestNode stranger("node-9");
  auto theirs = MakeChain(stranger, 1, 2);
  Json reply = w.Push(Body(theirs, {1, 2}), 401);
  CHECK(reply["error"].get<std::string>().find("unknown kid " + stranger.kid) != std::string::npos);
  CHECK(reply["rejected"].size() == 2);

  w.Push("garbage\n" + theirs[0], 400);
  w.Push("", 400);
  w.Push("\n\n", 400);

  auto mine = MakeChain(w.node, 1, 1);
  REQUIRE(w.store->RevokeNode("node-1", kNow).ok());
  reply = w.Push(Body(mine, {1}), 403);
  CHECK(reply["error"].get<std::string>().find("revoked") != std::string::npos);
  CHECK(w.Stored() == 0);
}

// A store that fails on the n-th insert: the batch must leave nothing behind.
class FailingStore : public RecordStore {
 public:
  FailingStore(RecordStore& real, int fail_at) : real_(real), fail_at_(fail_at) {}
  Outcome AddNode(const NodeEntry& e) override { return real_.AddNode(e); }
  Result<std::vector<NodeEntry>> ListNodes() override { return real_.ListNodes(); }
  Outcome RevokeNode(const std::string& n, std::int64_t t) override {
    return real_.RevokeNode(n, t);
  }
  Result<std::optional<RegisteredKey>> FindKey(const std::string& kid) override {
    return real_.FindKey(kid);
  }
  Outcome Ping() override { return real_.Ping(); }
  Outcome Begin() override { return real_.Begin(); }
  Outcome Commit() override { return real_.Commit(); }
  void Rollback() override { real_.Rollback(); }
  Result<InsertResult> InsertRecord(const VerifiedRecord& r, std::int64_t t) override {
    if (++inserts_ == fail_at_) return Error{"disk full"};
    return real_.InsertRecord(r, t);
  }
  Result<Watermark> LoadWatermark(const std::string& n, std::int64_t e) override {
    return real_.LoadWatermark(n, e);
  }
  Outcome SaveWatermark(const std::string& n, std::int64_t e, const Watermark& m) override {
    return real_.SaveWatermark(n, e, m);
  }
  Result<std::vector<StoredLink>> LinksFrom(const std::string& n, std::int64_t e, std::int64_t from,
                                            int limit) override {
    return real_.LinksFrom(n, e, from, limit);
  }
  Result<std::vector<std::pair<std::int64_t, std::int64_t>>> MissingRanges(const std::string& n,
                                                                           std::int64_t e,
                                                                           std::int64_t after,
                                                                           int max) override {
    return real_.MissingRanges(n, e, after, max);
  }
  Result<std::int64_t> MaxEpoch(const std::string& n) override { return real_.MaxEpoch(n); }

 private:
  RecordStore& real_;
  int fail_at_;
  int inserts_ = 0;
};

TEST_CASE_TEMPLATE("a batch that fails part way stores nothing and is not acknowledged", Maker,
                   FLEET_RECEIVER_STORES) {
  World<Maker> w;
  auto chain = MakeChain(w.node, 1, 3);
  FailingStore failing(*w.store, 3);
  IngestReply reply = IngestBatch(failing, Body(chain, {1, 2, 3}), kNow);
  CHECK(reply.status == 503);
  CHECK(reply.body["error"].get<std::string>().find("disk full") != std::string::npos);
  CHECK(w.Stored() == 0);
  CHECK(w.Push(Body(chain, {1, 2, 3}))["ack_seq"] == 3);
}

TEST_CASE_TEMPLATE("the node registry", Maker, FLEET_RECEIVER_STORES) {
  World<Maker> w;
  TestNode other("node-2");
  auto again = w.store->AddNode(w.node.Entry("op2"));
  REQUIRE_FALSE(again.ok());
  CHECK(again.error() == "node node-1 already exists");
  auto same_key = w.node.Entry();
  same_key.node = "node-3";
  auto taken = w.store->AddNode(same_key);
  REQUIRE_FALSE(taken.ok());
  CHECK(taken.error().find("already registered to node node-1") != std::string::npos);
  REQUIRE(w.store->AddNode(other.Entry("op2")).ok());

  auto found = w.store->FindKey(other.kid);
  REQUIRE(found.ok());
  REQUIRE(found->has_value());
  CHECK((*found)->node == "node-2");
  CHECK((*found)->key == other.public_key);
  CHECK_FALSE((*found)->revoked);
  CHECK_FALSE(w.store->FindKey("nope")->has_value());

  CHECK_FALSE(w.store->RevokeNode("node-7", kNow).ok());
  REQUIRE(w.store->RevokeNode("node-2", kNow).ok());
  CHECK((*w.store->FindKey(other.kid))->revoked);
  auto nodes = w.store->ListNodes();
  REQUIRE(nodes.ok());
  REQUIRE(nodes->size() == 2);
  CHECK(nodes->at(1).node == "node-2");
  CHECK(nodes->at(1).operator_id == "op2");
  CHECK(nodes->at(1).revoked_at == kNow);
  CHECK_FALSE(nodes->at(0).revoked_at.has_value());
  CHECK(w.store->Ping().ok());
}

}  // namespace
}  // namespace fleet::receiver
