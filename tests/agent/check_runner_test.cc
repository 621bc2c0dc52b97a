#include <doctest/doctest.h>

#include <atomic>
#include <stdexcept>
#include <thread>

#include "agent/check/check_report.h"
#include "agent/check/check_runner.h"
#include "tests/support/fake_os.h"

using namespace fleet;
using namespace std::chrono_literals;

namespace {

// A collector whose behaviour the test scripts: answer, sleep first, or throw.
class ScriptedCollector : public Collector {
 public:
  ScriptedCollector(std::string name, Status status, std::chrono::milliseconds delay = 0ms,
                    bool throws = false)
      : name_(std::move(name)), status_(status), delay_(delay), throws_(throws) {}
  std::string Name() const override { return name_; }
  CheckResult Run(const CheckContext&) override {
    std::this_thread::sleep_for(delay_);
    if (throws_) throw std::runtime_error("boom");
    return MakeResult(name_, status_, name_ + " says " + std::string(StatusName(status_)),
                      {{"figure", 42}});
  }

 private:
  std::string name_;
  Status status_;
  std::chrono::milliseconds delay_;
  bool throws_;
};

ScheduledCheck Scripted(std::string name, Status status, std::chrono::milliseconds delay = 0ms,
                        std::chrono::milliseconds timeout = 2000ms, bool throws = false) {
  return {std::make_shared<ScriptedCollector>(std::move(name), status, delay, throws), timeout};
}

CheckRound Run(const std::vector<ScheduledCheck>& checks) {
  auto os = std::make_shared<const testing::FakeOs>();
  auto hermes = std::make_shared<const HermesTarget>();
  return RunChecks(checks, os, hermes);
}

}  // namespace

TEST_CASE("results keep the order of the checks and the worst status wins") {
  CheckRound round = Run({Scripted("a", Status::kOk), Scripted("b", Status::kWarning),
                          Scripted("c", Status::kCritical), Scripted("d", Status::kUnknown)});
  REQUIRE(round.results.size() == 4);
  CHECK(round.results[0].name == "a");
  CHECK(round.results[3].name == "d");
  CHECK(round.overall == Status::kCritical);
  CHECK(round.abandoned == 0);
  CHECK(Run({Scripted("a", Status::kOk), Scripted("b", Status::kWarning)}).overall ==
        Status::kWarning);
  CHECK(Run({Scripted("a", Status::kOk)}).overall == Status::kOk);
}

// A collector that blocks until the test releases it, and says when it has finished.
class BlockedCollector : public Collector {
 public:
  explicit BlockedCollector(std::shared_ptr<std::atomic<int>> state) : state_(std::move(state)) {}
  std::string Name() const override { return "slow"; }
  CheckResult Run(const CheckContext&) override {
    while (state_->load() == 0) std::this_thread::sleep_for(5ms);  // 0: blocked, 1: released
    state_->store(2);                                              // 2: finished
    return MakeResult("slow", Status::kOk, "late");
  }

 private:
  std::shared_ptr<std::atomic<int>> state_;
};

TEST_CASE("a check past its deadline is UNKNOWN and the others still report") {
  auto state = std::make_shared<std::atomic<int>>(0);
  CheckRound round = Run({{std::make_shared<BlockedCollector>(state), 200ms},
                          Scripted("fast", Status::kCritical, 0ms, 200ms)});
  CHECK(state->load() == 0);  // the round ended while the collector was still blocked
  REQUIRE(round.results.size() == 2);
  CHECK(round.results[0].status == Status::kUnknown);
  CHECK(round.results[0].summary.find("200 ms") != std::string::npos);
  CHECK(round.results[0].details["timed_out"] == true);
  CHECK(round.results[1].status == Status::kCritical);
  CHECK(round.abandoned == 1);
  state->store(1);  // release it and let the abandoned thread finish before the test ends
  while (state->load() != 2) std::this_thread::sleep_for(5ms);
}

TEST_CASE("a collector that throws is UNKNOWN, not a crash") {
  CheckRound round = Run({Scripted("broken", Status::kOk, 0ms, 2000ms, true)});
  REQUIRE(round.results.size() == 1);
  CHECK(round.results[0].status == Status::kUnknown);
  CHECK(round.results[0].summary.find("boom") != std::string::npos);
}

// Each collector waits until all of a group have started; run one after another, the
// first would wait past its deadline and be UNKNOWN.
class RendezvousCollector : public Collector {
 public:
  RendezvousCollector(std::string name, std::shared_ptr<std::atomic<int>> started, int group)
      : name_(std::move(name)), started_(std::move(started)), group_(group) {}
  std::string Name() const override { return name_; }
  CheckResult Run(const CheckContext& context) override {
    started_->fetch_add(1);
    while (started_->load() < group_) {
      if (context.Remaining().count() == 0) return MakeResult(name_, Status::kCritical, "alone");
      std::this_thread::sleep_for(1ms);
    }
    return MakeResult(name_, Status::kOk, "met the others");
  }

 private:
  std::string name_;
  std::shared_ptr<std::atomic<int>> started_;
  int group_;
};

TEST_CASE("checks run at the same time, not one after another") {
  auto started = std::make_shared<std::atomic<int>>(0);
  std::vector<ScheduledCheck> checks;
  for (const char* name : {"a", "b", "c"}) {
    checks.push_back({std::make_shared<RendezvousCollector>(name, started, 3), 5000ms});
  }
  CheckRound round = Run(checks);
  CHECK(round.overall == Status::kOk);
  CHECK(round.results[0].summary == "met the others");
}

TEST_CASE("JSON report follows the documented schema") {
  CheckReport report{"vps-fra-01", testing::FakeEpoch(),
                     Run({Scripted("tmux", Status::kOk), Scripted("disk", Status::kWarning)})};
  nlohmann::json doc = ToJson(report);
  CHECK(doc["status"] == "warning");
  CHECK(doc["node"] == "vps-fra-01");
  CHECK(doc["time"] == "2026-06-13T12:00:00Z");
  REQUIRE(doc["checks"].size() == 2);
  const auto& first = doc["checks"][0];
  CHECK(first["name"] == "tmux");
  CHECK(first["status"] == "ok");
  CHECK(first["summary"] == "tmux says ok");
  CHECK(first["details"]["figure"] == 42);
  CHECK(first["duration_ms"].is_number());
}

TEST_CASE("table: one line per check, colour only when asked") {
  CheckReport report{"vps-fra-01", testing::FakeEpoch(),
                     Run({Scripted("tmux", Status::kCritical), Scripted("disk", Status::kOk)})};
  std::string plain = FormatTable(report, false);
  CHECK(plain.find("CRITICAL tmux  tmux says critical\n") != std::string::npos);
  CHECK(plain.find("OK       disk  disk says ok\n") != std::string::npos);
  CHECK(plain.find("\033[") == std::string::npos);
  CHECK(plain.find("CRITICAL on vps-fra-01") != std::string::npos);
  std::string coloured = FormatTable(report, true);
  CHECK(coloured.find("\033[1;31m") != std::string::npos);
}
