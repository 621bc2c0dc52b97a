// What only the PostgreSQL store promises: versioned, idempotent migrations; several stores
// (receivers) on one database counting each record once; a lost connection is an error
// value and the store recovers. Needs the server at FLEET_TEST_PG_URL (receiver_main.cc
// leaves this suite out, saying so, without one). The ingest rules themselves run on
// PostgreSQL too: ingest_rules_test.cc, the <postgres> cases.
#include "receiver/store/postgres_store.h"

#include <doctest/doctest.h>

#include <thread>

#include "base/utc_time.h"
#include "receiver/core/ingest.h"
#include "receiver/store/open_store.h"
#include "receiver/store/postgres_schema.h"
#include "tests/receiver/store_factory.h"
#include "tests/receiver/test_records.h"

namespace fleet::receiver {
namespace {

using testing::Body;
using testing::MakeChain;
using testing::PostgresStoreMaker;
using testing::TestNode;

constexpr std::int64_t kNow = 1764064800;

std::string Query(PgConnection& db, const std::string& sql) {
  auto rows = db.Exec(sql);
  if (!rows) FAIL(rows.error());
  return rows->Rows() > 0 && !rows->IsNull(0, 0) ? rows->Text(0, 0) : std::string("<none>");
}

VerifiedRecord Verified(const TestNode& node, const std::string& jws) {
  auto outcome = VerifyRecord(jws, node.Lookup(), kNow);
  REQUIRE(std::holds_alternative<VerifiedRecord>(outcome));
  return std::get<VerifiedRecord>(outcome);
}

TEST_SUITE("postgres") {
  TEST_CASE("migrations are versioned, recorded once, and applied again change nothing") {
    auto migrations = PostgresMigrations();
    REQUIRE_FALSE(migrations.empty());
    for (std::size_t i = 0; i < migrations.size(); ++i) {
      CHECK(migrations[i].version > (i == 0 ? 0 : migrations[i - 1].version));
    }
    PostgresStoreMaker maker;
    auto admin = maker.Admin();
    std::string expected;
    for (const auto& m : migrations) {
      expected += (expected.empty() ? "" : ",") + std::to_string(m.version);
    }
    auto first = maker.MakePostgres();
    CHECK(first->schema_version() == migrations.back().version);
    CHECK(Query(*admin,
                "SELECT string_agg(version::text, ',' ORDER BY version) FROM "
                "schema_migrations") == expected);
    TestNode node("node-1");
    REQUIRE(first->AddNode(node.Entry()).ok());
    REQUIRE(IngestBatch(*first, Body(MakeChain(node, 1, 3), {1, 2, 3}), kNow).status == 200);

    auto second = maker.MakePostgres();  // a second receiver starting on the same database
    CHECK(second->schema_version() == migrations.back().version);
    CHECK(Query(*admin, "SELECT count(*) FROM schema_migrations") ==
          std::to_string(migrations.size()));
    CHECK(second->ListNodes()->size() == 1);
    CHECK(second->LoadWatermark("node-1", 1)->ack_seq == 3);

    // A migration not recorded, below the newest (branches merged in another order): applied.
    // (Migration 7, revocations, is written to be applied again: IF NOT EXISTS throughout.)
    const int below = 7;
    REQUIRE(below < migrations.back().version);
    REQUIRE(
        admin->Exec("DELETE FROM schema_migrations WHERE version = " + std::to_string(below)).ok());
    auto third = maker.MakePostgres();
    CHECK(third->schema_version() == migrations.back().version);
    CHECK(Query(*admin,
                "SELECT string_agg(version::text, ',' ORDER BY version) FROM "
                "schema_migrations") == expected);

    REQUIRE(
        admin->Exec("INSERT INTO schema_migrations (version, name) VALUES (999, 'future')").ok());
    auto older = PostgresStore::Open(maker.url);
    REQUIRE_FALSE(older.ok());
    CHECK(older.error().find("newer than this fleet-receiver knows") != std::string::npos);
  }

  TEST_CASE("receivers starting at once on an empty database migrate it once") {
    PostgresStoreMaker maker;
    constexpr int kReceivers = 4;
    std::vector<std::string> errors(kReceivers);
    std::vector<std::thread> threads;
    for (int i = 0; i < kReceivers; ++i) {
      threads.emplace_back([&, i] {
        auto store = PostgresStore::Open(maker.url);
        errors[i] = store ? "" : store.error();
      });
    }
    for (auto& t : threads) t.join();
    for (const auto& e : errors) CHECK(e == "");
    auto admin = maker.Admin();
    CHECK(Query(*admin, "SELECT count(*) FROM schema_migrations") ==
          std::to_string(PostgresMigrations().size()));
  }

  TEST_CASE("two receivers on one database take the same batches at once: each record once") {
    PostgresStoreMaker maker;
    auto a = maker.MakePostgres();
    auto b = maker.MakePostgres();
    TestNode node("node-1");
    REQUIRE(a->AddNode(node.Entry()).ok());
    constexpr int kRecords = 300;
    constexpr int kBatch = 15;
    // Six records a minute over the hour before kNow (at most 120 of a minute are taken).
    std::vector<std::string> chain;
    for (int seq = 1; seq <= kRecords; ++seq) {
      auto payload = node.Payload(1, seq, seq == 1 ? GenesisHash() : ChainHash(chain.back()));
      payload[protocol::fields::kT] = FormatUtc(kNow - 3600 + seq * 10);
      chain.push_back(node.Sign(payload));
    }
    std::vector<std::string> bodies;
    for (int first = 1; first <= kRecords; first += kBatch) {
      std::vector<int> seqs;
      for (int s = first + kBatch - 1; s >= first; --s) seqs.push_back(s);  // reordered too
      bodies.push_back(Body(chain, seqs));
    }
    struct Tally {
      int stored = 0, duplicates = 0, forks = 0, not_ok = 0;
    };
    auto push_all = [&](RecordStore& store, bool reverse, Tally& tally) {
      for (std::size_t i = 0; i < bodies.size(); ++i) {
        const auto& body = bodies[reverse ? bodies.size() - 1 - i : i];
        IngestReply reply = IngestBatch(store, body, kNow);
        if (reply.status != 200) {
          ++tally.not_ok;
          continue;
        }
        tally.stored += reply.body["stored"].get<int>();
        tally.duplicates += reply.body["duplicates"].get<int>();
        tally.forks += static_cast<int>(reply.body["forks"].size());
      }
    };
    Tally ta, tb;
    std::thread ra([&] { push_all(*a, false, ta); });
    std::thread rb([&] { push_all(*b, true, tb); });
    ra.join();
    rb.join();
    CHECK(ta.not_ok + tb.not_ok == 0);
    CHECK(ta.stored + tb.stored == kRecords);
    CHECK(ta.duplicates + tb.duplicates == kRecords);
    CHECK(ta.forks + tb.forks == 0);
    auto admin = maker.Admin();
    CHECK(Query(*admin, "SELECT count(*) || ' ' || count(DISTINCT seq) FROM records") ==
          std::to_string(kRecords) + " " + std::to_string(kRecords));
    CHECK(Query(*admin, "SELECT count(*) FROM forks") == "0");
    IngestReply last = IngestBatch(*b, Body(chain, {kRecords}), kNow);
    CHECK(last.body["ack_seq"] == kRecords);
    CHECK(last.body["gaps"] == nlohmann::json::array());
    CHECK(a->LoadWatermark("node-1", 1)->ack_seq == kRecords);
  }

  TEST_CASE("a connection killed mid-batch is an error value; the store then recovers") {
    PostgresStoreMaker maker;
    auto store = maker.MakePostgres();
    auto admin = maker.Admin();
    TestNode node("node-1");
    REQUIRE(store->AddNode(node.Entry()).ok());
    auto chain = MakeChain(node, 1, 4);
    auto kill = [&] {
      REQUIRE(Query(*admin, "SELECT pg_terminate_backend(" + std::to_string(store->BackendPid()) +
                                ")") == "t");
    };

    REQUIRE(store->Begin().ok());
    REQUIRE(store->InsertRecord(Verified(node, chain[0]), kNow).ok());
    kill();
    auto lost = store->InsertRecord(Verified(node, chain[1]), kNow);
    REQUIRE_FALSE(lost.ok());
    CHECK(lost.error().rfind("postgresql: ", 0) == 0);
    store->Rollback();
    CHECK(Query(*admin, "SELECT count(*) FROM records") == "0");

    IngestReply reply = IngestBatch(*store, Body(chain, {1, 2}), kNow);  // reconnects
    CHECK(reply.status == 200);
    CHECK(reply.body["ack_seq"] == 2);

    kill();  // while idle: the next look reconnects on its own
    CHECK(store->Ping().ok());
    kill();
    reply = IngestBatch(*store, Body(chain, {3, 4}), kNow);
    CHECK(reply.status == 200);
    CHECK(reply.body["ack_seq"] == 4);
    CHECK(Query(*admin, "SELECT count(*) FROM records") == "4");
  }

  TEST_CASE("columns the reports read: receive time, payload, forks; the --db factory") {
    PostgresStoreMaker maker;
    auto opened = OpenRecordStore(maker.url, false);
    REQUIRE(opened.ok());
    auto& store = **opened;
    TestNode node("node-1");
    REQUIRE(store.AddNode(node.Entry()).ok());
    auto chain = MakeChain(node, 1, 2);
    REQUIRE(IngestBatch(store, Body(chain, {1, 2}), kNow).status == 200);
    const std::string fork = node.Sign(node.Payload(1, 2, ChainHash(chain[0]), "agent_stop"));
    REQUIRE(IngestBatch(store, fork, kNow + 100).status == 200);
    auto admin = maker.Admin();
    CHECK(Query(*admin, "SELECT received_at FROM records WHERE seq = 2") == std::to_string(kNow));
    CHECK(Query(*admin, std::string("SELECT payload::json->>'") + protocol::fields::kMinute +
                            "' FROM records WHERE seq = 1") == "2025-11-25T10:00:00Z");
    CHECK(Query(*admin, "SELECT jws FROM records WHERE seq = 2") == chain[1]);
    CHECK(Query(*admin, "SELECT jws || ' ' || received_at FROM forks WHERE seq = 2") ==
          fork + " " + std::to_string(kNow + 100));

    auto bad = OpenRecordStore("postgresql:///none?host=/nonexistent-dir&connect_timeout=2", true);
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().find("cannot connect") != std::string::npos);
    CHECK(IsPostgresUrl("postgres://u@h/db"));
    CHECK_FALSE(IsPostgresUrl("/var/lib/fleet/receiver.db"));
    CHECK(DisplayDb("postgresql://fleet:s3cret@db.example/fleet?password=x&sslmode=require") ==
          "postgresql://fleet:***@db.example/fleet?password=***&sslmode=require");
  }
}

}  // namespace
}  // namespace fleet::receiver
