#include <doctest/doctest.h>

#include "agent/history/accountant.h"
#include "agent/history/history_store.h"
#include "agent/report/metrics_report.h"
#include "protocol/records.h"
#include "tests/support/temp_dir.h"

using namespace fleet;

namespace {

// A history in a temp dir and an accountant whose clock the test moves.
struct Fixture {
  testing::TempDir dir;
  std::unique_ptr<HistoryStore> store;
  UnixSeconds now = DaysFromCivil(2028, 2, 28) * 86400 + 23 * 3600;  // near a leap day
  std::string boot = "boot-a";
  std::unique_ptr<Accountant> accountant;

  Fixture() { Reopen(); }
  void Reopen() {
    accountant.reset();
    store.reset();
    store = HistoryStore::Open(dir.path(), false, "node-1", "test").value();
    accountant =
        std::make_unique<Accountant>(*store, std::vector<std::string>{"gateway", "tmux"}, [this] {
          return RecordStamp{now, boot, now * 1000};
        });
  }
  CheckResult Result(const std::string& name, Status status, nlohmann::json details = {}) {
    return MakeResult(name, status, name + " " + std::string(StatusName(status)),
                      details.is_null() ? nlohmann::json::object() : details);
  }
};

// The cron check's result once job a1b2c3d4e5f6 ("daily-report") has run at `hour`:00 on
// 2028-02-28, as `run_at` (Hermes's text for that instant).
CheckResult CronRan(Status status, const std::string& run_at, int hour, bool ok) {
  CheckResult result = MakeResult("cron", status, "cron");
  result.finished_runs.push_back(FinishedRun{"a1b2c3d4e5f6", "daily-report", run_at,
                                             DaysFromCivil(2028, 2, 28) * 86400 + hour * 3600, ok,
                                             ok ? "" : "Timeout"});
  return result;
}

// A payload the store wrote, decoded under the contract.
protocol::Record Decoded(const std::string& payload) {
  auto decoded = protocol::DecodeRecord(payload);
  REQUIRE_MESSAGE(decoded.ok(), decoded.error());
  return *decoded;
}

}  // namespace

TEST_CASE("uptime rule: every required check evaluated and not critical") {
  CHECK(IsUp({{"gateway", Status::kOk}, {"tmux", Status::kWarning}}, {"gateway", "tmux"}));
  CHECK(IsUp({{"gateway", Status::kUnknown}, {"tmux", Status::kOk}}, {"gateway", "tmux"}));
  CHECK_FALSE(IsUp({{"gateway", Status::kCritical}, {"tmux", Status::kOk}}, {"gateway", "tmux"}));
  CHECK_FALSE(IsUp({{"tmux", Status::kOk}}, {"gateway", "tmux"}));  // not evaluated
  CHECK(IsUp({{"disk", Status::kCritical}}, {}));                   // nothing required
}

TEST_CASE("one heartbeat per minute; minutes without one are unmeasured") {
  Fixture f;
  REQUIRE(f.accountant->Start().ok());
  REQUIRE(f.accountant->Observe(f.Result("gateway", Status::kOk)).ok());
  REQUIRE(f.accountant->Observe(f.Result("tmux", Status::kOk)).ok());
  const UnixMinute m = MinuteOf(f.now);
  REQUIRE(f.accountant->Heartbeat(m, true).ok());
  REQUIRE(f.accountant->Heartbeat(m, true).ok());  // same minute again: ignored
  REQUIRE(f.accountant->Observe(f.Result("tmux", Status::kCritical)).ok());
  REQUIRE(f.accountant->Heartbeat(m + 1, true).ok());
  REQUIRE(f.accountant->Heartbeat(m + 5, true).ok());  // minutes m+2..m+4 unmeasured
  auto counts = f.store->CountMinutes(m * 60, (m + 6) * 60).value();
  CHECK(counts.up == 1);
  CHECK(counts.down == 2);
  MetricsReport report =
      ComputeReport("node-1", Period{m * 60, (m + 6) * 60, "x"}, (m + 6) * 60, counts, {}, {}, {});
  CHECK(report.minutes == 6);
  CHECK(report.unmeasured == 3);
  CHECK(report.uptime_percent == doctest::Approx(100.0 / 6));
}

