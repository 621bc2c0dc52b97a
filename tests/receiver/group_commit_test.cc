// The group committer: batches queued together share one transaction and get the replies
// they would get alone; one batch's store failure is not another's; retryable failures are
// replayed; stopping answers what is still queued. Each test runs on every store.
#include "receiver/core/group_commit.h"

#include <doctest/doctest.h>

#include <future>
#include <map>
#include <thread>

#include "tests/receiver/store_factory.h"
#include "tests/receiver/test_records.h"

namespace fleet::receiver {
namespace {

using testing::Body;
using testing::MakeChain;
using testing::TestNode;

constexpr std::int64_t kNow = 1764064800;

// Forwards to a real store; fails inserts of one node, or the next `commit_failures`
// commits (retryable or not), on demand.
class FaultyStore final : public RecordStore {
 public:
  explicit FaultyStore(RecordStore& inner) : inner_(inner) {}
  std::string failing_node;
  int commit_failures = 0;
  bool retryable = false;
  int commits_tried = 0;

  Outcome AddNode(const NodeEntry& e) override { return inner_.AddNode(e); }
  Result<std::vector<NodeEntry>> ListNodes() override { return inner_.ListNodes(); }
  Outcome RevokeNode(const std::string& n, std::int64_t at, const std::string& why) override {
    return inner_.RevokeNode(n, at, why);
  }
  Result<KeyRotation> AddRotatedKey(const RotatedKey& k) override {
    return inner_.AddRotatedKey(k);
  }
  Result<std::vector<RotatedKey>> RotatedKeys(const std::string& n) override {
    return inner_.RotatedKeys(n);
  }
  Result<std::optional<RegisteredKey>> FindKey(const std::string& kid) override {
    return inner_.FindKey(kid);
  }
  Outcome Ping() override { return inner_.Ping(); }
  Outcome Begin() override {
    failed_retryable_ = false;
    return inner_.Begin();
  }
  Outcome Commit() override {
    ++commits_tried;
    if (commit_failures > 0) {
      --commit_failures;
      failed_retryable_ = retryable;
      return Error{"injected commit failure"};
    }
    return inner_.Commit();
  }
  void Rollback() override { inner_.Rollback(); }
  bool LastFailureRetryable() const override { return failed_retryable_; }
  Result<InsertResult> InsertRecord(const VerifiedRecord& r, std::int64_t at) override {
    if (r.node == failing_node) return Error{"injected insert failure"};
    return inner_.InsertRecord(r, at);
  }
  Result<Watermark> LoadWatermark(const std::string& n, std::int64_t e) override {
    return inner_.LoadWatermark(n, e);
  }
  Outcome SaveWatermark(const std::string& n, std::int64_t e, const Watermark& m) override {
    return inner_.SaveWatermark(n, e, m);
  }
  Result<std::vector<StoredLink>> LinksFrom(const std::string& n, std::int64_t e, std::int64_t from,
                                            int limit) override {
    return inner_.LinksFrom(n, e, from, limit);
  }
  Result<std::vector<std::pair<std::int64_t, std::int64_t>>> MissingRanges(const std::string& n,
                                                                           std::int64_t e,
                                                                           std::int64_t after,
                                                                           int max) override {
    return inner_.MissingRanges(n, e, after, max);
  }
  Result<std::int64_t> MaxEpoch(const std::string& n) override { return inner_.MaxEpoch(n); }
  Result<std::int64_t> CountInMinute(const std::string& n, std::int64_t m) override {
    return inner_.CountInMinute(n, m);
  }

 private:
  RecordStore& inner_;
  bool failed_retryable_ = false;
};

template <typename Maker>
struct World {
  Maker maker;
  std::unique_ptr<RecordStore> store = maker.Make();
  std::unique_ptr<RecordStore> keys = maker.Make();  // a second connection, as serve has
  FaultyStore faulty{*store};
  std::vector<TestNode> nodes;

