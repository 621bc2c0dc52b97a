#include <doctest/doctest.h>

#include <chrono>

#include "agent/history/accountant.h"
#include "agent/history/history_store.h"
#include "agent/history/spool.h"
#include "agent/report/status_report.h"
#include "tests/support/temp_dir.h"

using namespace fleet;
using std::chrono::seconds;
using std::chrono::system_clock;

namespace {

system_clock::time_point At(UnixSeconds t) { return system_clock::time_point(seconds(t)); }

const UnixSeconds kNow = DaysFromCivil(2026, 6, 13) * 86400 + 12 * 3600 + 30;  // 12:00:30Z

// What the daemon writes (agent/daemon/daemon.cc WriteStatus), trimmed.
nlohmann::json DaemonStatus() {
  return nlohmann::json::parse(R"({
    "pid": 4242, "node": "vps-fra-01", "agent": "0.9.0", "started": "2026-06-13T08:00:00Z",
    "updated": "2026-06-13T12:00:27Z", "ready": true, "up": false, "reloads": 1,
    "last_evaluation": {"minute": "2026-06-13T12:00:00Z", "at": "2026-06-13T12:00:00Z", "up": false,
                        "heartbeat": "written"},
    "queued_heartbeats": 0, "queued_entries": 0,
    "checks": [
      {"name": "disk", "status": "ok", "summary": "/ 41% used",
       "checked_at": "2026-06-13T12:00:25Z"},
      {"name": "tmux", "status": "critical", "summary": "session BURN2 is gone",
       "checked_at": "2026-06-13T11:57:30Z"}],
    "spool": {"records": 17, "percent": 0.1, "epoch": 1, "next_seq": 912, "full": false,
              "shed_records": 0},
    "push": {"state": "off", "url": null}})");
}

HistorySize SomeHistory() {
  HistorySize h;
  h.heartbeats = 1441;
  h.first_heartbeat = MinuteOf(kNow) - 1440;
  h.last_heartbeat = MinuteOf(kNow);
  h.tasks = 48;
  h.tasks_failed = 2;
  h.incidents = 3;
  h.incidents_open = 1;
  h.agent_starts = 4;
  h.spool_records = 17;
  return h;
}

StatusInputs Inputs(Result<HistorySize> history = SomeHistory()) {
  StatusInputs in;
  in.now = At(kNow);
  in.written = At(kNow - 3);
  in.history = std::move(history);
  in.database_bytes = 3 * 1024 * 1024 + 512 * 1024;
  return in;
}

}  // namespace

TEST_CASE("status: each check's result with its own age, the evaluation and the history") {
  nlohmann::json s = ComposeStatus(DaemonStatus(), Inputs());
  CHECK(s["age_seconds"] == 3);  // of status.json
  CHECK(s["checks"][0]["age_seconds"] == 5);
  CHECK(s["checks"][1]["age_seconds"] == 180);  // an old result shows as old
  CHECK(s["last_evaluation"]["age_seconds"] == 30);
  const nlohmann::json& h = s["history"];
  CHECK(h["heartbeats"] == 1441);
  CHECK(h["first_heartbeat"] == "2026-06-12T12:00:00Z");
  CHECK(h["last_heartbeat"] == "2026-06-13T12:00:00Z");
  CHECK(h["tasks"] == 48);
  CHECK(h["tasks_failed"] == 2);
  CHECK(h["incidents"] == 3);
  CHECK(h["incidents_open"] == 1);
  CHECK(h["agent_starts"] == 4);
  CHECK(h["spool_records"] == 17);
  CHECK(h["database_bytes"] == 3 * 1024 * 1024 + 512 * 1024);

  const std::string text = FormatStatus(s);
  CHECK(text.find("fleet-agent 0.9.0 pid 4242 on vps-fra-01") != std::string::npos);
  CHECK(text.find("status written 3s ago; node is DOWN\n") != std::string::npos);
  CHECK(text.find("last evaluated minute 2026-06-13T12:00:00Z (30s ago, down), heartbeat "
                  "written\n") != std::string::npos);
  CHECK(text.find("  STATUS    CHECK  AGE       SUMMARY\n") != std::string::npos);
  CHECK(text.find("  ok        disk   5s ago    / 41% used\n") != std::string::npos);
  CHECK(text.find("  critical  tmux   3m ago    session BURN2 is gone\n") != std::string::npos);
  CHECK(text.find("history: 1441 heartbeats (2026-06-12T12:00:00Z to 2026-06-13T12:00:00Z), "
                  "48 tasks (2 failed), 3 incidents (1 open), 4 agent starts; history.db "
                  "3.5 MiB\n") != std::string::npos);
  // The spool is its own line: it shrinks as records are acknowledged, the history does not.
  CHECK(text.find("spool: 17 records awaiting acknowledgement") != std::string::npos);
  CHECK(text.find("push: off") != std::string::npos);
  CHECK(text.find("STALE") == std::string::npos);
}

