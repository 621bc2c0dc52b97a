#include <doctest/doctest.h>
#include <sodium.h>
#include <sqlite3.h>

#include "agent/history/history_store.h"
#include "agent/history/spool.h"
#include "base/utc_time.h"
#include "protocol/jws.h"
#include "protocol/record_chain.h"
#include "protocol/records.h"
#include "tests/support/temp_dir.h"

using namespace fleet;

namespace {

NodeKey TestKey() {
  REQUIRE(sodium_init() >= 0);
  unsigned char seed[32] = {9};
  NodeKey key;
  crypto_sign_seed_keypair(key.public_key.data(), key.secret_key.data(), seed);
  key.kid = KeyId(key.public_key);
  return key;
}

void AddMinutes(HistoryStore& store, UnixMinute first, int count) {
  for (int i = 0; i < count; ++i) {
    RecordStamp stamp{(first + i) * 60, "boot", 1000 + i};
    REQUIRE(store.AddHeartbeat({first + i, true, {{"disk", Status::kOk}}, true}, stamp).value());
  }
}

// A spooled record's payload, verified with the key and decoded under the contract.
protocol::Record Decoded(const std::string& jws, const NodeKey& key) {
  auto decoded = protocol::DecodeRecord(VerifyCompactJws(jws, key.public_key).value().payload);
  REQUIRE_MESSAGE(decoded.ok(), decoded.error());
  return *decoded;
}

UnixSeconds MinuteIn(const protocol::Record& record) {
  return std::get<protocol::Heartbeat>(record.body).minute;
}

std::vector<std::string> Texts(const std::vector<SpooledRecord>& batch) {
  std::vector<std::string> lines;
  for (const auto& r : batch) lines.push_back(r.jws);
  return lines;
}

}  // namespace

TEST_CASE("spool: oldest first, bounded by records and bytes, leaves only when removed") {
  testing::TempDir dir;
  const NodeKey key = TestKey();
  auto store = HistoryStore::Open(dir.path(), false, "n1", "test", key).value();
  AddMinutes(*store, 29'000'000, 10);
  auto spool = Spool::Open(dir.path()).value();

  auto batch = spool->OldestBatch(4, 1 << 20).value();
  REQUIRE(batch.size() == 4);
  CHECK(batch.front().seq == 1);
  CHECK(batch.back().seq == 4);
  CHECK(VerifyRecordChain(Texts(batch), key.public_key).ok());

  const std::size_t one = batch[0].jws.size() + 1;
  CHECK(spool->OldestBatch(100, one * 2 + 1).value().size() == 2);
  CHECK(spool->OldestBatch(100, 1).value().size() == 1);  // never empty while records wait

  auto before = spool->State().value();
  CHECK(before.records == 10);
  CHECK(before.next_seq == 11);
  CHECK(spool->Remove(1, 1, 4).value() == 4);
  CHECK(spool->Remove(1, 1, 4).value() == 0);  // a repeated acknowledgement changes nothing
  auto after = spool->State().value();
  CHECK(after.records == 6);
  CHECK(after.bytes < before.bytes);
  CHECK(spool->OldestBatch(100, 1 << 20).value().front().seq == 5);
  // The daemon's store goes on from where it was: removal takes no seq back.
  AddMinutes(*store, 29'000'010, 1);
  CHECK(Decoded(spool->OldestBatch(100, 1 << 20).value().back().jws, key).envelope.seq == 11);
}

TEST_CASE("spool: a new epoch starts at seq 1 from the genesis hash; the old one drains first") {
  testing::TempDir dir;
  const NodeKey key = TestKey();
  auto store = HistoryStore::Open(dir.path(), false, "n1", "test", key).value();
  AddMinutes(*store, 29'000'000, 3);
  auto spool = Spool::Open(dir.path()).value();
  CHECK(spool->StartNewEpoch(0).value() == 2);
  CHECK(spool->StartNewEpoch(5).value() == 5);  // at least what the receiver asks
  AddMinutes(*store, 29'000'003, 2);
  auto old_epoch = spool->OldestBatch(100, 1 << 20).value();
  REQUIRE(old_epoch.size() == 3);  // a batch never mixes epochs
  CHECK(old_epoch.front().epoch == 1);
  REQUIRE(spool->Remove(1, 1, 3).value() == 3);
  auto new_epoch = spool->OldestBatch(100, 1 << 20).value();
  REQUIRE(new_epoch.size() == 2);
  const protocol::Envelope first = Decoded(new_epoch[0].jws, key).envelope;
  CHECK(first.epoch == 5);
  CHECK(first.seq == 1);
  CHECK(first.prev == GenesisHash());
  CHECK(VerifyRecordChain(Texts(new_epoch), key.public_key).ok());
}

