#include "collectors/tmux/tmux_check.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <set>

#include "base/units.h"
#include "collectors/tmux/tmux_parse.h"

namespace fleet {
namespace {

constexpr char kChat[] = "hermes chat --yolo";
constexpr std::uint64_t kMaxProcFile = 64 * 1024;
constexpr std::size_t kMaxProcessesSearched = 32;
constexpr int kMaxProcessDepth = 3;

bool Contains(const std::string& text, const char* part) {
  return text.find(part) != std::string::npos;
}

std::string FirstLine(const std::string& text) {
  std::string line = text.substr(0, text.find('\n'));
  if (line.size() > 200) line.resize(200);
  return ValidUtf8(line);
}

// Quotes a word for a shell command the operator may paste, only when it needs it.
std::string ShellWord(const std::string& word) {
  bool plain = !word.empty() && std::all_of(word.begin(), word.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::string_view("_-.:/%+@").find(c) != std::string_view::npos;
  });
  if (plain) return word;
  std::string quoted = "'";
  for (char c : word) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ", ") + name;
  return out;
}

// One expected name and the panes it stands for.
struct Match {
  std::string name;
  std::string found_as;  // "session", "window" or empty when missing
  std::vector<const TmuxPane*> panes;
};

// What the expected names turned up, each pane or window once however many names cover it.
struct Findings {
  std::vector<std::string> missing;
  std::vector<std::string> found;                         // as the OK summary lists them
  std::vector<std::pair<std::string, std::string>> dead;  // pane target, " (exit 1)"
  std::vector<std::pair<std::string, long long>> idle;    // window target, idle seconds
  std::set<std::string> panes_seen;  // distinct panes: a window may also be in its session

  void AddDead(const TmuxPane& pane) {
    const std::string target = pane.PaneTarget();
    for (const auto& [known, note] : dead) {
      if (known == target) return;
    }
    std::string note;
    if (pane.dead_status) note = " (exit " + std::to_string(*pane.dead_status) + ")";
    if (pane.dead_signal) note = " (signal " + std::to_string(*pane.dead_signal) + ")";
    dead.emplace_back(target, note);
  }
  void AddIdle(const std::string& window, long long seconds) {
    for (const auto& [known, idle_for] : idle) {
      if (known == window) return;
    }
    idle.emplace_back(window, seconds);
  }
};

Match FindName(const std::string& name, const std::vector<TmuxPane>& panes) {
  Match match{name, "", {}};
  for (const auto& pane : panes) {
    if (pane.session == name) match.panes.push_back(&pane);
  }
  if (!match.panes.empty()) {
    match.found_as = "session";
    return match;
  }
  // The first window of that name; tmux lists sessions and windows in order.
  auto first = std::find_if(panes.begin(), panes.end(),
                            [&](const TmuxPane& pane) { return pane.window_name == name; });
  if (first == panes.end()) return match;
  match.found_as = "window";
  for (const auto& pane : panes) {
    if (pane.session == first->session && pane.window_index == first->window_index) {
      match.panes.push_back(&pane);
    }
  }
  return match;
}

