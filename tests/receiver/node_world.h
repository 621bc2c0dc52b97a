// Test helpers for the dashboard's node pages: a real store (SQLite or PostgreSQL, from
// store_factory.h) that takes signed records through the receiver's own ingest (IngestBatch, at
// a chosen receive time), and the WebReads a page is given over the same database.
#pragma once

#include <doctest/doctest.h>

#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "base/utc_time.h"
#include "protocol/records.h"
#include "receiver/core/ingest.h"
#include "receiver/store/open_report_source.h"
#include "receiver/store/sql_link.h"
#include "receiver/web/web_reads.h"
#include "tests/receiver/store_factory.h"
#include "tests/receiver/test_records.h"

namespace fleet::receiver::testing {

// Signs one node's records of one epoch in chain order, as its agent would.
struct ChainSigner {
  const TestNode& node;
  std::int64_t epoch = 1;
  std::int64_t seq = 0;
  std::string prev = GenesisHash();

  std::string Sign(std::int64_t t, protocol::RecordBody body) {
    protocol::Record record{
        {node.node, epoch, ++seq, prev, t, "97fe4a08-17ea-4d7f", 1000 + seq, "0.1.0"},
        std::move(body)};
    std::string jws = node.SignText(protocol::EncodeRecord(record));
    prev = ChainHash(jws);
    return jws;
  }
  // The heartbeat of `minute`, made a second after it ended.
  std::string Beat(std::int64_t minute, bool up) {
    return Sign(minute + 61,
                protocol::Heartbeat{minute, up, {{"tmux", protocol::CheckState::kOk}}, true});
  }
};

template <typename Maker>
struct NodeWorld {
  Maker maker;
  std::unique_ptr<RecordStore> store = maker.Make();
  std::unique_ptr<RegistrySource> source;
  std::unique_ptr<SqlLink> link;

  void Add(const TestNode& node, const std::string& op, std::int64_t added) {
    REQUIRE(
        store->AddNode({node.node, op, node.kid, node.public_key, added, std::nullopt, ""}).ok());
  }
  // Pushes records (in chain order) received at `now`; all must be stored.
  void Push(const std::vector<std::string>& lines, std::int64_t now) {
    std::string body;
    for (const auto& line : lines) body += line + "\n";
    const IngestReply reply = IngestBatch(*store, body, now);
    REQUIRE_MESSAGE(reply.status == 200, reply.body.dump());
  }
  WebReads Reads(std::int64_t now) {
    if (!source) {
      auto opened = OpenReportSource(maker.Db());
      REQUIRE_MESSAGE(opened.ok(), (opened ? "" : opened.error()));
      source = std::move(*opened);
      auto linked = OpenSqlLink(maker.Db());
      REQUIRE_MESSAGE(linked.ok(), (linked ? "" : linked.error()));
      link = std::move(*linked);
    }
    return WebReads{*source, *link, now, 180, kLiveWithinSeconds, {}};
  }
};

// Every match of `pattern`'s first group in text.
inline std::vector<std::string> AllOf(const std::string& text, const std::string& pattern) {
  std::vector<std::string> found;
  const std::regex re(pattern);
  for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator();
       ++it) {
    found.push_back((*it)[1].str());
  }
  return found;
}

}  // namespace fleet::receiver::testing
