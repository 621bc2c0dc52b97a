// The cron and dispatch checks against real files through LinuxOs: a copy of the Hermes
// home fixture (tests/data/hermes-home), a real 100 MB jobs.json made here, a symlink to
// the fixture, a dangling symlink, a directory and a FIFO named jobs.json, a mode-000 file.
// Only the clock is fixed (the fixture's times are of 2026-06-13); every file operation is
// the real one. hermes_home_test.sh covers the mode-000 file as a non-root user through the
// built binary, since root reads it anyway.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "collectors/cron/cron_check.h"
#include "collectors/dispatch/dispatch_check.h"
#include "tests/support/fake_os.h"
#include "tests/support/temp_dir.h"

using namespace fleet;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// LinuxOs with the clock stopped at `now`.
class ClockedLinuxOs final : public Os {
 public:
  explicit ClockedLinuxOs(std::chrono::system_clock::time_point now)
      : now_(now), real_(MakeLinuxOs()) {}
  std::chrono::system_clock::time_point Now() const override { return now_; }
  Result<std::optional<std::string>> ReadFile(const std::string& p,
                                              std::uint64_t max) const override {
    return real_->ReadFile(p, max);
  }
  Result<std::optional<FileInfo>> Stat(const std::string& p, bool follow) const override {
    return real_->Stat(p, follow);
  }
  Result<FsUsage> StatVfs(const std::string& p) const override { return real_->StatVfs(p); }
  Result<std::optional<std::string>> RealPath(const std::string& p) const override {
    return real_->RealPath(p);
  }
  Result<ProgramRun> RunProgram(const std::vector<std::string>& argv,
                                std::chrono::milliseconds timeout) const override {
    return real_->RunProgram(argv, timeout);
  }
  Result<ProgramRun> RunProgramAs(const UserInfo& user, const std::vector<std::string>& argv,
                                  std::chrono::milliseconds timeout) const override {
    return real_->RunProgramAs(user, argv, timeout);
  }
  std::optional<std::string> GetEnv(const std::string& n) const override {
    return real_->GetEnv(n);
  }
  std::optional<UserInfo> UserByName(const std::string& n) const override {
    return real_->UserByName(n);
  }
  std::optional<UserInfo> UserById(uid_t uid) const override { return real_->UserById(uid); }
  uid_t EffectiveUid() const override { return real_->EffectiveUid(); }
  std::string ProcRoot() const override { return real_->ProcRoot(); }

 private:
  std::chrono::system_clock::time_point now_;
  std::unique_ptr<Os> real_;
};

// A copy of tests/data/hermes-home in a TempDir, so tests may change it.
std::string CopyFixture(const testing::TempDir& dir) {
  const std::string home = dir.Path("hermes");
  fs::copy(std::string(FLEET_TEST_DATA) + "/hermes-home", home, fs::copy_options::recursive);
  return home;
}

void SetMtime(const std::string& path, std::chrono::system_clock::time_point when) {
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(when.time_since_epoch());
  struct timespec times[2] = {{secs.count(), 0}, {secs.count(), 0}};
  REQUIRE(::utimensat(AT_FDCWD, path.c_str(), times, 0) == 0);
}

struct Timed {
  CheckResult result;
  std::chrono::milliseconds took;
};

Timed RunCheck(Collector& collector, const Os& os, const std::string& home) {
  HermesTarget hermes{UserInfo{"hermes", 1000, 1000, "/home/hermes"}, home};
  CheckContext context{os, hermes, std::chrono::steady_clock::now() + 2s};
  const auto start = std::chrono::steady_clock::now();
  CheckResult result = collector.Run(context);
  return {std::move(result), std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::steady_clock::now() - start)};
}

Timed RunCron(const Os& os, const std::string& home) {
  return RunCheck(*MakeCronCheck({}), os, home);
}

}  // namespace

