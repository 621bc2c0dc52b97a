// The disk remedy: DiskCleaner (agent/remedies/disk_cleaner.h) on a temp directory, with
// goals it can never reach (remove every eligible file) or already reached (remove
// nothing): only old files matching the glob inside the listed directories go, oldest
// first; a symlink to a file elsewhere and a symlinked directory are left alone and not
// followed; a listed directory that is a symlink, missing or relative is refused; a
// deadline already past removes nothing. DiskRemedy's plan from the disk check's details,
// and ResolveCleanDir's `~`. The real tmpfs is in remedy_disk_test.sh.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <filesystem>

#include "agent/remedies/builtin_remedies.h"
#include "agent/remedies/disk_cleaner.h"
#include "agent/remedies/disk_remedy.h"
#include "tests/support/fake_os.h"
#include "tests/support/temp_dir.h"

using namespace fleet;
using fleet::testing::FakeOs;
using fleet::testing::TempDir;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

const auto kNow = std::chrono::system_clock::now();

std::string Old(const TempDir& dir, const std::string& relative, int days_old) {
  const std::string path = dir.WriteFile(relative, std::string(5000, 'x'));
  const auto t = std::chrono::system_clock::to_time_t(kNow - std::chrono::hours(24 * days_old));
  struct timeval times[2] = {{t, 0}, {t, 0}};
  REQUIRE(utimes(path.c_str(), times) == 0);
  return path;
}

bool Exists(const std::string& path) {
  struct stat st {};
  return lstat(path.c_str(), &st) == 0;
}

auto Later() { return std::chrono::steady_clock::now() + 10s; }

}  // namespace

TEST_CASE("disk cleaner: only old, matching files in the listed directory, oldest first") {
  TempDir t;
  const std::string logs = t.Path("logs");
  const std::string a = Old(t, "logs/a.log.1", 30);
  const std::string b = Old(t, "logs/sub/b.log.2", 40);
  const std::string young = Old(t, "logs/c.log.1", 1);
  const std::string other_name = Old(t, "logs/keep.txt", 50);
  const std::string outside = Old(t, "elsewhere/x.log.1", 60);
  std::filesystem::create_symlink(outside, t.Path("logs/link.log.1"));
  std::filesystem::create_directories(t.Path("elsewhere/dir"));
  const std::string through_link = Old(t, "elsewhere/dir/y.log.1", 70);
  std::filesystem::create_directory_symlink(t.Path("elsewhere/dir"), t.Path("logs/dirlink"));

  CleanReport report =
      CleanOldestFirst({{logs, "*.log.*", 14 * 24h}}, t.path(), 101.0, kNow, Later());
  REQUIRE(report.removed.size() == 2);
  CHECK(report.removed[0].path == b);  // the oldest first
  CHECK(report.removed[1].path == a);
  CHECK(report.removed[0].bytes >= 4096);
  CHECK(report.bytes == report.removed[0].bytes + report.removed[1].bytes);
  CHECK(report.rules_on_target == 1);
  CHECK_FALSE(report.reached);
  CHECK_FALSE(Exists(a));
  CHECK_FALSE(Exists(b));
  for (const auto& kept : {young, other_name, outside, through_link, t.Path("logs/link.log.1")}) {
    CHECK_MESSAGE(Exists(kept), kept);
  }
}

TEST_CASE("disk cleaner: a goal already reached removes nothing") {
  TempDir t;
  const std::string a = Old(t, "logs/a.log", 30);
  CleanReport report = CleanOldestFirst({{t.Path("logs"), "*", 1h}}, t.path(), 0.0, kNow, Later());
  CHECK(report.reached);
  CHECK(report.removed.empty());
  CHECK(Exists(a));
}