TEST_CASE("a finished cron run is one task, across repeats and restarts") {
  Fixture f;
  REQUIRE(f.accountant->Start().ok());
  auto cron = CronRan(Status::kOk, "2028-02-28T22:00:00+00:00", 22, true);
  REQUIRE(f.accountant->Observe(cron).ok());
  REQUIRE(f.accountant->Observe(cron).ok());
  f.Reopen();  // a restart
  REQUIRE(f.accountant->Start().ok());
  REQUIRE(f.accountant->Observe(cron).ok());
  auto next = CronRan(Status::kWarning, "2028-02-28T23:00:00+00:00", 23, false);
  REQUIRE(f.accountant->Observe(next).ok());
  auto tasks = f.store->Tasks(0, f.now + 86400).value();
  REQUIRE(tasks.size() == 2);
  CHECK(tasks[0].ok);
  CHECK_FALSE(tasks[1].ok);
  CHECK(tasks[1].error == "Timeout");
  CHECK(tasks[1].job == "a1b2c3d4e5f6");
}

TEST_CASE("a finished run's task: ids and times longer than Hermes writes are not counted") {
  FinishedRun run{"a1", "", "2028-02-28T22:00:00Z", 1, false, "boom"};
  auto task = TaskOf(run);
  REQUIRE(task.has_value());
  CHECK(task->name == "a1");  // no name: the id
  CHECK(task->error == "boom");
  run.ok = true;
  CHECK_FALSE(TaskOf(run)->error.has_value());
  CHECK_FALSE(TaskOf(FinishedRun{"", "x", "2028-02-28T22:00:00Z", 1, true, ""}).has_value());
  CHECK_FALSE(TaskOf(FinishedRun{std::string(257, 'j'), "x", "2028-02-28T22:00:00Z", 1, true, ""}));
  CHECK_FALSE(TaskOf(FinishedRun{"a1", "x", std::string(65, '2'), 1, true, ""}).has_value());
  // Free text is cut to fit a record, on a character boundary.
  std::string long_text;
  while (long_text.size() < 4096) long_text += "\xC3\xA9";
  auto cut = TaskOf(FinishedRun{"a1", long_text, "2028-02-28T22:00:00Z", 1, false, long_text});
  REQUIRE(cut.has_value());
  // Within the contract's limits, "..." included: 253 bytes of budget hold 126 characters.
  CHECK(cut->name.size() == 252 + 3);
  CHECK(cut->name.size() <= protocol::kMaxJobBytes);
  CHECK(cut->error->size() == 1020 + 3);
  CHECK(cut->error->size() <= protocol::kMaxTextBytes);
  CHECK(cut->error->substr(1020) == "...");
}

TEST_CASE("incidents open on CRITICAL, stay open through UNKNOWN, close on recovery") {
  Fixture f;
  REQUIRE(f.accountant->Start().ok());
  REQUIRE(f.accountant->Observe(f.Result("gateway", Status::kCritical)).ok());
  f.now += 600;
  REQUIRE(f.accountant->Observe(f.Result("gateway", Status::kCritical)).ok());  // same incident
  REQUIRE(f.accountant->Observe(f.Result("gateway", Status::kUnknown)).ok());
  REQUIRE(f.store->OpenIncidents().value().size() == 1);
  f.Reopen();  // the open incident survives a restart
  REQUIRE(f.accountant->Start().ok());
  f.now += 1200;
  REQUIRE(f.accountant->Observe(f.Result("gateway", Status::kWarning)).ok());
  auto incidents = f.store->Incidents(0, f.now + 1).value();
  REQUIRE(incidents.size() == 1);
  REQUIRE(incidents[0].closed.has_value());
  CHECK(IncidentSeconds(incidents[0], f.now) == 1800);
  CHECK(f.store->OpenIncidents().value().empty());
}

TEST_CASE("an incident's summary is cut where the record is made, on a UTF-8 boundary") {
  Fixture f;
  REQUIRE(f.accountant->Start().ok());
  // A tmux session name of 100 KB quoted in the summary, in two-byte characters, so a cut
  // at an even byte count would split one.
  std::string name;
  while (name.size() < 100 * 1024) name += "\xC3\xA9";  // e-acute
  CheckResult result =
      MakeResult("tmux", Status::kCritical, "x" + name + " missing", nlohmann::json::object());
  REQUIRE(f.accountant->Observe(result).ok());
  auto open = f.store->OpenIncidents().value();
  REQUIRE(open.size() == 1);
  const std::string& summary = open[0].summary;
  CHECK(summary.size() <= protocol::kMaxTextBytes);
  CHECK(summary.size() >= protocol::kMaxTextBytes - 1);
  CHECK(summary.ends_with("\xC3\xA9..."));  // whole characters only, then "..."
  CHECK(summary.starts_with("x\xC3\xA9"));
  auto db = SqliteDb::Open(f.dir.path() + "/history.db", SqliteDb::Mode::kReadOnly).value();
  auto stmt = db->Prepare("SELECT payload FROM records WHERE type = 'incident'").value();
  REQUIRE(stmt->Step().value());
  const std::string payload = stmt->Text(0);
  CHECK(payload.size() < 4 * 1024);  // far below the receiver's 64 KiB
  // The receiver takes it: the record decodes under the contract, with that summary.
  CHECK(std::get<protocol::Incident>(Decoded(payload).body).summary == summary);
}

