// Key rotation on the node (issue 16): the key files (node.key.next, node.key.<old kid>),
// the key_rotate record in the chain, the history naming the new key for every writer, and
// the spool re-signing a moved record with the key that signed it.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/history/history_store.h"
#include "agent/history/spool.h"
#include "agent/records/node_key.h"
#include "base/utc_time.h"
#include "protocol/jws.h"
#include "protocol/key_proof.h"
#include "protocol/records.h"
#include "tests/support/temp_dir.h"

using namespace fleet;

namespace {

constexpr UnixMinute kMinute = 29'000'000;

bool Exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

void AddMinutes(HistoryStore& store, UnixMinute first, int count) {
  for (int i = 0; i < count; ++i) {
    RecordStamp stamp{(first + i) * 60, "boot", 1000 + i};
    REQUIRE(store.AddHeartbeat({first + i, true, {{"disk", Status::kOk}}, true}, stamp).value());
  }
}

std::string KidOf(const std::string& jws) { return ReadJwsHeader(jws).value().kid; }

protocol::Record Decoded(const std::string& jws, const NodeKey& key) {
  auto verified = VerifyCompactJws(jws, key.public_key);
  REQUIRE_MESSAGE(verified.ok(), verified.error());
  auto decoded = protocol::DecodeRecord(verified->payload);
  REQUIRE_MESSAGE(decoded.ok(), decoded.error());
  return *decoded;
}

}  // namespace

