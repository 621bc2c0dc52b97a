// The tmux check against real tmux servers on private sockets: sessions, windows, a dead
// pane, idle and busy windows, a stale socket, and servers of another user.
#include <doctest/doctest.h>
#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <thread>

#include "collectors/tmux/tmux_check.h"
#include "tests/support/temp_dir.h"

using namespace fleet;
using namespace std::chrono_literals;

namespace {

ProgramRun Tmux(const std::string& socket, std::vector<std::string> args) {
  std::vector<std::string> argv{"tmux", "-f", "/dev/null", "-S", socket};
  argv.insert(argv.end(), args.begin(), args.end());
  auto run = MakeLinuxOs()->RunProgram(argv, 10s);
  REQUIRE_MESSAGE(run.ok(), "cannot run tmux (is it installed?): ", run.error());
  return *run;
}

// A tmux server on its own socket, killed when the test ends, pass or fail.
class TmuxServer {
 public:
  // `as_user` runs the server as that user (through runuser), else as ourselves. SHELL is
  // set because tmux runs commands through it and otherwise falls back to the login shell
  // in passwd, which for a system user like nobody is nologin (seen in CI, where SHELL is
  // not set).
  TmuxServer(std::string socket, std::string first_session, std::string command,
             std::string as_user = "")
      : socket_(std::move(socket)) {
    std::vector<std::string> argv{"env",   "SHELL=/bin/bash", "tmux", "-f", "/dev/null",   "-S",
                                  socket_, "new-session",     "-d",   "-s", first_session, command};
    if (!as_user.empty()) argv.insert(argv.begin(), {"runuser", "-u", as_user, "--"});
    auto run = MakeLinuxOs()->RunProgram(argv, 10s);
    REQUIRE_MESSAGE(run.ok(), "cannot start tmux: ", run.error());
    REQUIRE_MESSAGE(run->exit_code == 0, "tmux new-session failed: ", run->err);
  }
  ~TmuxServer() { (void)MakeLinuxOs()->RunProgram({"tmux", "-S", socket_, "kill-server"}, 10s); }
  TmuxServer(const TmuxServer&) = delete;
  TmuxServer& operator=(const TmuxServer&) = delete;

  void Do(std::vector<std::string> args) const {
    ProgramRun run = Tmux(socket_, std::move(args));
    REQUIRE_MESSAGE(run.exit_code == 0, "tmux failed: ", run.err);
  }

