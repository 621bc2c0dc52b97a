#include "agent/remedies/remedy_runner.h"

#include <spdlog/spdlog.h>

#include "base/json_text.h"
#include "base/units.h"
#include "base/utc_time.h"

namespace fleet {
namespace {

using json = nlohmann::json;
using std::chrono::steady_clock;

constexpr std::size_t kRecent = 10;

std::string Join(const std::map<std::string, std::string>& notes) {
  std::string text;
  for (const auto& [target, note] : notes) text += (text.empty() ? "" : "; ") + note;
  return text;
}

}  // namespace

std::string RemedyTargetKey(const std::string& check, const std::string& target) {
  return check + ":" + target;
}

RemedyRunner::RemedyRunner(RemedyHooks hooks) : hooks_(std::move(hooks)) {}

RemedyRunner::~RemedyRunner() {
  *alive_ = false;
  Stop();
}

void RemedyRunner::Configure(RemedyMode mode, const RemedyLimits& limits,
                             std::vector<std::unique_ptr<Remedy>> remedies) {
  if (!loaded_) {
    loaded_ = true;
    auto saved = hooks_.load ? hooks_.load() : Result<std::optional<std::string>>(std::nullopt);
    if (!saved) {
      spdlog::warn("remedies: cannot read the limits' saved state ({}); counting afresh",
                   saved.error());
    } else if (*saved) {
      const json parsed = json::parse(**saved, nullptr, false);
      auto loaded = RemedyBudget::Load(parsed, limits);
      if (loaded) {
        budget_ = std::move(loaded).value();
      } else {
        spdlog::warn("remedies: {}; counting afresh", loaded.error());
      }
    }
  }
  budget_.set_limits(limits);
  mode_ = mode;
  remedies_ = std::move(remedies);
}

void RemedyRunner::Stop() { stopped_ = true; }

std::string RemedyRunner::Attempt(int attempt) const {
  return "attempt " + std::to_string(attempt) + " of " + std::to_string(budget_.limits().attempts);
}

void RemedyRunner::Observe(const CheckResult& result) {
  if (stopped_ || remedies_.empty()) return;
  Overdue(hooks_.now());
  if (result.status == Status::kUnknown) return;  // could not look: neither broken nor fixed
  for (const auto& remedy : remedies_) {
    if (remedy->Check() != result.name) continue;
    Apply(result.name, result, remedy->Plan(result));
  }
  SaveBudget();
}

void RemedyRunner::Apply(const std::string& check, const CheckResult& result, RemedyPlan plan) {
  const std::int64_t now = hooks_.now();
  for (const std::string& target : plan.fine) {
    const std::string key = RemedyTargetKey(check, target);
    budget_.Fine(key, now);
    auto awaiting = awaiting_.find(key);
    if (awaiting == awaiting_.end()) continue;
    const std::string took = FormatDuration(std::chrono::seconds(now - awaiting->second.started));
    spdlog::info("remedy: {}: {} healthy {} after the agent acted", awaiting->second.did, check,
                 took);
    Note(check, target,
         awaiting->second.did + " automatically (" + Attempt(awaiting->second.attempt) +
             "); healthy after " + took,
         false);
    awaiting_.erase(awaiting);
  }
  for (const std::string& target : plan.bad) budget_.Bad(RemedyTargetKey(check, target), now);
  if (!plan.note.empty() && plan.tasks.empty()) Note(check, "", plan.note, false);
  const bool in_maintenance = hooks_.in_maintenance && hooks_.in_maintenance();
  // All fine again: what was said stays with the alert; the next incident starts afresh.
  if (plan.tasks.empty() && plan.bad.empty() && plan.note.empty()) notes_.erase(check);
  for (RemedyTask& task : plan.tasks) {
    const std::string key = RemedyTargetKey(check, task.target);
    budget_.Bad(key, now);
    if (running_.contains(key)) continue;  // one action at a time per target
    awaiting_.erase(key);
    if (in_maintenance) {
      if (!held_for_maintenance_) {
        spdlog::info("remedies held during maintenance: not acting on {} ({})", check,
                     result.summary);
      }
      held_for_maintenance_ = true;
      continue;
    }
    held_for_maintenance_ = false;
    const RemedyBudget::Decision decision = budget_.Ask(key, now);
    if (decision.verdict == RemedyBudget::Verdict::kWait) continue;
    if (decision.verdict == RemedyBudget::Verdict::kExhausted) {
      if (budget_.Told(key)) continue;
      budget_.SetTold(key);
      const std::string attempts = std::to_string(decision.attempt);
      spdlog::warn(
          "remedy exhausted: {} attempt(s) to {} did not fix {}; the agent stops trying "
          "until it has been fine for {}: needs you",
          attempts, task.what, check, FormatDuration(budget_.limits().reset_after));
      Record(check, task.target, task.action, result.summary, std::max(decision.attempt, 1), now,
             now, protocol::RemedyOutcome::kExhausted,
             "no more attempts after " + attempts + " within " +
                 FormatDuration(budget_.limits().within) + " until it has been fine for " +
                 FormatDuration(budget_.limits().reset_after));
      Note(
          check, task.target,
          "remediation exhausted after " + attempts + " attempt(s) to " + task.what + ": needs you",
          true);
      continue;
    }
    budget_.Attempted(key, now);
    if (mode_ == RemedyMode::kDryRun) {
      spdlog::info("remedy (dry-run): would {} ({}): {}", task.what, Attempt(decision.attempt),
                   result.summary);
      Record(check, task.target, task.action, result.summary, decision.attempt, now, now,
             protocol::RemedyOutcome::kDryRun, "dry-run: would " + task.what);
      Note(check, task.target,
           "dry-run: would " + task.what + " (" + Attempt(decision.attempt) + ")", false);
      continue;
    }
    Running running{check,
                    task.what,
                    task.did.empty() ? task.what + " (done)" : task.did,
                    task.action,
                    result.summary,
                    decision.attempt,
                    now,
                    steady_clock::now() + task.timeout};
    running_[key] = running;
    spdlog::info("remedy: {} ({}): {}", task.what, Attempt(decision.attempt), result.summary);
    auto run = std::move(task.run);
    const auto deadline = running.deadline;
    hooks_.launch([alive = alive_, post = hooks_.post, now_fn = hooks_.now, run = std::move(run),
                   deadline, key, this] {
      RemedyDone done;
      try {
        done = run(deadline);
      } catch (const std::exception& e) {
        done = {false, std::string("failed unexpectedly: ") + e.what()};
      } catch (...) {
        done = {false, "failed unexpectedly"};
      }
      const std::int64_t finished = now_fn();
      post([alive, key, done, finished, this] {
        if (*alive) Finished(key, done, finished);
      });
    });
  }
}

void RemedyRunner::Finished(const std::string& key, const RemedyDone& done, std::int64_t finished) {
  auto it = running_.find(key);
  if (it == running_.end()) return;
  const Running r = it->second;
  running_.erase(it);
  const std::string target = key.substr(r.check.size() + 1);
  if (r.overdue) {
    spdlog::warn("remedy: {} ended after its deadline ({}): {}", r.what,
                 done.ok ? "worked" : "failed", done.changed);
    if (!stopped_ && hooks_.recheck) hooks_.recheck(r.check);
    return;
  }
  Record(r.check, target, r.action, r.reason, r.attempt, r.started, std::max(finished, r.started),
         done.ok ? protocol::RemedyOutcome::kSucceeded : protocol::RemedyOutcome::kFailed,
         done.changed);
  if (done.ok) {
    spdlog::info("remedy: {} done ({}): {}", r.what, Attempt(r.attempt), done.changed);
    awaiting_[key] = {r.did, r.attempt, r.started};
    Note(r.check, target, r.did + " automatically (" + Attempt(r.attempt) + "): " + done.changed,
         false);
  } else {
    spdlog::warn("remedy: {} failed ({}): {}", r.what, Attempt(r.attempt), done.changed);
    Note(r.check, target, "tried to " + r.what + " (" + Attempt(r.attempt) + "): " + done.changed,
         false);
  }
  SaveBudget();
  if (!stopped_ && hooks_.recheck) hooks_.recheck(r.check);
}

void RemedyRunner::Overdue(std::int64_t now) {
  const auto mono = steady_clock::now();
  for (auto& [key, r] : running_) {
    if (r.overdue || mono < r.deadline + hooks_.overdue_grace) continue;
    r.overdue = true;
    const std::string target = key.substr(r.check.size() + 1);
    spdlog::error(
        "remedy: {} did not end by its deadline; recorded failed, the target stays "
        "busy until it ends",
        r.what);
    Record(r.check, target, r.action, r.reason, r.attempt, r.started, std::max(now, r.started),
           protocol::RemedyOutcome::kFailed, "did not end by its deadline");
    Note(r.check, target, "tried to " + r.what + ": it did not end by its deadline", false);
  }
}

void RemedyRunner::Record(const std::string& check, const std::string& target,
                          protocol::RemedyAction action, const std::string& reason, int attempt,
                          std::int64_t started, std::int64_t finished,
                          protocol::RemedyOutcome outcome,
                          const std::optional<std::string>& changed) {
  RemediationEntry entry;
  entry.check = check;
  entry.target = target;
  entry.action = action;
  entry.reason = reason.empty() ? check : reason;
  entry.attempt = std::clamp<std::int64_t>(attempt, 1, protocol::kMaxRemedyAttempt - 1);
  entry.started = started;
  entry.finished = finished;
  entry.outcome = outcome;
  entry.changed = changed;
  if (hooks_.open_incident) entry.incident = hooks_.open_incident(check);
  recent_.push_front({{"check", check},
                      {"target", target},
                      {"action", protocol::RemedyActionName(action)},
                      {"outcome", protocol::RemedyOutcomeName(outcome)},
                      {"attempt", entry.attempt},
                      {"started", FormatUtc(started)},
                      {"changed", changed ? json(*changed) : json(nullptr)}});
  if (recent_.size() > kRecent) recent_.pop_back();
  if (!hooks_.record) return;
  if (auto written = hooks_.record(entry); !written) {
    spdlog::error("remedy: the remediation record of {} failed: {}", target, written.error());
  }
}

void RemedyRunner::Note(const std::string& check, const std::string& target, std::string text,
                        bool tell) {
  notes_[check][target] = std::move(text);
  if (hooks_.note) hooks_.note(check, Join(notes_[check]), tell);
}

void RemedyRunner::SaveBudget() {
  if (!hooks_.save) return;
  json state = budget_.Save();
  json compared = state;
  compared.erase("last_now");
  std::string text = DumpJson(compared);
  if (text == last_saved_) return;
  if (auto saved = hooks_.save(DumpJson(state)); !saved) {
    spdlog::error("remedies: cannot save the limits' state: {}", saved.error());
    return;
  }
  last_saved_ = std::move(text);
}

json RemedyRunner::Status() const {
  json running = json::array();
  for (const auto& [key, r] : running_) running.push_back(key);
  json recent = json::array();
  for (const auto& entry : recent_) recent.push_back(entry);
  return {{"mode", mode_ == RemedyMode::kDryRun ? "dry-run" : "act"},
          {"running", running},
          {"exhausted", budget_.ExhaustedTargets()},
          {"recent", recent}};
}

}  // namespace fleet
