// A batch stored in one call (RecordStore::InsertRecords: one statement on PostgreSQL, the
// default record-by-record on SQLite) gives what storing its records one after the other
// gives: new records stored, a record already stored or repeated in the batch a duplicate,
// another record at a taken seq a fork, in batch order; the per-minute counts the ingest
// bound reads, in one call; and, on PostgreSQL, each stored record's typed row with its
// nulls and hostile text intact. Runs once per store in FLEET_RECEIVER_STORES.
#include <doctest/doctest.h>

#include "base/sqlite_db.h"
#include "base/utc_time.h"
#include "receiver/core/live_arrival.h"
#include "receiver/core/record_verify.h"
#include "tests/receiver/store_factory.h"
#include "tests/receiver/test_records.h"

namespace fleet::receiver {
namespace {

using testing::PostgresStoreMaker;
using testing::SqliteStoreMaker;
using testing::TestNode;

constexpr std::int64_t kNow = 1764064800;  // 2025-11-25T10:00:00Z

// A verified record of node at (1, seq) with the given body, made at t.
VerifiedRecord Made(const TestNode& node, std::int64_t seq, protocol::RecordBody body,
                    std::int64_t t = kNow) {
  protocol::Record record{{node.node, 1, seq, GenesisHash(), t, "boot-1", 1000 + seq, "0.1.0"},
                          std::move(body)};
  const std::string jws = node.SignText(protocol::EncodeRecord(record));
  auto outcome = VerifyRecord(jws, node.Lookup(), kNow);
  REQUIRE(std::holds_alternative<VerifiedRecord>(outcome));
  return std::get<VerifiedRecord>(std::move(outcome));
}

protocol::Heartbeat Beat(bool up) {
  return {kNow - 60, up, {{"tmux", protocol::CheckState::kOk}}, true};
}

template <typename Maker>
struct Store {
  Maker maker;
  std::unique_ptr<RecordStore> store = maker.Make();
  TestNode node{"node-1"};
  Store() { REQUIRE(store->AddNode(node.Entry()).ok()); }

