// A receiver database for the dashboard's tests: a SQLite (or, WebWorldOf<PostgresStoreMaker>,
// PostgreSQL) store with operators
// and nodes registered, filled with records each node signs with its own key (test_records.h),
// chained by prev and acknowledged (the watermark at the last), as the receiver stores what it
// verified. Heartbeats are one per minute over a range, received a few seconds after the
// minute ended (live) unless told otherwise.
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "protocol/jws.h"
#include "protocol/records.h"
#include "receiver/core/record_verify.h"
#include "receiver/store/open_report_source.h"
#include "tests/receiver/store_factory.h"
#include "tests/receiver/test_records.h"

namespace fleet::receiver::testing {

template <typename Maker>
class WebWorldOf {
 public:
  Maker maker;
  std::unique_ptr<RecordStore> store = maker.Make();

  std::string Db() const { return maker.Db(); }

  void Operator(const std::string& id, const std::string& name, std::int64_t since) {
    auto source = OpenReportSource(Db());
    REQUIRE_MESSAGE(source.ok(), (source ? "" : source.error()));
    REQUIRE((*source)->AddOperator({id, name, since}).ok());
  }
  void Node(const std::string& node, const std::string& op, std::int64_t added_at) {
    auto [at, fresh] = nodes_.try_emplace(node, node);
    REQUIRE(fresh);
    NodeEntry entry = at->second.key.Entry(op);
    entry.added_at = added_at;
    auto added = store->AddNode(entry);
    REQUIRE_MESSAGE(added.ok(), (added ? "" : added.error()));
  }

  // One record of `node`, signed and chained; stored when Commit runs.
  void Put(const std::string& node, protocol::RecordBody body, std::int64_t t,
           std::int64_t received_at) {
    Chain& chain = nodes_.at(node);
    if (!open_) {
      REQUIRE(store->Begin().ok());
      open_ = true;
    }
    protocol::Record record{{node, 1, chain.seq + 1, chain.prev, t, "boot", 1, "test"},
                            std::move(body)};
    VerifiedRecord v;
    v.node = node;
    v.epoch = 1;
    v.seq = chain.seq + 1;
    v.prev = chain.prev;
    v.type = std::string(protocol::RecordTypeName(record.Type()));
    v.t = FormatUtc(t);
    v.payload = protocol::EncodeRecord(record);
    v.jws = chain.key.SignText(v.payload);
    v.hash = ChainHash(v.jws);
    v.t_unix = t;
    v.kid = chain.key.kid;
    v.decoded = std::move(record);
    auto done = store->InsertRecord(v, received_at);
    REQUIRE_MESSAGE(done.ok(), (done ? "" : done.error()));
    REQUIRE(*done == InsertResult::kStored);
    chain.seq = v.seq;
    chain.prev = v.hash;
  }
  // A heartbeat for each minute in [from, to), received `delay` s after the minute ended.
  void Beats(const std::string& node, std::int64_t from, std::int64_t to, bool up = true,
             std::int64_t delay = 3) {
    for (std::int64_t minute = from; minute < to; minute += 60) {
      Put(node, protocol::Heartbeat{minute, up, {{"tmux", protocol::CheckState::kOk}}, true},
          minute + 60, minute + 60 + delay);
    }
  }
  // Stores what was Put, every chain acknowledged to its last record.
  void Commit() {
    if (!open_) return;
    for (const auto& [node, chain] : nodes_) {
      if (chain.seq > 0) REQUIRE(store->SaveWatermark(node, 1, {chain.seq, chain.prev}).ok());
    }
    REQUIRE(store->Commit().ok());
    open_ = false;
  }

 private:
  struct Chain {
    explicit Chain(const std::string& node) : key(node) {}
    TestNode key;
    std::int64_t seq = 0;
    std::string prev = GenesisHash();
  };
  std::map<std::string, Chain> nodes_;
  bool open_ = false;
};

using WebWorld = WebWorldOf<SqliteStoreMaker>;

}  // namespace fleet::receiver::testing