TEST_CASE("status: a stale file, queued entries and an unreadable history are said") {
  nlohmann::json daemon = DaemonStatus();
  daemon["queued_entries"] = 7;
  StatusInputs in = Inputs(Error{"database is locked"});
  in.written = At(kNow - 600);
  const std::string text = FormatStatus(ComposeStatus(daemon, in));
  CHECK(text.find("status written 10m ago (STALE: is the daemon running?)") != std::string::npos);
  CHECK(text.find("; 7 history entries queued in memory") != std::string::npos);
  CHECK(text.find("history: cannot be read: database is locked\n") != std::string::npos);
}

TEST_CASE("status: records refused for good and records too large to make are said") {
  nlohmann::json daemon = DaemonStatus();
  const std::string quiet = FormatStatus(ComposeStatus(daemon, Inputs(SomeHistory())));
  CHECK(quiet.find("REFUSED") == std::string::npos);
  daemon["spool"]["refused_records"] = 2;
  daemon["spool"]["oversized_records"] = 1;
  daemon["spool"]["last_refused"] = {{"epoch", 1},
                                     {"seq", 12},
                                     {"type", "incident"},
                                     {"reason", "refused by the receiver: bad signature"},
                                     {"at", "2026-06-13T11:00:00Z"}};
  const std::string text = FormatStatus(ComposeStatus(daemon, Inputs(SomeHistory())));
  CHECK(text.find("; 1 records not made (too large)\n") != std::string::npos);
  CHECK(text.find("  2 records REFUSED for good by the receiver, kept aside in history.db "
                  "(refused_records); last: epoch 1 seq 12 (incident) at 2026-06-13T11:00:00Z: "
                  "refused by the receiver: bad signature\n") != std::string::npos);
}

TEST_CASE("status: an older or garbled status.json shows unknowns, never throws") {
  nlohmann::json garbled = {{"pid", "x"},
                            {"checks", {1, "two", {{"name", "disk"}, {"checked_at", "yesterday"}}}},
                            {"last_evaluation", 5},
                            {"spool", nullptr}};
  nlohmann::json s = ComposeStatus(garbled, Inputs());
  CHECK(s["checks"][2]["age_seconds"].is_null());
  std::string text;
  CHECK_NOTHROW(text = FormatStatus(s));
  CHECK(text.find("  ?         disk   ?         \n") != std::string::npos);
  CHECK(text.find("no minute evaluated yet") != std::string::npos);
  CHECK_NOTHROW(text = FormatStatus(ComposeStatus(nlohmann::json::array(), Inputs())));
  CHECK(text.find("no check results yet") != std::string::npos);
  CHECK(FormatStatus(nlohmann::json("nope")) == "status.json holds no status\n");
  // A result "from the future" (the clock went back) is not a negative age.
  nlohmann::json ahead = DaemonStatus();
  ahead["checks"][0]["checked_at"] = "2026-06-13T12:05:00Z";
  CHECK(ComposeStatus(ahead, Inputs())["checks"][0]["age_seconds"] == 0);
}