TEST_CASE("rotation's key files: next, promoted once however often asked, old kept, forgotten") {
  testing::TempDir dir;
  const NodeKey first = CreateNodeKey(dir.path(), false).value();
  auto next = CreateNextNodeKey(dir.path());
  REQUIRE(next.ok());
  struct stat st {};
  REQUIRE(::stat(NextNodeKeyPath(dir.path()).c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(FindNodeKey(dir.path(), first.kid).value().public_key == first.public_key);
  CHECK(FindNodeKey(dir.path(), next->kid).value().public_key == next->public_key);
  CHECK_FALSE(FindNodeKey(dir.path(), "AAAAAAAAAAA").ok());
  CHECK_FALSE(FindNodeKey(dir.path(), "../node.key").ok());

  // A stale next (a rotation that stopped before its record) is replaced.
  auto again = CreateNextNodeKey(dir.path()).value();
  CHECK(again.kid != next->kid);
  CHECK_FALSE(FindNodeKey(dir.path(), next->kid).ok());

  // Promoting the wrong next is refused, and changes nothing.
  CHECK_FALSE(PromoteNextNodeKey(dir.path(), first.kid, next->kid).ok());
  CHECK(LoadNodeKey(dir.path()).value()->kid == first.kid);

  REQUIRE(PromoteNextNodeKey(dir.path(), first.kid, again.kid).ok());
  CHECK(LoadNodeKey(dir.path()).value()->kid == again.kid);
  CHECK_FALSE(Exists(NextNodeKeyPath(dir.path())));
  CHECK(Exists(RetiredNodeKeyPath(dir.path(), first.kid)));
  CHECK(FindNodeKey(dir.path(), first.kid).value().public_key == first.public_key);
  REQUIRE(::stat(NodeKeyPath(dir.path()).c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  // Again (the daemon and rotate-key both finishing one rotation): nothing changes.
  REQUIRE(PromoteNextNodeKey(dir.path(), first.kid, again.kid).ok());
  CHECK(LoadNodeKey(dir.path()).value()->kid == again.kid);

  REQUIRE(ForgetRetiredNodeKeys(dir.path()).ok());
  CHECK_FALSE(Exists(RetiredNodeKeyPath(dir.path(), first.kid)));
  CHECK(LoadNodeKey(dir.path()).value()->kid == again.kid);
  CHECK(NodeKeyWrittenAt(dir.path()).value() > 0);
}

TEST_CASE("a key_rotate record: signed by the old key in the chain, proven by the new key") {
  testing::TempDir dir;
  const NodeKey first = CreateNodeKey(dir.path(), false).value();
  // The daemon's store, opened before the rotation with the old key in memory.
  auto daemon = HistoryStore::Open(dir.path(), false, "n1", "test", first).value();
  AddMinutes(*daemon, kMinute, 3);
  CHECK(daemon->CurrentKid().value() == first.kid);

  // rotate-key's own store; its stamp is older than the last record: t is not before it.
  auto cli = HistoryStore::Open(dir.path(), false, "n1", "test", first).value();
  const NodeKey next = CreateNextNodeKey(dir.path()).value();
  auto rotated = cli->AddKeyRotate(next, RecordStamp{kMinute * 60, "boot", 5000});
  REQUIRE_MESSAGE(rotated.ok(), rotated.error());
  CHECK(rotated->old_kid == first.kid);
  CHECK(rotated->new_kid == next.kid);
  CHECK(rotated->epoch == 1);
  CHECK(rotated->seq == 4);
  CHECK(rotated->t == (kMinute + 2) * 60);
  CHECK(cli->CurrentKid().value() == next.kid);
  CHECK(daemon->CurrentKid().value() == next.kid);

  // The daemon's next records: signed with the new key, found by kid (node.key.next: the
  // files are not promoted yet), chained on.
  AddMinutes(*daemon, kMinute + 3, 2);
  auto records = daemon->SignedRecords().value();
  REQUIRE(records.size() == 6);
  for (int i = 0; i < 4; ++i) CHECK(KidOf(records[i]) == first.kid);
  for (int i = 4; i < 6; ++i) CHECK(KidOf(records[i]) == next.kid);
  const protocol::Record move = Decoded(records[3], first);
  CHECK(move.envelope.seq == 4);
  CHECK(move.envelope.prev == ChainHash(records[2]));
  CHECK(move.envelope.t == rotated->t);
  const auto& body = std::get<protocol::KeyRotate>(move.body);
  CHECK(body.new_key == next.public_key);
  CHECK(protocol::VerifyKeyProof(body.proof, next.public_key,
                                 {"n1", first.kid, next.kid, move.envelope.t})
            .ok());
  CHECK(Decoded(records[4], next).envelope.prev == ChainHash(records[3]));

  // Rotating again moves from the new key; rotating to the current key is refused.
  REQUIRE(PromoteNextNodeKey(dir.path(), first.kid, next.kid).ok());
  CHECK_FALSE(cli->AddKeyRotate(next, RecordStamp{(kMinute + 9) * 60, "boot", 6000}).ok());
  const NodeKey third = CreateNextNodeKey(dir.path()).value();
  auto second = daemon->AddKeyRotate(third, RecordStamp{(kMinute + 9) * 60, "boot", 6000});
  REQUIRE(second.ok());
  CHECK(second->old_kid == next.kid);
  CHECK(KidOf(daemon->SignedRecords().value().back()) == next.kid);
}

TEST_CASE("a full spool sheds detail, never the key_rotate record") {
  testing::TempDir dir;
  const NodeKey first = CreateNodeKey(dir.path(), false).value();
  auto store = HistoryStore::Open(dir.path(), false, "n1", "test", first).value();
  AddMinutes(*store, kMinute, 2);
  store->SetSpoolLimit(1);
  const NodeKey next = CreateNextNodeKey(dir.path()).value();
  auto rotated = store->AddKeyRotate(next, RecordStamp{(kMinute + 3) * 60, "boot", 5000});
  REQUIRE(rotated.ok());
  CHECK(store->SignedRecords().value().size() == 3);
  CHECK(store->CurrentKid().value() == next.kid);
}

TEST_CASE(
    "re-chained past a refused record, each record keeps its signer; the old key goes "
    "once its move is acknowledged") {
  testing::TempDir dir;
  const NodeKey first = CreateNodeKey(dir.path(), false).value();
  auto store = HistoryStore::Open(dir.path(), false, "n1", "test", first).value();
  AddMinutes(*store, kMinute, 3);
  const NodeKey next = CreateNextNodeKey(dir.path()).value();
  REQUIRE(store->AddKeyRotate(next, RecordStamp{(kMinute + 3) * 60, "boot", 5000}).ok());
  REQUIRE(PromoteNextNodeKey(dir.path(), first.kid, next.kid).ok());
  AddMinutes(*store, kMinute + 4, 2);  // seq 5, 6 by the new key

  // The spool opened with the old key (a pusher started before the rotation).
  auto spool = Spool::Open(dir.path(), first).value();
  REQUIRE(spool->SetAside(1, 2, "refused by the receiver", 1'800'000'000).value() ==
          std::optional<std::int64_t>(2));
  REQUIRE(spool->Remove(1, 1, 1).value() == 1);
  auto moved = spool->OldestBatch(100, 1 << 20).value();
  REQUIRE(moved.size() == 4);               // seq 3..6 of epoch 1 are seq 1..4 of epoch 2
  CHECK(KidOf(moved[0].jws) == first.kid);  // a heartbeat the old key signed
  CHECK(KidOf(moved[1].jws) == first.kid);  // the key_rotate: still the old key's
  CHECK(KidOf(moved[2].jws) == next.kid);
  CHECK(KidOf(moved[3].jws) == next.kid);
  const protocol::Record move = Decoded(moved[1].jws, first);
  CHECK(move.envelope.epoch == 2);
  CHECK(move.envelope.seq == 2);
  CHECK(move.envelope.prev == ChainHash(moved[0].jws));
  // Its proof names no place in the chain: it holds where the record moved.
  CHECK(protocol::VerifyKeyProof(std::get<protocol::KeyRotate>(move.body).proof, next.public_key,
                                 {"n1", first.kid, next.kid, move.envelope.t})
            .ok());
  // New records follow, signed with the current key (the history's, not the spool's).
  AddMinutes(*store, kMinute + 6, 1);
  CHECK(KidOf(store->SignedRecords().value().back()) == next.kid);

  CHECK(Exists(RetiredNodeKeyPath(dir.path(), first.kid)));
  REQUIRE(spool->Remove(2, 1, 1).value() == 1);  // the key_rotate still waits
  CHECK(Exists(RetiredNodeKeyPath(dir.path(), first.kid)));
  REQUIRE(spool->Remove(2, 2, 2).value() == 1);  // acknowledged: the old key goes
  CHECK_FALSE(Exists(RetiredNodeKeyPath(dir.path(), first.kid)));
  CHECK(LoadNodeKey(dir.path()).value()->kid == next.kid);
}
