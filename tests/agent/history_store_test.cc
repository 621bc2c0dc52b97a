// The history's acknowledgements and maintenance windows (agent/history/history_store.h):
// each written with its record in one transaction, the record decoding under the contract
// in its place in the chain; entries the contract would refuse, and acks of incidents the
// history does not have, refused before anything is written; schema 2 migrated to 4;
// remediations likewise, their free text cut to the contract's bounds; schema 3 migrated.
#include <doctest/doctest.h>
#include <sqlite3.h>

#include "agent/history/history_store.h"
#include "base/sqlite_db.h"
#include "protocol/jws.h"
#include "protocol/record_chain.h"
#include "protocol/records.h"
#include "tests/support/seed_key.h"
#include "tests/support/temp_dir.h"

using namespace fleet;

namespace {

constexpr UnixSeconds kNow = 1795600800;  // 2026-11-25T10:00:00Z

NodeKey Key() { return testing::KeyFromSeedByte<NodeKey>(11); }

protocol::Record Decoded(const std::string& jws, const NodeKey& key) {
  auto verified = VerifyCompactJws(jws, key.public_key);
  REQUIRE_MESSAGE(verified.ok(), verified.error());
  auto decoded = protocol::DecodeRecord(verified->payload);
  REQUIRE_MESSAGE(decoded.ok(), decoded.error());
  return *decoded;
}

// The first column of every row of `sql` in the history, a line each (NULL for null).
std::string Rows(const std::string& dir, const std::string& sql) {
  auto db = SqliteDb::Open(dir + "/history.db", SqliteDb::Mode::kReadOnly);
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

}  // namespace

TEST_CASE("acks and maintenance windows: a history row and a chained record each") {
  testing::TempDir dir;
  const NodeKey key = Key();
  auto store = HistoryStore::Open(dir.path(), false, "node-1", "test", key).value();
  const RecordStamp opened{kNow, "boot", 1000};
  const std::int64_t id = store->OpenIncident("gateway", "not active (failed)", opened).value();
  const RecordStamp acked{kNow + 240, "boot", 241000};
  REQUIRE(store->AddAck({id, kNow + 235, "ada_l", protocol::AckVia::kTelegram, std::nullopt}, acked)
              .ok());
  REQUIRE(store->CloseIncident(id, {kNow + 600, "boot", 601000}).ok());
  // An ack of a closed incident is kept (it came late, or from another channel).
  REQUIRE(store
              ->AddAck({id, kNow + 900, "hermes", protocol::AckVia::kCli, "back\nup"},
                       {kNow + 900, "boot", 901000})
              .ok());
  REQUIRE(store
              ->AddMaintenance({kNow + 3600, kNow + 3 * 3600, "kernel upgrade", "hermes"},
                               {kNow + 1000, "boot", 1001000})
              .ok());

  // The report reads the first acknowledgement back with the incident.
  const auto incidents = store->Incidents(kNow - 1, kNow + 7200).value();
  REQUIRE(incidents.size() == 1);
  CHECK(incidents[0].acked == std::optional<UnixSeconds>(kNow + 235));

  const auto lines = store->SignedRecords().value();
  REQUIRE(lines.size() == 5);
  const ChainVerdict verdict = VerifyRecordChain(lines, key.public_key);
  CHECK(verdict.ok());
  CHECK(verdict.records == 5);
  const protocol::Record first_ack = Decoded(lines[1], key);
  REQUIRE(first_ack.Type() == protocol::RecordType::kAck);
  CHECK(first_ack.envelope.seq == 2);
  CHECK(first_ack.envelope.t == kNow + 240);
  CHECK(first_ack.envelope.prev == ChainHash(lines[0]));
  const auto& ack = std::get<protocol::Ack>(first_ack.body);
  CHECK(ack.incident == id);
  CHECK(ack.at == kNow + 235);
  CHECK(ack.by == "ada_l");
  CHECK(ack.via == protocol::AckVia::kTelegram);
  CHECK_FALSE(ack.note.has_value());
  CHECK(std::get<protocol::Ack>(Decoded(lines[3], key).body).note ==
        std::optional<std::string>("back\nup"));
  const auto window = std::get<protocol::Maintenance>(Decoded(lines[4], key).body);
  CHECK(window.from == kNow + 3600);
  CHECK(window.until == kNow + 3 * 3600);
  CHECK(window.reason == "kernel upgrade");
  CHECK(window.by == "hermes");

  CHECK(Rows(dir.path(),
             "SELECT incident || ' ' || at || ' ' || by || ' ' || via || ' ' || "
             "recorded FROM acks ORDER BY id") ==
        std::to_string(id) + " " + std::to_string(kNow + 235) + " ada_l telegram " +
            std::to_string(kNow + 240) + "\n" + std::to_string(id) + " " +
            std::to_string(kNow + 900) + " hermes cli " + std::to_string(kNow + 900) + "\n");
  CHECK(Rows(dir.path(), "SELECT note FROM acks ORDER BY id") == "NULL\nback\nup\n");
  CHECK(Rows(dir.path(),
             "SELECT from_at || ' ' || until_at || ' ' || reason || ' ' || by FROM "
             "maintenance_windows") == std::to_string(kNow + 3600) + " " +
                                           std::to_string(kNow + 3 * 3600) +
                                           " kernel upgrade hermes\n");
}

TEST_CASE("acks and maintenance windows the contract would refuse are not written") {
  testing::TempDir dir;
  const NodeKey key = Key();
  auto store = HistoryStore::Open(dir.path(), false, "node-1", "test", key).value();
  const RecordStamp stamp{kNow, "boot", 1000};
  const std::int64_t id = store->OpenIncident("tmux", "pane dead", stamp).value();
  const auto refused = [&](const Outcome& outcome, const std::string& why) {
    REQUIRE_FALSE(outcome.ok());
    CHECK(outcome.error() == why);
  };
  refused(store->AddAck({id + 1, kNow, "ada", protocol::AckVia::kCli, {}}, stamp),
          "ack: no incident " + std::to_string(id + 1) + " in the history");
  refused(store->AddAck({id, kNow, "", protocol::AckVia::kCli, {}}, stamp),
          "ack: payload by must not be empty");
  refused(store->AddAck({id, kNow, std::string(65, 'a'), protocol::AckVia::kCli, {}}, stamp),
          "ack: payload by is longer than 64 bytes");
  refused(store->AddAck({id, kNow, "ada\n", protocol::AckVia::kTelegram, {}}, stamp),
          "ack: payload by must not contain control characters");
  refused(store->AddAck({id, kNow, "ada", protocol::AckVia::kCli, std::string(1025, 'n')}, stamp),
          "ack: payload note is longer than 1024 bytes");
  refused(store->AddAck({0, kNow, "ada", protocol::AckVia::kCli, {}}, stamp),
          "ack: payload incident must be an integer >= 1 and < 2^53");
  refused(store->AddMaintenance({kNow, kNow, "x", "ada"}, stamp),
          "maintenance: payload until is not after from");
  refused(store->AddMaintenance({kNow, kNow + 30 * 86400 + 1, "x", "ada"}, stamp),
          "maintenance: payload until is more than 30 days after from");
  refused(store->AddMaintenance({kNow, kNow + 60, "", "ada"}, stamp),
          "maintenance: payload reason must not be empty");
  refused(store->AddMaintenance({kNow, kNow + 60, std::string("a\0b", 3), "ada"}, stamp),
          "maintenance: payload reason must not contain NUL");
  // Nothing of them was written: the incident's record only, no rows.
  CHECK(store->SignedRecords().value().size() == 1);
  CHECK(Rows(dir.path(), "SELECT count(*) FROM acks") == "0\n");
  CHECK(Rows(dir.path(), "SELECT count(*) FROM maintenance_windows") == "0\n");
  CHECK(store->Meta("next_seq").value() == "2");
  // At the limits, accepted.
  CHECK(store->AddAck({id, kNow, std::string(64, 'a'), protocol::AckVia::kCli, ""}, stamp).ok());
  CHECK(store->AddMaintenance({kNow, kNow + 30 * 86400, std::string(1024, 'r'), "a"}, stamp).ok());
  CHECK(VerifyRecordChain(store->SignedRecords().value(), key.public_key).ok());
}

TEST_CASE("history from schema 2 gets the acks and maintenance tables, keeping its records") {
  testing::TempDir dir;
  const NodeKey key = Key();
  {
    auto store = HistoryStore::Open(dir.path(), false, "node-1", "test", key).value();
    REQUIRE(store->OpenIncident("disk", "full", {kNow, "boot", 1000}).ok());
  }
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open((dir.path() + "/history.db").c_str(), &db) == SQLITE_OK);
    const char* v2 =
        "DROP TABLE acks; DROP TABLE maintenance_windows; DROP TABLE remediations;"
        "UPDATE meta SET value = '2' WHERE key = 'schema_version';";
    REQUIRE(sqlite3_exec(db, v2, nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
  }
  auto store = HistoryStore::Open(dir.path(), false, "node-1", "test", key);
  REQUIRE_MESSAGE(store.ok(), store.error());
  CHECK((*store)->Meta("schema_version").value() == "4");
  REQUIRE((*store)
              ->AddAck({1, kNow + 60, "ada", protocol::AckVia::kCli, {}}, {kNow + 60, "b", 2})
              .ok());
  REQUIRE((*store)->AddMaintenance({kNow, kNow + 60, "r", "ada"}, {kNow + 60, "b", 2}).ok());
  const auto lines = (*store)->SignedRecords().value();
  REQUIRE(lines.size() == 3);
  CHECK(VerifyRecordChain(lines, key.public_key).ok());
  CHECK(Decoded(lines[1], key).Type() == protocol::RecordType::kAck);
  // A history newer than this agent is refused, not downgraded.
  store->reset();
  {
    auto db = SqliteDb::Open(dir.path() + "/history.db", SqliteDb::Mode::kReadWrite).value();
    REQUIRE(db->Exec("UPDATE meta SET value = '5' WHERE key = 'schema_version'").ok());
  }
  auto newer = HistoryStore::Open(dir.path(), false, "node-1", "test", key);
  REQUIRE_FALSE(newer.ok());
  CHECK(newer.error().find("history schema version 5 is newer than this agent knows (4)") !=
        std::string::npos);
}

TEST_CASE("remediations: a history row and a chained record each, text cut to the bounds") {
  testing::TempDir dir;
  const NodeKey key = Key();
  auto store = HistoryStore::Open(dir.path(), false, "node-1", "test", key).value();
  const std::int64_t id =
      store->OpenIncident("gateway", "failed (signal)", {kNow, "boot", 1000}).value();
  using protocol::RemedyAction;
  using protocol::RemedyOutcome;
  REQUIRE(store
              ->AddRemediation({"gateway", "hermes-gateway.service", RemedyAction::kRestartUnit,
                                "hermes-gateway.service failed (signal)", 1, kNow + 1, kNow + 7,
                                RemedyOutcome::kSucceeded, "active (running) after 6 s", id},
                               {kNow + 7, "boot", 8000})
              .ok());
  // A summary over 1 KiB (a long list of paths) and a long target are cut, not refused.
  const std::string long_reason = std::string(1020, 'r') + "\u00e9\u00e9\u00e9";
  REQUIRE(store
              ->AddRemediation(
                  {"disk", "/" + std::string(300, 'd'), RemedyAction::kRemoveFiles, long_reason, 3,
                   kNow + 10, kNow + 10, RemedyOutcome::kExhausted, std::nullopt, std::nullopt},
                  {kNow + 10, "boot", 11000})
              .ok());
  const auto lines = store->SignedRecords().value();
  REQUIRE(lines.size() == 3);
  CHECK(VerifyRecordChain(lines, key.public_key).ok());
  const protocol::Record first = Decoded(lines[1], key);
  REQUIRE(first.Type() == protocol::RecordType::kRemediation);
  const auto& done = std::get<protocol::Remediation>(first.body);
  CHECK(done.check == "gateway");
  CHECK(done.target == "hermes-gateway.service");
  CHECK(done.action == RemedyAction::kRestartUnit);
  CHECK(done.attempt == 1);
  CHECK(done.started == kNow + 1);
  CHECK(done.finished == kNow + 7);
  CHECK(done.outcome == RemedyOutcome::kSucceeded);
  CHECK(done.changed == std::optional<std::string>("active (running) after 6 s"));
  CHECK(done.incident == std::optional<std::int64_t>(id));
  const auto cut = std::get<protocol::Remediation>(Decoded(lines[2], key).body);
  CHECK(cut.reason.size() <= protocol::kMaxTextBytes);
  CHECK(cut.reason.starts_with(std::string(1020, 'r')));
  CHECK(cut.target.size() <= protocol::kMaxJobBytes);
  CHECK_FALSE(cut.incident.has_value());

  const auto read = store->Remediations(kNow, kNow + 60).value();
  REQUIRE(read.size() == 2);
  CHECK(read[0].target == "hermes-gateway.service");
  CHECK(read[0].incident == std::optional<std::int64_t>(id));
  CHECK(read[1].outcome == RemedyOutcome::kExhausted);
  CHECK_FALSE(read[1].changed.has_value());
  CHECK(store->Remediations(kNow + 2, kNow + 60).value().size() == 1);

  // What the contract refuses otherwise is not written.
  auto refused = store->AddRemediation({"gateway", "u", RemedyAction::kRestartUnit, "x", 0, kNow,
                                        kNow, RemedyOutcome::kFailed, std::nullopt, std::nullopt},
                                       {kNow, "boot", 1});
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error() == "remediation: payload attempt must be an integer >= 1 and < 1000");
  refused = store->AddRemediation({"gateway", "u", RemedyAction::kRestartUnit, "x", 1, kNow,
                                   kNow - 1, RemedyOutcome::kFailed, std::nullopt, std::nullopt},
                                  {kNow, "boot", 1});
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error() == "remediation: payload finished is before started");
  CHECK(store->SignedRecords().value().size() == 3);
  CHECK(Rows(dir.path(), "SELECT count(*) FROM remediations") == "2\n");
}

TEST_CASE("history from schema 3 gets the remediations table") {
  testing::TempDir dir;
  const NodeKey key = Key();
  {
    auto store = HistoryStore::Open(dir.path(), false, "node-1", "test", key).value();
    REQUIRE(store->OpenIncident("disk", "full", {kNow, "boot", 1000}).ok());
    auto db = SqliteDb::Open(dir.path() + "/history.db", SqliteDb::Mode::kReadWrite).value();
    REQUIRE(db->Exec("DROP TABLE remediations; "
                     "UPDATE meta SET value = '3' WHERE key = 'schema_version'")
                .ok());
  }
  auto store = HistoryStore::Open(dir.path(), false, "node-1", "test", key);
  REQUIRE_MESSAGE(store.ok(), store.error());
  CHECK((*store)->Meta("schema_version").value() == "4");
  REQUIRE(
      (*store)
          ->AddRemediation({"disk", "/", protocol::RemedyAction::kRemoveFiles, "full", 1, kNow,
                            kNow + 1, protocol::RemedyOutcome::kSucceeded, "removed 3 files", 1},
                           {kNow + 1, "b", 2})
          .ok());
  CHECK(VerifyRecordChain((*store)->SignedRecords().value(), key.public_key).ok());
}
