// The ingest rules against the RecordStore interface: every test runs once per store in
// FLEET_RECEIVER_STORES (store_factory.h).
#include "receiver/core/ingest.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <map>

#include "base/utc_time.h"
#include "receiver/core/unknown_kid_cache.h"

#include "tests/receiver/store_factory.h"
#include "tests/receiver/test_records.h"

namespace fleet::receiver {
namespace {

using testing::Body;
using testing::MakeChain;
using testing::Member;
using testing::SignWithHeader;
using testing::TestNode;
using Json = nlohmann::json;
namespace fields = protocol::fields;

constexpr std::int64_t kNow = 1764064800;  // 2025-11-25T10:00:00Z, the test records' t

// Records 1..n of epoch 1, each the usual payload changed by edit(seq, payload), linked.
template <typename Edit>
std::vector<std::string> EditedChain(const TestNode& node, int n, Edit edit) {
  std::vector<std::string> chain;
  std::string prev = GenesisHash();
  for (int seq = 1; seq <= n; ++seq) {
    Json payload = node.Payload(1, seq, prev);
    edit(seq, payload);
    chain.push_back(node.Sign(payload));
    prev = ChainHash(chain.back());
  }
  return chain;
}

std::string Reason(const Json& reply, std::size_t i) {
  return reply.at("rejected").at(i).at("reason").get<std::string>();
}

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
  REQUIRE(w.store->RevokeNode("node-1", kNow - 60, "left the program").ok());
  reply = w.Push(Body(mine, {1}), 403);
  CHECK(reply["error"].get<std::string>().find("revoked since 2025-11-25T09:59:00Z (left the "
                                               "program)") != std::string::npos);
  CHECK(w.Stored() == 0);
}

// A store that fails on the n-th insert (never for 0): the batch must leave nothing behind.
// It also counts the registry lookups.
class FailingStore : public RecordStore {
 public:
  FailingStore(RecordStore& real, int fail_at) : real_(real), fail_at_(fail_at) {}
  Outcome AddNode(const NodeEntry& e) override { return real_.AddNode(e); }
  Result<std::vector<NodeEntry>> ListNodes() override { return real_.ListNodes(); }
  Outcome RevokeNode(const std::string& n, std::int64_t t, const std::string& why) override {
    return real_.RevokeNode(n, t, why);
  }
  Result<KeyRotation> AddRotatedKey(const RotatedKey& k) override { return real_.AddRotatedKey(k); }
  Result<std::vector<RotatedKey>> RotatedKeys(const std::string& n) override {
    return real_.RotatedKeys(n);
  }
  Result<std::optional<RegisteredKey>> FindKey(const std::string& kid) override {
    ++find_keys;
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
  Result<std::int64_t> CountInMinute(const std::string& n, std::int64_t m) override {
    return real_.CountInMinute(n, m);
  }

  int find_keys = 0;  // registry lookups asked of the store

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

TEST_CASE_TEMPLATE("revoked: records signed before the revocation count, the rest wait refused",
                   Maker, FLEET_RECEIVER_STORES) {
  World<Maker> w;
  // t of seq n: kNow - 600 + 60 n; the node is revoked between seq 3 and seq 4.
  auto chain = EditedChain(
      w.node, 6, [](int seq, Json& p) { p[fields::kT] = FormatUtc(kNow - 600 + 60 * seq); });
  REQUIRE(w.store->RevokeNode("node-1", kNow - 400, "operator left").ok());

  SUBCASE("a batch across the revocation: acknowledged up to it, the rest not named") {
    Json reply = w.Push(Body(chain, {1, 2, 3, 4, 5}));
    CHECK(reply["ack_seq"] == 3);
    CHECK(reply["stored"] == 3);
    CHECK(reply["rejected"].empty());  // nothing for the agent to set aside for good
    CHECK(reply["gaps"].empty());
    CHECK(w.Stored() == 3);
    // What the agent sends next, from its spool: refused whole, with the reason, kept.
    reply = w.Push(Body(chain, {4, 5}), 403);
    const std::string error = reply["error"].get<std::string>();
    CHECK(error.find("line 1: node node-1 is revoked since 2025-11-25T09:53:20Z (operator "
                     "left)") == 0);
    CHECK(error.find("signed this record at 2025-11-25T09:54:00Z") != std::string::npos);
    REQUIRE(reply["rejected"].size() == 1);
    CHECK(w.Stored() == 3);
  }
  SUBCASE("records made before it and sent late still count") {
    Json reply = w.Push(Body(chain, {1, 2}));
    CHECK(reply["ack_seq"] == 2);
    reply = w.Push(Body(chain, {3}));
    CHECK(reply["ack_seq"] == 3);
  }
  SUBCASE("a revoked line ends the batch: lines after it are not looked at") {
    // A clock that went back: seq 6 dated before the revocation, behind seq 4 and 5.
    auto back = EditedChain(w.node, 6, [](int seq, Json& p) {
      p[fields::kT] = FormatUtc(seq == 6 ? kNow - 500 : kNow - 600 + 60 * seq);
    });
    Json reply = w.Push(Body(back, {1, 2, 3, 4, 5, 6}));
    CHECK(reply["ack_seq"] == 3);
    CHECK(reply["stored"] == 3);
    CHECK(reply["rejected"].empty());
    reply = w.Push(Body(back, {4, 5, 6}), 403);
    CHECK(reply["rejected"].size() == 1);
    CHECK(w.Stored() == 3);
  }
  SUBCASE("invalid lines before the revoked one are named with it") {
    Json reply = w.Push("garbage\n" + Body(chain, {4}), 403);
    CHECK(reply["rejected"].size() == 2);
    CHECK(reply["error"].get<std::string>().find("line 2: node node-1 is revoked") == 0);
  }
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
  CHECK_FALSE((*found)->revoked_at);
  CHECK_FALSE(w.store->FindKey("nope")->has_value());

  CHECK_FALSE(w.store->RevokeNode("node-7", kNow, "gone").ok());
  REQUIRE(w.store->RevokeNode("node-2", kNow, "retired").ok());
  CHECK((*w.store->FindKey(other.kid))->revoked_at == kNow);
  CHECK((*w.store->FindKey(other.kid))->revoke_reason == "retired");
  // Revoking again keeps the first time and reason.
  REQUIRE(w.store->RevokeNode("node-2", kNow + 60, "again").ok());
  CHECK((*w.store->FindKey(other.kid))->revoked_at == kNow);
  CHECK((*w.store->FindKey(other.kid))->revoke_reason == "retired");
  auto nodes = w.store->ListNodes();
  REQUIRE(nodes.ok());
  REQUIRE(nodes->size() == 2);
  CHECK(nodes->at(1).node == "node-2");
  CHECK(nodes->at(1).operator_id == "op2");
  CHECK(nodes->at(1).revoked_at == kNow);
  CHECK(nodes->at(1).revoke_reason == "retired");
  CHECK_FALSE(nodes->at(0).revoked_at.has_value());
  CHECK(w.store->Ping().ok());
}

}  // namespace
}  // namespace fleet::receiver

namespace fleet::receiver {
namespace {

// Issue 11, point 1: a node's minutes dated ahead of the receive time are not uptime.
TEST_CASE_TEMPLATE("records dated more than 300 s ahead of the receive time are refused", Maker,
                   FLEET_RECEIVER_STORES) {
  World<Maker> w;
  // seq 1 at the receive time, seq 2 at the bound, seq 3 one second past it, seq 4 a
  // heartbeat written now that claims a minute of next month.
  auto chain = EditedChain(w.node, 4, [](int seq, Json& p) {
    if (seq == 2) p[fields::kT] = "2025-11-25T10:05:00Z";
    if (seq == 3) p[fields::kT] = "2025-11-25T10:05:01Z";
    if (seq == 4) p[fields::kMinute] = "2025-12-25T10:00:00Z";
  });
  Json reply = w.Push(Body(chain, {1, 2, 3, 4}));
  CHECK(reply["stored"] == 2);
  CHECK(reply["ack_seq"] == 2);
  REQUIRE(reply["rejected"].size() == 2);
  CHECK(reply["rejected"][0]["line"] == 3);
  CHECK(Reason(reply, 0) ==
        "payload t 2025-11-25T10:05:01Z is 301 s ahead of the receive time (at most 300 s)");
  CHECK(reply["rejected"][1]["line"] == 4);
  CHECK(Reason(reply, 1) ==
        "payload minute 2025-12-25T10:00:00Z is 2592000 s ahead of the receive time (at most "
        "300 s)");
  CHECK(w.Stored() == 2);

  SUBCASE("a month of future minutes in one batch stores nothing") {
    World<Maker> other;
    auto month = EditedChain(other.node, 30, [](int seq, Json& p) {
      p[fields::kMinute] = FormatUtc(kNow + 86400 * seq);
    });
    std::vector<int> seqs(30);
    for (int i = 0; i < 30; ++i) seqs[i] = i + 1;
    Json refused = other.Push(Body(month, seqs), 400);
    CHECK(refused["rejected"].size() == 30);
    CHECK(other.Stored() == 0);
  }
  SUBCASE("the receive time decides: the same record a second later is stored") {
    IngestReply later = IngestBatch(*w.store, Body(chain, {3}), kNow + 1);
    CHECK(later.status == 200);
    CHECK(later.body["stored"] == 1);
    CHECK(later.body["ack_seq"] == 3);
  }
}

TEST_CASE_TEMPLATE("t and minute are RFC 3339 UTC as the agent writes them, nothing else", Maker,
                   FLEET_RECEIVER_STORES) {
  World<Maker> w;
  for (const char* t : {"2025-11-25T10:00:00.5Z", "2025-11-25 10:00:00Z",
                        "2025-11-25T10:00:00+00:00", "2025-11-25t10:00:00z", "2025-02-29T10:00:00Z",
                        "2025-11-31T10:00:00Z", "2025-11-25T24:00:00Z", "2025-11-25T10:60:00Z",
                        "2025-11-25T10:00:60Z", "25-11-25T10:00:00Z", "2025-11-25T10:00:00Z ",
                        "2025-1a-25T10:00:00Z", "+025-11-25T10:00:00Z", "", "yesterday"}) {
    CAPTURE(t);
    const std::string jws = w.node.Sign([&] {
      Json p = w.node.Payload(1, 1, GenesisHash());
      p[fields::kT] = t;
      return p;
    }());
    Json reply = w.Push(jws + "\n", 400);
    CHECK(Reason(reply, 0).starts_with("payload t must be RFC 3339 UTC like"));
  }
  Json minute = w.Push(
      EditedChain(w.node, 1, [](int, Json& p) { p[fields::kMinute] = "2025-11-25T09:59:30Z"; })[0] +
          "\n",
      400);
  CHECK(Reason(minute, 0) == "payload minute must be on a minute boundary (seconds 00)");
  Json missing =
      w.Push(EditedChain(w.node, 1, [](int, Json& p) { p.erase(fields::kMinute); })[0] + "\n", 400);
  CHECK(Reason(missing, 0) == "payload minute is missing");
  CHECK(w.Stored() == 0);
  // A leap day and the last second of a day are times.
  auto leap = EditedChain(w.node, 2, [](int seq, Json& p) {
    p[fields::kT] = seq == 1 ? "2024-02-29T23:59:59Z" : "2025-11-25T09:59:59Z";
    p[fields::kMinute] = seq == 1 ? "2024-02-29T23:59:00Z" : "2025-11-25T09:59:00Z";
  });
  CHECK(w.Push(Body(leap, {1, 2}))["stored"] == 2);
}

// Point 2: a node-chosen epoch or seq near 2^63 would overflow the watermark's and
// next_epoch's arithmetic (and is not exact in JSON readers that use doubles).
TEST_CASE_TEMPLATE("epoch and seq lie in [1, 2^53)", Maker, FLEET_RECEIVER_STORES) {
  World<Maker> w;
  constexpr std::int64_t kTop = (std::int64_t{1} << 53) - 1;
  Json top = w.Push(w.node.Sign(w.node.Payload(kTop, kTop, GenesisHash())) + "\n");
  CHECK(top["stored"] == 1);
  CHECK(top["epoch"] == kTop);
  CHECK(top["gaps"] == Json::array({Json::array({1, kTop - 1})}));
  const Json too_big[] = {Json(std::int64_t{1} << 53),
                          Json(std::numeric_limits<std::int64_t>::max()),
                          Json(std::uint64_t{1} << 63),
                          Json(std::numeric_limits<std::uint64_t>::max()),
                          Json(-1),
                          Json(0)};
  for (const char* field : {fields::kEpoch, fields::kSeq}) {
    for (const Json& value : too_big) {
      CAPTURE(field);
      CAPTURE(value.dump());
      Json p = w.node.Payload(1, 1, GenesisHash());
      p[field] = value;
      Json reply = w.Push(w.node.Sign(p) + "\n", 400);
      CHECK(Reason(reply, 0) ==
            std::string("payload ") + field + " must be an integer >= 1 and < 2^53");
    }
  }
  CHECK(w.Stored(kTop) == 1);
  CHECK(w.Stored(1) == 0);
}

// Point 3: PostgreSQL cuts a string at NUL where SQLite keeps it; no control character in
// the fields the stores index and the reports group by.
TEST_CASE_TEMPLATE("control characters in node, type, t and prev are refused", Maker,
                   FLEET_RECEIVER_STORES) {
  World<Maker> w;
  const std::string nul(1, '\0');
  const std::pair<const char*, std::string> cases[] = {{fields::kNode, "node-1" + nul},
                                                       {fields::kNode, "node-1\n"},
                                                       {fields::kType, "agent_stop" + nul},
                                                       {fields::kType, "agent\x7fstop"},
                                                       {fields::kT, "2025-11-25T10:00:00Z" + nul},
                                                       {fields::kT, "2025-11-25T10:00:00Z\r"},
                                                       {fields::kPrev, GenesisHash() + nul},
                                                       {fields::kPrev, "\t" + GenesisHash()}};
  for (const auto& [field, value] : cases) {
    CAPTURE(field);
    Json p = w.node.Payload(1, 1, GenesisHash());
    p[field] = value;
    Json reply = w.Push(w.node.Sign(p) + "\n", 400);
    CHECK(Reason(reply, 0) ==
          std::string("payload ") + field + " must not contain control characters");
  }
  CHECK(w.Stored() == 0);
}

// Point 4: what other JOSE verifiers read differently is refused: JWS extensions (crit,
// b64), unknown header keys, and a key twice in the header or the payload.
TEST_CASE_TEMPLATE("the JWS header holds alg, kid and typ once; no payload key twice", Maker,
                   FLEET_RECEIVER_STORES) {
  World<Maker> w;
  const std::string payload = w.node.Payload(1, 1, GenesisHash()).dump();
  const std::string kid = "\"kid\":\"" + w.node.kid + "\"";
  const std::string usual = "\"alg\":\"EdDSA\"," + kid + ",\"typ\":\"fleet-record+jws\"";
  const std::pair<std::string, std::string> headers[] = {
      {"{" + usual + ",\"crit\":[\"exp\"],\"exp\":1}",
       "the JWS header must not carry crit (no JWS extension is accepted)"},
      {"{" + usual + ",\"b64\":false}",
       "the JWS header must not carry b64 (no JWS extension is accepted)"},
      {"{" + usual + ",\"jku\":\"https://example.org/keys\"}",
       "the JWS header carries 'jku' (only alg, kid and typ are accepted)"},
      {"{" + usual + "," + kid + "}", "the JWS header is not a JSON object: duplicate key 'kid'"},
      {"{\"alg\":\"none\"," + usual + "}",
       "the JWS header is not a JSON object: duplicate key 'alg'"}};
  for (const auto& [header, reason] : headers) {
    CAPTURE(header);
    Json reply = w.Push(SignWithHeader(w.node, header, payload) + "\n", 400);
    CHECK(Reason(reply, 0) == reason);
  }
  // The payload: a repeated seq (nlohmann keeps the last), and one inside checks.
  std::string twice = payload;
  twice.insert(twice.size() - 1, "," + Member(fields::kSeq, "2"));
  Json reply = w.Push(w.node.SignText(twice) + "\n", 400);
  CHECK(Reason(reply, 0) == "payload: duplicate key 'seq'");
  std::string nested = payload;
  nested.replace(nested.find("\"tmux\":\"ok\""), 11, "\"tmux\":\"ok\",\"tmux\":\"critical\"");
  CHECK(Reason(w.Push(w.node.SignText(nested) + "\n", 400), 0) == "payload: duplicate key 'tmux'");
  CHECK(w.Stored() == 0);
  // The header the agent writes, with its keys in another order, is fine.
  const std::string reordered = "{\"typ\":\"fleet-record+jws\"," + kid + ",\"alg\":\"EdDSA\"}";
  CHECK(w.Push(SignWithHeader(w.node, reordered, payload) + "\n")["stored"] == 1);
}

// Point 5: an unknown kid costs a registry lookup (under the receiver's key lock): kids of
// the wrong shape cost none, a batch at most kMaxKidsPerBatch.
TEST_CASE_TEMPLATE("kid lookups: shape first, at most 4 distinct kids a batch", Maker,
                   FLEET_RECEIVER_STORES) {
  World<Maker> w;
  const std::string payload = w.node.Payload(1, 1, GenesisHash()).dump();
  FailingStore counting(*w.store, 0);
  SUBCASE("kids that are not key ids are refused unlooked-up") {
    std::string body;
    for (std::string kid : {std::string("k"), std::string("not-a-key-id"), w.node.kid + "A",
                            w.node.kid.substr(0, 10) + "=", std::string(11, '.'),
                            std::string("AAAAAAAAAAB")}) {  // 11 chars, but not canonical
      body += SignWithHeader(
                  w.node, Json{{"alg", "EdDSA"}, {"kid", kid}, {"typ", "fleet-record+jws"}}.dump(),
                  payload) +
              "\n";
    }
    IngestReply reply = IngestBatch(counting, body, kNow);
    CHECK(reply.status == 400);
    CHECK(counting.find_keys == 0);
    REQUIRE(reply.body["rejected"].size() == 6);
    CHECK(Reason(reply.body, 0) == "kid 'k' is not a key id (11 base64url characters)");
  }
  SUBCASE("strangers' kids after the node's own: four kids looked up, the rest refused") {
    std::string body = w.node.Sign(w.node.Payload(1, 1, GenesisHash())) + "\n";
    for (int i = 0; i < 6; ++i) {
      TestNode stranger("stranger-" + std::to_string(i));
      body += stranger.Sign(stranger.Payload(1, 1, GenesisHash())) + "\n";
      body += stranger.Sign(stranger.Payload(1, 2, GenesisHash())) + "\n";  // same kid again
    }
    IngestReply reply = IngestBatch(counting, body, kNow);
    CHECK(reply.status == 200);
    CHECK(counting.find_keys == 4);
    CHECK(reply.body["stored"] == 1);
    REQUIRE(reply.body["rejected"].size() == 12);
    CHECK(Reason(reply.body, 5).starts_with("unknown kid "));
    CHECK(reply.body["rejected"][6]["line"] == 8);
    CHECK(Reason(reply.body, 6)
              .ends_with(" not looked up: a batch may name at most 4 distinct kids"));
  }
  SUBCASE("a batch of strangers only is still 401") {
    std::string body;
    for (int i = 0; i < 6; ++i) {
      TestNode stranger("stranger-" + std::to_string(i));
      body += stranger.Sign(stranger.Payload(1, 1, GenesisHash())) + "\n";
    }
    CHECK(IngestBatch(counting, body, kNow).status == 401);
    CHECK(counting.find_keys == 4);
  }
}

TEST_CASE("an unknown kid is remembered for 60 s, in at most 4096 entries; known ones never") {
  TestNode node("node-1");
  std::map<std::string, int> asked;
  bool broken = false;
  KeyLookup registry = [&](const std::string& kid) -> Result<std::optional<RegisteredKey>> {
    ++asked[kid];
    if (broken) return Error{"disk I/O error"};
    if (kid == node.kid) return std::optional<RegisteredKey>(node.Key());
    return std::optional<RegisteredKey>();
  };
  UnknownKidCache cache;
  const std::string stranger = TestNode("node-9").kid;
  CHECK_FALSE(cache.Find(stranger, kNow, registry)->has_value());
  CHECK_FALSE(cache.Find(stranger, kNow + 59, registry)->has_value());
  CHECK(asked[stranger] == 1);
  CHECK_FALSE(cache.Find(stranger, kNow + 60, registry)->has_value());
  CHECK(asked[stranger] == 2);

  CHECK(cache.Find(node.kid, kNow, registry)->has_value());
  CHECK(cache.Find(node.kid, kNow, registry)->has_value());
  CHECK(asked[node.kid] == 2);  // a revocation must take effect at once

  broken = true;
  const std::string other = TestNode("node-8").kid;
  CHECK_FALSE(cache.Find(other, kNow, registry).ok());
  broken = false;
  CHECK_FALSE(cache.Find(other, kNow, registry)->has_value());
  CHECK(asked[other] == 2);  // a failed lookup is not an unknown kid

  for (int i = 0; i < 5000; ++i) {
    (void)cache.Find("kid-" + std::to_string(i), kNow + 100, registry);
  }
  CHECK(cache.Size() == UnknownKidCache::kCapacity);
  // The newest stay remembered, the oldest went.
  const int before = asked["kid-4999"];
  (void)cache.Find("kid-4999", kNow + 101, registry);
  CHECK(asked["kid-4999"] == before);
  (void)cache.Find("kid-0", kNow + 101, registry);
  CHECK(asked["kid-0"] == 2);
}

// Point 6: a node cannot inflate its figures with hundreds of records of one minute.
TEST_CASE_TEMPLATE("at most 120 records of one minute of t in a batch", Maker,
                   FLEET_RECEIVER_STORES) {
  World<Maker> w;
  auto chain = MakeChain(w.node, 1, 122);  // all at 2025-11-25T10:00:00Z
  std::vector<int> seqs;
  for (int seq = 1; seq <= 122; ++seq) seqs.push_back(seq);
  Json reply = w.Push(Body(chain, seqs));
  CHECK(reply["stored"] == 120);
  CHECK(reply["ack_seq"] == 120);
  REQUIRE(reply["rejected"].size() == 2);
  CHECK(reply["rejected"][0]["line"] == 121);
  CHECK(Reason(reply, 0) ==
        "payload t: more than 120 records of node node-1 in the minute of 2025-11-25T10:00:00Z");
  CHECK(w.Stored() == 120);

  SUBCASE("spread over two minutes, 200 records are fine") {
    World<Maker> other;
    auto spread = EditedChain(other.node, 200, [](int seq, Json& p) {
      p[fields::kT] = FormatUtc(kNow - 120 + (seq <= 100 ? 0 : 60) + seq % 60);
    });
    std::vector<int> all;
    for (int seq = 1; seq <= 200; ++seq) all.push_back(seq);
    CHECK(other.Push(Body(spread, all))["stored"] == 200);
  }
}

TEST_CASE_TEMPLATE("at most 120 records of one minute of t across batches, counting what is stored",
                   Maker, FLEET_RECEIVER_STORES) {
  World<Maker> w;
  auto chain = MakeChain(w.node, 1, 130);  // all at 2025-11-25T10:00:00Z
  std::vector<int> first, second;
  for (int seq = 1; seq <= 100; ++seq) first.push_back(seq);
  for (int seq = 101; seq <= 130; ++seq) second.push_back(seq);
  CHECK(w.Push(Body(chain, first))["stored"] == 100);
  // The same batch again: duplicates, not more records of that minute.
  Json again = w.Push(Body(chain, first));
  CHECK(again["duplicates"] == 100);
  CHECK(again["rejected"].empty());
  Json reply = w.Push(Body(chain, second));
  CHECK(reply["stored"] == 20);
  CHECK(reply["ack_seq"] == 120);
  REQUIRE(reply["rejected"].size() == 10);
  CHECK(reply["rejected"][0]["line"] == 21);
  CHECK(Reason(reply, 0) ==
        "payload t: node node-1 already has 120 records in the minute of 2025-11-25T10:00:00Z");
  CHECK(w.Stored() == 120);
}

}  // namespace
}  // namespace fleet::receiver
