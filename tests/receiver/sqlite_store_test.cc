// What only the SQLite store promises: the file's settings and the columns the next
// issues read (receive time, payload, quarantined forks).
#include "receiver/store/sqlite_store.h"

#include <doctest/doctest.h>

#include "base/sqlite_db.h"
#include "receiver/core/ingest.h"
#include "tests/receiver/test_records.h"
#include "tests/support/temp_dir.h"

namespace fleet::receiver {
namespace {

std::string Query(const std::string& path, const std::string& sql) {
  auto db = SqliteDb::Open(path, SqliteDb::Mode::kReadOnly);
  REQUIRE(db.ok());
  auto statement = (*db)->Prepare(sql);
  REQUIRE(statement.ok());
  auto row = (*statement)->Step();
  REQUIRE(row.ok());
  return *row ? (*statement)->Text(0) : std::string("<none>");
}

TEST_CASE("the SQLite store: WAL file, receive times, payloads and forks") {
  fleet::testing::TempDir dir;
  const std::string path = dir.Path("receiver.db");
  CHECK_FALSE(SqliteStore::Open(path, false).ok());
  auto store = SqliteStore::Open(path, true);
  REQUIRE(store.ok());
  testing::TestNode node("node-1");
  REQUIRE((*store)->AddNode(node.Entry()).ok());
  auto chain = testing::MakeChain(node, 1, 2);
  REQUIRE(IngestBatch(**store, testing::Body(chain, {1, 2}), 1764064800).status == 200);
  const std::string fork = node.Sign(node.Payload(1, 2, ChainHash(chain[0]), "agent_stop"));
  REQUIRE(IngestBatch(**store, fork, 1764064900).status == 200);

  CHECK(Query(path, "PRAGMA journal_mode") == "wal");
  CHECK(Query(path, "SELECT received_at FROM records WHERE seq = 2") == "1764064800");
  CHECK(Query(path, "SELECT json_extract(payload, '$.minute') FROM records WHERE seq = 1") ==
        "2025-11-25T10:00:00Z");
  CHECK(Query(path, "SELECT jws FROM records WHERE seq = 2") == chain[1]);
  CHECK(Query(path, "SELECT type FROM records WHERE seq = 2") == "heartbeat");
  CHECK(Query(path, "SELECT jws || ' ' || received_at FROM forks WHERE seq = 2") ==
        fork + " 1764064900");
  CHECK(Query(path, "SELECT ack_seq FROM watermarks WHERE node = 'node-1' AND epoch = 1") == "2");

  store->reset();
  auto reopened = SqliteStore::Open(path, false);
  REQUIRE(reopened.ok());
  CHECK((*reopened)->LoadWatermark("node-1", 1)->ack_seq == 2);
  CHECK((*reopened)->ListNodes()->size() == 1);
}

TEST_CASE("the SQLite store reports a database it cannot open") {
  auto store = SqliteStore::Open("/nonexistent-dir/receiver.db", true);
  REQUIRE_FALSE(store.ok());
  CHECK(store.error().find("/nonexistent-dir/receiver.db") != std::string::npos);
}

}  // namespace
}  // namespace fleet::receiver
