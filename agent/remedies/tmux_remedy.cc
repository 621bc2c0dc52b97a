#include "agent/remedies/tmux_remedy.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <thread>
#include <utility>

#include "base/text.h"

namespace fleet {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

std::string Text(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string Join(const std::vector<std::string>& parts, const std::string& between) {
  std::string text;
  for (const auto& part : parts) text += (text.empty() ? "" : between) + part;
  return text;
}

std::chrono::milliseconds Left(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return std::max(left, std::chrono::milliseconds(0));
}

// Runs tmux on `socket` as the server's user.
class TmuxClient {
 public:
  TmuxClient(std::shared_ptr<const Os> os, UserInfo user, std::string socket)
      : os_(std::move(os)), user_(std::move(user)), socket_(std::move(socket)) {}

  Result<ProgramRun> Run(std::vector<std::string> args, Clock::time_point deadline) const {
    std::vector<std::string> argv{"tmux", "-S", socket_};
    argv.insert(argv.end(), args.begin(), args.end());
    const auto left = Left(deadline);
    if (left.count() == 0) return Error{"no time left before the deadline"};
    if (os_->EffectiveUid() == user_.uid) return os_->RunProgram(argv, left);
    if (os_->EffectiveUid() == 0) return os_->RunProgramAs(user_, argv, left);
    return Error{"the agent runs neither as root nor as " + user_.name +
                 " (the tmux server's user): it cannot act on its tmux"};
  }

  // Empty when it ran and exited 0; else why not, in one line.
  std::string Failure(const Result<ProgramRun>& run, const std::string& what) const {
    if (!run.ok()) return what + ": " + run.error();
    if (run->timed_out) return what + ": tmux did not answer by the deadline";
    if (run->exit_code != 0) {
      std::string err = run->err.substr(0, run->err.find('\n'));
      return what + " failed (exit " + std::to_string(run->exit_code) + ")" +
             (err.empty() ? "" : ": " + TruncateUtf8(err, 200));
    }
    return "";
  }

 private:
  std::shared_ptr<const Os> os_;
  UserInfo user_;
  std::string socket_;
};

// A command that dies at once leaves a dead pane, or no session: it must still run a
// moment later for the action to count.
constexpr std::chrono::milliseconds kSettle{500};

void Settle(Clock::time_point deadline) {
  std::this_thread::sleep_for(std::min<Clock::duration>(kSettle, Left(deadline)));
}

// Empty when the pane runs (pane_dead 0); else what is wrong. `window` as tmux -t takes
// it ("=BURN2:", "BURN:1"); `pane` its index, or -1 for the window's first pane.
// list-panes, not display-message: tmux 3.3 answers display-message for a target that
// does not exist with exit 0.
std::string StillRunning(const TmuxClient& tmux, const std::string& window, int pane,
                         Clock::time_point deadline) {
  auto panes = tmux.Run({"list-panes", "-t", window, "-F", "#{pane_index} #{pane_dead}"}, deadline);
  if (panes.ok() && !panes->timed_out && panes->exit_code != 0) {
    return "it is gone already (its command exited at once, remain-on-exit off)";
  }
  if (auto why = tmux.Failure(panes, "then list-panes " + window); !why.empty()) return why;
  std::size_t at = 0;
  while (at < panes->out.size()) {
    const std::size_t end = std::min(panes->out.find('\n', at), panes->out.size());
    const std::string line = panes->out.substr(at, end - at);
    at = end + 1;
    const std::size_t space = line.find(' ');
    if (space == std::string::npos) continue;
    if (pane >= 0 && line.substr(0, space) != std::to_string(pane)) continue;
    return line.substr(space + 1) == "1" ? "its command exited at once: the pane is dead" : "";
  }
  return "the pane is gone already";
}

// "BURN:0.3" -> ("BURN:0", 3); no pane index: (target, -1).
std::pair<std::string, int> SplitPane(const std::string& target) {
  const std::size_t colon = target.rfind(':');
  const std::size_t dot = target.rfind('.');
  if (dot == std::string::npos || (colon != std::string::npos && dot < colon)) {
    return {target, -1};
  }
  return {target.substr(0, dot), std::atoi(target.c_str() + dot + 1)};
}

RemedyDone CreateSession(const TmuxClient& tmux, const std::string& name,
                         const std::string& command, Clock::time_point deadline) {
  auto made = tmux.Run({"new-session", "-d", "-s", name, command}, deadline);
  if (auto why = tmux.Failure(made, "new-session " + name); !why.empty()) return {false, why};
  Settle(deadline);
  if (auto why = StillRunning(tmux, "=" + name + ":", -1, deadline); !why.empty()) {
    return {false, "session " + name + " created, running `" + command + "`, but " + why};
  }
  return {true, "session " + name + " created, running `" + command + "`"};
}

RemedyDone RespawnPanes(const TmuxClient& tmux, const std::vector<std::string>& panes,
                        const std::string& command, Clock::time_point deadline) {
  std::string done;
  for (const auto& pane : panes) {
    // No -k: tmux refuses a pane whose process is alive ("still active").
    auto run = tmux.Run({"respawn-pane", "-t", pane, command}, deadline);
    if (auto why = tmux.Failure(run, "respawn-pane " + pane); !why.empty()) {
      if (run.ok() && run->err.find("still active") != std::string::npos) {
        why = "pane " + pane + " is alive again: left alone";
      }
      return {false, done + why};
    }
    done += "pane " + pane + " respawned, ";
  }
  Settle(deadline);
  for (const auto& pane : panes) {
    const auto [window, index] = SplitPane(pane);
    if (auto why = StillRunning(tmux, window, index, deadline); !why.empty()) {
      return {false, done + "running `" + command + "`, but " + pane + ": " + why};
    }
  }
  return {true, done + "running `" + command + "`"};
}

RemedyDone Interrupt(const TmuxClient& tmux, const std::string& target, const std::string& command,
                     std::chrono::seconds stuck_after, std::int64_t now_unix,
                     Clock::time_point deadline) {
  // Still stuck? Output since the check looked means it is busy: leave it.
  auto activity = tmux.Run({"list-panes", "-t", target, "-F", "#{window_activity}"}, deadline);
  if (auto why = tmux.Failure(activity, "list-panes " + target); !why.empty()) {
    return {false, why};
  }
  const long long last = std::atoll(activity->out.c_str());
  if (last <= 0 || now_unix - last < stuck_after.count()) {
    return {false, target + " printed output again: left alone"};
  }
  auto interrupted = tmux.Run({"send-keys", "-t", target, "C-c"}, deadline);
  if (auto why = tmux.Failure(interrupted, "send-keys C-c " + target); !why.empty()) {
    return {false, why};
  }
  std::this_thread::sleep_for(std::min<Clock::duration>(std::chrono::seconds(1), Left(deadline)));
  auto typed = tmux.Run({"send-keys", "-t", target, "-l", command}, deadline);
  if (auto why = tmux.Failure(typed, "send-keys " + target); !why.empty()) return {false, why};
  auto entered = tmux.Run({"send-keys", "-t", target, "Enter"}, deadline);
  if (auto why = tmux.Failure(entered, "send-keys Enter " + target); !why.empty()) {
    return {false, why};
  }
  return {true, "C-c sent to " + target + " (idle " + std::to_string(now_unix - last) +
                    " s), then `" + command + "`"};
}

}  // namespace

TmuxRemedy::TmuxRemedy(TmuxRemedySettings settings, HermesTarget hermes,
                       std::shared_ptr<const Os> os)
    : settings_(std::move(settings)),
      hermes_(std::move(hermes)),
      os_(std::move(os)),
      may_start_server_(!os_->GetEnv("INVOCATION_ID").has_value()) {}

RemedyPlan TmuxRemedy::Plan(const CheckResult& result) const {
  RemedyPlan plan;
  const std::string socket = Text(result.details, "socket");
  if (socket.empty()) return plan;
  auto expected_it = result.details.find("expected");
  const json expected = expected_it != result.details.end() && expected_it->is_object()
                            ? *expected_it
                            : json::object();
  // CRITICAL with nothing examined: no server at all (socket gone, server not running).
  const bool no_server = result.status == Status::kCritical && expected.empty();
  if (no_server && !may_start_server_) {
    for (const auto& [name, command] : settings_.sessions) plan.bad.push_back(name);
    plan.note =
        "no automatic start: there is no tmux server, and one started by the agent would live "
        "in the agent's service (its sandbox, its cgroup); start it as " +
        hermes_.user.name + " (or run `fleet-agent fix` from a shell)";
    return plan;
  }
  const TmuxClient tmux(os_, hermes_.user, socket);
  for (const auto& [name, command] : settings_.sessions) {
    auto it = expected.find(name);
    const bool examined = it != expected.end() && it->is_object();
    if (!examined && !no_server) continue;  // the check did not look at it: nothing known
    const json entry = examined ? *it : json::object();
    const auto panes = entry.value("panes", json(0));
    const bool missing = no_server || (panes.is_number_unsigned() && panes.get<unsigned>() == 0) ||
                         (panes.is_number_integer() && panes.get<long long>() <= 0);
    std::vector<std::string> dead;
    if (auto d = entry.find("dead_panes"); d != entry.end() && d->is_array()) {
      for (const auto& pane : *d) {
        if (pane.is_string()) dead.push_back(pane.get<std::string>());
      }
    }
    const auto idle = entry.value("idle_seconds", json());
    const bool stuck = settings_.stuck_after && idle.is_number_integer() &&
                       idle.get<long long>() >= settings_.stuck_after->count();
    RemedyTask task;
    task.target = name;
    if (missing) {
      task.action = protocol::RemedyAction::kCreateSession;
      task.what = "create tmux session " + name;
      task.did = "created tmux session " + name;
      task.run = [tmux, name, command](Clock::time_point deadline) {
        return CreateSession(tmux, name, command, deadline);
      };
    } else if (!dead.empty()) {
      task.action = protocol::RemedyAction::kRespawnPane;
      task.what = "respawn the dead pane" + std::string(dead.size() > 1 ? "s " : " ") +
                  Join(dead, ", ") + " of " + name;
      task.did = "respawned the dead pane" + std::string(dead.size() > 1 ? "s " : " ") +
                 Join(dead, ", ") + " of " + name;
      task.run = [tmux, dead, command](Clock::time_point deadline) {
        return RespawnPanes(tmux, dead, command, deadline);
      };
    } else if (stuck) {
      const std::string session = Text(entry, "session");
      const auto window = entry.value("window", json());
      if (session.empty()) continue;
      const std::string target =
          session + ":" + (window.is_number_integer() ? std::to_string(window.get<int>()) : "");
      task.action = protocol::RemedyAction::kInterruptPane;
      task.what = "interrupt the stuck " + name + " (C-c, then its command)";
      task.did = "interrupted the stuck " + name + " (C-c, then its command)";
      task.run = [tmux, target, command, stuck_after = *settings_.stuck_after,
                  os = os_](Clock::time_point deadline) {
        const auto now =
            std::chrono::duration_cast<std::chrono::seconds>(os->Now().time_since_epoch()).count();
        return Interrupt(tmux, target, command, stuck_after, now, deadline);
      };
    } else {
      plan.fine.push_back(name);
      continue;
    }
    plan.tasks.push_back(std::move(task));
  }
  return plan;
}

}  // namespace fleet
