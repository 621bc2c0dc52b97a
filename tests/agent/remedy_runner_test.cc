// The remedies' runner (agent/remedies/remedy_runner.h) with a remedy of its own and hooks
// the test holds: never on UNKNOWN, never during maintenance, one action at a time per
// target, exactly `attempts` actions on a target that stays broken and then one exhausted
// record and message, dry-run changing nothing but recording what it would do, notes for
// the alert ("healthy after"), the check run again after an action, a task past its
// deadline recorded failed, and the limits surviving a restart.
#include <doctest/doctest.h>

#include <atomic>
#include <deque>
#include <thread>

#include "agent/remedies/remedy_runner.h"

using namespace fleet;
using namespace std::chrono_literals;
using protocol::RemedyOutcome;

namespace {

constexpr std::int64_t kT0 = 1795600800;

// Restarts "unit" whenever the gateway check is CRITICAL; the unit is fine when it is OK.
class FakeRemedy final : public Remedy {
 public:
  explicit FakeRemedy(std::shared_ptr<std::atomic<int>> runs, bool works = true)
      : runs_(std::move(runs)), works_(works) {}
  std::string Check() const override { return "gateway"; }
  RemedyPlan Plan(const CheckResult& result) const override {
    RemedyPlan plan;
    if (result.status == Status::kOk || result.status == Status::kWarning) {
      plan.fine.push_back("unit");
      return plan;
    }
    RemedyTask task;
    task.target = "unit";
    task.action = protocol::RemedyAction::kRestartUnit;
    task.what = "restart unit";
    task.did = "restarted unit";
    task.timeout = 1s;
    task.run = [runs = runs_, works = works_](std::chrono::steady_clock::time_point) {
      runs->fetch_add(1);
      return RemedyDone{works, works ? "active (running)" : "the job failed"};
    };
    plan.tasks.push_back(std::move(task));
    return plan;
  }

 private:
  std::shared_ptr<std::atomic<int>> runs_;
  bool works_;
};

struct Note {
  std::string check;
  std::string text;
  bool tell = false;
};

// The daemon as the runner sees it: a clock, maintenance, the records, the notes, and a
// loop (posted work) the test drains; tasks run inline unless `hold` keeps them queued.
struct World {
  std::int64_t now = kT0;
  bool maintenance = false;
  bool hold = false;
  std::vector<RemediationEntry> records;
  std::vector<Note> notes;
  std::vector<std::string> rechecks;
  std::deque<std::function<void()>> loop;
  std::deque<std::function<void()>> held;
  std::optional<std::string> saved;
  std::shared_ptr<std::atomic<int>> runs = std::make_shared<std::atomic<int>>(0);

  RemedyHooks Hooks() {
    RemedyHooks h;
    h.now = [this] { return now; };
    h.in_maintenance = [this] { return maintenance; };
    h.open_incident = [](const std::string&) { return std::optional<std::int64_t>(7); };
    h.record = [this](const RemediationEntry& e) {
      records.push_back(e);
      return Success();
    };
    h.note = [this](const std::string& check, const std::string& text, bool tell) {
      notes.push_back({check, text, tell});
    };
    h.recheck = [this](const std::string& check) { rechecks.push_back(check); };
    h.post = [this](std::function<void()> f) { loop.push_back(std::move(f)); };
    h.launch = [this](std::function<void()> f) {
      if (hold) {
        held.push_back(std::move(f));
      } else {
        f();
      }
    };
    h.load = [this]() -> Result<std::optional<std::string>> { return saved; };
    h.save = [this](const std::string& state) {
      saved = state;
      return Success();
    };
    h.overdue_grace = 0ms;
    return h;
  }
  void Drain() {
    while (!loop.empty()) {
      auto f = std::move(loop.front());
      loop.pop_front();
      f();
    }
  }
  std::unique_ptr<RemedyRunner> Runner(RemedyMode mode = RemedyMode::kAct, bool works = true,
                                       int attempts = 3) {
    auto runner = std::make_unique<RemedyRunner>(Hooks());
    std::vector<std::unique_ptr<Remedy>> remedies;
    remedies.push_back(std::make_unique<FakeRemedy>(runs, works));
    runner->Configure(mode, {attempts, 30min, 10s, 5min, 10min}, std::move(remedies));
    return runner;
  }
  std::vector<RemedyOutcome> Outcomes() const {
    std::vector<RemedyOutcome> out;
    for (const auto& r : records) out.push_back(r.outcome);
    return out;
  }
};

CheckResult Gateway(Status status) {
  return MakeResult("gateway", status, "hermes-gateway.service failed (exit-code)");
}

}  // namespace

TEST_CASE("never on UNKNOWN, nor on another check's result") {
  World w;
  auto runner = w.Runner();
  for (int i = 0; i < 100; ++i, ++w.now) {
    runner->Observe(Gateway(Status::kUnknown));
    runner->Observe(MakeResult("tmux", Status::kCritical, "BURN missing"));
    w.Drain();
  }
  CHECK(w.runs->load() == 0);
  CHECK(w.records.empty());
}