TEST_CASE("hermes home: cron on the fixture, read from disk") {
  testing::TempDir dir;
  const std::string home = CopyFixture(dir);
  ClockedLinuxOs os(testing::FakeEpoch());  // 2026-06-13T12:00:00Z = 14:00+02:00
  auto [result, took] = RunCron(os, home);
  CHECK(result.status == Status::kCritical);
  CHECK(result.summary.find("job 'daily-report' failed 3 times in a row: Timeout") == 0);
  CHECK(result.summary.find("see " + home + "/cron/output/a1b2c3d4e5f6/") != std::string::npos);
  CHECK(fs::is_directory(home + "/cron/output/a1b2c3d4e5f6"));  // the place it points to
  const auto& totals = result.details["totals"];
  CHECK(totals["jobs"] == 7);
  CHECK(totals["enabled"] == 5);
  CHECK(totals["ok"] == 4);
  CHECK(totals["failed"] == 1);
  CHECK(totals["delivery_failed"] == 1);
  CHECK(totals["never_run"] == 1);
  CHECK(totals["missed"] == 1);
  CHECK(totals["paused"] == 1);
  CHECK(result.details["ticker_heartbeat_age_seconds"] == 9);
  CHECK(took < 10s);  // a hang guard

  // At 15:30+02:00 inbox-triage (every 30m, due 14:15) and market-watch (every 60m, due
  // 14:30) are past their grace too; new-job (daily, due 15:00) is within its 2 h. The
  // critical streak still leads.
  ClockedLinuxOs later(testing::FakeEpoch() + 90min);
  auto [later_result, later_took] = RunCron(later, home);
  CHECK(later_result.details["totals"]["missed"] == 3);
  CHECK(later_result.status == Status::kCritical);
}

TEST_CASE("hermes home: a 100 MB jobs.json is refused by its size, quickly") {
  testing::TempDir dir;
  const std::string path = dir.Path("cron/jobs.json");
  fs::create_directories(dir.Path("cron"));
  {
    // Real bytes, not a sparse file: a list of many copies of one job.
    std::ofstream out(path, std::ios::binary);
    const std::string job =
        R"({"id":"0123456789ab","name":"spam","schedule":{"kind":"interval","minutes":1},)"
        R"("enabled":true,"last_status":"ok"},)";
    out << "{\"jobs\":[";
    std::string block;
    while (block.size() < (1 << 20)) block += job;
    for (int i = 0; i < 100; ++i) out << block;
    out << "{}]}";
  }
  REQUIRE(fs::file_size(path) > 100'000'000);
  ClockedLinuxOs os(testing::FakeEpoch());
  auto [result, took] = RunCron(os, dir.path());
  CHECK(result.status == Status::kUnknown);
  CHECK(result.summary.find(path + " is 100 MiB, over the 4.0 MiB limit") == 0);
  CHECK(took < 10s);  // a hang guard; the reason above shows it was not read
}

