#include "agent/remedies/disk_remedy.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "base/text.h"
#include "base/units.h"

namespace fleet {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kPathsInRecord = 5;
constexpr std::chrono::seconds kCleanTime{60};

std::optional<double> Number(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

std::string Percent(double value) {
  return std::to_string(static_cast<int>(std::round(value))) + "%";
}

std::string Bytes(std::uint64_t bytes) {
  if (bytes >= (1ull << 20)) return std::to_string((bytes + (1ull << 19)) >> 20) + " MiB";
  if (bytes >= 1024) return std::to_string((bytes + 512) >> 10) + " KiB";
  return std::to_string(bytes) + " B";
}

RemedyDone RunScript(const Os& os, const UserInfo& user, const std::string& script,
                     std::chrono::seconds timeout, Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  left = std::min<std::chrono::milliseconds>(left, timeout);
  if (left.count() <= 0) return {false, "no time left for " + script};
  Result<ProgramRun> run = Error{""};
  if (os.EffectiveUid() == user.uid) {
    run = os.RunProgram({script}, left);
  } else if (os.EffectiveUid() == 0) {
    run = os.RunProgramAs(user, {script}, left);
  } else {
    return {false, "cannot run " + script + " as " + user.name +
                       ": the agent runs neither as root nor as that user"};
  }
  if (!run.ok()) return {false, script + " could not run: " + run.error()};
  if (run->timed_out) {
    return {false, script + " killed after " + FormatDuration(timeout) + " (its timeout)"};
  }
  if (run->exit_code != 0) {
    const std::string err = run->err.substr(0, run->err.find('\n'));
    return {false, script + " exited " + std::to_string(run->exit_code) +
                       (err.empty() ? "" : ": " + TruncateUtf8(err, 200))};
  }
  return {true, script + " ran as " + user.name};
}

}  // namespace

Result<std::string> ResolveCleanDir(const std::string& dir, const HermesTarget& hermes,
                                    const Os& os) {
  if (dir.empty() || dir.front() != '~') return dir;
  const std::size_t slash = dir.find('/');
  const std::string who = dir.substr(1, slash == std::string::npos ? std::string::npos : slash - 1);
  const std::string rest = slash == std::string::npos ? "" : dir.substr(slash);
  if (who.empty()) {
    if (hermes.user.home.empty())
      return Error{"the Hermes user " + hermes.user.name + " has no home"};
    return hermes.user.home + rest;
  }
  auto user = os.UserByName(who);
  if (!user) return Error{"no user " + who + " on this machine (in " + dir + ")"};
  if (user->home.empty()) return Error{"the user " + who + " has no home (in " + dir + ")"};
  return user->home + rest;
}

DiskRemedy::DiskRemedy(DiskRemedyPlan plan, HermesTarget hermes, std::shared_ptr<const Os> os)
    : plan_(std::move(plan)), hermes_(std::move(hermes)), os_(std::move(os)) {}

RemedyPlan DiskRemedy::Plan(const CheckResult& result) const {
  RemedyPlan plan;
  const auto critical = Number(result.details, "critical_used_above");
  const auto warning = Number(result.details, "warning_free_below");
  auto paths = result.details.find("paths");
  if (!critical || !warning || paths == result.details.end() || !paths->is_array()) return plan;
  const double above = plan_.above.value_or(*critical);
  for (const json& p : *paths) {
    if (!p.is_object() || !p.contains("path") || !p["path"].is_string()) continue;
    const std::string path = p["path"].get<std::string>();
    const auto used = Number(p, "used_bytes");
    const auto avail = Number(p, "available_bytes");
    if (!used || !avail || *used + *avail <= 0) continue;  // not measured: never acted on
    const double used_percent = 100.0 * *used / (*used + *avail);
    if (used_percent <= above) {
      plan.fine.push_back(path);
      continue;
    }
    RemedyTask task;
    task.target = path;
    task.action = plan_.rules.empty() ? protocol::RemedyAction::kRunScript
                                      : protocol::RemedyAction::kRemoveFiles;
    const std::string line = Percent(100 - *warning) + " used";
    task.what = plan_.rules.empty()
                    ? "run " + plan_.script + " to free " + path
                    : "remove old files on " + path + " (oldest first, until under " + line + ")";
    task.did = plan_.rules.empty() ? "ran " + plan_.script + " to free " + path
                                   : "removed old files on " + path;
    task.timeout = (plan_.rules.empty() ? std::chrono::seconds(0) : kCleanTime) +
                   (plan_.script.empty() ? std::chrono::seconds(0) : plan_.script_timeout) +
                   std::chrono::seconds(5);
    task.run = [rules = plan_.rules, script = plan_.script, timeout = plan_.script_timeout,
                user = hermes_.user, os = os_, path, goal = *warning,
                used_percent](Clock::time_point deadline) {
      std::string said;
      bool reached = false;
      if (!rules.empty()) {
        const auto clean_until =
            script.empty() ? deadline : std::min(deadline, Clock::now() + kCleanTime);
        CleanReport report = CleanOldestFirst(rules, path, goal, os->Now(), clean_until);
        for (const auto& removed : report.removed) {
          spdlog::info("remedy: removed {} ({} bytes)", removed.path, removed.bytes);
        }
        for (const auto& problem : report.problems) spdlog::warn("remedy: disk: {}", problem);
        reached = report.reached;
        if (report.rules_on_target == 0) {
          said = "no listed directory is on the file system of " + path;
        } else {
          said = "removed " + std::to_string(report.removed.size()) + " file(s), " +
                 Bytes(report.bytes);
          for (std::size_t i = 0; i < report.removed.size() && i < kPathsInRecord; ++i) {
            said += (i == 0 ? ": " : ", ") + report.removed[i].path;
          }
          if (report.removed.size() > kPathsInRecord) said += ", ...";
        }
        said += "; " + path + " " + Percent(used_percent) + " -> " +
                Percent(100 - report.free_percent) + " used";
        if (report.timed_out) said += " (stopped at the deadline)";
        for (const auto& problem : report.problems) said += "; " + problem;
      }
      if (reached || script.empty()) return RemedyDone{reached, said};
      RemedyDone ran = RunScript(*os, user, script, timeout, deadline);
      said += (said.empty() ? "" : "; then ") + ran.changed;
      if (!ran.ok) return RemedyDone{false, said};
      auto usage = os->StatVfs(path);
      if (!usage) return RemedyDone{false, said + "; cannot measure " + path + " after it"};
      const double u = static_cast<double>(usage->total_blocks - usage->free_blocks);
      const double a = static_cast<double>(usage->available_blocks);
      const double free_after = u + a > 0 ? 100.0 * a / (u + a) : 0;
      said += "; " + path + " now " + Percent(100 - free_after) + " used";
      return RemedyDone{free_after >= goal, said};
    };
    plan.tasks.push_back(std::move(task));
  }
  return plan;
}

}  // namespace fleet