TEST_CASE("a target that stays broken: exactly `attempts` actions, then exhausted once") {
  World w;
  auto runner = w.Runner(RemedyMode::kAct, /*works=*/false);
  for (int i = 0; i < 3600; ++i, ++w.now) {
    runner->Observe(Gateway(Status::kCritical));
    w.Drain();
  }
  CHECK(w.runs->load() == 3);
  CHECK(w.Outcomes() == std::vector{RemedyOutcome::kFailed, RemedyOutcome::kFailed,
                                    RemedyOutcome::kFailed, RemedyOutcome::kExhausted});
  CHECK(w.records[0].started == kT0);
  CHECK(w.records[1].started == kT0 + 10);
  CHECK(w.records[2].started == kT0 + 30);
  CHECK(w.records[1].attempt == 2);
  CHECK(w.records[3].attempt == 3);
  CHECK(w.records[0].target == "unit");
  CHECK(w.records[0].check == "gateway");
  CHECK(w.records[0].reason == "hermes-gateway.service failed (exit-code)");
  CHECK(w.records[0].changed == std::optional<std::string>("the job failed"));
  CHECK(w.records[0].incident == std::optional<std::int64_t>(7));
  // One message-worthy note, the exhaustion.
  int told = 0;
  for (const auto& note : w.notes) told += note.tell ? 1 : 0;
  CHECK(told == 1);
  CHECK(w.notes.back().tell);
  CHECK(w.notes.back().text ==
        "remediation exhausted after 3 attempt(s) to restart unit: needs you");
  CHECK(runner->Status()["exhausted"] == nlohmann::json::array({"gateway:unit"}));
}

TEST_CASE("a fix that works: recorded, noted, the check asked again, healthy after noted") {
  World w;
  auto runner = w.Runner();
  runner->Observe(Gateway(Status::kCritical));
  w.Drain();
  REQUIRE(w.records.size() == 1);
  CHECK(w.records[0].outcome == RemedyOutcome::kSucceeded);
  CHECK(w.rechecks == std::vector<std::string>{"gateway"});
  CHECK(w.notes.back().text == "restarted unit automatically (attempt 1 of 3): active (running)");
  w.now += 6;
  runner->Observe(Gateway(Status::kOk));
  CHECK(w.notes.back().text == "restarted unit automatically (attempt 1 of 3); healthy after 6s");
  CHECK_FALSE(w.notes.back().tell);
  // Broken again 2 minutes later: the back-off of the second attempt (10 s) is long over.
  w.now += 120;
  runner->Observe(Gateway(Status::kCritical));
  w.Drain();
  REQUIRE(w.records.size() == 2);
  CHECK(w.records[1].attempt == 2);
}

TEST_CASE("never during maintenance; acting once it ends") {
  World w;
  auto runner = w.Runner();
  w.maintenance = true;
  for (int i = 0; i < 60; ++i, ++w.now) runner->Observe(Gateway(Status::kCritical));
  w.Drain();
  CHECK(w.runs->load() == 0);
  CHECK(w.records.empty());
  w.maintenance = false;
  runner->Observe(Gateway(Status::kCritical));
  w.Drain();
  CHECK(w.runs->load() == 1);
}

TEST_CASE("one action at a time per target") {
  World w;
  w.hold = true;
  auto runner = w.Runner();
  for (int i = 0; i < 120; ++i, ++w.now) runner->Observe(Gateway(Status::kCritical));
  REQUIRE(w.held.size() == 1);  // one task launched, however long it takes
  CHECK(runner->InFlight() == 1);
  CHECK(runner->Status()["running"] == nlohmann::json::array({"gateway:unit"}));
  w.held.front()();
  w.held.clear();
  w.Drain();
  CHECK(runner->InFlight() == 0);
  REQUIRE(w.records.size() == 1);
  CHECK(w.records[0].started == kT0);
  CHECK(w.records[0].finished == kT0 + 120);
}

TEST_CASE("a task past its deadline is recorded failed once; its late end only logged") {
  World w;
  w.hold = true;
  auto runner = w.Runner();
  runner->Observe(Gateway(Status::kCritical));
  REQUIRE(w.held.size() == 1);
  // The fake task's timeout is 1 s and the grace 0: wait for the deadline to pass.
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (w.records.empty() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(50ms);
    runner->Observe(Gateway(Status::kCritical));
  }
  REQUIRE(w.records.size() == 1);
  CHECK(w.records[0].outcome == RemedyOutcome::kFailed);
  CHECK(w.records[0].changed == std::optional<std::string>("did not end by its deadline"));
  CHECK(runner->InFlight() == 1);  // still busy: nothing else starts on it
  w.held.front()();
  w.Drain();
  CHECK(w.records.size() == 1);
  CHECK(runner->InFlight() == 0);
}

TEST_CASE("dry-run changes nothing, records what it would do, within the limits") {
  World w;
  auto runner = w.Runner(RemedyMode::kDryRun);
  for (int i = 0; i < 600; ++i, ++w.now) {
    runner->Observe(Gateway(Status::kCritical));
    w.Drain();
  }
  CHECK(w.runs->load() == 0);
  CHECK(w.Outcomes() == std::vector{RemedyOutcome::kDryRun, RemedyOutcome::kDryRun,
                                    RemedyOutcome::kDryRun, RemedyOutcome::kExhausted});
  CHECK(w.records[0].changed == std::optional<std::string>("dry-run: would restart unit"));
  CHECK(w.notes[0].text == "dry-run: would restart unit (attempt 1 of 3)");
  CHECK(w.rechecks.empty());
}

TEST_CASE("the limits survive a restart of the agent") {
  World w;
  {
    auto runner = w.Runner(RemedyMode::kAct, /*works=*/false);
    for (int i = 0; i < 15; ++i, ++w.now) {
      runner->Observe(Gateway(Status::kCritical));
      w.Drain();
    }
  }
  CHECK(w.runs->load() == 2);
  REQUIRE(w.saved.has_value());
  auto restarted = w.Runner(RemedyMode::kAct, /*works=*/false);
  for (int i = 0; i < 600; ++i, ++w.now) {
    restarted->Observe(Gateway(Status::kCritical));
    w.Drain();
  }
  CHECK(w.runs->load() == 3);  // not three more
  CHECK(w.records.back().outcome == RemedyOutcome::kExhausted);
}