 private:
  std::string socket_;
};

HermesTarget Me() {
  auto os = MakeLinuxOs();
  auto user = os->UserById(os->EffectiveUid());
  REQUIRE(user);
  return HermesTarget{*user, user->home + "/.hermes"};
}

CheckResult RunCheck(const std::string& socket, std::vector<std::string> expect,
                     std::chrono::seconds idle_warning = 1h) {
  auto os = MakeLinuxOs();
  HermesTarget hermes = Me();
  TmuxOptions options;
  options.socket = socket;
  options.expect = std::move(expect);
  options.idle_warning = idle_warning;
  CheckContext context{*os, hermes, std::chrono::steady_clock::now() + 5s};
  CheckResult result = MakeTmuxCheck(options)->Run(context);
  INFO(result.summary);
  CHECK_NOTHROW((void)result.details.dump());
  return result;
}

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// tmux marks a pane dead when its pty closes and learns the exit status when it reaps the
// child. On this kind of VM tmux 3.3a now and then misses that SIGCHLD (the child stays a
// zombie until another child of the server exits), so nudge it with a short run-shell job.
void WaitForDeadPane(const std::string& socket, const std::string& target) {
  for (int i = 0; i < 100; ++i) {
    std::string state =
        Tmux(socket, {"list-panes", "-t", target, "-F", "#{pane_dead}:#{pane_dead_status}"}).out;
    if (state.rfind("1:", 0) == 0 && state.size() > 3) return;
    if (state == "1:\n" && i % 10 == 9) (void)Tmux(socket, {"run-shell", "true"});
    std::this_thread::sleep_for(50ms);
  }
  FAIL("pane ", target, " never died");
}

// Runs the check in a child process that has become `uid`, and returns what it found.
CheckResult RunCheckAs(uid_t uid, gid_t gid, const std::string& socket) {
  int pipe_fds[2];
  REQUIRE(::pipe(pipe_fds) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(pipe_fds[0]);
    if (::setgroups(0, nullptr) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0) ::_exit(2);
    auto os = MakeLinuxOs();
    HermesTarget hermes{UserInfo{"nobody", uid, gid, "/nonexistent"}, "/nonexistent/.hermes"};
    TmuxOptions options;
    options.socket = socket;
    CheckContext context{*os, hermes, std::chrono::steady_clock::now() + 5s};
    CheckResult result = MakeTmuxCheck(options)->Run(context);
    std::string text =
        nlohmann::json{{"status", StatusName(result.status)}, {"summary", result.summary}}.dump();
    ssize_t written = ::write(pipe_fds[1], text.data(), text.size());
    ::_exit(written == static_cast<ssize_t>(text.size()) ? 0 : 3);
  }
  ::close(pipe_fds[1]);
  std::string text;
  char buf[4096];
  for (ssize_t n; (n = ::read(pipe_fds[0], buf, sizeof buf)) > 0;) text.append(buf, n);
  ::close(pipe_fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  REQUIRE_MESSAGE((WIFEXITED(status) && WEXITSTATUS(status) == 0), "child failed: ", status);
  auto json = nlohmann::json::parse(text);
  return MakeResult("tmux", *ParseStatus(json["status"].get<std::string>()),
                    json["summary"].get<std::string>());
}

}  // namespace

TEST_CASE("tmux check against a real tmux server") {
  testing::TempDir dir;
  const std::string socket = dir.Path("sock");
  TmuxServer server(socket, "BURN", "sleep 600");
  server.Do({"set-option", "-g", "remain-on-exit", "on"});
  // FORGE: a window whose shell runs the chat as a child, as an operator would.
  server.Do({"new-window", "-d", "-t", "BURN", "-n", "FORGE",
             "bash -c 'bash -c \"sleep 600; true\" chat --yolo; true'"});
  server.Do(
      {"new-window", "-d", "-t", "BURN", "-n", "Ünï 火", "while :; do echo busy; sleep 0.2; done"});
  server.Do({"new-window", "-d", "-t", "BURN", "-n", "odd\tname\x1fwith\nbreaks", "sleep 600"});
  server.Do({"new-session", "-d", "-s", "my chat", "sleep 600"});
  server.Do({"new-session", "-d", "-s", "BURN2", "sh -c 'exit 3'"});
  WaitForDeadPane(socket, "BURN2");

  SUBCASE("names found as sessions and windows, with their panes") {
    CheckResult result = RunCheck(socket, {"BURN", "FORGE", "my chat", "Ünï 火"});
    CHECK(result.status == Status::kOk);
    const auto& expected = result.details["expected"];
    CHECK(expected["BURN"]["found_as"] == "session");
    CHECK(expected["BURN"]["panes"] == 4);
    CHECK(expected["BURN"]["chat"] == true);
    CHECK(expected["FORGE"]["found_as"] == "window");
    CHECK(expected["FORGE"]["session"] == "BURN");
    CHECK(expected["FORGE"]["window"] == 1);
    CHECK(expected["FORGE"]["panes"] == 1);
    CHECK(expected["FORGE"]["chat"] == true);
    CHECK(expected["FORGE"]["current_command"] == "bash");
    CHECK(expected["my chat"]["found_as"] == "session");
    CHECK(expected["my chat"]["chat"] == false);
    CHECK(expected["my chat"]["current_command"] == "sleep");
    CHECK(expected["Ünï 火"]["found_as"] == "window");
    CHECK(result.details["sessions"] == nlohmann::json::array({"BURN", "BURN2", "my chat"}));
  }
  SUBCASE("a missing name and a dead pane are CRITICAL") {
    CheckResult result = RunCheck(socket, {"BURN", "ANVIL", "BURN2", "burn"});
    CHECK(result.status == Status::kCritical);
    CHECK(Has(result.summary, "ANVIL, burn missing"));
    CHECK(Has(result.summary, "BURN2:0.0 pane dead (exit 3)"));
    CHECK(Has(result.summary, "respawn-pane -k -t BURN2:0.0"));
    CHECK(result.details["expected"]["BURN2"]["dead_panes"] ==
          nlohmann::json::array({"BURN2:0.0"}));
    CHECK(result.details["expected"]["ANVIL"]["found_as"].is_null());
  }
  SUBCASE("a quiet window goes idle, a busy one does not") {
    std::this_thread::sleep_for(3500ms);
    CheckResult busy = RunCheck(socket, {"Ünï 火"}, 2s);
    CHECK(busy.status == Status::kOk);
    CHECK(busy.details["expected"]["Ünï 火"]["idle_seconds"] <= 1);
    CheckResult quiet = RunCheck(socket, {"FORGE"}, 2s);
    CHECK(quiet.status == Status::kWarning);
    CHECK(Has(quiet.summary, "BURN:1 idle"));
    CHECK(Has(quiet.summary, "send-keys -t BURN:1 C-c"));
    CHECK(quiet.details["expected"]["FORGE"]["idle_seconds"] >= 3);
  }
}

TEST_CASE("tmux check with no server") {
  testing::TempDir dir;
  CheckResult absent = RunCheck(dir.Path("none/default"), {"BURN"});
  CHECK(absent.status == Status::kCritical);
  CHECK(Has(absent.summary, "does not exist"));

  // A socket file left behind by a server that is gone.
  const std::string stale = dir.Path("stale");
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, stale.c_str(), sizeof address.sun_path - 1);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  ::close(fd);
  CheckResult result = RunCheck(stale, {"BURN"});
  CHECK(result.status == Status::kCritical);
  CHECK(Has(result.summary, "no tmux server running"));
}

