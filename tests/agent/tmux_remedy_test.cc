// TmuxRemedy (agent/remedies/tmux_remedy.h) on a FakeOs that answers tmux: what it plans
// from the tmux check's details and the exact tmux commands its tasks run, as whom. A
// missing session (or no server) is created with its command; dead panes are respawned
// without -k (tmux refuses a live pane: "still active" is reported, nothing killed); a
// stuck pane (opt-in) gets C-c and the command only when still idle; names not configured
// and garbage details plan nothing. The real tmux is in remedy_tmux_test.sh.
#include <doctest/doctest.h>

#include "agent/remedies/tmux_remedy.h"
#include "tests/support/fake_os.h"

using namespace fleet;
using fleet::testing::FakeOs;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

constexpr auto kSocket = "/tmp/tmux-1000/default";

struct Fixture {
  std::shared_ptr<FakeOs> os = std::make_shared<FakeOs>();
  HermesTarget hermes{{"hermes", 1000, 1000, "/home/hermes"}, "/home/hermes/.hermes"};
  TmuxRemedySettings settings;
  std::vector<ProgramRun> answers;  // next answers, in order; then exit 0

  Fixture() {
    settings.sessions = {{"BURN", "hermes chat --yolo"}, {"BURN2", "hermes chat --yolo"}};
    os->euid = 0;
    os->program = [this](const std::vector<std::string>& argv) -> Result<ProgramRun> {
      if (answers.empty()) {  // tmux doing as told: every pane listed runs
        const bool listing = argv.back() == "#{pane_index} #{pane_dead}";
        return ProgramRun{0, false, listing ? "0 0\n1 0\n" : "", ""};
      }
      ProgramRun run = answers.front();
      answers.erase(answers.begin());
      return run;
    };
  }
  TmuxRemedy Remedy() const { return TmuxRemedy(settings, hermes, os); }
  static json Entry(int panes, json dead = json::array(), json idle = nullptr) {
    return {{"found_as", panes ? json("session") : json()},
            {"session", panes ? json("BURN") : json()},
            {"window", nullptr},
            {"panes", panes},
            {"dead_panes", dead},
            {"idle_seconds", idle}};
  }
  static CheckResult Answer(Status status, json expected) {
    return MakeResult("tmux", status, "summary",
                      {{"socket", kSocket}, {"expected", std::move(expected)}});
  }
  std::vector<std::string> Tmux(std::vector<std::string> args) const {
    std::vector<std::string> argv{"tmux", "-S", kSocket};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }
};

RemedyDone RunTask(const RemedyTask& task) {
  return task.run(std::chrono::steady_clock::now() + 5s);
}

}  // namespace

TEST_CASE("tmux remedy: a missing session is created with its command, as the server's user") {
  Fixture f;
  auto remedy = f.Remedy();
  CHECK(remedy.Check() == "tmux");
  RemedyPlan plan = remedy.Plan(Fixture::Answer(
      Status::kCritical, {{"BURN", Fixture::Entry(1)}, {"BURN2", Fixture::Entry(0)}}));
  CHECK(plan.fine == std::vector<std::string>{"BURN"});
  REQUIRE(plan.tasks.size() == 1);
  CHECK(plan.tasks[0].target == "BURN2");
  CHECK(plan.tasks[0].action == protocol::RemedyAction::kCreateSession);
  CHECK(f.os->programs_run.empty());  // planning runs nothing
  RemedyDone done = RunTask(plan.tasks[0]);
  CHECK(done.ok);
  CHECK(done.changed == "session BURN2 created, running `hermes chat --yolo`");
  REQUIRE(f.os->programs_run.size() == 2);
  CHECK(f.os->programs_run[0] ==
        f.Tmux({"new-session", "-d", "-s", "BURN2", "hermes chat --yolo"}));
  CHECK(f.os->programs_run[1] ==
        f.Tmux({"list-panes", "-t", "=BURN2:", "-F", "#{pane_index} #{pane_dead}"}));
  CHECK(f.os->programs_run_as[0] == "hermes");  // root drops to the server's user

  // A command that exits at once: the pane is dead half a second later.
  f.answers = {ProgramRun{0, false, "", ""}, ProgramRun{0, false, "0 1\n", ""}};
  done = RunTask(plan.tasks[0]);
  CHECK_FALSE(done.ok);
  CHECK(done.changed ==
        "session BURN2 created, running `hermes chat --yolo`, but its command exited at once: "
        "the pane is dead");
  // ... or, with remain-on-exit off, the session is gone with it.
  f.answers = {ProgramRun{0, false, "", ""}, ProgramRun{1, false, "", "can't find session\n"}};
  done = RunTask(plan.tasks[0]);
  CHECK_FALSE(done.ok);
  CHECK(done.changed.find("it is gone already (its command exited at once") != std::string::npos);
}