  std::vector<InsertResult> Insert(const std::vector<VerifiedRecord>& records) {
    REQUIRE(store->Begin().ok());
    auto done = store->InsertRecords(records, kNow);
    REQUIRE_MESSAGE(done.ok(), (done ? "" : done.error()));
    REQUIRE(store->Commit().ok());
    return *done;
  }
  std::vector<std::string> Hashes() {
    auto links = store->LinksFrom(node.node, 1, 1, 100);
    REQUIRE(links.ok());
    std::vector<std::string> hashes;
    for (const auto& link : *links) hashes.push_back(link.hash);
    return hashes;
  }
};

TEST_CASE_TEMPLATE("a batch in one call is stored as its records one after the other", Maker,
                   FLEET_RECEIVER_STORES) {
  Store<Maker> s;
  const VerifiedRecord one = Made(s.node, 1, Beat(true));
  const VerifiedRecord two = Made(s.node, 2, Beat(true));
  CHECK(s.Insert({one, two}) == std::vector{InsertResult::kStored, InsertResult::kStored});

  const VerifiedRecord three = Made(s.node, 3, protocol::AgentStop{});
  const VerifiedRecord four = Made(s.node, 4, protocol::AgentStart{true, false});
  const VerifiedRecord other_two = Made(s.node, 2, Beat(false));   // a fork of a stored one
  const VerifiedRecord other_four = Made(s.node, 4, Beat(false));  // of one earlier in the batch
  const std::vector<InsertResult> results =
      s.Insert({two, three, three, four, other_four, other_two});
  CHECK(results == std::vector{InsertResult::kDuplicate, InsertResult::kStored,
                               InsertResult::kDuplicate, InsertResult::kStored, InsertResult::kFork,
                               InsertResult::kFork});
  // The first of each seq stays; the forks are kept aside.
  CHECK(s.Hashes() == std::vector{one.hash, two.hash, three.hash, four.hash});

  SUBCASE("a batch of nothing new stores nothing") {
    CHECK(s.Insert({one, four}) == std::vector{InsertResult::kDuplicate, InsertResult::kDuplicate});
    CHECK(s.Hashes().size() == 4);
  }
  SUBCASE("an empty batch is no error") { CHECK(s.Insert({}).empty()); }
}

TEST_CASE_TEMPLATE("records per minute for many minutes in one call", Maker,
                   FLEET_RECEIVER_STORES) {
  Store<Maker> s;
  const std::int64_t minute = kNow - 600;
  s.Insert({Made(s.node, 1, Beat(true), minute), Made(s.node, 2, Beat(true), minute + 59),
            Made(s.node, 3, Beat(true), minute + 60), Made(s.node, 4, Beat(true), minute + 180)});
  const std::vector<std::int64_t> asked = {minute + 120, minute, minute + 60, minute, minute + 180};
  REQUIRE(s.store->Begin().ok());
  auto counts = s.store->CountInMinutes(s.node.node, asked);
  REQUIRE_MESSAGE(counts.ok(), (counts ? "" : counts.error()));
  s.store->Rollback();
  CHECK(*counts == std::map<std::int64_t, std::int64_t>{
                       {minute, 2}, {minute + 60, 1}, {minute + 120, 0}, {minute + 180, 1}});
  auto other = s.store->CountInMinutes("node-2", asked);  // outside a batch too
  REQUIRE(other.ok());
  CHECK(other->at(minute) == 0);
}

std::string Query(PgConnection& db, const std::string& sql) {
  auto rows = db.Exec(sql);
  if (!rows) FAIL(rows.error());
  std::string out;
  for (int i = 0; i < rows->Rows(); ++i) {
    out += rows->IsNull(i, 0) ? "NULL" : rows->Text(i, 0);
    out += "\n";
  }
  return out;
}

// The first column of every row of `sql`, a line each (NULL for null), on either store.
std::string Rows(SqliteStoreMaker& maker, const std::string& sql) {
  auto db = SqliteDb::Open(maker.path, SqliteDb::Mode::kReadOnly);
  REQUIRE(db.ok());
  auto statement = (*db)->Prepare(sql);
  REQUIRE_MESSAGE(statement.ok(), (statement ? "" : statement.error()));
  std::string out;
  for (;;) {
    auto row = (*statement)->Step();
    REQUIRE(row.ok());
    if (!*row) break;
    out += ((*statement)->IsNull(0) ? std::string("NULL") : (*statement)->Text(0)) + "\n";
  }
  return out;
}
std::string Rows(PostgresStoreMaker& maker, const std::string& sql) {
  return Query(*maker.Admin(), sql);
}

TEST_CASE_TEMPLATE("acks and maintenance windows get typed rows, the ack judged live or late",
                   Maker, FLEET_RECEIVER_STORES) {
  Store<Maker> s;
  const std::string hostile = "a \"quoted\", {braced} \\back\\slashed, NULL; 'x'); drop table";
  const std::int64_t edge = kNow - kLiveWithinSeconds;
  // A batch (one statement on PostgreSQL), then one record alone (InsertRecord's statement).
  std::vector<VerifiedRecord> batch = {
      Made(s.node, 1, protocol::Ack{7, edge, "ada_l", protocol::AckVia::kTelegram, std::nullopt}),
      Made(s.node, 2, protocol::Ack{7, edge - 1, "hermes", protocol::AckVia::kCli, hostile}),
      Made(s.node, 3, protocol::Maintenance{kNow - 60, kNow + 7200, hostile, "123456789"}),
  };
  batch.push_back(batch[0]);  // repeated: one typed row
  CHECK(s.Insert(batch) == std::vector{InsertResult::kStored, InsertResult::kStored,
                                       InsertResult::kStored, InsertResult::kDuplicate});
  REQUIRE(s.store->Begin().ok());
  auto alone = s.store->InsertRecord(
      Made(s.node, 4, protocol::Ack{8, kNow - 30, "op-7", protocol::AckVia::kReceiver, ""}),
      kNow + 3600);
  REQUIRE_MESSAGE(alone.ok(), (alone ? "" : alone.error()));
  REQUIRE(s.store->Commit().ok());

  CHECK(Rows(s.maker,
             "SELECT seq || ' ' || incident || ' ' || at || ' ' || by || ' ' || via || ' ' || "
             "received_at || ' ' || CASE WHEN live THEN 'live' ELSE 'late' END FROM acks "
             "ORDER BY seq") ==
        "1 7 " + std::to_string(edge) + " ada_l telegram " + std::to_string(kNow) + " live\n" +
            "2 7 " + std::to_string(edge - 1) + " hermes cli " + std::to_string(kNow) + " late\n" +
            "4 8 " + std::to_string(kNow - 30) + " op-7 receiver " + std::to_string(kNow + 3600) +
            " late\n");
  CHECK(Rows(s.maker, "SELECT note FROM acks ORDER BY seq") == "NULL\n" + hostile + "\n\n");
  CHECK(Rows(s.maker,
             "SELECT seq || ' ' || from_at || ' ' || until_at || ' ' || by FROM "
             "maintenance_windows") ==
        "3 " + std::to_string(kNow - 60) + " " + std::to_string(kNow + 7200) + " 123456789\n");
  CHECK(Rows(s.maker, "SELECT reason FROM maintenance_windows") == hostile + "\n");
  CHECK(Rows(s.maker, "SELECT type FROM records ORDER BY seq") == "ack\nack\nmaintenance\nack\n");
}

TEST_CASE_TEMPLATE("remediations get typed rows, nulls and hostile text intact", Maker,
                   FLEET_RECEIVER_STORES) {
  Store<Maker> s;
  const std::string hostile = "a \"quoted\", {braced} \\back\\slashed, NULL; 'x'); drop table";
  using protocol::RemedyAction;
  using protocol::RemedyOutcome;
  std::vector<VerifiedRecord> batch = {
      Made(s.node, 1,
           protocol::Remediation{"gateway", "hermes-gateway.service", RemedyAction::kRestartUnit,
                                 "failed (signal)", 1, kNow - 20, kNow - 14,
                                 RemedyOutcome::kSucceeded, "active (running) after 6 s", 4}),
      Made(s.node, 2,
           protocol::Remediation{"disk", "/srv/x {1}", RemedyAction::kRemoveFiles, hostile, 3,
                                 kNow - 5, kNow - 5, RemedyOutcome::kExhausted, std::nullopt,
                                 std::nullopt}),
  };
  batch.push_back(batch[1]);  // repeated: one typed row
  CHECK(s.Insert(batch) ==
        std::vector{InsertResult::kStored, InsertResult::kStored, InsertResult::kDuplicate});
  REQUIRE(s.store->Begin().ok());
  auto alone = s.store->InsertRecord(
      Made(s.node, 3,
           protocol::Remediation{"tmux", "BURN2", RemedyAction::kCreateSession, "BURN2 missing", 2,
                                 kNow - 3, kNow - 2, RemedyOutcome::kDryRun, hostile, 9}),
      kNow);
  REQUIRE_MESSAGE(alone.ok(), (alone ? "" : alone.error()));
  REQUIRE(s.store->Commit().ok());
  CHECK(Rows(s.maker,
             "SELECT seq || ' ' || check_name || ' ' || target || ' ' || action || ' ' || "
             "attempt || ' ' || started || ' ' || finished || ' ' || outcome || ' ' || "
             "COALESCE(CAST(incident AS TEXT), 'NULL') FROM remediations ORDER BY seq") ==
        "1 gateway hermes-gateway.service restart_unit 1 " + std::to_string(kNow - 20) + " " +
            std::to_string(kNow - 14) + " succeeded 4\n" + "2 disk /srv/x {1} remove_files 3 " +
            std::to_string(kNow - 5) + " " + std::to_string(kNow - 5) + " exhausted NULL\n" +
            "3 tmux BURN2 create_session 2 " + std::to_string(kNow - 3) + " " +
            std::to_string(kNow - 2) + " dry_run 9\n");
  CHECK(Rows(s.maker, "SELECT changed FROM remediations ORDER BY seq") ==
        "active (running) after 6 s\nNULL\n" + hostile + "\n");
  CHECK(Rows(s.maker, "SELECT reason FROM remediations ORDER BY seq") ==
        "failed (signal)\n" + hostile + "\nBURN2 missing\n");
}

TEST_SUITE("postgres") {
  TEST_CASE("a batch's typed rows, from one statement, with nulls and hostile text intact") {
    Store<PostgresStoreMaker> s;
    const std::string hostile = "a \"quoted\", {braced} \\back\\slashed, NULL; 'x'); drop table";
    std::vector<VerifiedRecord> batch = {
        Made(s.node, 1, protocol::AgentStart{false, true}),
        Made(s.node, 2, Beat(false)),
        Made(s.node, 3, protocol::TaskRun{"job-1", hostile, kNow - 120, false, hostile}),
        Made(s.node, 4, protocol::TaskRun{"job-2", "fine", kNow - 60, true, std::nullopt}),
        Made(s.node, 5, protocol::Incident{7, "gateway", kNow - 300, std::nullopt, hostile}),
        Made(s.node, 6, protocol::Incident{7, "gateway", kNow - 300, kNow - 30, "back"}),
        Made(s.node, 7, protocol::AgentStop{}),
    };
    batch.push_back(batch[1]);  // repeated: one typed row
    REQUIRE(s.Insert(batch).size() == 8);
    auto db = s.maker.Admin();
    CHECK(Query(*db,
                "SELECT seq || ' ' || minute || ' ' || up || ' ' || checks || ' ' || "
                "ntp_synced FROM heartbeats") ==
          "2 " + std::to_string(kNow - 60) + " false {\"tmux\":\"ok\"} true\n");
    CHECK(Query(*db, "SELECT name FROM task_runs ORDER BY seq") == hostile + "\nfine\n");
    CHECK(Query(*db, "SELECT error FROM task_runs ORDER BY seq") == hostile + "\nNULL\n");
    CHECK(Query(*db, "SELECT ok::text || ' ' || run_at FROM task_runs ORDER BY seq") ==
          "false " + std::to_string(kNow - 120) + "\ntrue " + std::to_string(kNow - 60) + "\n");
    CHECK(Query(*db, "SELECT closed FROM incidents ORDER BY seq") ==
          "NULL\n" + std::to_string(kNow - 30) + "\n");
    CHECK(Query(*db, "SELECT summary FROM incidents ORDER BY seq") == hostile + "\nback\n");
    CHECK(Query(*db, "SELECT incident_id || check_name || opened FROM incidents WHERE seq = 6") ==
          "7gateway" + std::to_string(kNow - 300) + "\n");
    CHECK(Query(*db, "SELECT clean_previous_stop || ' ' || rebooted FROM agent_starts") ==
          "false true\n");
    CHECK(Query(*db, "SELECT payload FROM records WHERE seq = 3") == batch[2].payload + "\n");
    CHECK(Query(*db, "SELECT count(*) FROM records") == "7\n");
  }
}

}  // namespace
}  // namespace fleet::receiver