TEST_CASE("history size counts the history, not the spool, read without the write lock") {
  testing::TempDir dir;
  UnixSeconds now = kNow;
  auto store = HistoryStore::Open(dir.path(), false, "n1", "test").value();
  Accountant accountant(*store, {"tmux"}, [&] { return RecordStamp{now, "boot", now * 1000}; });
  REQUIRE(accountant.Start().ok());
  REQUIRE(accountant.Observe(MakeResult("tmux", Status::kCritical, "gone")).ok());
  for (int i = 0; i < 3; ++i) REQUIRE(accountant.Heartbeat(MinuteOf(now) + i, true).ok());
  now += 240;
  REQUIRE(accountant.Observe(MakeResult("tmux", Status::kOk, "back")).ok());
  REQUIRE(accountant.Observe(MakeResult("tmux", Status::kCritical, "gone again")).ok());
  CheckResult cron = MakeResult("cron", Status::kWarning, "failed");
  cron.finished_runs.push_back(FinishedRun{
      "j1", "j1", "2026-06-13T11:00:00Z", *ParseUtcSeconds("2026-06-13T11:00:00Z"), false, "boom"});
  REQUIRE(accountant.Observe(cron).ok());
  // 1 agent_start, 3 incident records (open, close, open), 3 heartbeats, 1 task.
  CHECK(store->Size().value().spool_records == 8);

  // The receiver acknowledged the first 6 records: they leave the spool, not the history.
  auto spool = Spool::Open(dir.path()).value();
  REQUIRE(spool->Remove(1, 1, 6).value() == 6);

  // A second writer holds the write lock with a heartbeat not yet committed.
  auto writer = SqliteDb::Open(dir.path() + "/history.db", SqliteDb::Mode::kReadWrite).value();
  REQUIRE(writer->Exec("BEGIN IMMEDIATE").ok());
  REQUIRE(writer
              ->Exec("INSERT INTO heartbeats(minute, up, checks, t, boot_id, mono_ms, ntp_synced) "
                     "VALUES(1, 1, '{}', 60, 'b', 1, 1)")
              .ok());

  auto reader = HistoryStore::Open(dir.path(), true, "n1", "test").value();
  const auto started = std::chrono::steady_clock::now();
  HistorySize size = reader->Size().value();
  // No wait for the lock (the busy timeout is 2 s) and a consistent snapshot without it.
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::milliseconds(500));
  CHECK(size.heartbeats == 3);
  CHECK(size.first_heartbeat == MinuteOf(kNow));
  CHECK(size.last_heartbeat == MinuteOf(kNow) + 2);
  CHECK(size.tasks == 1);
  CHECK(size.tasks_failed == 1);
  CHECK(size.incidents == 2);
  CHECK(size.incidents_open == 1);
  CHECK(size.agent_starts == 1);
  CHECK(size.spool_records == 2);
  REQUIRE(writer->Exec("COMMIT").ok());
  CHECK(reader->Size().value().heartbeats == 4);
}

TEST_CASE("status: the node key's kid and age; check warns past the configured age") {
  StatusInputs in = Inputs();
  in.key_kid = "kywobX10j9Q";
  in.key_written_at = kNow - 91 * 86400 - 5;
  nlohmann::json status = ComposeStatus(DaemonStatus(), in);
  CHECK(status["node_key"]["kid"] == "kywobX10j9Q");
  CHECK(status["node_key"]["age_days"] == 91);
  CHECK(status["node_key"]["written_at"] == FormatUtc(kNow - 91 * 86400 - 5));
  CHECK(FormatStatus(status).find("node key: kid kywobX10j9Q, 91 days old (written " +
                                  FormatUtc(kNow - 91 * 86400 - 5) + ")") != std::string::npos);

  in.key_written_at.reset();
  status = ComposeStatus(DaemonStatus(), in);
  CHECK(status["node_key"]["age_days"].is_null());
  CHECK(FormatStatus(status).find("node key: kid kywobX10j9Q, age unknown") != std::string::npos);
  in.key_kid.reset();
  status = ComposeStatus(DaemonStatus(), in);
  CHECK(status["node_key"].is_null());
  CHECK(FormatStatus(status).find("node key") == std::string::npos);

  const auto days90 = std::chrono::hours(24 * 90);
  NodeKeyAge young = AgeOfNodeKey("k", kNow - 90 * 86400, kNow, days90);
  CHECK(young.days == 90);
  CHECK_FALSE(young.too_old);  // 90 days exactly: not more
  CHECK(young.summary == "node key k is 90 days old");
  NodeKeyAge old = AgeOfNodeKey("k", kNow - 90 * 86400 - 1, kNow, days90);
  CHECK(old.too_old);
  CHECK(old.summary ==
        "node key k is 90 days old (more than 90): rotate it with fleet-agent "
        "rotate-key");
  CHECK(AgeOfNodeKey("k", kNow - 8 * 86400, kNow, std::chrono::hours(24 * 7)).too_old);
  CHECK(AgeOfNodeKey("k", kNow + 60, kNow, days90).days == 0);  // a clock set back
}
