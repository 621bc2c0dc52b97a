#include <doctest/doctest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "collectors/tmux/tmux_check.h"
#include "collectors/tmux/tmux_parse.h"
#include "tests/support/fake_os.h"
#include "tests/support/temp_dir.h"

using namespace fleet;
using namespace std::chrono_literals;

namespace {

const std::int64_t kNow = 1781352000;  // FakeEpoch()

// One line of `tmux list-panes -a -F TmuxPanesFormat()` output.
struct PaneLine {
  std::string session = "BURN";
  int window = 0;
  std::string window_name = "bash";
  std::int64_t activity = kNow - 5;
  int pane = 0;
  std::int64_t pid = 4242;
  bool dead = false;
  std::string dead_status;
  std::string command = "hermes";
  bool window_active = true;
  bool pane_active = true;
  std::string dead_signal;

  std::string Text() const {
    const char s = kTmuxFieldSeparator;
    return session + s + std::to_string(window) + s + window_name + s +
           (window_active ? "1" : "0") + s + std::to_string(activity) + s + std::to_string(pane) +
           s + (pane_active ? "1" : "0") + s + std::to_string(pid) + s + (dead ? "1" : "0") + s +
           dead_status + s + dead_signal + s + command + "\n";
  }
};

std::string Lines(const std::vector<PaneLine>& lines) {
  std::string out;
  for (const auto& line : lines) out += line.Text();
  return out;
}

// A node as the facts describe it: BURN holding FORGE and ANVIL windows, plus BURN2.
std::vector<PaneLine> HealthyNode() {
  PaneLine burn;
  PaneLine forge;
  forge.window = 1;
  forge.window_name = "FORGE";
  forge.window_active = false;
  forge.pid = 4300;
  PaneLine anvil = forge;
  anvil.window = 2;
  anvil.window_name = "ANVIL";
  anvil.pid = 4400;
  PaneLine burn2;
  burn2.session = "BURN2";
  burn2.pid = 4500;
  return {burn, forge, anvil, burn2};
}

// Leaves a Unix socket file at `path` (nothing listens on it).
void MakeSocketFile(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  ::close(fd);
}

struct Fixture {
  testing::TempDir dir;
  testing::FakeOs os;
  HermesTarget hermes{UserInfo{"hermes", 1000, 1000, "/home/hermes"}, "/home/hermes/.hermes"};
  TmuxOptions options;
  // As tmux makes it: a directory of the Hermes user's, mode 0700, holding its socket.
  std::string socket_dir = dir.Path("tmux-1000");
  std::string socket = socket_dir + "/default";

