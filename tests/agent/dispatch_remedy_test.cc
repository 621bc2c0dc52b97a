// DispatchRemedy (agent/remedies/dispatch_remedy.h) on real files: an unparsable queue file
// is moved into <state>/quarantine with its content kept; one rewritten meanwhile (parses
// again), a symlink, or one already gone is left as it is, a failed action saying why;
// the plan takes only present, unparsable regular files from the check's details. Across
// file systems (a temp dir and /dev/shm, when they differ) the move is a copy then unlink.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "agent/remedies/dispatch_remedy.h"
#include "tests/support/temp_dir.h"

using namespace fleet;
using fleet::testing::TempDir;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

json Entry(const std::string& path, bool present, bool parses, const std::string& problem = "") {
  json e = {{"path", path}, {"present", present}, {"parses", parses}, {"size_bytes", 3}};
  if (!problem.empty()) e["problem"] = problem;
  return e;
}

CheckResult Answer(json files) {
  return MakeResult("dispatch", Status::kWarning, "x", {{"files", std::move(files)}});
}

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> Quarantined(const std::string& dir) {
  std::vector<std::string> names;
  if (!std::filesystem::exists(dir)) return names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) names.push_back(e.path());
  return names;
}

RemedyDone Run(const RemedyTask& task) { return task.run(std::chrono::steady_clock::now() + 5s); }

}  // namespace

TEST_CASE("dispatch remedy: an unparsable file is moved aside, kept whole") {
  TempDir t;
  const std::string queue = t.WriteFile("home/fleet-dispatch-state.json", "{\"rot");
  const std::string good = t.WriteFile("home/other.json", "{}");
  std::filesystem::create_directory(t.Path("state"));
  DispatchRemedy remedy(t.Path("state"));
  CHECK(remedy.Check() == "dispatch");
  RemedyPlan plan = remedy.Plan(
      Answer({Entry(queue, true, false, queue + ": not valid JSON: x"), Entry(good, true, true),
              Entry(t.Path("gone.json"), false, false, "missing"),
              Entry(t.Path("big.json"), true, false, "over the limit")}));
  CHECK(plan.fine == std::vector<std::string>{good});
  REQUIRE(plan.tasks.size() == 1);
  CHECK(plan.tasks[0].target == queue);
  CHECK(plan.tasks[0].action == protocol::RemedyAction::kQuarantineFile);
  RemedyDone done = Run(plan.tasks[0]);
  CHECK_MESSAGE(done.ok, done.changed);
  CHECK_FALSE(std::filesystem::exists(queue));
  auto aside = Quarantined(t.Path("state/quarantine"));
  REQUIRE(aside.size() == 1);
  CHECK(Read(aside[0]) == "{\"rot");
  CHECK(done.changed == "moved " + queue + " (5 bytes) to " + aside[0]);

  done = Run(plan.tasks[0]);  // again: gone already
  CHECK_FALSE(done.ok);
  CHECK(done.changed == queue + " is gone already");
}

TEST_CASE("dispatch remedy: rewritten meanwhile, or a symlink: left where it is") {
  TempDir t;
  const std::string queue = t.WriteFile("q.json", "[1, 2]");
  std::filesystem::create_directory(t.Path("state"));
  DispatchRemedy remedy(t.Path("state"));
  RemedyPlan plan = remedy.Plan(Answer({Entry(queue, true, false, "the file is empty")}));
  REQUIRE(plan.tasks.size() == 1);
  RemedyDone done = Run(plan.tasks[0]);
  CHECK_FALSE(done.ok);
  CHECK(done.changed == queue + " parses now (rewritten meanwhile): left where it is");
  CHECK(Read(queue) == "[1, 2]");

  const std::string target = t.WriteFile("elsewhere.json", "garbage");
  const std::string link = t.Path("link.json");
  std::filesystem::create_symlink(target, link);
  plan = remedy.Plan(Answer({Entry(link, true, false, "not valid JSON")}));
  REQUIRE(plan.tasks.size() == 1);
  done = Run(plan.tasks[0]);
  CHECK_FALSE(done.ok);
  CHECK(done.changed == link + " is a symlink: left where it is");
  CHECK(std::filesystem::is_symlink(link));
  CHECK(Quarantined(t.Path("state/quarantine")).empty());

  // Seen as a symlink by the check: not planned at all, a note says why.
  json seen = Entry(link, true, false, "not valid JSON");
  seen["symlink"] = true;
  plan = remedy.Plan(Answer({seen}));
  CHECK(plan.tasks.empty());
  CHECK(plan.bad == std::vector<std::string>{link});
  CHECK(plan.note == "not moved aside: " + link + " is a symlink");
}

TEST_CASE("dispatch remedy: across file systems, a copy then the original removed") {
  TempDir t;
  struct stat a {
  }, b{};
  if (stat(t.path().c_str(), &a) != 0 || stat("/dev/shm", &b) != 0 || a.st_dev == b.st_dev) {
    MESSAGE("no second file system at /dev/shm: skipped");
    return;
  }
  const std::string queue = "/dev/shm/fleet-dispatch-test-" + std::to_string(getpid()) + ".json";
  { std::ofstream(queue) << "not json"; }
  std::filesystem::create_directory(t.Path("state"));
  DispatchRemedy remedy(t.Path("state"));
  RemedyPlan plan = remedy.Plan(Answer({Entry(queue, true, false, "not valid JSON")}));
  REQUIRE(plan.tasks.size() == 1);
  RemedyDone done = Run(plan.tasks[0]);
  CHECK_MESSAGE(done.ok, done.changed);
  CHECK_FALSE(std::filesystem::exists(queue));
  auto aside = Quarantined(t.Path("state/quarantine"));
  REQUIRE(aside.size() == 1);
  CHECK(Read(aside[0]) == "not json");
}

TEST_CASE("dispatch remedy: details not as the check writes them plan nothing") {
  DispatchRemedy remedy("/var/lib/fleet-agent");
  for (const json& details : {json::object(), json{{"files", 3}}, json{{"files", {1, "x"}}},
                              json{{"files", {{{"path", 5}}}}}}) {
    CHECK(remedy.Plan(MakeResult("dispatch", Status::kWarning, "x", details)).tasks.empty());
  }
}