// Is a Hermes chat running in the pane: its first process or one below it.
bool RunsChat(const Os& os, std::int64_t pid) {
  std::vector<std::pair<std::string, int>> queue{{std::to_string(pid), 0}};
  for (std::size_t i = 0; i < queue.size() && i < kMaxProcessesSearched; ++i) {
    const auto [id, depth] = queue[i];
    const std::string dir = os.ProcRoot() + "/" + id;
    auto cmdline = os.ReadFile(dir + "/cmdline", kMaxProcFile);
    if (cmdline.ok() && *cmdline && IsChatCommandLine(**cmdline)) return true;
    if (depth >= kMaxProcessDepth) continue;
    auto children = os.ReadFile(dir + "/task/" + id + "/children", kMaxProcFile);
    if (!children.ok() || !*children) continue;
    std::string_view rest = **children;
    while (!rest.empty()) {
      std::size_t end = std::min(rest.find(' '), rest.size());
      std::string_view child = rest.substr(0, end);
      if (!child.empty() && queue.size() < kMaxProcessesSearched &&
          std::all_of(child.begin(), child.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        queue.emplace_back(std::string(child), depth + 1);
      }
      rest.remove_prefix(std::min(end + 1, rest.size()));
    }
  }
  return false;
}

std::string SocketDirectory(const std::string& socket) {
  const std::size_t slash = socket.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : socket.substr(0, slash);
}

std::string OctalMode(unsigned mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", mode & 07777);
  return text;
}

class TmuxCheck final : public Collector {
 public:
  explicit TmuxCheck(TmuxOptions options) : options_(std::move(options)) {}
  std::string Name() const override { return "tmux"; }
  CheckResult Run(const CheckContext& context) override;

 private:
  CheckResult Finish(Status status, std::string summary) const {
    return MakeResult("tmux", status, ValidUtf8(summary), details_);
  }
  std::optional<CheckResult> ProbeSocket(const CheckContext& context);
  std::optional<CheckResult> JudgeRun(const ProgramRun& run, const HermesTarget& hermes);
  CheckResult Judge(const CheckContext& context, const std::vector<TmuxPane>& panes);
  nlohmann::json Examine(const Match& match, const CheckContext& context, Findings& findings) const;
  std::string Advice(const Findings& findings) const;

  std::string RunAs(const HermesTarget& hermes) const {
    return hermes.user.name.empty() ? "the operator user" : hermes.user.name;
  }
  std::string StartAdvice(const HermesTarget& hermes) const {
    std::string first = options_.expect.empty() ? "BURN" : options_.expect.front();
    return "as " + RunAs(hermes) + " start it: " + tmux_ + " new-session -d -s " +
           ShellWord(first) + " '" + kChat + "'";
  }
  std::string CannotLook(const HermesTarget& hermes) const {
    return "run the agent as root or as " + RunAs(hermes) + ", or set tmux.socket";
  }

  TmuxOptions options_;
  // Per run.
  std::string socket_;
  std::string socket_owner_;
  std::string tmux_;  // how the operator calls tmux for this socket, for advice
  nlohmann::json details_;
};

CheckResult TmuxCheck::Run(const CheckContext& context) {
  const std::string default_socket = DefaultTmuxSocket(context.os, context.hermes);
  socket_ = options_.socket.empty() ? default_socket : options_.socket;
  tmux_ = socket_ == default_socket ? "tmux" : "tmux -S " + ShellWord(socket_);
  details_ = {{"socket", ValidUtf8(socket_)},
              {"idle_warning_seconds", options_.idle_warning.count()},
              {"sessions", nlohmann::json::array()},
              {"expected", nlohmann::json::object()}};
  if (auto problem = ProbeSocket(context)) return *problem;

  // The tmux client obeys its server (it opens files and runs programs on request), so it
  // runs as the server's own user: root drops to the Hermes user first.
  const std::vector<std::string> argv{"tmux",       "-u", "-S", socket_,
                                      "list-panes", "-a", "-F", TmuxPanesFormat()};
  const UserInfo& owner = context.hermes.user;
  Result<ProgramRun> run = Error{""};
  if (context.os.EffectiveUid() == owner.uid) {
    run = context.os.RunProgram(argv, context.Remaining());
  } else if (context.os.EffectiveUid() == 0) {
    details_["client_user"] = ValidUtf8(owner.name);
    run = context.os.RunProgramAs(owner, argv, context.Remaining());
  } else {
    return Finish(Status::kUnknown, "the tmux server at " + ValidUtf8(socket_) + " belongs to " +
                                        RunAs(context.hermes) + ": " + CannotLook(context.hermes));
  }
  if (!run.ok()) {
    if (Contains(run.error(), "No such file")) {
      return Finish(Status::kUnknown, "cannot run tmux: not installed or not in PATH");
    }
    return Finish(Status::kUnknown, "cannot run tmux: " + run.error());
  }
  if (auto problem = JudgeRun(*run, context.hermes)) return *problem;
  auto panes = ParseTmuxPanes(run->out);
  if (!panes.ok()) return Finish(Status::kUnknown, "cannot read tmux's answer: " + panes.error());
  return Judge(context, *panes);
}

// A clear message before running tmux: no socket at all, one we may not look at, or one
// that is not provably the Hermes user's (see TrustProblem).
std::optional<CheckResult> TmuxCheck::ProbeSocket(const CheckContext& context) {
  auto info = context.os.Stat(socket_, false);
  const std::string where = ValidUtf8(socket_);
  if (!info.ok()) {
    return Finish(Status::kUnknown, "cannot look at the tmux socket (" + ValidUtf8(info.error()) +
                                        "): " + CannotLook(context.hermes));
  }
  if (!*info) {
    return Finish(Status::kCritical,
                  "no tmux server: " + where + " does not exist; " + StartAdvice(context.hermes));
  }
  if ((*info)->kind != FileInfo::Kind::kSocket && (*info)->kind != FileInfo::Kind::kSymlink) {
    return Finish(Status::kCritical, "no tmux server: " + where + " is not a socket");
  }
  const std::string dir = SocketDirectory(socket_);
  auto dir_info = context.os.Stat(dir, false);
  if (!dir_info.ok()) {
    return Finish(Status::kUnknown, "cannot look at the tmux socket's directory (" +
                                        ValidUtf8(dir_info.error()) +
                                        "): " + CannotLook(context.hermes));
  }
  const auto name_of = [&](uid_t uid) {
    auto user = context.os.UserById(uid);
    return user ? user->name : "uid " + std::to_string(uid);
  };
  if (auto problem = TrustProblem(**info, *dir_info ? &**dir_info : nullptr, dir,
                                  context.hermes.user.uid, name_of)) {
    details_["refused"] = ValidUtf8(*problem);
    return Finish(Status::kUnknown,
                  "refusing the tmux socket " + where + ": " + *problem + "; " +
                      "fleet-agent only asks a tmux server of " + RunAs(context.hermes) +
                      " (hermes.user) whose socket is in a directory only that user can change "
                      "(as tmux makes /tmp/tmux-UID)");
  }
  // Above it, nobody but root and that user may rename things (a sticky /tmp is fine).
  for (std::string above = SocketDirectory(dir);; above = SocketDirectory(above)) {
    auto ancestor = context.os.Stat(above, true);
    if (!ancestor.ok() || !*ancestor) {
      return Finish(Status::kUnknown,
                    "cannot look at " + ValidUtf8(above) + ", above the tmux socket");
    }
    if (auto problem = AncestorProblem(**ancestor, above, context.hermes.user.uid, name_of)) {
      details_["refused"] = ValidUtf8(*problem);
      return Finish(Status::kUnknown, "refusing the tmux socket " + where + ": " + *problem);
    }
    if (above == "/" || above == ".") break;
  }
  socket_owner_ = (*info)->owner == 0 ? "" : name_of((*info)->owner);
  return std::nullopt;
}

// The failures tmux reports on stderr. "access not allowed" comes with exit code 0.
std::optional<CheckResult> TmuxCheck::JudgeRun(const ProgramRun& run, const HermesTarget& hermes) {
  const std::string where = ValidUtf8(socket_);
  if (run.timed_out) {
    return Finish(Status::kUnknown, "tmux did not answer in time (server at " + where + " hung?)");
  }
  if (run.exit_code == 0 && (!run.out.empty() || run.err.empty())) return std::nullopt;
  const std::string& err = run.err;
  details_["tmux_error"] = FirstLine(err);
  if (Contains(err, "Permission denied") || Contains(err, "access not allowed")) {
    std::string why = Contains(err, "access not allowed")
                          ? "the tmux server at " + where + " does not let our user in"
                          : "permission denied on the tmux socket " + where;
    std::string owner = socket_owner_.empty() ? "" : " or as " + socket_owner_ + " (its owner)";
    return Finish(Status::kUnknown,
                  why + ": run the agent as root" + owner + ", or set tmux.socket");
  }
  if (Contains(err, "no server running") || Contains(err, "Connection refused") ||
      Contains(err, "No such file") || Contains(err, "server exited")) {
    return Finish(Status::kCritical,
                  "no tmux server running at " + where + "; " + StartAdvice(hermes));
  }
  return Finish(Status::kUnknown, "tmux list-panes failed (exit " + std::to_string(run.exit_code) +
                                      "): " + FirstLine(err));
}

// One entry of details.expected; adds what is wrong to `findings`.
nlohmann::json TmuxCheck::Examine(const Match& match, const CheckContext& context,
                                  Findings& findings) const {
  nlohmann::json entry = {{"found_as", nullptr},
                          {"session", nullptr},
                          {"window", nullptr},
                          {"panes", match.panes.size()},
                          {"dead_panes", nlohmann::json::array()},
                          {"current_command", nullptr},
                          {"idle_seconds", nullptr},
                          {"chat", false}};
  if (match.panes.empty()) {
    findings.missing.push_back(match.name);
    return entry;
  }
  const TmuxPane& first = *match.panes.front();
  const bool as_window = match.found_as == "window";
  entry["found_as"] = match.found_as;
  entry["session"] = first.session;
  if (as_window) entry["window"] = first.window_index;
  findings.found.push_back(as_window ? match.name + " (window in " + first.session + ")"
                                     : match.name);
  for (const TmuxPane* pane : match.panes) findings.panes_seen.insert(pane->PaneTarget());
  const auto now =
      std::chrono::duration_cast<std::chrono::seconds>(context.os.Now().time_since_epoch()).count();
  const TmuxPane* shown = &first;  // the pane the operator sees on attaching
  std::optional<long long> most_idle;
  bool chat = false;
  for (const TmuxPane* pane : match.panes) {
    if (pane->pane_active && (pane->window_active || as_window)) shown = pane;
    if (pane->dead) {
      entry["dead_panes"].push_back(pane->PaneTarget());
      findings.AddDead(*pane);
      continue;
    }
    const long long idle_for = std::max<long long>(0, now - pane->window_activity);
    most_idle = std::max(most_idle.value_or(0), idle_for);
    if (options_.idle_warning.count() > 0 && idle_for > options_.idle_warning.count()) {
      findings.AddIdle(pane->WindowTarget(), idle_for);
    }
    chat = chat || RunsChat(context.os, pane->pid);
  }
  entry["current_command"] = shown->current_command;
  if (most_idle) entry["idle_seconds"] = *most_idle;
  entry["chat"] = chat;
  return entry;
}

// What is wrong and the command that fixes it, worst first, one clause per kind.
std::string TmuxCheck::Advice(const Findings& findings) const {
  const std::string chat = std::string(" '") + kChat + "'";
  std::vector<std::string> clauses;
  const auto& missing = findings.missing;
  if (missing.size() == 1) {
    clauses.push_back(missing[0] + " missing; start it: " + tmux_ + " new-session -d -s " +
                      ShellWord(missing[0]) + chat);
  } else if (!missing.empty()) {
    clauses.push_back(JoinNames(missing) + " missing; start each: " + tmux_ +
                      " new-session -d -s NAME" + chat);
  }
  const auto& dead = findings.dead;
  if (dead.size() == 1) {
    clauses.push_back(dead[0].first + " pane dead" + dead[0].second + "; restart: " + tmux_ +
                      " respawn-pane -k -t " + ShellWord(dead[0].first) + chat);
  } else if (!dead.empty()) {
    std::vector<std::string> targets;
    for (const auto& [target, note] : dead) targets.push_back(target);
    clauses.push_back(JoinNames(targets) + " panes dead; restart each: " + tmux_ +
                      " respawn-pane -k -t PANE" + chat);
  }
  const auto& idle = findings.idle;
  if (!idle.empty()) {
    const std::string limit = FormatDuration(options_.idle_warning);
    std::vector<std::string> targets;
    for (const auto& [target, seconds] : idle) targets.push_back(target);
    const std::string target = idle.size() == 1 ? ShellWord(idle[0].first) : "WINDOW";
    clauses.push_back((idle.size() == 1 ? idle[0].first + " idle " +
                                              FormatDuration(std::chrono::seconds(idle[0].second)) +
                                              " (over " + limit + ")"
                                        : JoinNames(targets) + " idle over " + limit) +
                      "; if stuck: " + tmux_ + " send-keys -t " + target + " C-c; sleep 1; " +
                      tmux_ + " send-keys -t " + target + chat + " Enter");
  }
  std::string advice;
  for (const auto& clause : clauses) advice += (advice.empty() ? "" : " | ") + clause;
  return advice;
}

CheckResult TmuxCheck::Judge(const CheckContext& context, const std::vector<TmuxPane>& panes) {
  std::vector<std::string> sessions;
  for (const auto& pane : panes) {
    if (std::find(sessions.begin(), sessions.end(), pane.session) == sessions.end()) {
      sessions.push_back(pane.session);
    }
  }
  details_["sessions"] = sessions;
  Findings findings;
  for (const auto& name : options_.expect) {
    details_["expected"][ValidUtf8(name)] = Examine(FindName(name, panes), context, findings);
  }
  if (!findings.missing.empty() || !findings.dead.empty()) {
    return Finish(Status::kCritical, Advice(findings));
  }
  if (!findings.idle.empty()) return Finish(Status::kWarning, Advice(findings));
  if (options_.expect.empty()) {
    return Finish(Status::kOk, "tmux server up with " + std::to_string(sessions.size()) +
                                   " session(s); no names expected");
  }
  const std::size_t count = findings.panes_seen.size();
  return Finish(Status::kOk, "all up: " + JoinNames(findings.found) + "; " + std::to_string(count) +
                                 (count == 1 ? " pane" : " panes"));
}

}  // namespace