TEST_CASE("tmux check and servers of another user") {
  auto os = MakeLinuxOs();
  if (os->EffectiveUid() != 0) {
    MESSAGE("SKIPPED: the other-user cases need root");
    return;
  }
  auto nobody = os->UserByName("nobody");
  REQUIRE(nobody);
  testing::TempDir dir;
  REQUIRE(::chmod(dir.path().c_str(), 0711) == 0);

  SUBCASE("root sees the operator's server (the agent as a system service)") {
    const std::string home = dir.Path("nobody");
    REQUIRE(::mkdir(home.c_str(), 0700) == 0);
    REQUIRE(::chown(home.c_str(), nobody->uid, nobody->gid) == 0);
    TmuxServer server(home + "/sock", "BURN", "sleep 600", "nobody");
    CheckResult result = RunCheck(home + "/sock", {"BURN"});
    INFO(result.summary);
    CHECK(result.status == Status::kOk);
  }
  SUBCASE("another user may not look: UNKNOWN with the reason, never a crash") {
    const std::string closed = dir.Path("closed");
    REQUIRE(::mkdir(closed.c_str(), 0700) == 0);
    TmuxServer server(closed + "/sock", "BURN", "sleep 600");
    CheckResult behind_dir = RunCheckAs(nobody->uid, nobody->gid, closed + "/sock");
    CHECK(behind_dir.status == Status::kUnknown);
    CHECK(Has(behind_dir.summary, "Permission denied"));
    CHECK(Has(behind_dir.summary, "run the agent as root or as nobody"));

    REQUIRE(::chmod(closed.c_str(), 0711) == 0);
    CheckResult socket_closed = RunCheckAs(nobody->uid, nobody->gid, closed + "/sock");
    CHECK(socket_closed.status == Status::kUnknown);
    CHECK(Has(socket_closed.summary, "permission denied on the tmux socket"));
    CHECK(Has(socket_closed.summary, "run the agent as root"));

    REQUIRE(::chmod((closed + "/sock").c_str(), 0666) == 0);
    CheckResult refused = RunCheckAs(nobody->uid, nobody->gid, closed + "/sock");
    CHECK(refused.status == Status::kUnknown);
    CHECK(Has(refused.summary, "does not let our user in"));
  }
}
