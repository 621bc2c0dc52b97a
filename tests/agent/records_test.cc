#include <doctest/doctest.h>
#include <sodium.h>

#include "agent/history/history_store.h"
#include "agent/records/node_key.h"
#include "protocol/jws.h"
#include "protocol/record_chain.h"
#include "protocol/records.h"
#include "tests/support/seed_key.h"
#include "tests/support/temp_dir.h"

using namespace fleet;

namespace {

NodeKey KeyFromSeedByte(unsigned char b) { return testing::KeyFromSeedByte<NodeKey>(b); }

// A signed record's payload, verified with the key and decoded under the contract.
protocol::Record Decoded(const std::string& jws, const NodeKey& key) {
  auto verified = VerifyCompactJws(jws, key.public_key);
  REQUIRE_MESSAGE(verified.ok(), verified.error());
  auto decoded = protocol::DecodeRecord(verified->payload);
  REQUIRE_MESSAGE(decoded.ok(), decoded.error());
  return *decoded;
}

}  // namespace

TEST_CASE("node key: created 0600, loaded back, never silently replaced") {
  testing::TempDir dir;
  CHECK_FALSE(LoadNodeKey(dir.path()).value().has_value());
  NodeKey created = CreateNodeKey(dir.path(), false).value();
  NodeKey loaded = LoadNodeKey(dir.path()).value().value();
  CHECK(loaded.public_key == created.public_key);
  CHECK(loaded.kid == created.kid);
  auto refused = CreateNodeKey(dir.path(), false);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().find("--force") != std::string::npos);
  CHECK(LoadNodeKey(dir.path()).value()->public_key == created.public_key);
  NodeKey replaced = CreateNodeKey(dir.path(), true).value();
  CHECK(replaced.public_key != created.public_key);
  dir.WriteFile("node.key", "garbage\n", 0600);
  CHECK_FALSE(LoadNodeKey(dir.path()).ok());
}

TEST_CASE("the store signs each record once, chained by prev, verifiable as a file") {
  testing::TempDir dir;
  NodeKey key = KeyFromSeedByte(3);
  auto store = HistoryStore::Open(dir.path(), false, "node-1", "test", key).value();
  RecordStamp stamp{1781352000, "boot", 1000};
  REQUIRE(store->AddAgentStart({}, stamp).ok());
  REQUIRE(
      store->AddHeartbeat({MinuteOf(stamp.wall), true, {{"disk", Status::kOk}}, true}, stamp).ok());
  REQUIRE(store->AddAgentStop(stamp).ok());
  auto lines = store->SignedRecords().value();
  REQUIRE(lines.size() == 3);
  ChainVerdict verdict = VerifyRecordChain(lines, key.public_key);
  CHECK(verdict.ok());
  CHECK(verdict.records == 3);
  CHECK(Decoded(lines[0], key).envelope.prev == GenesisHash());
  CHECK(Decoded(lines[1], key).envelope.prev == ChainHash(lines[0]));

  SUBCASE("a gap, a reorder, a foreign key and a fork are named by line") {
    CHECK(VerifyRecordChain({lines[0], lines[2]}, key.public_key).bad_line == 2);
    CHECK(VerifyRecordChain({lines[1], lines[0]}, key.public_key).bad_line == 2);
    CHECK(VerifyRecordChain(lines, KeyFromSeedByte(4).public_key).bad_line == 1);
    // A second record at seq 2 with other content, correctly signed: prev is right but
    // the third record no longer chains onto it.
    protocol::Record forked = Decoded(lines[1], key);
    auto& beat = std::get<protocol::Heartbeat>(forked.body);
    REQUIRE(beat.up);
    beat.up = false;
    std::string fork = SignCompactJws(protocol::EncodeRecord(forked), key.secret_key, key.kid);
    ChainVerdict v = VerifyRecordChain({lines[0], fork, lines[2]}, key.public_key);
    CHECK(v.bad_line == 3);
    CHECK(v.reason == "prev does not match the record before");
  }
}

TEST_CASE("every record the store makes decodes under the contract, a task's run time in UTC") {
  testing::TempDir dir;
  NodeKey key = KeyFromSeedByte(5);
  auto store = HistoryStore::Open(dir.path(), false, "node-1", "test", key).value();
  RecordStamp stamp{1781352000, "boot", 1000};
  REQUIRE(store->AddAgentStart({false, true}, stamp).ok());
  REQUIRE(store
              ->AddHeartbeat({MinuteOf(stamp.wall),
                              false,
                              {{"disk", Status::kOk}, {"tmux", Status::kCritical}},
                              true},
                             stamp)
              .ok());
  // Hermes writes last_run_at with its offset and microseconds.
  TaskEntry task{"a1b2c3d4e5f6", "backup", "2026-06-13T13:59:30.250000+02:00",
                 1781351970,     false,    "empty answer"};
  REQUIRE(store->AddTask(task, stamp).value());
  const auto id = store->OpenIncident("tmux", "pane dead", stamp).value();
  REQUIRE(store->CloseIncident(id, {stamp.wall + 120, "boot", 121000}).ok());
  REQUIRE(store->AddAgentStop(stamp).ok());
  auto lines = store->SignedRecords().value();
  REQUIRE(lines.size() == 6);
  std::vector<protocol::Record> records;
  for (const auto& line : lines) {
    auto decoded = protocol::DecodeRecord(VerifyCompactJws(line, key.public_key)->payload);
    REQUIRE_MESSAGE(decoded.ok(), decoded.error());
    records.push_back(*decoded);
  }
  CHECK(std::get<protocol::AgentStart>(records[0].body).rebooted);
  const auto& beat = std::get<protocol::Heartbeat>(records[1].body);
  CHECK(beat.minute == 1781352000);
  CHECK(beat.checks.at("tmux") == protocol::CheckState::kCritical);
  const auto& run = std::get<protocol::TaskRun>(records[2].body);
  CHECK(run.run_at == 1781351970);  // 11:59:30Z
  CHECK(run.error == "empty answer");
  CHECK_FALSE(std::get<protocol::Incident>(records[3].body).closed);
  CHECK(std::get<protocol::Incident>(records[4].body).closed == stamp.wall + 120);
  CHECK(records[5].Type() == protocol::RecordType::kAgentStop);
  for (std::size_t i = 0; i < records.size(); ++i) {
    CHECK(records[i].envelope.seq == static_cast<std::int64_t>(i + 1));
    CHECK(records[i].envelope.node == "node-1");
  }
}