TEST_CASE("agent_start says whether the last stop was clean and the machine rebooted") {
  Fixture f;
  REQUIRE(f.accountant->Start().ok());
  f.Reopen();  // no Stop: a crash
  REQUIRE(f.accountant->Start().ok());
  REQUIRE(f.accountant->Stop().ok());
  f.boot = "boot-b";
  f.Reopen();
  REQUIRE(f.accountant->Start().ok());
  auto db = SqliteDb::Open(f.dir.path() + "/history.db", SqliteDb::Mode::kReadOnly).value();
  auto stmt =
      db->Prepare("SELECT clean_previous_stop, rebooted FROM agent_runs ORDER BY id").value();
  std::vector<std::pair<bool, bool>> runs;
  while (stmt->Step().value()) runs.emplace_back(stmt->Int(0) != 0, stmt->Int(1) != 0);
  REQUIRE(runs.size() == 3);
  CHECK(runs[0] == std::pair{true, false});   // first start ever
  CHECK(runs[1] == std::pair{false, false});  // after a crash
  CHECK(runs[2] == std::pair{true, true});    // after a clean stop and a reboot
}

TEST_CASE("records: gapless seq with the design's common fields") {
  Fixture f;
  REQUIRE(f.accountant->Start().ok());
  REQUIRE(f.accountant->Observe(f.Result("gateway", Status::kCritical)).ok());
  REQUIRE(f.accountant->Heartbeat(MinuteOf(f.now), false).ok());
  REQUIRE(f.accountant->Stop().ok());
  auto db = SqliteDb::Open(f.dir.path() + "/history.db", SqliteDb::Mode::kReadOnly).value();
  auto stmt = db->Prepare("SELECT seq, payload FROM records ORDER BY seq").value();
  std::int64_t expected = 1;
  std::vector<protocol::RecordType> types;
  while (stmt->Step().value()) {
    CHECK(stmt->Int(0) == expected);
    // It decodes, so its version is the contract's (v 1): the decoder takes no other.
    const protocol::Record record = Decoded(stmt->Text(1));
    const protocol::Envelope& envelope = record.envelope;
    CHECK(envelope.seq == expected);
    CHECK(envelope.node == "node-1");
    CHECK(envelope.epoch == 1);
    CHECK(envelope.boot == "boot-a");
    CHECK(envelope.t == f.now);
    types.push_back(record.Type());
    if (const auto* beat = std::get_if<protocol::Heartbeat>(&record.body)) {
      CHECK(beat->minute == MinuteOf(f.now) * 60);
      CHECK_FALSE(beat->up);
      CHECK(beat->checks.at("gateway") == protocol::CheckState::kCritical);
    }
    ++expected;
  }
  using protocol::RecordType;
  CHECK(types == std::vector<RecordType>{RecordType::kAgentStart, RecordType::kIncident,
                                         RecordType::kHeartbeat, RecordType::kAgentStop});
}

TEST_CASE("a read-only state keeps heartbeats queued and writes them when it can") {
  Fixture f;
  REQUIRE(f.accountant->Start().ok());
  REQUIRE(f.accountant->Observe(f.Result("gateway", Status::kOk)).ok());
  REQUIRE(f.accountant->Observe(f.Result("tmux", Status::kOk)).ok());
  const UnixMinute m = MinuteOf(f.now);
  // Another connection holds the write lock: writes fail after the busy timeout.
  auto blocker = SqliteDb::Open(f.dir.path() + "/history.db", SqliteDb::Mode::kReadWrite).value();
  REQUIRE(blocker->Exec("BEGIN EXCLUSIVE").ok());
  CHECK_FALSE(f.accountant->Heartbeat(m, true).ok());
  CHECK(f.accountant->queued_heartbeats() == 1);
  REQUIRE(blocker->Exec("COMMIT").ok());
  REQUIRE(f.accountant->Heartbeat(m + 1, true).ok());
  CHECK(f.accountant->queued_heartbeats() == 0);
  CHECK(f.store->CountMinutes(m * 60, (m + 2) * 60).value().up == 2);
}