TEST_CASE("spool full: detail is shed, heartbeats are kept, no seq is skipped") {
  testing::TempDir dir;
  const NodeKey key = TestKey();
  auto store = HistoryStore::Open(dir.path(), false, "n1", "test", key).value();
  store->SetSpoolLimit(4 * 560);  // room for about four records
  AddMinutes(*store, 29'000'000, 4);
  const RecordStamp stamp{29'000'004LL * 60, "boot", 9};
  TaskEntry task{"job1", "nightly", "2026-11-25T00:00:00Z", 1781352000, true, std::nullopt};
  REQUIRE(store->AddTask(task, stamp).value());  // the history keeps the task...
  AddMinutes(*store, 29'000'004, 2);
  auto state = store->SpoolStatus().value();
  CHECK(state.shed == 1);  // ...its record was shed
  CHECK(state.records == 6);
  CHECK(store->Tasks(0, 1LL << 40).value().size() == 1);
  auto lines = store->SignedRecords().value();
  ChainVerdict verdict = VerifyRecordChain(lines, key.public_key);
  CHECK(verdict.ok());
  for (const auto& line : lines) {
    CHECK(Decoded(line, key).Type() == protocol::RecordType::kHeartbeat);
  }
  // Once acknowledged records leave, detail is spooled again.
  auto spool = Spool::Open(dir.path()).value();
  REQUIRE(spool->Remove(1, 1, 6).value() == 6);
  TaskEntry later = task;
  later.run_at = "2026-11-26T00:00:00Z";
  REQUIRE(store->AddTask(later, stamp).value());
  CHECK(store->SpoolStatus().value().records == 1);
  CHECK(store->SpoolStatus().value().shed == 1);
}

TEST_CASE("history from schema 1 (records keyed by seq alone) is migrated in place") {
  testing::TempDir dir;
  const NodeKey key = TestKey();
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open((dir.path() + "/history.db").c_str(), &db) == SQLITE_OK);
    const char* v1 =
        "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        "INSERT INTO meta VALUES('schema_version','1'),('epoch','1'),('next_seq','3');"
        "CREATE TABLE records(seq INTEGER PRIMARY KEY, epoch INTEGER NOT NULL, type TEXT NOT "
        "NULL, t INTEGER NOT NULL, payload TEXT NOT NULL, jws TEXT);"
        "INSERT INTO records VALUES(1,1,'heartbeat',0,'{}','aaaa'),(2,1,'heartbeat',0,'{}','bb');";
    REQUIRE(sqlite3_exec(db, v1, nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
  }
  auto store = HistoryStore::Open(dir.path(), false, "n1", "test", key);
  REQUIRE_MESSAGE(store.ok(), store.error());
  auto state = (*store)->SpoolStatus().value();
  CHECK(state.records == 2);
  CHECK(state.bytes == 5 + 3);
  CHECK(state.next_seq == 3);
  CHECK((*store)->Meta("schema_version").value() == "4");  // through 2 and 3, to the newest
  auto spool = Spool::Open(dir.path()).value();
  CHECK(spool->StartNewEpoch(0).value() == 2);
  AddMinutes(**store, 29'000'000, 1);  // seq 1 again, in epoch 2: no key clash
  CHECK(spool->State().value().records == 3);
}

