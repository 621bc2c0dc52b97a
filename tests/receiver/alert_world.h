// A receiver database for the alerting tests, on either store (store_factory.h): a
// RecordStore that stores records as ingest would (the record, its typed row, the
// watermark moved over it: chained and acknowledged) with the receive time the test says,
// and SqlLinks onto the same database for the alerting tables.
#pragma once

#include <doctest/doctest.h>

#include <map>
#include <memory>
#include <string>

#include "base/utc_time.h"
#include "protocol/records.h"
#include "receiver/alerts/operator_channels.h"
#include "receiver/store/sql_link.h"
#include "tests/receiver/store_factory.h"

namespace fleet::receiver::testing {

// 2026-10-05T10:00:00Z: the tests' clock starts here.
inline constexpr std::int64_t kT0 = 1791194400;

template <typename Maker>
struct AlertWorld {
  Maker maker;
  std::unique_ptr<RecordStore> store = maker.Make();
  std::unique_ptr<SqlLink> link = Link();
  std::map<std::pair<std::string, std::int64_t>, std::int64_t> next_seq;

  std::unique_ptr<SqlLink> Link() {
    auto made = OpenSqlLink(maker.Db());
    REQUIRE_MESSAGE(made.ok(), (made ? "" : made.error()));
    return std::move(made).value();
  }

  void AddNode(const std::string& node, const std::string& op = "op-1") {
    NodeEntry entry{node, op, "kid-" + node, PublicKey{}, kT0 - 86400, std::nullopt, ""};
    entry.key[0] = static_cast<unsigned char>(node.size());
    entry.key[1] = static_cast<unsigned char>(node.back());
    REQUIRE(store->AddNode(entry).ok());
  }
  void Revoke(const std::string& node, std::int64_t at) {
    REQUIRE(store->RevokeNode(node, at, "left").ok());
  }
  void Channels(const std::string& op, std::optional<std::string> chat,
                std::optional<std::string> discord, std::vector<std::int64_t> ackers = {7}) {
    REQUIRE(OperatorChannels(*link)
                .Set({op, std::move(chat), std::move(ackers), std::move(discord), kT0})
                .ok());
  }

  // One record of `node` made at t, received at received_at (default: t).
  void Store(const std::string& node, protocol::RecordBody body, std::int64_t t,
             std::optional<std::int64_t> received_at = std::nullopt, std::int64_t epoch = 1) {
    const std::int64_t seq = ++next_seq[{node, epoch}];
    protocol::Record record{{node, epoch, seq, "prev", t, "boot", 1, "test"}, std::move(body)};
    VerifiedRecord v;
    v.node = node;
    v.epoch = epoch;
    v.seq = seq;
    v.prev = "prev";
    v.type = std::string(protocol::RecordTypeName(record.Type()));
    v.t = FormatUtc(t);
    v.payload = protocol::EncodeRecord(record);
    v.jws = "jws";
    v.hash = node + std::to_string(epoch) + "-" + std::to_string(seq);
    v.t_unix = t;
    v.decoded = std::move(record);
    if (!batch) REQUIRE(store->Begin().ok());
    auto done = store->InsertRecord(v, received_at.value_or(t));
    REQUIRE_MESSAGE(done.ok(), (done ? "" : done.error()));
    REQUIRE(store->SaveWatermark(node, epoch, {seq, v.hash}).ok());
    if (!batch) REQUIRE(store->Commit().ok());
  }
  // Records stored between the two in one transaction (many at once).
  void BeginBatch() {
    REQUIRE(store->Begin().ok());
    batch = true;
  }
  void CommitBatch() {
    REQUIRE(store->Commit().ok());
    batch = false;
  }
  bool batch = false;
  void Incident(const std::string& node, std::int64_t id, const std::string& check,
                std::int64_t opened, std::optional<std::int64_t> closed,
                std::optional<std::int64_t> received_at = std::nullopt) {
    const std::int64_t t = closed.value_or(opened);
    Store(node, protocol::Incident{id, check, opened, closed, check + " is down"}, t,
          received_at.value_or(t));
  }
  void Beat(const std::string& node, std::int64_t minute,
            std::optional<std::int64_t> received_at = std::nullopt) {
    Store(node, protocol::Heartbeat{minute, true, {{"tmux", protocol::CheckState::kOk}}, true},
          minute + 60, received_at.value_or(minute + 61));
  }
  void Ack(const std::string& node, std::int64_t incident, std::int64_t at,
           std::optional<std::int64_t> received_at = std::nullopt) {
    Store(node, protocol::Ack{incident, at, "ada", protocol::AckVia::kCli, std::nullopt}, at,
          received_at.value_or(at));
  }

  // SELECT through the alerting link.
  SqlRows Sql(const std::string& sql, const SqlParams& params = {}) {
    auto rows = link->Run(sql, params);
    REQUIRE_MESSAGE(rows.ok(), (rows ? "" : rows.error()));
    return std::move(rows).value();
  }
  std::int64_t Count(const std::string& sql, const SqlParams& params = {}) {
    return Sql(sql, params).Int(0, 0);
  }
};

}  // namespace fleet::receiver::testing