TEST_CASE("tmux remedy: no server at all: every configured session is created") {
  Fixture f;
  RemedyPlan plan = f.Remedy().Plan(Fixture::Answer(Status::kCritical, json::object()));
  REQUIRE(plan.tasks.size() == 2);
  CHECK(plan.tasks[0].target == "BURN");
  CHECK(plan.tasks[1].target == "BURN2");
  // Inside a systemd service the server would be the agent's child: not started.
  f.os->env["INVOCATION_ID"] = "0123456789abcdef";
  RemedyPlan in_service = f.Remedy().Plan(Fixture::Answer(Status::kCritical, json::object()));
  CHECK(in_service.tasks.empty());
  CHECK(in_service.bad == std::vector<std::string>{"BURN", "BURN2"});
  CHECK(in_service.note.find("no automatic start: there is no tmux server") != std::string::npos);
  // ... but a missing session on a running server is created there.
  CHECK(f.Remedy()
            .Plan(Fixture::Answer(Status::kCritical, {{"BURN2", Fixture::Entry(0)}}))
            .tasks.size() == 1);
  f.os->env.erase("INVOCATION_ID");
  // The same result as UNKNOWN or OK would say nothing is missing: the runner never passes
  // UNKNOWN, and OK with nothing examined plans nothing.
  CHECK(f.Remedy().Plan(Fixture::Answer(Status::kOk, json::object())).tasks.empty());
}

TEST_CASE("tmux remedy: dead panes respawned without -k; a live one is refused by tmux") {
  Fixture f;
  RemedyPlan plan = f.Remedy().Plan(Fixture::Answer(
      Status::kCritical,
      {{"BURN", Fixture::Entry(2, {"BURN:0.0", "BURN:1.0"})}, {"BURN2", Fixture::Entry(1)}}));
  REQUIRE(plan.tasks.size() == 1);
  CHECK(plan.tasks[0].action == protocol::RemedyAction::kRespawnPane);
  CHECK(plan.tasks[0].what == "respawn the dead panes BURN:0.0, BURN:1.0 of BURN");
  RemedyDone done = RunTask(plan.tasks[0]);
  CHECK(done.ok);
  CHECK(done.changed ==
        "pane BURN:0.0 respawned, pane BURN:1.0 respawned, running `hermes chat --yolo`");
  CHECK(f.os->programs_run[0] == f.Tmux({"respawn-pane", "-t", "BURN:0.0", "hermes chat --yolo"}));
  REQUIRE(f.os->programs_run.size() == 4);  // two respawns, then each pane looked at
  CHECK(f.os->programs_run[2] ==
        f.Tmux({"list-panes", "-t", "BURN:0", "-F", "#{pane_index} #{pane_dead}"}));
  for (const auto& argv : f.os->programs_run) {
    CHECK(std::find(argv.begin(), argv.end(), "-k") == argv.end());
  }

  f.os->programs_run.clear();
  f.answers = {ProgramRun{1, false, "", "respawn pane failed: pane BURN:0.0 still active\n"}};
  done = RunTask(plan.tasks[0]);
  CHECK_FALSE(done.ok);
  CHECK(done.changed == "pane BURN:0.0 is alive again: left alone");
  CHECK(f.os->programs_run.size() == 1);  // stops at the first refusal
}

