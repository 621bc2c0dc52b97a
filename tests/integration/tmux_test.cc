// The tmux check against real tmux servers on private sockets: sessions, windows, a dead
// pane, idle and busy windows, a stale socket, and servers of another user.
#include <doctest/doctest.h>
#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <thread>

#include "collectors/tmux/tmux_check.h"
#include "tests/support/skip.h"
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

namespace {

// A Unix socket listener standing in for a hostile tmux server: it records the user of
// every client that connects (SO_PEERCRED) and hangs up on it.
class SocketTrap {
 public:
  explicit SocketTrap(const std::string& path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(::listen(fd_, 16) == 0);
  }
  ~SocketTrap() { ::close(fd_); }
  SocketTrap(const SocketTrap&) = delete;
  SocketTrap& operator=(const SocketTrap&) = delete;

  // Takes the connections already made, without waiting; their clients' uids.
  std::vector<uid_t> Connected() {
    std::vector<uid_t> uids;
    for (int client; (client = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC)) >= 0;) {
      ucred credentials{};
      socklen_t size = sizeof credentials;
      if (::getsockopt(client, SOL_SOCKET, SO_PEERCRED, &credentials, &size) == 0) {
        uids.push_back(credentials.uid);
      }
      ::close(client);
    }
    return uids;
  }
  // Hangs up on clients as they come, until Stop(), so that they end at once.
  void HangUpInBackground() {
    thread_ = std::thread([this] {
      while (!stop_) {
        for (uid_t uid : Connected()) {
          std::lock_guard lock(mutex_);
          seen_.push_back(uid);
        }
        std::this_thread::sleep_for(5ms);
      }
    });
  }
  std::vector<uid_t> Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    std::lock_guard lock(mutex_);
    return seen_;
  }

 private:
  int fd_ = -1;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::vector<uid_t> seen_;
};

CheckResult RunCheckFor(const HermesTarget& hermes, const std::string& socket,
                        std::vector<std::string> expect) {
  auto os = MakeLinuxOs();
  TmuxOptions options;
  options.socket = socket;
  options.expect = std::move(expect);
  CheckContext context{*os, hermes, std::chrono::steady_clock::now() + 5s};
  CheckResult result = MakeTmuxCheck(options)->Run(context);
  INFO(result.summary);
  return result;
}

}  // namespace

TEST_CASE("tmux check and servers of another user") {
  auto os = MakeLinuxOs();
  if (os->EffectiveUid() != 0) {
    FLEET_SKIP("the other-user cases need root");
  }
  auto nobody = os->UserByName("nobody");
  REQUIRE(nobody);
  const HermesTarget hermes{*nobody, "/nonexistent/.hermes"};
  testing::TempDir dir;
  REQUIRE(::chmod(dir.path().c_str(), 0711) == 0);
  const std::string home = dir.Path("tmux-nobody");
  REQUIRE(::mkdir(home.c_str(), 0700) == 0);
  REQUIRE(::chown(home.c_str(), nobody->uid, nobody->gid) == 0);

  SUBCASE("root sees the Hermes user's server (the agent as a system service)") {
    TmuxServer server(home + "/sock", "BURN", "sleep 600", "nobody");
    CheckResult result = RunCheckFor(hermes, home + "/sock", {"BURN"});
    CHECK(result.status == Status::kOk);
    CHECK(result.details["client_user"] == "nobody");
  }
  SUBCASE("root talks to the server only as the Hermes user (seen by the server)") {
    SocketTrap trap(home + "/sock");
    REQUIRE(::chown((home + "/sock").c_str(), nobody->uid, nobody->gid) == 0);
    trap.HangUpInBackground();
    CheckResult result = RunCheckFor(hermes, home + "/sock", {"BURN"});
    std::vector<uid_t> clients = trap.Stop();
    REQUIRE(clients.size() == 1);
    CHECK(clients[0] == nobody->uid);
    CHECK(result.status != Status::kOk);
  }
  SUBCASE("root's own server is not the Hermes user's: refused, never connected") {
    const std::string root_dir = dir.Path("tmux-0");
    REQUIRE(::mkdir(root_dir.c_str(), 0700) == 0);
    SocketTrap trap(root_dir + "/default");
    CheckResult result = RunCheckFor(hermes, root_dir + "/default", {"BURN"});
    CHECK(result.status == Status::kUnknown);
    CHECK(Has(result.summary, "belongs to root, not nobody"));
    REQUIRE(::chmod(root_dir.c_str(), 0711) == 0);
    CheckResult as_nobody = RunCheckAs(nobody->uid, nobody->gid, root_dir + "/default");
    CHECK(as_nobody.status == Status::kUnknown);
    CHECK(Has(as_nobody.summary, "belongs to root, not nobody"));
    CHECK(trap.Connected().empty());
  }
}

TEST_CASE("tmux check refuses a socket another user planted, and never connects to it") {
  auto os = MakeLinuxOs();
  if (os->EffectiveUid() != 0) {
    FLEET_SKIP("the planted-socket cases need root (to own files as another user)");
  }
  auto nobody = os->UserByName("nobody");
  REQUIRE(nobody);
  // The Hermes user is us (root); the socket's directory was made by nobody before Hermes
  // started, as any local user can in /tmp, world-writable so that Hermes could use it.
  const HermesTarget hermes = Me();
  testing::TempDir dir;
  REQUIRE(::chmod(dir.path().c_str(), 0711) == 0);
  const std::string planted = dir.Path("tmux-planted");
  REQUIRE(::mkdir(planted.c_str(), 0777) == 0);
  REQUIRE(::chmod(planted.c_str(), 0777) == 0);
  const std::string socket = planted + "/default";
  SocketTrap trap(socket);

  SUBCASE("directory and socket of another user, world-writable") {
    REQUIRE(::chown(planted.c_str(), nobody->uid, nobody->gid) == 0);
    REQUIRE(::chown(socket.c_str(), nobody->uid, nobody->gid) == 0);
    REQUIRE(::chmod(socket.c_str(), 0777) == 0);
    CheckResult result = RunCheckFor(hermes, socket, {"BURN"});
    CHECK(result.status == Status::kUnknown);
    CHECK(Has(result.summary, "refusing the tmux socket"));
    CHECK(Has(result.summary, "belongs to nobody, not root"));
  }
  SUBCASE("our own socket, but in a world-writable directory") {
    CheckResult result = RunCheckFor(hermes, socket, {"BURN"});
    CHECK(result.status == Status::kUnknown);
    CHECK(Has(result.summary, "is writable by other users (mode 0777; tmux makes it 0700)"));
  }
  SUBCASE("a symlink to it from a good directory") {
    const std::string good = dir.Path("tmux-good");
    REQUIRE(::mkdir(good.c_str(), 0700) == 0);
    REQUIRE(::symlink(socket.c_str(), (good + "/default").c_str()) == 0);
    CheckResult result = RunCheckFor(hermes, good + "/default", {"BURN"});
    CHECK(result.status == Status::kUnknown);
    CHECK(Has(result.summary, "it is a symbolic link"));
  }
  CHECK(trap.Connected().empty());
}
