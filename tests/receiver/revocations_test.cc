// Revocation in the registry, on both stores: an operator's exit revokes all their nodes at
// one time with the reason, keeps the first revocation, and catches nodes added since; the
// ingest rules then refuse what those nodes sign after it and take what they signed before.
#include "receiver/registry/revocations.h"

#include <doctest/doctest.h>

#include "base/utc_time.h"
#include "receiver/core/ingest.h"
#include "tests/receiver/store_factory.h"
#include "tests/receiver/test_records.h"

namespace fleet::receiver {
namespace {

using testing::MakeChain;
using testing::TestNode;

constexpr std::int64_t kNow = 1764064800;  // 2025-11-25T10:00:00Z, the test records' t

template <typename Maker>
struct Registry {
  Maker maker;
  std::unique_ptr<RecordStore> store = maker.Make();
  std::unique_ptr<SqlLink> link = [this] {
    auto made = OpenSqlLink(maker.Db());
    REQUIRE_MESSAGE(made.ok(), (made ? "" : made.error()));
    return std::move(made).value();
  }();
  TestNode a1{"a-1"}, a2{"a-2"}, b1{"b-1"};

  Registry() {
    REQUIRE(store->AddNode(a1.Entry("op-a")).ok());
    REQUIRE(store->AddNode(a2.Entry("op-a")).ok());
    REQUIRE(store->AddNode(b1.Entry("op-b")).ok());
  }
  std::optional<RegisteredKey> Key(const TestNode& node) {
    auto found = store->FindKey(node.kid);
    REQUIRE(found.ok());
    return *found;
  }
};

TEST_CASE_TEMPLATE("operators revoke: every node of theirs, once, with the reason", Maker,
                   FLEET_RECEIVER_STORES) {
  Registry<Maker> r;
  REQUIRE(r.store->RevokeNode("a-2", kNow - 7200, "disk died").ok());
  Revocations revocations(*r.link);
  CHECK_FALSE(revocations.Find("op-a")->has_value());

  auto revoked = revocations.RevokeOperator("op-a", kNow - 60, "left the program");
  REQUIRE_MESSAGE(revoked.ok(), (revoked ? "" : revoked.error()));
  CHECK_FALSE(revoked->already);
  CHECK(revoked->nodes_revoked == 1);  // a-2 was revoked before: it keeps its own time
  CHECK(r.Key(r.a1)->revoked_at == kNow - 60);
  CHECK(r.Key(r.a1)->revoke_reason == "operator op-a revoked: left the program");
  CHECK(r.Key(r.a2)->revoked_at == kNow - 7200);
  CHECK(r.Key(r.a2)->revoke_reason == "disk died");
  CHECK_FALSE(r.Key(r.b1)->revoked_at);  // another operator's node

  // Again: the first time and reason stay; a node added for them meanwhile is revoked too.
  TestNode a3("a-3");
  REQUIRE(r.store->AddNode(a3.Entry("op-a")).ok());
  auto again = revocations.RevokeOperator("op-a", kNow + 600, "twice");
  REQUIRE(again.ok());
  CHECK(again->already);
  CHECK(again->nodes_revoked == 1);
  CHECK(again->revocation.revoked_at == kNow - 60);
  CHECK(again->revocation.reason == "left the program");
  CHECK(r.Key(a3)->revoked_at == kNow - 60);
  auto all = revocations.All();
  REQUIRE(all.ok());
  REQUIRE(all->size() == 1);
  CHECK((*all)[0].operator_id == "op-a");

  // What their nodes signed before the revocation counts; after it, 403 with the reason.
  auto chain = MakeChain(r.a1, 1, 1);  // t = kNow, after kNow - 60
  IngestReply refused = IngestBatch(*r.store, chain[0] + "\n", kNow);
  CHECK(refused.status == 403);
  CHECK(refused.body["error"].template get<std::string>().find(
            "(operator op-a revoked: left the program)") != std::string::npos);
  auto chain_b = MakeChain(r.b1, 1, 1);
  CHECK(IngestBatch(*r.store, chain_b[0] + "\n", kNow).status == 200);
}

TEST_CASE_TEMPLATE("a revocation set for later: records until then count", Maker,
                   FLEET_RECEIVER_STORES) {
  Registry<Maker> r;
  REQUIRE(r.store->RevokeNode("a-1", kNow + 3600, "retired at the end of the day").ok());
  auto chain = MakeChain(r.a1, 1, 2);
  IngestReply reply = IngestBatch(*r.store, chain[0] + "\n" + chain[1] + "\n", kNow);
  CHECK(reply.status == 200);
  CHECK(reply.body["ack_seq"] == 2);
}

}  // namespace
}  // namespace fleet::receiver
