// The reports' two sources on the same stored records: PostgresReportSource must give what
// SqliteReportSource gives (the reference), row for row and in the same order, from the
// records' typed columns: heartbeats, task runs, incidents and acks at the month's edges,
// repeats, more rows than one cursor page, text with escapes and non-ASCII; the registry in
// byte order; and so the same uptime and statement JSON (alerts, MTTA and MTTR included). A
// database from before the typed columns (or before acks and maintenance windows had
// theirs) gets them filled from its payloads, an ack judged live or late by its receive time. Needs
// the server at FLEET_TEST_PG_URL (suite "postgres": receiver_main.cc leaves it out, saying so).
#include <doctest/doctest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <tuple>

#include "base/utc_time.h"
#include "protocol/records.h"
#include "receiver/core/live_arrival.h"
#include "receiver/report/report_format.h"
#include "receiver/report/statement.h"
#include "receiver/report/uptime_report.h"
#include "receiver/store/open_report_source.h"
#include "receiver/store/postgres_report_source.h"
#include "receiver/store/postgres_schema.h"
#include "receiver/store/sqlite_report_source.h"
#include "receiver/store/sqlite_store.h"
#include "tests/receiver/store_factory.h"

namespace fleet::receiver {
namespace {

using testing::PostgresStoreMaker;
using testing::SqliteStoreMaker;

const Period kOctober = *ParseMonth("2026-10");

std::int64_t Minute(int day, int hour, int minute) {
  return kOctober.begin + (day - 1) * 86400 + hour * 3600 + minute * 60;
}

struct Rec {
  std::string node;
  protocol::RecordBody body;
  std::int64_t t = 0;  // when the agent made it
  std::int64_t epoch = 1, received_at = 0;
};

protocol::RecordBody BeatBody(std::int64_t minute, bool up) {
  return protocol::Heartbeat{minute, up, {{"tmux", protocol::CheckState::kOk}}, true};
}
protocol::RecordBody TaskBody(const std::string& job, std::int64_t run_at, bool ok) {
  return protocol::TaskRun{job, "name of " + job, run_at, ok,
                           ok ? std::nullopt : std::optional<std::string>("x")};
}
protocol::RecordBody IncidentBody(const std::string& check, std::int64_t opened,
                                  std::optional<std::int64_t> closed, const std::string& summary,
                                  std::int64_t id = 1) {
  return protocol::Incident{id, check, opened, closed, summary};
}
protocol::RecordBody AckBody(std::int64_t incident, std::int64_t at, const std::string& by,
                             protocol::AckVia via, std::optional<std::string> note) {
  return protocol::Ack{incident, at, by, via, std::move(note)};
}

// A record as VerifyRecord would pass it on: payload encoded by the contract, decoded too.
VerifiedRecord Verified(const std::string& node, std::int64_t epoch, std::int64_t seq,
                        std::int64_t t, protocol::RecordBody body) {
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
  return v;
}

// Records stored alike in a SQLite and a PostgreSQL store, then read through both sources.
struct TwoDatabases {
  SqliteStoreMaker sqlite_maker;
  PostgresStoreMaker pg_maker;
  std::unique_ptr<RecordStore> sqlite = sqlite_maker.Make();
  std::unique_ptr<RecordStore> pg = pg_maker.Make();
  std::map<std::pair<std::string, std::int64_t>, std::int64_t> next_seq;

