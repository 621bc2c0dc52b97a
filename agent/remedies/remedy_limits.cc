#include "agent/remedies/remedy_limits.h"

#include <algorithm>

namespace fleet {
namespace {

using json = nlohmann::json;

// More targets than this in a saved state is not ours (a node has a handful).
constexpr std::size_t kMaxSavedTargets = 10000;

}  // namespace

void RemedyBudget::FollowClock(std::int64_t now) {
  if (now >= last_now_) {
    last_now_ = now;
    return;
  }
  const std::int64_t back = last_now_ - now;
  for (auto& [name, t] : targets_) {
    for (auto& at : t.attempts) at -= back;
    if (t.last_attempt != 0) t.last_attempt -= back;
    if (t.fine_since) *t.fine_since -= back;
  }
  last_now_ = now;
}

void RemedyBudget::Forget(Target& target, std::int64_t now) const {
  const std::int64_t within = limits_.within.count();
  std::erase_if(target.attempts, [&](std::int64_t at) { return at <= now - within; });
}

RemedyBudget::Decision RemedyBudget::Ask(const std::string& name, std::int64_t now) {
  FollowClock(now);
  Target& t = targets_[name];
  Forget(t, now);
  const int made = static_cast<int>(t.attempts.size());
  if (t.exhausted || made >= limits_.attempts) {
    t.exhausted = true;
    return {Verdict::kExhausted, std::max(made, t.streak), 0};
  }
  if (t.streak > 0) {
    std::int64_t wait = limits_.backoff.count();
    for (int i = 1; i < t.streak && wait < limits_.backoff_cap.count(); ++i) wait *= 2;
    wait = std::min<std::int64_t>(wait, limits_.backoff_cap.count());
    const std::int64_t at = t.last_attempt + wait;
    if (now < at) return {Verdict::kWait, made + 1, at};
  }
  return {Verdict::kGo, made + 1, now};
}

void RemedyBudget::Attempted(const std::string& name, std::int64_t now) {
  FollowClock(now);
  Target& t = targets_[name];
  t.attempts.push_back(now);
  t.last_attempt = now;
  ++t.streak;
  t.fine_since.reset();
}

void RemedyBudget::Fine(const std::string& name, std::int64_t now) {
  FollowClock(now);
  auto it = targets_.find(name);
  if (it == targets_.end()) return;  // nothing was ever done: nothing to wipe
  Target& t = it->second;
  if (!t.fine_since) t.fine_since = now;
  if (now - *t.fine_since >= limits_.reset_after.count()) targets_.erase(it);
}

void RemedyBudget::Bad(const std::string& name, std::int64_t now) {
  FollowClock(now);
  auto it = targets_.find(name);
  if (it != targets_.end()) it->second.fine_since.reset();
}

bool RemedyBudget::Exhausted(const std::string& name) const {
  auto it = targets_.find(name);
  return it != targets_.end() && it->second.exhausted;
}

std::vector<std::string> RemedyBudget::ExhaustedTargets() const {
  std::vector<std::string> names;
  for (const auto& [name, t] : targets_) {
    if (t.exhausted) names.push_back(name);
  }
  return names;
}

bool RemedyBudget::Told(const std::string& name) const {
  auto it = targets_.find(name);
  return it != targets_.end() && it->second.told;
}

void RemedyBudget::SetTold(const std::string& name) { targets_[name].told = true; }

int RemedyBudget::AttemptsWithin(const std::string& name, std::int64_t now) const {
  auto it = targets_.find(name);
  if (it == targets_.end()) return 0;
  const std::int64_t within = limits_.within.count();
  return static_cast<int>(std::count_if(it->second.attempts.begin(), it->second.attempts.end(),
                                        [&](std::int64_t at) { return at > now - within; }));
}

json RemedyBudget::Save() const {
  json targets = json::object();
  for (const auto& [name, t] : targets_) {
    targets[name] = {{"attempts", t.attempts},
                     {"streak", t.streak},
                     {"last_attempt", t.last_attempt},
                     {"fine_since", t.fine_since ? json(*t.fine_since) : json(nullptr)},
                     {"exhausted", t.exhausted},
                     {"told", t.told}};
  }
  return {{"v", 1}, {"last_now", last_now_}, {"targets", targets}};
}

Result<RemedyBudget> RemedyBudget::Load(const json& saved, RemedyLimits limits) {
  // nlohmann's typed getters throw on a wrong type: caught here, never past this module.
  try {
    if (!saved.is_object() || saved.value("v", 0) != 1) {
      return Error{"saved remedy limits: not version 1"};
    }
    RemedyBudget budget(limits);
    budget.last_now_ = saved.at("last_now").get<std::int64_t>();
    const json& targets = saved.at("targets");
    if (!targets.is_object() || targets.size() > kMaxSavedTargets) {
      return Error{"saved remedy limits: targets is not a small object"};
    }
    for (const auto& [name, j] : targets.items()) {
      Target t;
      t.attempts = j.at("attempts").get<std::vector<std::int64_t>>();
      if (t.attempts.size() > 1000) return Error{"saved remedy limits: too many attempts"};
      t.streak = j.at("streak").get<int>();
      t.last_attempt = j.at("last_attempt").get<std::int64_t>();
      if (!j.at("fine_since").is_null()) t.fine_since = j.at("fine_since").get<std::int64_t>();
      t.exhausted = j.at("exhausted").get<bool>();
      t.told = j.at("told").get<bool>();
      budget.targets_[name] = std::move(t);
    }
    return budget;
  } catch (const std::exception& e) {
    return Error{std::string("saved remedy limits: ") + e.what()};
  }
}

}  // namespace fleet