std::unique_ptr<Collector> MakeTmuxCheck(TmuxOptions options) {
  return std::make_unique<TmuxCheck>(std::move(options));
}

std::optional<std::string> TrustProblem(const FileInfo& socket, const FileInfo* directory,
                                        const std::string& directory_path, uid_t expected,
                                        const std::function<std::string(uid_t)>& name_of) {
  const std::string dir = ValidUtf8(directory_path);
  if (socket.kind == FileInfo::Kind::kSymlink) return std::string("it is a symbolic link");
  if (directory == nullptr) return "its directory " + dir + " is gone";
  if (directory->kind == FileInfo::Kind::kSymlink) {
    return "its directory " + dir + " is a symbolic link";
  }
  if (directory->kind != FileInfo::Kind::kDirectory) {
    return "its directory " + dir + " is not a directory";
  }
  if (directory->owner != expected) {
    return "its directory " + dir + " belongs to " + name_of(directory->owner) + ", not " +
           name_of(expected);
  }
  if ((directory->mode & 022) != 0) {
    return "its directory " + dir + " is writable by other users (mode " +
           OctalMode(directory->mode) + "; tmux makes it 0700)";
  }
  if (socket.owner != expected) {
    return "it belongs to " + name_of(socket.owner) + ", not " + name_of(expected);
  }
  return std::nullopt;
}

std::optional<std::string> AncestorProblem(const FileInfo& ancestor, const std::string& path,
                                           uid_t expected,
                                           const std::function<std::string(uid_t)>& name_of) {
  const std::string where = ValidUtf8(path);
  if (ancestor.owner != 0 && ancestor.owner != expected) {
    return where + " (above the socket) belongs to " + name_of(ancestor.owner) +
           ", who could swap the socket";
  }
  const bool sticky = (ancestor.mode & 01000) != 0;
  if ((ancestor.mode & 022) != 0 && !sticky) {
    return where + " (above the socket) is writable by other users (mode " +
           OctalMode(ancestor.mode) + "), who could swap the socket";
  }
  return std::nullopt;
}

std::string DefaultTmuxSocket(const Os& os, const HermesTarget& hermes) {
  std::string dir = os.GetEnv("TMUX_TMPDIR").value_or("/tmp");
  if (dir.empty()) dir = "/tmp";
  return dir + "/tmux-" + std::to_string(hermes.user.uid) + "/default";
}

}  // namespace fleet