  void Store(const std::vector<Rec>& recs) {
    for (RecordStore* store : {sqlite.get(), pg.get()}) REQUIRE(store->Begin().ok());
    // SQLite one record at a time, PostgreSQL as the receiver stores a batch (one statement
    // for a run of records of one node, epoch and receive time): the same rows either way.
    std::vector<VerifiedRecord> run;
    std::int64_t run_received = 0;
    const auto flush = [&] {
      if (run.empty()) return;
      auto done = pg->InsertRecords(run, run_received);
      REQUIRE_MESSAGE(done.ok(), (done ? "" : done.error()));
      CHECK(*done == std::vector<InsertResult>(run.size(), InsertResult::kStored));
      run.clear();
    };
    for (const auto& r : recs) {
      const std::int64_t seq = ++next_seq[{r.node, r.epoch}];
      VerifiedRecord v = Verified(r.node, r.epoch, seq, r.t, r.body);
      auto done = sqlite->InsertRecord(v, r.received_at);
      REQUIRE_MESSAGE(done.ok(), (done ? "" : done.error()));
      REQUIRE(*done == InsertResult::kStored);
      if (!run.empty() && (run.front().node != v.node || run.front().epoch != v.epoch ||
                           run_received != r.received_at)) {
        flush();
      }
      run_received = r.received_at;
      run.push_back(std::move(v));
    }
    flush();
    // Every record stored here is chained and acknowledged (the reports read only those).
    for (const auto& [key, seq] : next_seq) {
      for (RecordStore* store : {sqlite.get(), pg.get()}) {
        REQUIRE(store->SaveWatermark(key.first, key.second, {seq, "hash"}).ok());
      }
    }
    for (RecordStore* store : {sqlite.get(), pg.get()}) REQUIRE(store->Commit().ok());
  }
  void AddNode(const std::string& node, const std::string& op, std::int64_t added,
               std::optional<std::int64_t> revoked = std::nullopt) {
    for (RecordStore* store : {sqlite.get(), pg.get()}) {
      NodeEntry entry{node, op, "kid-" + node, PublicKey{}, added, std::nullopt, ""};
      entry.key[0] = static_cast<unsigned char>(node.size());
      REQUIRE(store->AddNode(entry).ok());
      if (revoked) REQUIRE(store->RevokeNode(node, *revoked, "left").ok());
    }
  }
};

using Beat = std::tuple<std::int64_t, bool, std::int64_t>;
using Task = std::tuple<std::string, std::int64_t, bool>;
using Incident =
    std::tuple<std::string, std::int64_t, std::optional<std::int64_t>, std::string, std::int64_t>;
using Ack = std::tuple<std::int64_t, std::int64_t, std::string, std::string,
                       std::optional<std::string>, std::int64_t, bool>;

struct Rows {
  std::vector<Beat> beats;
  std::vector<Task> tasks;
  std::vector<Incident> incidents;
  std::vector<Ack> acks;
};

Rows Read(ReportSource& source, const std::string& node, const Period& period) {
  Rows rows;
  auto beats = source.ForEachHeartbeat(node, period.begin, period.end, [&](const HeartbeatRow& b) {
    rows.beats.emplace_back(b.minute, b.up, b.received_at);
  });
  REQUIRE_MESSAGE(beats.ok(), (beats ? "" : beats.error()));
  auto tasks = source.ForEachTask(node, period.begin, period.end, [&](const TaskRow& t) {
    rows.tasks.emplace_back(t.job, t.run_at, t.ok);
  });
  REQUIRE_MESSAGE(tasks.ok(), (tasks ? "" : tasks.error()));
  auto incidents =
      source.ForEachIncident(node, period.begin, period.end, [&](const IncidentRow& i) {
        rows.incidents.emplace_back(i.check, i.opened, i.closed, i.summary, i.id);
      });
  REQUIRE_MESSAGE(incidents.ok(), (incidents ? "" : incidents.error()));
  auto acks = source.ForEachAck(node, period.begin, period.end, [&](const AckRow& a) {
    rows.acks.emplace_back(a.incident, a.at, a.by, a.via, a.note, a.received_at, a.live);
  });
  REQUIRE_MESSAGE(acks.ok(), (acks ? "" : acks.error()));
  return rows;
}

std::string Show(const Beat& b) {
  return std::to_string(std::get<0>(b)) + (std::get<1>(b) ? " up " : " down ") +
         std::to_string(std::get<2>(b));
}
std::string Show(const Task& t) {
  return "'" + std::get<0>(t) + "' " + std::to_string(std::get<1>(t)) +
         (std::get<2>(t) ? " ok" : " failed");
}
std::string Show(const Incident& i) {
  return "#" + std::to_string(std::get<4>(i)) + " '" + std::get<0>(i) + "' " +
         std::to_string(std::get<1>(i)) + "-" +
         (std::get<2>(i) ? std::to_string(*std::get<2>(i)) : "open") + " '" + std::get<3>(i) + "'";
}
std::string Show(const Ack& a) {
  return "#" + std::to_string(std::get<0>(a)) + " at " + std::to_string(std::get<1>(a)) + " by '" +
         std::get<2>(a) + "' via " + std::get<3>(a) + " note " +
         (std::get<4>(a) ? "'" + *std::get<4>(a) + "'" : "null") + " received " +
         std::to_string(std::get<5>(a)) + (std::get<6>(a) ? " live" : " late");
}

// "" when equal, else where the rows first differ (so a failure says which row).
template <typename Row>
std::string Difference(const std::vector<Row>& got, const std::vector<Row>& want) {
  for (std::size_t i = 0; i < std::max(got.size(), want.size()); ++i) {
    if (i < got.size() && i < want.size() && got[i] == want[i]) continue;
    return "row " + std::to_string(i) + " of " + std::to_string(want.size()) + ": PostgreSQL " +
           (i < got.size() ? Show(got[i]) : "none") + ", SQLite " +
           (i < want.size() ? Show(want[i]) : "none");
  }
  return "";
}

// Heartbeats of minutes 1..6 in epoch 1 and 1..2 in epoch 2, acknowledged up to seq 3 of
// epoch 1 and nothing of epoch 2 (seq 4 stored past a gap, its chain not reached yet): the
// source returns the first three minutes only, then all of epoch 1 once the watermark moves.
template <typename Maker, typename OpenSource>
void CheckOnlyAcknowledgedCount(const OpenSource& open_source) {
  Maker maker;
  auto made = maker.Make();
  RecordStore& store = *made;
  NodeEntry entry{"n1", "op", "kid-n1", PublicKey{}, kOctober.begin, std::nullopt, ""};
  REQUIRE(store.AddNode(entry).ok());
  auto read = [&] {
    auto source = open_source(maker);
    REQUIRE(source.ok());
    return Read(**source, "n1", kOctober);
  };
  REQUIRE(store.Begin().ok());
  for (std::int64_t epoch : {1, 2}) {
    for (std::int64_t seq = 1; seq <= (epoch == 1 ? 6 : 2); ++seq) {
      if (epoch == 1 && seq == 4) continue;  // the gap
      const std::int64_t minute = Minute(2, 0, static_cast<int>(seq));
      VerifiedRecord v = Verified("n1", epoch, seq, minute + 60, BeatBody(minute, true));
      v.hash = "h" + std::to_string(epoch) + "-" + std::to_string(seq);
      REQUIRE(store.InsertRecord(v, minute + 65).ok());
    }
  }
  REQUIRE(store.SaveWatermark("n1", 1, {3, "h1-3"}).ok());
  REQUIRE(store.Commit().ok());
  Rows rows = read();
  REQUIRE(rows.beats.size() == 3);
  CHECK(std::get<0>(rows.beats[0]) == Minute(2, 0, 1));
  CHECK(std::get<0>(rows.beats[2]) == Minute(2, 0, 3));
  REQUIRE(store.Begin().ok());
  VerifiedRecord filled = Verified("n1", 1, 4, Minute(2, 0, 5), BeatBody(Minute(2, 0, 4), true));
  filled.hash = "h1-4";
  REQUIRE(store.InsertRecord(filled, Minute(2, 0, 5)).ok());
  REQUIRE(store.SaveWatermark("n1", 1, {6, "h1-6"}).ok());
  REQUIRE(store.Commit().ok());
  CHECK(read().beats.size() == 6);
}

}  // namespace

// What an older receiver left: a stored heartbeat with no typed row, and one stored under
// the looser rules before strict decoding (up "0.9"): after the upgrade the first counts,
// the second is left out.
template <typename Source>
void CheckUpgradedRows(Source& source) {
  Rows rows = Read(source, "n1", kOctober);
  REQUIRE(rows.beats.size() == 1);
  CHECK(std::get<0>(rows.beats[0]) == Minute(2, 0, 0));
  CHECK(std::get<1>(rows.beats[0]));
}

namespace {

// n1's heartbeat of 2026-10-02T00:01:00Z (seq 2) as the contract encodes it, but up "0.9".
std::string LooseHeartbeat() {
  const protocol::Record record{{"n1", 1, 2, "prev", Minute(2, 0, 2), "boot", 1, "test"},
                                BeatBody(Minute(2, 0, 1), true)};
  auto payload = nlohmann::json::parse(protocol::EncodeRecord(record));
  payload[protocol::fields::kUp] = "0.9";
  return payload.dump();
}

}  // namespace

const std::string kLooseHeartbeat = LooseHeartbeat();

TEST_CASE("report sources: an older SQLite database gets its typed rows when opened") {
  SqliteStoreMaker maker;
  {
    auto store = maker.Make();
    REQUIRE(store->Begin().ok());
    REQUIRE(
        store
            ->InsertRecord(Verified("n1", 1, 1, Minute(2, 0, 1), BeatBody(Minute(2, 0, 0), true)),
                           Minute(2, 0, 1))
            .ok());
    REQUIRE(store->SaveWatermark("n1", 1, {2, "h"}).ok());
    REQUIRE(store->Commit().ok());
  }
  {
    auto db = SqliteDb::Open(maker.path, SqliteDb::Mode::kReadWrite).value();
    REQUIRE(db->Exec("DELETE FROM heartbeats; PRAGMA user_version = 0").ok());
    auto insert = db->Prepare(
                        "INSERT INTO records VALUES ('n1', 1, 2, 'heartbeat', "
                        "'2026-10-02T00:02:00Z', 'p', 'h', ?1, 'jws', 1790000000)")
                      .value();
    REQUIRE(insert->Bind(1, std::string_view(kLooseHeartbeat)).Run().ok());
  }
  auto store = SqliteStore::Open(maker.path, false);
  REQUIRE(store.ok());
  CHECK((*store)->undecodable_records() == 1);
  auto source = SqliteReportSource::Open(maker.path);
  REQUIRE(source.ok());
  CheckUpgradedRows(**source);
  // Opened again: nothing to do.
  CHECK(SqliteStore::Open(maker.path, false).value()->undecodable_records() == 0);
}

namespace {

// n1's records of an older receiver, before acks and maintenance windows had typed rows:
// an ack received in time, one received an hour late, a maintenance window.
std::vector<VerifiedRecord> AckRecords() {
  const std::int64_t at = Minute(3, 12, 0);
  return {Verified("n1", 1, 1, at, AckBody(4, at, "ada", protocol::AckVia::kTelegram, "on it")),
          Verified("n1", 1, 2, at, AckBody(5, at, "bo", protocol::AckVia::kCli, std::nullopt)),
          Verified("n1", 1, 3, at, protocol::Maintenance{at, at + 3600, "kernel", "ada"})};
}

template <typename MakeStore>
void StoreAckRecords(MakeStore make) {
  auto store = make();
  REQUIRE(store->Begin().ok());
  const auto records = AckRecords();
  for (std::size_t i = 0; i < records.size(); ++i) {
    const std::int64_t received = records[i].t_unix + (i == 1 ? 3600 : 30);
    REQUIRE(store->InsertRecord(records[i], received).ok());
  }
  REQUIRE(store->SaveWatermark("n1", 1, {3, "h"}).ok());
  REQUIRE(store->Commit().ok());
}

void CheckUpgradedAcks(ReportSource& source) {
  const std::int64_t at = Minute(3, 12, 0);
  const Rows rows = Read(source, "n1", kOctober);
  REQUIRE(rows.acks.size() == 2);
  CHECK(rows.acks[0] == Ack(4, at, "ada", "telegram", "on it", at + 30, true));
  CHECK(rows.acks[1] == Ack(5, at, "bo", "cli", std::nullopt, at + 3600, false));
}

}  // namespace

TEST_CASE("report sources: an older SQLite database gets its acks and windows when opened") {
  SqliteStoreMaker maker;
  StoreAckRecords([&] { return maker.Make(); });
  {
    auto db = SqliteDb::Open(maker.path, SqliteDb::Mode::kReadWrite).value();
    REQUIRE(db->Exec("DELETE FROM acks; DELETE FROM maintenance_windows; PRAGMA user_version = 1")
                .ok());
  }
  auto source = SqliteReportSource::Open(maker.path);
  REQUIRE(source.ok());
  CheckUpgradedAcks(**source);
  auto db = SqliteDb::Open(maker.path, SqliteDb::Mode::kReadOnly).value();
  auto windows =
      db->Prepare("SELECT reason || ' ' || (until_at - from_at) FROM maintenance_windows").value();
  REQUIRE(windows->Step().value());
  CHECK(windows->Text(0) == "kernel 3600");
  auto version = db->Prepare("PRAGMA user_version").value();
  REQUIRE(version->Step().value());
  CHECK(version->Int(0) == 3);
}

TEST_CASE("report sources: SQLite counts only chained, acknowledged records") {
  CheckOnlyAcknowledgedCount<SqliteStoreMaker>(
      [](SqliteStoreMaker& maker) { return SqliteReportSource::Open(maker.path); });
}

TEST_SUITE("postgres") {
  TEST_CASE("report sources: PostgreSQL counts only chained, acknowledged records") {
    CheckOnlyAcknowledgedCount<PostgresStoreMaker>(
        [](PostgresStoreMaker& maker) { return PostgresReportSource::Open(maker.url); });
  }

  TEST_CASE("report sources: PostgreSQL reads the records as SQLite does, row for row") {
    TwoDatabases dbs;
    const std::int64_t late = Minute(1, 0, 0) + 40 * 86400;  // received in November
    std::vector<Rec> recs;
    auto beat = [&](std::int64_t minute, bool up, std::int64_t epoch = 1,
                    std::int64_t t_offset = 60) {
      recs.push_back({"n1", BeatBody(minute, up), minute + t_offset, epoch, late});
    };
    // The month's edges.
    for (std::int64_t m : {Minute(1, 0, 0) - 60, Minute(1, 0, 0), Minute(15, 12, 0),
                           Minute(31, 23, 59), Minute(31, 23, 59) + 60}) {
      beat(m, true);
    }
    beat(Minute(2, 0, 0), true, 1, 2 * 86400);  // t two days later
    beat(Minute(1, 0, 0), false, 2);            // a repeat, epoch 2
    // More rows than one cursor page, in order.
    for (int m = 0; m < PostgresReportSource::kPageRows + 500; ++m) {
      beat(Minute(10, 0, 0) + m * 60, m % 7 != 0, 3);
    }
    // Tasks: the run_at range, a repeated run, text with escapes and non-ASCII.
    const std::int64_t in = Minute(5, 0, 0);
    auto task = [&](const std::string& job, std::int64_t run_at, bool ok) {
      recs.push_back({"n1", TaskBody(job, run_at, ok), in + 60, 1, late});
    };
    task("a", in, true);
    task("a", in, false);
    task("b\"q/\\", in, true);
    task("\u00e9t\u00e9 été", in, true);
    task("sep", kOctober.begin - 1, true);
    task("first", kOctober.begin, true);
    task("last", kOctober.end - 1, true);
    task("nov", kOctober.end, true);
    // Incidents: open, closed, closed before the month, opened after it.
    const std::int64_t sep = kOctober.begin - 2 * 86400, oct = Minute(6, 10, 0);
    auto incident = [&](const std::string& check, std::int64_t opened,
                        std::optional<std::int64_t> closed, const std::string& summary) {
      recs.push_back({"n1", IncidentBody(check, opened, closed, summary), oct + 3600, 1, late});
    };
    incident("tmux", oct, std::nullopt, "down");
    incident("tmux", oct, Minute(6, 10, 20), "up again\nline 2");
    incident("disk", sep, sep + 86400, "");
    incident("disk", sep, kOctober.begin + 36000, "café");
    incident("cron", kOctober.end, std::nullopt, "");
    recs.push_back({"n1", IncidentBody("gateway", oct, std::nullopt, "x", 9007199254740991),
                    oct + 60, 1, late});
    // Acks: the at range, live and late, a repeat from another epoch, null and hostile notes.
    auto ack = [&](std::int64_t id, std::int64_t at, const std::string& by, protocol::AckVia via,
                   std::optional<std::string> note, std::int64_t received_at,
                   std::int64_t epoch = 1) {
      recs.push_back({"n1", AckBody(id, at, by, via, std::move(note)), at + 1, epoch, received_at});
    };
    ack(1, oct + 240, "ada_l", protocol::AckVia::kTelegram, std::nullopt, oct + 245);
    ack(1, oct + 240, "ada_l", protocol::AckVia::kTelegram, std::nullopt, late, 2);
    ack(1, oct + 300, "caf\u00e9 \"bo\"", protocol::AckVia::kCli, "line 1\nline 2 {a,b} \\ NULL",
        oct + 300 + kLiveWithinSeconds);
    ack(1, oct + 360, "123456789", protocol::AckVia::kReceiver, "",
        oct + 360 + kLiveWithinSeconds + 1);
    ack(9007199254740991, oct + 60, "x", protocol::AckVia::kCli, std::nullopt, late);
    ack(2, kOctober.begin - 1, "sep", protocol::AckVia::kCli, std::nullopt, late);
    ack(2, kOctober.begin, "first", protocol::AckVia::kCli, std::nullopt, late);
    ack(2, kOctober.end - 1, "last", protocol::AckVia::kCli, std::nullopt, late);
    ack(2, kOctober.end, "nov", protocol::AckVia::kCli, std::nullopt, late);
    recs.push_back({"n1", protocol::Maintenance{oct, oct + 3600, "kernel", "ada_l"}, oct, 1, late});
    recs.push_back({"n2", BeatBody(Minute(1, 0, 0), true), Minute(1, 0, 1), 1, 9});
    dbs.Store(recs);

    auto sqlite = SqliteReportSource::Open(dbs.sqlite_maker.path);
    REQUIRE(sqlite.ok());
    auto pg = PostgresReportSource::Open(dbs.pg_maker.url);
    REQUIRE_MESSAGE(pg.ok(), (pg ? "" : pg.error()));
    for (const std::string node : {"n1", "n2", "nobody"}) {
      for (const Period& period : {kOctober, *ParseMonth("2026-09"), *ParseMonth("2026-11")}) {
        CAPTURE(node);
        CAPTURE(period.begin);
        const Rows want = Read(**sqlite, node, period), got = Read(**pg, node, period);
        CHECK(Difference(got.beats, want.beats) == "");
        CHECK(Difference(got.tasks, want.tasks) == "");
        CHECK(Difference(got.incidents, want.incidents) == "");
        CHECK(Difference(got.acks, want.acks) == "");
      }
    }
    // The reference itself, so that both going wrong alike is seen too.
    const Rows oct_rows = Read(**pg, "n1", kOctober);
    CHECK(oct_rows.beats.size() == 3 + 1 + 1 + PostgresReportSource::kPageRows + 500);
    CHECK(std::count(oct_rows.beats.begin(), oct_rows.beats.end(),
                     Beat(Minute(1, 0, 0), false, late)) == 1);
    CHECK(oct_rows.tasks.size() == 6);  // not "sep" nor "nov"
    CHECK(std::get<0>(oct_rows.tasks[2]) == "b\"q/\\");
    CHECK(std::get<0>(oct_rows.tasks[3]) == "\u00e9t\u00e9 été");
    CHECK(oct_rows.incidents.size() == 4);
    CHECK(std::get<3>(oct_rows.incidents[1]) == "up again\nline 2");
    CHECK(std::get<4>(oct_rows.incidents[3]) == 9007199254740991);
    REQUIRE(oct_rows.acks.size() == 7);  // not "sep" nor "nov"; the repeat from epoch 2 too
    CHECK(oct_rows.acks[0] ==
          Ack(1, oct + 240, "ada_l", "telegram", std::nullopt, oct + 245, true));
    CHECK(oct_rows.acks[1] == Ack(1, oct + 300, "caf\u00e9 \"bo\"", "cli",
                                  "line 1\nline 2 {a,b} \\ NULL", oct + 300 + kLiveWithinSeconds,
                                  true));
    CHECK(std::get<4>(oct_rows.acks[2]) == std::optional<std::string>(""));
    CHECK_FALSE(std::get<6>(oct_rows.acks[2]));  // a second past the allowance: late
    CHECK(std::get<0>(oct_rows.acks[3]) == 9007199254740991);
    CHECK(std::get<2>(oct_rows.acks[4]) == "first");
    CHECK(std::get<2>(oct_rows.acks[5]) == "last");
    CHECK(oct_rows.acks[6] == Ack(1, oct + 240, "ada_l", "telegram", std::nullopt, late, false));
  }

  TEST_CASE("report sources: the same registry and the same reports from both databases") {
    TwoDatabases dbs;
    for (const char* op : {"op-b", "Op-a", "op_c", "op.d"}) {
      const OperatorEntry entry{op, std::string("name of ") + op, kOctober.begin - 200 * 86400};
      auto sqlite = SqliteReportSource::Open(dbs.sqlite_maker.path);
      auto pg = PostgresReportSource::Open(dbs.pg_maker.url);
      REQUIRE((sqlite.ok() && pg.ok()));
      REQUIRE((*sqlite)->AddOperator(entry).ok());
      REQUIRE((*pg)->AddOperator(entry).ok());
    }
    dbs.AddNode("b-node", "op-b", Minute(3, 13, 0));
    dbs.AddNode("a-node", "Op-a", kOctober.begin - 86400, Minute(20, 0, 0));
    dbs.AddNode("B-node", "op-b", kOctober.begin - 86400);
    std::vector<Rec> recs;
    for (const char* node : {"a-node", "b-node", "B-node"}) {
      for (int m = 0; m < 3000; m += 1) {
        const std::int64_t minute = Minute(5, 0, 0) + m * 60;
        recs.push_back(
            {node, BeatBody(minute, m % 50 != 0), minute + 60, 1, minute + 70 + (m % 3) * 900});
      }
      recs.push_back({node, TaskBody("j", Minute(6, 0, 0), true), Minute(6, 0, 0), 1, 0});
      // Alerts: acknowledged live, acknowledged late, resolved, not answered.
      const std::int64_t at = Minute(7, 0, 0);
      recs.push_back({node, IncidentBody("gateway", at, at + 7200, "a", 1), at, 1, at});
      recs.push_back({node, AckBody(1, at + 240, "ada", protocol::AckVia::kTelegram, "ok"),
                      at + 240, 1, at + 250});
      recs.push_back({node, IncidentBody("tmux", at + 86400, std::nullopt, "b", 2), at, 1, at});
      recs.push_back({node, AckBody(2, at + 86400 + 60, "bo", protocol::AckVia::kCli, {}),
                      at + 86400 + 60, 1, at + 86400 + 7200});
      recs.push_back(
          {node, IncidentBody("disk", at + 2 * 86400, at + 2 * 86400 + 600, "c", 3), at, 1, at});
      recs.push_back({node, IncidentBody("cron", at + 3 * 86400, std::nullopt, "d", 4), at, 1, at});
    }
    dbs.Store(recs);
    auto sqlite = OpenReportSource(dbs.sqlite_maker.path);
    auto pg = OpenReportSource(dbs.pg_maker.url);
    REQUIRE((sqlite.ok() && pg.ok()));
    for (const Referral& r : {Referral{"op-b", "op_c", kOctober.begin - 86400},
                              Referral{"op-b", "op.d", kOctober.begin - 86400},
                              Referral{"Op-a", "op-b", kOctober.begin - 400 * 86400}}) {
      REQUIRE((*sqlite)->AddReferral(r).ok());
      REQUIRE((*pg)->AddReferral(r).ok());
    }
    REQUIRE((*pg)->AddReferral({"op-b", "op_c", kOctober.begin - 2 * 86400}).ok());  // replaces
    REQUIRE((*sqlite)->AddReferral({"op-b", "op_c", kOctober.begin - 2 * 86400}).ok());

    auto want = (*sqlite)->LoadRegistry();
    auto got = (*pg)->LoadRegistry();
    REQUIRE((want.ok() && got.ok()));
    auto ops = [](const Registry& r) {
      std::string out;
      for (const auto& o : r.operators)
        out += o.id + "/" + o.name + "/" + std::to_string(o.since) + " ";
      for (const auto& n : r.nodes) {
        out += n.node + "/" + n.operator_id + "/" + std::to_string(n.added_at) + "/" +
               std::to_string(n.revoked_at.value_or(-1)) + " ";
      }
      for (const auto& f : r.referrals) {
        out += f.partner + ">" + f.referred + "/" + std::to_string(f.date) + " ";
      }
      return out;
    };
    CHECK(ops(*got) == ops(*want));
    CHECK(ops(*got).starts_with("Op-a/"));  // byte order, whatever the database's collation

    for (const Period& month : {kOctober, *ParseMonth("2026-09")}) {
      auto want_uptime = ComputeUptime(**sqlite, *want, month, 600);
      auto got_uptime = ComputeUptime(**pg, *got, month, 600);
      REQUIRE((want_uptime.ok() && got_uptime.ok()));
      CHECK(UptimeToJson(*got_uptime, true).dump() == UptimeToJson(*want_uptime, true).dump());
      CHECK(StatementToJson(ComputeStatement(*got_uptime, *got, {})).dump() ==
            StatementToJson(ComputeStatement(*want_uptime, *want, {})).dump());
    }
    auto october = ComputeUptime(**pg, *got, kOctober, 600);
    REQUIRE(october.ok());
    REQUIRE(october->nodes.size() == 3);
    CHECK(october->nodes[0].figures.up == 2940);
    CHECK(october->nodes[0].figures.up_live == 980);
    const AlertSummary alerts =
        ComputeStatement(*october, *got, {}).operators.at(0).alerts;  // Op-a: a-node
    CHECK(alerts.alerts == 4);
    CHECK(alerts.answered == 3);
    CHECK(alerts.late_acks == 1);
    CHECK(alerts.mtta_s == 150);   // (240 + 60) / 2
    CHECK(alerts.mttr_s == 3900);  // (7200 + 600) / 2
  }

  TEST_CASE("report sources: an older PostgreSQL database gets its typed rows by migration 4") {
    PostgresStoreMaker maker;
    {
      auto store = maker.Make();
      REQUIRE(store->Begin().ok());
      REQUIRE(
          store
              ->InsertRecord(Verified("n1", 1, 1, Minute(2, 0, 1), BeatBody(Minute(2, 0, 0), true)),
                             Minute(2, 0, 1))
              .ok());
      REQUIRE(store->SaveWatermark("n1", 1, {2, "h"}).ok());
      REQUIRE(store->Commit().ok());
    }
    auto admin = maker.Admin();
    REQUIRE(admin
                ->Exec("DROP TABLE heartbeats, task_runs, incidents, agent_starts, acks, "
                       "maintenance_windows, remediations; "
                       "DELETE FROM schema_migrations WHERE version >= 4")
                .ok());
    REQUIRE(admin
                ->Exec("INSERT INTO records VALUES ('n1', 1, 2, 'heartbeat', "
                       "'2026-10-02T00:02:00Z', 'p', 'h', $1, 'jws', 1790000000)",
                       {kLooseHeartbeat})
                .ok());
    auto source = PostgresReportSource::Open(maker.url);
    REQUIRE_MESSAGE(source.ok(), (source ? "" : source.error()));
    CheckUpgradedRows(**source);
    auto version = admin->Exec("SELECT max(version) FROM schema_migrations");
    REQUIRE(version.ok());
    CHECK(version->Int(0, 0) == PostgresMigrations().back().version);
  }

  TEST_CASE("report sources: an older PostgreSQL database gets acks and windows by migration 5") {
    PostgresStoreMaker maker;
    StoreAckRecords([&] { return maker.Make(); });
    auto admin = maker.Admin();
    REQUIRE(admin
                ->Exec("DROP TABLE acks, maintenance_windows, remediations; "
                       "DELETE FROM schema_migrations WHERE version >= 5")
                .ok());
    auto source = PostgresReportSource::Open(maker.url);
    REQUIRE_MESSAGE(source.ok(), (source ? "" : source.error()));
    CheckUpgradedAcks(**source);
    auto windows = admin->Exec(
        "SELECT reason || ' ' || (until_at - from_at) FROM "
        "maintenance_windows");
    REQUIRE(windows.ok());
    REQUIRE(windows->Rows() == 1);
    CHECK(windows->Text(0, 0) == "kernel 3600");
    auto version = admin->Exec("SELECT max(version) FROM schema_migrations");
    REQUIRE(version.ok());
    CHECK(version->Int(0, 0) == PostgresMigrations().back().version);
  }

  TEST_CASE("report sources: a fresh PostgreSQL database gets the registry tables") {
    PostgresStoreMaker maker;
    auto source = PostgresReportSource::Open(maker.url);
    REQUIRE_MESSAGE(source.ok(), (source ? "" : source.error()));
    auto registry = (*source)->LoadRegistry();
    REQUIRE(registry.ok());
    CHECK(registry->operators.empty());
    CHECK((*source)->AddOperator({"op-1", "Ada", kOctober.begin}).ok());
    CHECK((*source)->AddOperator({"op-1", "Ada L.", kOctober.begin + 86400}).ok());
    registry = (*source)->LoadRegistry();
    REQUIRE(registry->operators.size() == 1);
    CHECK(registry->operators[0].name == "Ada L.");
    CHECK(registry->operators[0].since == kOctober.begin + 86400);
    CHECK(maker.Admin()->Exec("SELECT count(*) FROM referrals").ok());
  }
}

TEST_CASE("report sources: --db picks the source, and says why one cannot be opened") {
  auto missing = OpenReportSource("/nonexistent/receiver.db");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().find("no such database") != std::string::npos);
  auto unreachable = OpenReportSource("postgresql:///none?host=/nonexistent&port=1");
  REQUIRE_FALSE(unreachable.ok());
  CHECK(unreachable.error().find("cannot connect") != std::string::npos);
}

}  // namespace fleet::receiver