TEST_CASE("hermes home: symlinks, a directory and a FIFO named jobs.json") {
  testing::TempDir dir;
  ClockedLinuxOs os(testing::FakeEpoch());
  const std::string jobs = dir.Path("cron/jobs.json");
  fs::create_directories(dir.Path("cron"));

  SUBCASE("a symlink to the fixture is followed and reported") {
    fs::create_symlink(std::string(FLEET_TEST_DATA) + "/hermes-home/cron/jobs.json", jobs);
    auto [result, took] = RunCron(os, dir.path());
    CHECK(result.status == Status::kCritical);
    CHECK(result.details["symlink"] == true);
    CHECK(result.details["totals"]["jobs"] == 7);
  }
  SUBCASE("a dangling symlink") {
    fs::create_symlink(dir.Path("gone.json"), jobs);
    auto [result, took] = RunCron(os, dir.path());
    CHECK(result.status == Status::kUnknown);
    CHECK(result.summary == jobs + " is a dangling symlink; point it at the real jobs.json");
  }
  SUBCASE("a directory") {
    fs::create_directory(jobs);
    auto [result, took] = RunCron(os, dir.path());
    CHECK(result.status == Status::kUnknown);
    CHECK(result.summary == jobs + " is a directory, not the jobs file");
  }
  SUBCASE("a FIFO with no writer does not hang") {
    REQUIRE(::mkfifo(jobs.c_str(), 0600) == 0);
    auto [result, took] = RunCron(os, dir.path());
    CHECK(result.status == Status::kUnknown);
    CHECK(result.summary == jobs + " is not a regular file (a FIFO, socket or device?)");
    CHECK(took < 10s);  // a hang guard
  }
  SUBCASE("a mode-000 file") {
    dir.WriteFile("cron/jobs.json", "{\"jobs\": []}", 0000);
    auto [result, took] = RunCron(os, dir.path());
    if (::geteuid() == 0) {
      // Root bypasses permission bits: the file is simply read. The non-root case runs in
      // hermes_home_test.sh under setpriv as nobody.
      MESSAGE("running as root: mode 000 does not stop root, asserting only that it reads");
      CHECK(result.status == Status::kOk);
    } else {
      CHECK(result.status == Status::kUnknown);
      CHECK(result.summary == "cannot read " + jobs + ": Permission denied");
    }
  }
  SUBCASE("a folder on the way that cannot be entered") {
    dir.WriteFile("cron/jobs.json", "{\"jobs\": []}");
    ::chmod(dir.Path("cron").c_str(), 0000);
    auto [result, took] = RunCron(os, dir.path());
    ::chmod(dir.Path("cron").c_str(), 0755);
    if (::geteuid() == 0) {
      MESSAGE("running as root: a mode-000 folder does not stop root; not asserted here");
    } else {
      CHECK(result.status == Status::kUnknown);
      CHECK(result.summary.find("Permission denied") != std::string::npos);
    }
  }
}

TEST_CASE("hermes home: dispatch files on disk") {
  testing::TempDir dir;
  const std::string home = CopyFixture(dir);
  const std::string queue = dir.Path("tmp-hermes/dispatch-queue.json");
  dir.WriteFile("tmp-hermes/dispatch-queue.json", R"([{"task":"a"},{"task":"b"}])");
  const auto now = testing::FakeEpoch();
  SetMtime(home + "/fleet-dispatch-state.json", now - 20min);
  SetMtime(queue, now - 1min);
  ClockedLinuxOs os(now);
  DispatchOptions options;
  options.files = {"fleet-dispatch-state.json", queue};
  options.stale_after = 1h;
  auto dispatch = MakeDispatchCheck(options);

  auto [fresh, took] = RunCheck(*dispatch, os, home);
  CHECK(fresh.status == Status::kOk);
  CHECK(fresh.summary == "2 dispatch files present and valid JSON, oldest change 20m ago");
  CHECK(fresh.details["files"][0]["type"] == "object");
  CHECK(fresh.details["files"][0]["size_bytes"] ==
        fs::file_size(home + "/fleet-dispatch-state.json"));
  CHECK(fresh.details["files"][1]["length"] == 2);

  SetMtime(queue, now - 5h);
  auto [stale, took2] = RunCheck(*dispatch, os, home);
  CHECK(stale.status == Status::kWarning);
  CHECK(stale.summary == queue + " unchanged for 5h (stale after 1h)");

  fs::remove(queue);
  auto [missing, took3] = RunCheck(*dispatch, os, home);
  CHECK(missing.status == Status::kWarning);
  CHECK(missing.summary == queue + " is missing");

  REQUIRE(::mkfifo(queue.c_str(), 0600) == 0);
  auto [fifo, took4] = RunCheck(*dispatch, os, home);
  CHECK(fifo.status == Status::kWarning);
  CHECK(fifo.summary.find("not a regular file") != std::string::npos);
  CHECK(took4 < 10s);  // a hang guard
}