  Fixture() {
    REQUIRE(::mkdir(socket_dir.c_str(), 0700) == 0);
    MakeSocketFile(socket);
    os.owners[socket_dir] = 1000;
    os.owners[socket] = 1000;
    options.socket = socket;
    os.proc_root = dir.Path("proc");
  }
  void Answer(std::string out, int exit_code = 0, std::string err = "") {
    os.program = [=](const std::vector<std::string>&) -> Result<ProgramRun> {
      ProgramRun run;
      run.exit_code = exit_code;
      run.out = out;
      run.err = err;
      return run;
    };
  }
  CheckResult Check() {
    auto check = MakeTmuxCheck(options);
    CheckContext context{os, hermes, std::chrono::steady_clock::now() + 2s};
    CheckResult result = check->Run(context);
    CHECK(result.name == "tmux");
    CHECK_NOTHROW((void)result.details.dump());
    return result;
  }
};

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("tmux output: good lines parse into panes") {
  PaneLine dead;
  dead.session = "sp ace";
  dead.window = 3;
  dead.window_name = "Ünïcødé 火 x";
  dead.pane = 1;
  dead.dead = true;
  dead.dead_status = "3";
  dead.command = "a\tb c";  // a tab in the last field stays in it
  auto panes = ParseTmuxPanes(Lines({PaneLine{}, dead}));
  REQUIRE(panes.ok());
  REQUIRE(panes->size() == 2);
  const TmuxPane& first = (*panes)[0];
  CHECK(first.session == "BURN");
  CHECK(first.window_index == 0);
  CHECK(first.window_activity == kNow - 5);
  CHECK(first.pid == 4242);
  CHECK_FALSE(first.dead);
  CHECK_FALSE(first.dead_status.has_value());
  CHECK(first.current_command == "hermes");
  CHECK(first.PaneTarget() == "BURN:0.0");
  const TmuxPane& second = (*panes)[1];
  CHECK(second.session == "sp ace");
  CHECK(second.window_name == "Ünïcødé 火 x");
  CHECK(second.dead);
  CHECK(second.dead_status == 3);
  CHECK(second.current_command == "a\tb c");
  CHECK(second.WindowTarget() == "sp ace:3");
  CHECK(ParseTmuxPanes("").value().empty());
}

TEST_CASE("tmux output: truncated and garbage input is refused with the line") {
  std::string good = Lines(HealthyNode());
  auto cut = ParseTmuxPanes(good.substr(0, good.size() - 1));
  CHECK_FALSE(cut.ok());
  CHECK(Has(cut.error(), "truncated"));
  auto half = ParseTmuxPanes(good + PaneLine{}.Text().substr(0, 12) + "\n");
  REQUIRE_FALSE(half.ok());
  CHECK(Has(half.error(), "line 5"));
  CHECK_FALSE(ParseTmuxPanes("no server running on /tmp/tmux-0/default\n").ok());
  CHECK_FALSE(ParseTmuxPanes("\n").ok());
  CHECK_FALSE(ParseTmuxPanes(std::string("\0\0\xff\n", 4)).ok());
  PaneLine bad;
  bad.activity = -1;
  CHECK(ParseTmuxPanes(bad.Text()).ok());  // a number, if an odd one
  std::string text = PaneLine{}.Text();
  std::string flag = text;
  flag.replace(flag.find("\x1f"
                         "1\x1f"),
               3,
               "\x1f"
               "2\x1f");
  CHECK(Has(ParseTmuxPanes(flag).error(), "window_active"));
  std::string extra = text.substr(0, text.size() - 1) +
                      "\x1f"
                      "more\n";
  CHECK(Has(ParseTmuxPanes(extra).error(), "fields"));
  PaneLine pid;
  pid.command = "";
  std::string no_pid = pid.Text();
  no_pid.replace(no_pid.find("4242"), 4, "42x2");
  CHECK(Has(ParseTmuxPanes(no_pid).error(), "pane_pid"));
}

TEST_CASE("tmux output: invalid UTF-8 in names becomes U+FFFD") {
  PaneLine line;
  line.window_name = "bad\xff\xc3(name";
  auto panes = ParseTmuxPanes(line.Text());
  REQUIRE(panes.ok());
  CHECK((*panes)[0].window_name == "bad\xEF\xBF\xBD\xEF\xBF\xBD(name");
  CHECK(ValidUtf8("ok 火") == "ok 火");
  CHECK(ValidUtf8("\xed\xa0\x80") == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST_CASE("the format asks tmux for every field, names cleaned of control characters") {
  const std::string& format = TmuxPanesFormat();
  std::size_t separators = 0;  // between fields; the regex ranges hold the byte too
  for (std::size_t at = format.find("}\x1f#{"); at != std::string::npos;
       at = format.find("}\x1f#{", at + 1)) {
    ++separators;
  }
  CHECK(separators == 11);
  for (const char* variable : {"pane_pid", "pane_dead", "window_activity", "pane_dead_status"}) {
    CHECK(Has(format, std::string("#{") + variable + "}"));
  }
  CHECK(Has(format, "s/[\x01-\x1f\x7f]/?/:window_name}"));
}

TEST_CASE("a chat is recognised from its command line") {
  using namespace std::string_literals;
  CHECK(IsChatCommandLine("python3\0/usr/local/bin/hermes\0chat\0--yolo\0"s));
  CHECK(IsChatCommandLine("sh\0-c\0hermes chat --yolo\0"s));
  CHECK_FALSE(IsChatCommandLine("hermes\0chat\0"s));
  CHECK_FALSE(IsChatCommandLine("vim\0chat--yolo\0"s));
  CHECK_FALSE(IsChatCommandLine(""));
}

TEST_CASE("tmux check: every expected name present is OK, FORGE found as a window") {
  Fixture f;
  f.Answer(Lines(HealthyNode()));
  CheckResult result = f.Check();
  CHECK(result.status == Status::kOk);
  CHECK(Has(result.summary, "BURN, BURN2, FORGE (window in BURN)"));
  // Distinct panes: FORGE's pane is also one of BURN's and is counted once.
  CHECK(Has(result.summary, "; " + std::to_string(HealthyNode().size()) + " panes"));
  REQUIRE(f.os.programs_run.size() == 1);
  const auto& argv = f.os.programs_run[0];
  CHECK(argv[0] == "tmux");
  CHECK(std::find(argv.begin(), argv.end(), f.socket) != argv.end());
  CHECK(std::find(argv.begin(), argv.end(), "list-panes") != argv.end());
  CHECK(argv.back() == TmuxPanesFormat());
  const auto& d = result.details;
  CHECK(d["socket"] == f.socket);
  CHECK(d["sessions"] == nlohmann::json::array({"BURN", "BURN2"}));
  CHECK(d["expected"]["BURN"]["found_as"] == "session");
  CHECK(d["expected"]["BURN"]["panes"] == 3);  // the whole session
  CHECK(d["expected"]["BURN"]["idle_seconds"] == 5);
  CHECK(d["expected"]["FORGE"]["found_as"] == "window");
  CHECK(d["expected"]["FORGE"]["session"] == "BURN");
  CHECK(d["expected"]["FORGE"]["window"] == 1);
  CHECK(d["expected"]["FORGE"]["panes"] == 1);  // only that window
  CHECK(d["expected"]["FORGE"]["current_command"] == "hermes");
  CHECK(d["expected"]["BURN2"]["dead_panes"].empty());
}

TEST_CASE("tmux check: a missing name is CRITICAL and says how to start it") {
  Fixture f;
  auto node = HealthyNode();
  node[1].window_name = "forge";  // matching is exact and case-sensitive
  f.Answer(Lines(node));
  CheckResult result = f.Check();
  CHECK(result.status == Status::kCritical);
  CHECK(Has(result.summary, "FORGE missing"));
  CHECK(Has(result.summary, "new-session -d -s FORGE 'hermes chat --yolo'"));
  CHECK(Has(result.summary, "tmux -S " + f.socket));
  CHECK(result.details["expected"]["FORGE"]["found_as"].is_null());
  CHECK(result.details["expected"]["FORGE"]["panes"] == 0);

  f.options.expect = {"BURN", "NOPE", "my chat"};
  CheckResult two = f.Check();
  CHECK(Has(two.summary, "NOPE, my chat missing"));
  f.options.expect = {"my chat"};
  CHECK(Has(f.Check().summary, "-s 'my chat'"));
}

TEST_CASE("tmux check: a dead pane is CRITICAL with the respawn command") {
  Fixture f;
  auto node = HealthyNode();
  PaneLine dead = node[0];
  dead.pane = 1;
  dead.pane_active = false;
  dead.dead = true;
  dead.dead_status = "1";
  dead.command = "bash";
  node.insert(node.begin() + 1, dead);
  f.Answer(Lines(node));
  CheckResult result = f.Check();
  CHECK(result.status == Status::kCritical);
  CHECK(Has(result.summary, "BURN:0.1 pane dead (exit 1)"));
  CHECK(Has(result.summary, "respawn-pane -k -t BURN:0.1 'hermes chat --yolo'"));
  CHECK(result.details["expected"]["BURN"]["dead_panes"] == nlohmann::json::array({"BURN:0.1"}));
  CHECK(result.details["expected"]["FORGE"]["dead_panes"].empty());
}

TEST_CASE("tmux check: a dead pane named twice is listed once; several are listed together") {
  Fixture f;
  auto node = HealthyNode();
  node[1].dead = true;  // FORGE, a window of BURN: both names cover it
  node[1].dead_signal = "9";
  f.Answer(Lines(node));
  CheckResult once = f.Check();
  CHECK(once.status == Status::kCritical);
  CHECK(Has(once.summary, "BURN:1.0 pane dead (signal 9)"));
  CHECK(once.summary.find("BURN:1.0") == once.summary.rfind("BURN:1.0 pane"));
  CHECK(once.details["expected"]["BURN"]["dead_panes"] == nlohmann::json::array({"BURN:1.0"}));
  CHECK(once.details["expected"]["FORGE"]["dead_panes"] == nlohmann::json::array({"BURN:1.0"}));

  node[3].dead = true;  // BURN2
  f.Answer(Lines(node));
  CheckResult two = f.Check();
  CHECK(Has(two.summary, "BURN:1.0, BURN2:0.0 panes dead; restart each"));
}

TEST_CASE("tmux check: no expected names only needs a server") {
  Fixture f;
  f.options.expect.clear();
  f.Answer(Lines(HealthyNode()));
  CheckResult result = f.Check();
  CHECK(result.status == Status::kOk);
  CHECK(Has(result.summary, "2 session(s)"));
}

TEST_CASE("tmux check: a pane idle beyond idle_warning is a WARNING") {
  Fixture f;
  f.options.idle_warning = 30min;
  auto node = HealthyNode();
  node[1].activity = kNow - 45 * 60;  // FORGE
  f.Answer(Lines(node));
  CheckResult result = f.Check();
  CHECK(result.status == Status::kWarning);
  CHECK(Has(result.summary, "BURN:1 idle 45m (over 30m)"));
  CHECK(Has(result.summary, "send-keys -t BURN:1 C-c"));
  CHECK(Has(result.summary, "send-keys -t BURN:1 'hermes chat --yolo' Enter"));
  CHECK(result.details["expected"]["FORGE"]["idle_seconds"] == 45 * 60);
  CHECK(result.details["idle_warning_seconds"] == 30 * 60);

  f.options.idle_warning = 46min;
  CHECK(f.Check().status == Status::kOk);
  f.os.Tick(2min);
  CHECK(f.Check().status == Status::kWarning);
}

TEST_CASE("tmux check: no server") {
  Fixture f;
  SUBCASE("socket missing: CRITICAL without running tmux") {
    f.options.socket = f.dir.Path("nothing/default");
    CheckResult result = f.Check();
    CHECK(result.status == Status::kCritical);
    CHECK(Has(result.summary, "no tmux server"));
    CHECK(Has(result.summary, "does not exist"));
    CHECK(Has(result.summary, "as hermes start it"));
    CHECK(f.os.programs_run.empty());
  }
  SUBCASE("not a socket") {
    f.options.socket = f.dir.WriteFile("plain", "x");
    CHECK(f.Check().status == Status::kCritical);
  }
  SUBCASE("stale socket") {
    f.Answer("", 1, "no server running on " + f.socket + "\n");
    CheckResult result = f.Check();
    CHECK(result.status == Status::kCritical);
    CHECK(Has(result.summary, "no tmux server running"));
  }
}

TEST_CASE("tmux check: the default socket follows TMUX_TMPDIR and the Hermes uid") {
  Fixture f;
  f.options.socket.clear();
  f.os.env["TMUX_TMPDIR"] = f.dir.path();
  f.hermes.user.uid = 4321;
  CheckResult missing = f.Check();
  CHECK(missing.details["socket"] == f.dir.Path("tmux-4321/default"));
  CHECK(Has(missing.summary, "start it: tmux new-session"));  // the operator's plain tmux
  ::mkdir(f.dir.Path("tmux-4321").c_str(), 0700);
  MakeSocketFile(f.dir.Path("tmux-4321/default"));
  f.os.owners[f.dir.Path("tmux-4321")] = 4321;
  f.os.owners[f.dir.Path("tmux-4321/default")] = 4321;
  f.os.euid = 4321;
  f.Answer(Lines(HealthyNode()));
  CHECK(f.Check().status == Status::kOk);
  CHECK(f.os.programs_run[0][3] == f.dir.Path("tmux-4321/default"));
}

TEST_CASE("tmux check: a socket not provably the Hermes user's is refused, tmux never run") {
  Fixture f;
  f.Answer(Lines(HealthyNode()));
  f.os.users["mallory"] = UserInfo{"mallory", 1001, 1001, "/home/mallory"};
  std::string reason;
  SUBCASE("directory of another user (made in /tmp before Hermes started)") {
    f.os.owners[f.socket_dir] = 1001;
    reason = "its directory " + f.socket_dir + " belongs to mallory, not hermes";
  }
  SUBCASE("directory writable by others") {
    REQUIRE(::chmod(f.socket_dir.c_str(), 0777) == 0);
    reason = "is writable by other users (mode 0777; tmux makes it 0700)";
  }
  SUBCASE("directory writable by its group") {
    REQUIRE(::chmod(f.socket_dir.c_str(), 0770) == 0);
    reason = "(mode 0770; tmux makes it 0700)";
  }
  SUBCASE("a directory above it of another user") {
    f.os.owners[f.dir.path()] = 1001;
    reason = f.dir.path() + " (above the socket) belongs to mallory, who could swap the socket";
  }
  SUBCASE("a directory above it writable by others, not sticky") {
    REQUIRE(::chmod(f.dir.path().c_str(), 0777) == 0);
    reason = "(above the socket) is writable by other users (mode 0777)";
  }
  SUBCASE("socket of another user") {
    f.os.owners[f.socket] = 1001;
    reason = "it belongs to mallory, not hermes";
  }
  SUBCASE("socket of an unknown uid") {
    f.os.owners[f.socket] = 4242;
    reason = "it belongs to uid 4242, not hermes";
  }
  SUBCASE("socket is a symlink to the real one") {
    const std::string link = f.socket_dir + "/link";
    REQUIRE(::symlink(f.socket.c_str(), link.c_str()) == 0);
    f.os.owners[link] = 1000;
    f.options.socket = link;
    reason = "it is a symbolic link";
  }
  SUBCASE("directory is a symlink") {
    const std::string link = f.dir.Path("tmux-link");
    REQUIRE(::symlink(f.socket_dir.c_str(), link.c_str()) == 0);
    f.os.owners[link] = 1000;
    f.os.owners[link + "/default"] = 1000;
    f.options.socket = link + "/default";
    reason = "its directory " + link + " is a symbolic link";
  }
  CheckResult result = f.Check();
  CHECK(result.status == Status::kUnknown);
  CHECK(Has(result.summary, "refusing the tmux socket"));
  CHECK(Has(result.summary, reason));
  CHECK(result.details["refused"].get<std::string>().find(reason) != std::string::npos);
  CHECK(f.os.programs_run.empty());
}

TEST_CASE("tmux check: others may read or enter the directories, and /tmp is sticky") {
  Fixture f;
  f.Answer(Lines(HealthyNode()));
  REQUIRE(::chmod(f.socket_dir.c_str(), 0755) == 0);
  REQUIRE(::chmod(f.dir.path().c_str(), 01777) == 0);
  CHECK(f.Check().status == Status::kOk);
}

TEST_CASE("tmux check: the trust rules, one by one") {
  const auto name_of = [](uid_t uid) { return "uid " + std::to_string(uid); };
  FileInfo socket{FileInfo::Kind::kSocket, 0, {}, 1000, 0755};
  FileInfo dir{FileInfo::Kind::kDirectory, 0, {}, 1000, 0700};
  CHECK_FALSE(TrustProblem(socket, &dir, "/tmp/tmux-1000", 1000, name_of));
  CHECK(*TrustProblem(socket, nullptr, "/tmp/tmux-1000", 1000, name_of) ==
        "its directory /tmp/tmux-1000 is gone");
  FileInfo other_dir = dir;
  other_dir.kind = FileInfo::Kind::kOther;
  CHECK(*TrustProblem(socket, &other_dir, "/x", 1000, name_of) ==
        "its directory /x is not a directory");
  FileInfo tmp{FileInfo::Kind::kDirectory, 0, {}, 0, 01777};
  CHECK_FALSE(AncestorProblem(tmp, "/tmp", 1000, name_of));
  FileInfo home{FileInfo::Kind::kDirectory, 0, {}, 1000, 0755};
  CHECK_FALSE(AncestorProblem(home, "/home/hermes", 1000, name_of));
  home.mode = 0775;
  CHECK(AncestorProblem(home, "/home/hermes", 1000, name_of));
  home.mode = 0755;
  home.owner = 1001;
  CHECK(AncestorProblem(home, "/home/hermes", 1000, name_of));
}

TEST_CASE("tmux check: the tmux client runs as the Hermes user, never as root") {
  Fixture f;
  f.Answer(Lines(HealthyNode()));
  SUBCASE("root drops to the Hermes user") {
    f.os.euid = 0;
    CheckResult result = f.Check();
    CHECK(result.status == Status::kOk);
    REQUIRE(f.os.programs_run_as.size() == 1);
    CHECK(f.os.programs_run_as[0] == "hermes");
    CHECK(result.details["client_user"] == "hermes");
  }
  SUBCASE("the Hermes user itself runs it as itself") {
    CHECK(f.Check().status == Status::kOk);
    REQUIRE(f.os.programs_run_as.size() == 1);
    CHECK(f.os.programs_run_as[0].empty());
  }
  SUBCASE("a third user does not talk to the Hermes user's server") {
    f.os.euid = 1234;
    CheckResult result = f.Check();
    CHECK(result.status == Status::kUnknown);
    CHECK(Has(result.summary, "belongs to hermes"));
    CHECK(Has(result.summary, "run the agent as root or as hermes"));
    CHECK(f.os.programs_run.empty());
  }
  SUBCASE("the Hermes user is root: root's own server, run as root") {
    f.hermes.user = UserInfo{"root", 0, 0, "/root"};
    f.os.users["root"] = f.hermes.user;
    f.os.owners[f.socket_dir] = 0;
    f.os.owners[f.socket] = 0;
    f.os.euid = 0;
    CHECK(f.Check().status == Status::kOk);
    REQUIRE(f.os.programs_run_as.size() == 1);
    CHECK(f.os.programs_run_as[0].empty());
  }
}

TEST_CASE("tmux check: cannot look is UNKNOWN with the reason") {
  Fixture f;
  f.os.users["operator"] = UserInfo{"operator", ::getuid(), ::getgid(), "/home/operator"};
  SUBCASE("permission denied") {
    f.Answer("", 1, "error connecting to " + f.socket + " (Permission denied)\n");
    CheckResult result = f.Check();
    CHECK(result.status == Status::kUnknown);
    CHECK(Has(result.summary, "permission denied on the tmux socket"));
    CHECK(Has(result.summary, "run the agent as root"));
    CHECK(result.details["tmux_error"] ==
          "error connecting to " + f.socket + " (Permission denied)");
    CHECK(Has(result.summary, "or as hermes (its owner)"));
  }
  SUBCASE("server refuses another user, exit code 0") {
    f.Answer("", 0, "access not allowed\n");
    CheckResult result = f.Check();
    CHECK(result.status == Status::kUnknown);
    CHECK(Has(result.summary, "does not let our user in"));
  }
  SUBCASE("timeout") {
    f.os.program = [](const std::vector<std::string>&) -> Result<ProgramRun> {
      ProgramRun run;
      run.timed_out = true;
      return run;
    };
    CheckResult result = f.Check();
    CHECK(result.status == Status::kUnknown);
    CHECK(Has(result.summary, "did not answer in time"));
  }
  SUBCASE("tmux not installed") {
    f.os.program = [](const std::vector<std::string>&) -> Result<ProgramRun> {
      return Error{"tmux: No such file or directory"};
    };
    CheckResult result = f.Check();
    CHECK(result.status == Status::kUnknown);
    CHECK(Has(result.summary, "not installed"));
  }
  SUBCASE("garbage answer") {
    f.Answer("what is this\n");
    CheckResult result = f.Check();
    CHECK(result.status == Status::kUnknown);
    CHECK(Has(result.summary, "line 1"));
  }
  SUBCASE("unknown failure keeps tmux's words") {
    f.Answer("", 1, "protocol version mismatch (client 8, server 7)\n");
    CheckResult result = f.Check();
    CHECK(result.status == Status::kUnknown);
    CHECK(Has(result.summary, "protocol version mismatch"));
  }
}

TEST_CASE("tmux check: a chat process is found under the pane's shell") {
  using namespace std::string_literals;
  Fixture f;
  f.dir.WriteFile("proc/4242/cmdline", "-bash\0"s);
  f.dir.WriteFile("proc/4242/task/4242/children", "4243 ");
  f.dir.WriteFile("proc/4243/cmdline", "python3\0/usr/local/bin/hermes\0chat\0--yolo\0"s);
  f.dir.WriteFile("proc/4500/cmdline", "-bash\0"s);
  f.Answer(Lines(HealthyNode()));
  CheckResult result = f.Check();
  CHECK(result.details["expected"]["BURN"]["chat"] == true);
  CHECK(result.details["expected"]["BURN2"]["chat"] == false);
  CHECK(result.details["expected"]["FORGE"]["chat"] == false);
}