TEST_CASE("disk trend: days until full from a least-squares slope") {
  std::vector<DiskSample> samples;
  for (int day = 0; day < 5; ++day) {
    samples.push_back({day * 86400, "/", static_cast<std::uint64_t>(50 + day * 10), 200});
  }
  auto days = DaysUntilFull(samples);
  REQUIRE(days.has_value());
  CHECK(*days == doctest::Approx(11.0));  // 110 left at 10 per day
  samples.back().used_bytes = 40;         // shrinking overall
  samples[3].used_bytes = 40;
  CHECK_FALSE(DaysUntilFull({samples[0]}).has_value());
  std::vector<DiskSample> flat(3, DiskSample{0, "/", 10, 100});
  flat[1].t = 10;
  flat[2].t = 20;
  CHECK_FALSE(DaysUntilFull(flat).has_value());
}

TEST_CASE("bonus thresholds: strictly above 99.5% and 95%, incidents answered in 30 minutes") {
  const Period month = *ParseMonth("2028-04");
  const std::int64_t minutes = month.Minutes();  // 30 days: 0.5% is exactly 216 minutes
  const std::int64_t allowed_down = minutes * 5 / 1000;
  CHECK(allowed_down == 216);
  MetricsReport at_limit =
      ComputeReport("n", month, month.end, {minutes - allowed_down, allowed_down}, {}, {}, {});
  CHECK(at_limit.uptime_percent == doctest::Approx(99.5));
  CHECK_FALSE(at_limit.uptime_on_track);
  MetricsReport above = ComputeReport("n", month, month.end,
                                      {minutes - allowed_down + 1, allowed_down - 1}, {}, {}, {});
  CHECK(above.uptime_on_track);
  std::vector<TaskEntry> tasks(20);
  for (int i = 0; i < 19; ++i) tasks[i].ok = true;  // 95% exactly
  CHECK_FALSE(ComputeReport("n", month, month.end, {}, tasks, {}, {}).completion_on_track);
  tasks.resize(21, TaskEntry{});
  tasks[20].ok = true;  // 20/21
  CHECK(ComputeReport("n", month, month.end, {}, tasks, {}, {}).completion_on_track);
  IncidentEntry quick{1, "gateway", month.begin, month.begin + 1800, "x", std::nullopt};
  IncidentEntry slow{2, "disk", month.begin, month.begin + 1801, "y", std::nullopt};
  auto report = ComputeReport("n", month, month.end, {}, {}, {quick}, {});
  CHECK(report.incidents_on_track);
  report = ComputeReport("n", month, month.end, {}, {}, {quick, slow}, {});
  CHECK_FALSE(report.incidents_on_track);
  REQUIRE(report.worst_incident.has_value());
  CHECK(report.incidents[*report.worst_incident].check == "disk");
  // Answered by an acknowledgement within 30 min, though resolved later: on track.
  slow.acked = month.begin + 1800;
  CHECK(ComputeReport("n", month, month.end, {}, {}, {quick, slow}, {}).incidents_on_track);
  slow.acked = month.begin + 1801;
  CHECK_FALSE(ComputeReport("n", month, month.end, {}, {}, {quick, slow}, {}).incidents_on_track);
}

TEST_CASE("an incident and a task seen while the store fails are written later, in order") {
  Fixture f;
  REQUIRE(f.accountant->Start().ok());
  auto blocker = SqliteDb::Open(f.dir.path() + "/history.db", SqliteDb::Mode::kReadWrite).value();
  REQUIRE(blocker->Exec("BEGIN EXCLUSIVE").ok());
  const UnixSeconds opened = f.now;
  CHECK_FALSE(f.accountant->Observe(f.Result("disk", Status::kCritical)).ok());
  f.now += 120;
  CHECK_FALSE(
      f.accountant->Observe(CronRan(Status::kOk, "2028-02-28T22:00:00+00:00", 22, true)).ok());
  f.now += 60;
  CHECK_FALSE(f.accountant->Observe(f.Result("disk", Status::kOk)).ok());  // recovered meanwhile
  CHECK(f.accountant->queued_entries() == 3);
  REQUIRE(blocker->Exec("COMMIT").ok());
  f.now += 60;
  REQUIRE(f.accountant->Observe(f.Result("tmux", Status::kOk)).ok());
  CHECK(f.accountant->queued_entries() == 0);
  auto incidents = f.store->Incidents(0, f.now + 1).value();
  REQUIRE(incidents.size() == 1);
  CHECK(incidents[0].opened == opened);  // the original times, not the time of writing
  CHECK(incidents[0].closed == opened + 180);
  CHECK(f.store->Tasks(0, f.now + 86400).value().size() == 1);
}