TEST_CASE("tmux remedy: stuck is opt-in, and re-checked before C-c") {
  Fixture f;
  const auto idle =
      Fixture::Answer(Status::kWarning, {{"BURN", Fixture::Entry(1, json::array(), 7200)}});
  CHECK(f.Remedy().Plan(idle).tasks.empty());  // stuck_after not set
  CHECK(f.Remedy().Plan(idle).fine == std::vector<std::string>{"BURN"});
  f.settings.stuck_after = 2h;
  RemedyPlan plan = f.Remedy().Plan(idle);
  REQUIRE(plan.tasks.size() == 1);
  CHECK(plan.tasks[0].action == protocol::RemedyAction::kInterruptPane);
  const auto now =
      std::chrono::duration_cast<std::chrono::seconds>(f.os->now.time_since_epoch()).count();

  // Output came since the check looked: left alone, no key sent.
  f.answers = {ProgramRun{0, false, std::to_string(now - 10) + "\n", ""}};
  RemedyDone done = RunTask(plan.tasks[0]);
  CHECK_FALSE(done.ok);
  CHECK(done.changed == "BURN: printed output again: left alone");
  REQUIRE(f.os->programs_run.size() == 1);
  CHECK(f.os->programs_run[0] == f.Tmux({"list-panes", "-t", "BURN:", "-F", "#{window_activity}"}));

  // Still idle: C-c, then the command typed literally, then Enter.
  f.os->programs_run.clear();
  f.answers = {ProgramRun{0, false, std::to_string(now - 7300) + "\n", ""}};
  done = RunTask(plan.tasks[0]);
  CHECK(done.ok);
  REQUIRE(f.os->programs_run.size() == 4);
  CHECK(f.os->programs_run[1] == f.Tmux({"send-keys", "-t", "BURN:", "C-c"}));
  CHECK(f.os->programs_run[2] == f.Tmux({"send-keys", "-t", "BURN:", "-l", "hermes chat --yolo"}));
  CHECK(f.os->programs_run[3] == f.Tmux({"send-keys", "-t", "BURN:", "Enter"}));
}

TEST_CASE("tmux remedy: an agent neither root nor the server's user cannot act, and says so") {
  Fixture f;
  f.os->euid = 1001;
  RemedyPlan plan =
      f.Remedy().Plan(Fixture::Answer(Status::kCritical, {{"BURN2", Fixture::Entry(0)}}));
  REQUIRE(plan.tasks.size() == 1);
  RemedyDone done = RunTask(plan.tasks[0]);
  CHECK_FALSE(done.ok);
  CHECK(done.changed.find("runs neither as root nor as hermes") != std::string::npos);
  CHECK(f.os->programs_run.empty());
}

TEST_CASE("tmux remedy: tmux failing or hanging is a failed action, not a crash") {
  Fixture f;
  RemedyPlan plan =
      f.Remedy().Plan(Fixture::Answer(Status::kCritical, {{"BURN2", Fixture::Entry(0)}}));
  REQUIRE(plan.tasks.size() == 1);
  f.answers = {ProgramRun{1, false, "", "duplicate session: BURN2\n"}};
  RemedyDone done = RunTask(plan.tasks[0]);
  CHECK_FALSE(done.ok);
  CHECK(done.changed == "new-session BURN2 failed (exit 1): duplicate session: BURN2");
  f.answers = {ProgramRun{-1, true, "", ""}};
  done = RunTask(plan.tasks[0]);
  CHECK_FALSE(done.ok);
  CHECK(done.changed == "new-session BURN2: tmux did not answer by the deadline");
  done = plan.tasks[0].run(std::chrono::steady_clock::now() - 1s);  // past its deadline
  CHECK_FALSE(done.ok);
  CHECK(done.changed.find("no time left") != std::string::npos);
}

TEST_CASE("tmux remedy: names not configured, and details not as the check writes them") {
  Fixture f;
  CHECK(f.Remedy()
            .Plan(Fixture::Answer(Status::kCritical, {{"FORGE", Fixture::Entry(0)}}))
            .tasks.empty());
  for (const json& details :
       {json::object(), json{{"socket", 5}}, json{{"socket", kSocket}, {"expected", 3}},
        json{{"socket", kSocket}, {"expected", {{"BURN", "x"}}}},
        json{{"socket", kSocket}, {"expected", {{"BURN", {{"panes", "x"}, {"dead_panes", 4}}}}}}}) {
    RemedyPlan plan = f.Remedy().Plan(MakeResult("tmux", Status::kWarning, "x", details));
    for (const auto& task : plan.tasks) CHECK(task.target != "");
  }
}