  explicit World(int node_count) {
    for (int i = 0; i < node_count; ++i) {
      nodes.emplace_back("node-" + std::to_string(i));
      REQUIRE(store->AddNode(nodes.back().Entry()).ok());
    }
  }
};

// Holds the committer's writer inside a ping until Release(), so what is submitted
// meanwhile queues up and goes in the next transaction together.
struct WriterGate {
  std::promise<void> open;
  std::shared_future<void> opened = open.get_future().share();
  void Hold(GroupCommitter& committer) {
    std::promise<void> holding;
    auto held = holding.get_future();
    committer.Ping([this, &holding](Outcome) {
      holding.set_value();
      opened.wait();
    });
    held.wait();
  }
  void Release() { open.set_value(); }
};

using Replies = std::vector<std::future<IngestReply>>;

// Verifies body with keys from `keys`, then submits it.
void Submit(GroupCommitter& committer, RecordStore& keys, const std::string& body,
            Replies& replies) {
  auto promise = std::make_shared<std::promise<IngestReply>>();
  replies.push_back(promise->get_future());
  PreparedBatch batch = PrepareBatch(
      body, [&keys](const std::string& kid) { return keys.FindKey(kid); }, kNow);
  committer.Submit(std::move(batch),
                   [promise](IngestReply r) { promise->set_value(std::move(r)); });
}

TEST_CASE_TEMPLATE("batches queued together commit in one transaction, each answered as alone",
                   Maker, FLEET_RECEIVER_STORES) {
  World<Maker> w(30);
  GroupCommitter committer(*w.store, [] { return kNow; });
  WriterGate gate;
  gate.Hold(committer);

  // 30 nodes, 10 one-record batches each, interleaved; node-0 also sends a duplicate and
  // node-1 a record beyond a gap. 302 batches in all.
  std::map<std::string, std::vector<std::string>> chains;
  for (const auto& node : w.nodes) chains[node.node] = MakeChain(node, 1, 12);
  Replies replies;
  for (int seq = 1; seq <= 10; ++seq) {
    for (const auto& node : w.nodes)
      Submit(committer, *w.keys, Body(chains[node.node], {seq}), replies);
  }
  Submit(committer, *w.keys, Body(chains["node-0"], {3}), replies);
  Submit(committer, *w.keys, Body(chains["node-1"], {12}), replies);
  gate.Release();

  std::vector<IngestReply> answers;
  for (auto& reply : replies) answers.push_back(reply.get());
  for (std::size_t i = 0; i < answers.size(); ++i) {
    CAPTURE(answers[i].body.dump());
    REQUIRE(answers[i].status == 200);
    if (i < 300) {
      CHECK(answers[i].body["ack_seq"] == static_cast<int>(i / 30 + 1));
      CHECK(answers[i].body["stored"] == 1);
    }
  }
  CHECK(answers[300].body["duplicates"] == 1);
  CHECK(answers[301].body["ack_seq"] == 10);
  CHECK(answers[301].body["gaps"] == nlohmann::json::array({{11, 11}}));

  GroupCommitStats stats = committer.Stats();
  CHECK(stats.batches == 302);
  CHECK(stats.transactions == 1);  // all queued while the writer was held: one commit
  CHECK(stats.replays == 0);
  for (const auto& node : w.nodes) {
    auto links = w.store->LinksFrom(node.node, 1, 1, 100);
    REQUIRE(links.ok());
    CHECK(links->size() == (node.node == "node-1" ? 11u : 10u));
  }
}

TEST_CASE_TEMPLATE("one batch's store failure is not the others'", Maker, FLEET_RECEIVER_STORES) {
  World<Maker> w(3);
  w.faulty.failing_node = "node-1";
  GroupCommitter committer(w.faulty, [] { return kNow; });
  WriterGate gate;
  gate.Hold(committer);
  Replies replies;
  for (const auto& node : w.nodes)
    Submit(committer, *w.keys, Body(MakeChain(node, 1, 2), {1, 2}), replies);
  Submit(committer, *w.keys, "garbage", replies);
  gate.Release();

  CHECK(replies[0].get().status == 200);
  IngestReply failed = replies[1].get();
  CHECK(failed.status == 503);
  CHECK(failed.body["error"].get<std::string>().find("injected insert failure") !=
        std::string::npos);
  CHECK(replies[2].get().status == 200);
  CHECK(replies[3].get().status == 400);
  for (std::string id : {"node-0", "node-2"}) {
    auto mark = w.store->LoadWatermark(id, 1);
    REQUIRE(mark.ok());
    CHECK(mark->ack_seq == 2);
  }
  auto links = w.store->LinksFrom("node-1", 1, 1, 100);
  REQUIRE(links.ok());
  CHECK(links->empty());
  CHECK(committer.Stats().replays == 3);  // the shared transaction failed; each ran alone
}

TEST_CASE_TEMPLATE("a retryable failure is replayed, a lasting one answered 503", Maker,
                   FLEET_RECEIVER_STORES) {
  World<Maker> w(1);
  w.faulty.retryable = true;
  GroupCommitter committer(w.faulty, [] { return kNow; });
  auto chain = MakeChain(w.nodes[0], 1, 4);

  w.faulty.commit_failures = 2;
  Replies replies;
  Submit(committer, *w.keys, Body(chain, {1, 2}), replies);
  IngestReply replayed = replies[0].get();
  CHECK(replayed.status == 200);
  CHECK(replayed.body["ack_seq"] == 2);
  CHECK(committer.Stats().replays == 2);

  w.faulty.commit_failures = 1000;
  const int tried_before = w.faulty.commits_tried;
  Submit(committer, *w.keys, Body(chain, {3, 4}), replies);
  CHECK(replies[1].get().status == 503);
  CHECK(w.faulty.commits_tried - tried_before == GroupCommitter::kReplays + 1);

  w.faulty.retryable = false;
  w.faulty.commit_failures = 1;
  const int tried_then = w.faulty.commits_tried;
  Submit(committer, *w.keys, Body(chain, {3, 4}), replies);
  CHECK(replies[2].get().status == 503);  // not retryable: answered at once
  CHECK(w.faulty.commits_tried - tried_then == 1);
  auto links = w.store->LinksFrom("node-0", 1, 1, 100);
  REQUIRE(links.ok());
  CHECK(links->size() == 2);
}

TEST_CASE_TEMPLATE("stopping answers every queued batch", Maker, FLEET_RECEIVER_STORES) {
  World<Maker> w(1);
  GroupCommitter committer(*w.store, [] { return kNow; });
  WriterGate gate;
  gate.Hold(committer);
  Replies replies;
  auto chain = MakeChain(w.nodes[0], 1, 3);
  for (int seq = 1; seq <= 3; ++seq) Submit(committer, *w.keys, Body(chain, {seq}), replies);
  std::thread stopper([&] { committer.Stop(); });
  // Once Stop has begun, a new batch is refused on the spot.
  for (;;) {
    Replies probe;
    Submit(committer, *w.keys, Body(chain, {1}), probe);
    if (probe[0].wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
      CHECK(probe[0].get().status == 503);
      break;
    }
    // Not stopping yet: this probe queued up too; it is answered 503 with the rest.
    replies.push_back(std::move(probe[0]));
    std::this_thread::yield();
  }
  gate.Release();
  stopper.join();
  for (auto& reply : replies) {
    IngestReply r = reply.get();
    CHECK(r.status == 503);
    CHECK(r.body["error"].get<std::string>().find("stopping") != std::string::npos);
  }
  auto links = w.store->LinksFrom("node-0", 1, 1, 100);
  REQUIRE(links.ok());
  CHECK(links->empty());
}

}  // namespace
}  // namespace fleet::receiver