TEST_CASE("spool: a record refused for good is kept aside whole and closes its epoch") {
  testing::TempDir dir;
  const NodeKey key = TestKey();
  auto store = HistoryStore::Open(dir.path(), false, "n1", "test", key).value();
  AddMinutes(*store, 29'000'000, 10);
  auto spool = Spool::Open(dir.path()).value();
  const auto before = spool->State().value();
  const std::string refused_jws = spool->OldestBatch(100, 1 << 20).value()[4].jws;  // seq 5

  auto closed = spool->SetAside(1, 5, "refused by the receiver: bad signature", 1'800'000'000);
  REQUIRE(closed.ok());
  CHECK(*closed == std::optional<std::int64_t>(2));  // seq 6.. could never be acknowledged
  auto after = spool->State().value();
  CHECK(after.records == 9);
  CHECK(after.bytes == before.bytes - static_cast<std::int64_t>(refused_jws.size() + 1));
  CHECK(after.epoch == 2);
  CHECK(after.next_seq == 1);
  CHECK(after.refused == 1);
  REQUIRE(after.last_refused.has_value());
  CHECK(after.last_refused->epoch == 1);
  CHECK(after.last_refused->seq == 5);
  CHECK(after.last_refused->type == "heartbeat");
  CHECK(after.last_refused->reason == "refused by the receiver: bad signature");
  CHECK(after.last_refused->refused_at == 1'800'000'000);
  // Nothing lost: the record itself is kept, as it was signed.
  auto db = SqliteDb::Open(dir.path() + "/history.db", SqliteDb::Mode::kReadOnly).value();
  auto kept = db->Prepare("SELECT jws, payload FROM refused_records").value();
  REQUIRE(kept->Step().value());
  CHECK(kept->Text(0) == refused_jws);
  CHECK(Decoded(kept->Text(0), key).envelope.seq == 5);

  // The rest of epoch 1 is still pushed (oldest first, without seq 5); new records start
  // epoch 2 at seq 1 from the genesis hash.
  auto old_epoch = spool->OldestBatch(100, 1 << 20).value();
  REQUIRE(old_epoch.size() == 9);
  CHECK(old_epoch[4].seq == 6);
  AddMinutes(*store, 29'000'010, 1);
  REQUIRE(spool->Remove(1, 1, 10).value() == 9);
  auto new_epoch = spool->OldestBatch(100, 1 << 20).value();
  REQUIRE(new_epoch.size() == 1);
  CHECK(Decoded(new_epoch[0].jws, key).envelope.epoch == 2);
  CHECK(Decoded(new_epoch[0].jws, key).envelope.prev == GenesisHash());

  // A record of a closed epoch closes nothing more; one no longer spooled changes nothing.
  AddMinutes(*store, 29'000'011, 1);
  REQUIRE(spool->StartNewEpoch(0).value() == 3);
  CHECK(spool->SetAside(2, 1, "x", 1'800'000'001).value() == std::nullopt);
  CHECK(spool->State().value().epoch == 3);
  CHECK(spool->SetAside(2, 1, "again", 1'800'000'002).value() == std::nullopt);
  CHECK(spool->SetAside(7, 7, "never made", 1'800'000'002).value() == std::nullopt);
  CHECK(spool->State().value().refused == 2);
}

TEST_CASE(
    "spool: with the key, the records after a refused one are re-signed onto the current epoch") {
  testing::TempDir dir;
  const NodeKey key = TestKey();
  auto store = HistoryStore::Open(dir.path(), false, "n1", "test", key).value();
  AddMinutes(*store, 29'000'000, 10);
  auto spool = Spool::Open(dir.path(), key).value();
  auto closed = spool->SetAside(1, 5, "refused by the receiver: bad signature", 1'800'000'000);
  REQUIRE(closed.ok());
  CHECK(*closed == std::optional<std::int64_t>(2));
  // Epoch 1 keeps seq 1-4 (acknowledged along the chain); 6-10 are seq 1-5 of epoch 2, the
  // same payloads chained anew from the genesis hash, and new records follow them.
  auto state = spool->State().value();
  CHECK(state.records == 9);
  CHECK(state.epoch == 2);
  CHECK(state.next_seq == 6);
  auto old_epoch = spool->OldestBatch(100, 1 << 20).value();
  REQUIRE(old_epoch.size() == 4);
  CHECK(old_epoch.back().seq == 4);
  REQUIRE(spool->Remove(1, 1, 4).value() == 4);
  AddMinutes(*store, 29'000'010, 1);
  auto moved = spool->OldestBatch(100, 1 << 20).value();
  REQUIRE(moved.size() == 6);
  std::string prev = GenesisHash();
  std::int64_t bytes = 0;
  for (std::size_t i = 0; i < moved.size(); ++i) {
    const auto record = Decoded(moved[i].jws, key);  // signed by the node's key
    CHECK(moved[i].epoch == 2);
    CHECK(record.envelope.epoch == 2);
    CHECK(record.envelope.seq == static_cast<std::int64_t>(i + 1));
    CHECK(record.envelope.prev == prev);
    CHECK(MinuteIn(record) == (29'000'005 + static_cast<std::int64_t>(i)) * 60);
    prev = ChainHash(moved[i].jws);
    bytes += static_cast<std::int64_t>(moved[i].jws.size() + 1);
  }
  CHECK(spool->State().value().bytes == bytes);  // the spool's byte count follows them
  // A refused record of a closed epoch moves what follows it onto the current one's end.
  AddMinutes(*store, 29'000'020, 2);
  REQUIRE(spool->StartNewEpoch(0).value() == 3);
  AddMinutes(*store, 29'000'030, 1);  // epoch 3 seq 1
  REQUIRE(spool->SetAside(2, 3, "x", 1'800'000'001).ok());
  CHECK(spool->State().value().epoch == 3);
  CHECK(spool->State().value().next_seq == 2 + 5);  // seq 4-8 of epoch 2 went to 2-6
  REQUIRE(spool->Remove(2, 1, 2).value() == 2);
  auto third = spool->OldestBatch(100, 1 << 20).value();
  REQUIRE(third.size() == 6);
  CHECK(Decoded(third[1].jws, key).envelope.prev == ChainHash(third[0].jws));
  CHECK(MinuteIn(Decoded(third[5].jws, key)) == 29'000'021 * 60);
}

TEST_CASE("a record over the receiver's size bound is never made; the chain goes on") {
  testing::TempDir dir;
  const NodeKey key = TestKey();
  auto store = HistoryStore::Open(dir.path(), false, "n1", "test", key).value();
  AddMinutes(*store, 29'000'000, 2);
  const RecordStamp stamp{29'000'002LL * 60, "boot", 9};
  const std::string huge(100 * 1024, 'x');  // a 100 KB tmux session name in a summary
  REQUIRE(store->OpenIncident("tmux", "session " + huge + " missing", stamp).ok());
  AddMinutes(*store, 29'000'002, 1);
  auto state = store->SpoolStatus().value();
  CHECK(state.oversized == 1);
  CHECK(state.records == 3);
  CHECK(state.next_seq == 4);
  CHECK(store->OpenIncidents().value().size() == 1);  // the history keeps the incident
  auto lines = store->SignedRecords().value();
  CHECK(VerifyRecordChain(lines, key.public_key).ok());
  for (const auto& line : lines) CHECK(line.size() <= kMaxRecordBytes);
}