TEST_CASE("disk cleaner: a listed directory that is a symlink, missing or relative is refused") {
  TempDir t;
  const std::string a = Old(t, "real/a.log", 30);
  std::filesystem::create_directory_symlink(t.Path("real"), t.Path("link"));
  CleanReport report = CleanOldestFirst(
      {{t.Path("link"), "*", 1h}, {t.Path("missing"), "*", 1h}, {"relative/dir", "*", 1h}},
      t.path(), 101.0, kNow, Later());
  CHECK(report.removed.empty());
  CHECK(Exists(a));
  REQUIRE(report.problems.size() == 3);
  CHECK(report.problems[0].find("is a symlink or not a directory") != std::string::npos);
  CHECK(report.problems[1].find("No such file") != std::string::npos);
  CHECK(report.problems[2].find("relative/dir") != std::string::npos);
  CHECK(report.rules_on_target == 0);
}

TEST_CASE("disk cleaner: past its deadline it removes nothing") {
  TempDir t;
  const std::string a = Old(t, "logs/a.log", 30);
  CleanReport report = CleanOldestFirst({{t.Path("logs"), "*", 1h}}, t.path(), 101.0, kNow,
                                        std::chrono::steady_clock::now() - 1s);
  CHECK(report.removed.empty());
  CHECK(Exists(a));
}

TEST_CASE("disk remedy: a path above the line gets a task, a path under it is fine") {
  auto os = std::make_shared<FakeOs>();
  DiskRemedyPlan settings;
  settings.rules = {{"/var/log/hermes", "*", 7 * 24h}};
  DiskRemedy remedy(settings, HermesTarget{{"hermes", 1000, 1000, "/home/hermes"}, ""}, os);
  CHECK(remedy.Check() == "disk");
  const json details = {
      {"critical_used_above", 90.0},
      {"warning_free_below", 15.0},
      {"paths",
       {{{"path", "/"}, {"used_bytes", 95}, {"available_bytes", 5}},
        {{"path", "/data"}, {"used_bytes", 50}, {"available_bytes", 50}},
        {{"path", "/gone"}, {"used_bytes", nullptr}, {"available_bytes", nullptr}}}}};
  RemedyPlan plan = remedy.Plan(MakeResult("disk", Status::kCritical, "x", details));
  CHECK(plan.fine == std::vector<std::string>{"/data"});  // "/gone" not measured: nothing
  REQUIRE(plan.tasks.size() == 1);
  CHECK(plan.tasks[0].target == "/");
  CHECK(plan.tasks[0].action == protocol::RemedyAction::kRemoveFiles);
  CHECK(plan.tasks[0].what == "remove old files on / (oldest first, until under 85% used)");

  settings.above = 96.0;  // its own line, above the check's
  DiskRemedy higher(settings, HermesTarget{}, os);
  CHECK(higher.Plan(MakeResult("disk", Status::kCritical, "x", details)).tasks.empty());

  settings.rules.clear();
  settings.script = "/home/hermes/scripts/cleanup-disk.sh";
  settings.above.reset();
  RemedyPlan by_script = DiskRemedy(settings, HermesTarget{}, os)
                             .Plan(MakeResult("disk", Status::kCritical, "x", details));
  REQUIRE(by_script.tasks.size() == 1);
  CHECK(by_script.tasks[0].action == protocol::RemedyAction::kRunScript);

  for (const json& bad : {json::object(), json{{"paths", 3}}, json{{"critical_used_above", "x"}}}) {
    CHECK(remedy.Plan(MakeResult("disk", Status::kCritical, "x", bad)).tasks.empty());
  }
}

TEST_CASE(
    "disk remedy: the operator's script runs as the Hermes user; failing or hanging is a failed "
    "action") {
  auto os = std::make_shared<FakeOs>();
  os->euid = 0;
  DiskRemedyPlan settings;
  settings.script = "/home/hermes/scripts/cleanup-disk.sh";
  settings.script_timeout = 5s;
  DiskRemedy remedy(settings, HermesTarget{{"hermes", 1000, 1000, "/home/hermes"}, ""}, os);
  const json details = {{"critical_used_above", 90.0},
                        {"warning_free_below", 15.0},
                        {"paths", {{{"path", "/"}, {"used_bytes", 95}, {"available_bytes", 5}}}}};
  RemedyPlan plan = remedy.Plan(MakeResult("disk", Status::kCritical, "x", details));
  REQUIRE(plan.tasks.size() == 1);
  ProgramRun answer{0, false, "", ""};
  os->program = [&](const std::vector<std::string>&) -> Result<ProgramRun> { return answer; };
  os->fs_usage["/"] = FsUsage{4096, 100, 50, 50, 0, 0, 0};  // half free after it
  RemedyDone done = plan.tasks[0].run(std::chrono::steady_clock::now() + 10s);
  CHECK(done.ok);
  CHECK(done.changed == "/home/hermes/scripts/cleanup-disk.sh ran as hermes; / now 50% used");
  REQUIRE(os->programs_run.size() == 1);
  CHECK(os->programs_run[0] == std::vector<std::string>{"/home/hermes/scripts/cleanup-disk.sh"});
  CHECK(os->programs_run_as[0] == "hermes");

  answer = ProgramRun{-1, true, "", ""};
  done = plan.tasks[0].run(std::chrono::steady_clock::now() + 10s);
  CHECK_FALSE(done.ok);
  CHECK(done.changed == "/home/hermes/scripts/cleanup-disk.sh killed after 5s (its timeout)");

  os->program = [](const std::vector<std::string>&) -> Result<ProgramRun> {
    return Error{"exec: Permission denied"};
  };
  done = plan.tasks[0].run(std::chrono::steady_clock::now() + 10s);
  CHECK_FALSE(done.ok);
  CHECK(done.changed.find("could not run: exec: Permission denied") != std::string::npos);
}

TEST_CASE(
    "ResolveCleanDir: ~ is the Hermes user's home, ~user that user's, a missing user an error") {
  FakeOs os;
  os.users["alice"] = UserInfo{"alice", 1001, 1001, "/home/alice"};
  const HermesTarget hermes{{"hermes", 1000, 1000, "/home/hermes"}, ""};
  CHECK(*ResolveCleanDir("~/.hermes/logs", hermes, os) == "/home/hermes/.hermes/logs");
  CHECK(*ResolveCleanDir("~alice/logs", hermes, os) == "/home/alice/logs");
  CHECK(*ResolveCleanDir("/var/log/hermes", hermes, os) == "/var/log/hermes");
  auto missing = ResolveCleanDir("~nobody-here/logs", hermes, os);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error() == "no user nobody-here on this machine (in ~nobody-here/logs)");
}

TEST_CASE("remedies drop-in: write access to the clean-up and dispatch directories only") {
  FakeOs os;
  const HermesTarget hermes{{"hermes", 1000, 1000, "/home/hermes"}, "/home/hermes/.hermes"};
  AgentConfig config = DefaultConfig();
  auto none = RemedyWritePaths(config, hermes, os);
  REQUIRE(none.ok());
  CHECK(none->empty());
  CHECK(RemediesDropIn(*none).empty());

  config.remedies.disk.clean = {{"~/.hermes/logs/", "*", 24h, 1, 1},
                                {"/srv/data/cache", "*", 24h, 2, 1}};
  config.remedies.dispatch.quarantine_broken = true;
  config.checks.dispatch.files = {"fleet-dispatch-state.json", "/tmp/hermes/dispatch-queue.json"};
  auto paths = RemedyWritePaths(config, hermes, os);
  REQUIRE(paths.ok());
  CHECK(*paths == std::vector<std::string>{"/home/hermes/.hermes/logs", "/srv/data/cache",
                                           "/home/hermes/.hermes", "/tmp/hermes"});
  const std::string dropin = RemediesDropIn(*paths);
  CHECK(dropin.find("[Service]\nReadWritePaths=-/home/hermes/.hermes/logs\n") != std::string::npos);
  CHECK(dropin.find("ReadWritePaths=-/tmp/hermes\n") != std::string::npos);

  config.remedies.disk.clean.push_back({"~ghost/logs", "*", 24h, 3, 1});
  auto bad = RemedyWritePaths(config, hermes, os);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error() == "no user ghost on this machine (in ~ghost/logs)");
}
