#include "agent/daemon/check_runs.h"

#include <algorithm>

namespace fleet {

void CheckRuns::Configure(const std::map<std::string, CheckSettings>& checks, Mono now) {
  std::map<std::string, State> next;
  for (const auto& [name, settings] : checks) {
    State state;
    state.settings = settings;
    state.due = now;
    if (auto old = checks_.find(name); old != checks_.end()) {
      state.run = old->second.run + 1;
      state.ever_answered = old->second.ever_answered;
    }
    next.emplace(name, state);
  }
  checks_ = std::move(next);
}

CheckRuns::Wake CheckRuns::OnWake(Mono now) {
  Wake wake;
  wake.next = Mono::max();
  for (auto& [name, state] : checks_) {
    if (!state.answered && now >= state.answer_by) {
      state.answered = true;
      state.ever_answered = true;
      wake.timeouts.push_back(MakeResult(name, Status::kUnknown,
                                         "did not answer within its timeout of " +
                                             std::to_string(state.settings.timeout.count()) + " ms",
                                         {{"timed_out", true}}));
    }
    if (now >= state.due) {
      // The next start keeps the cadence; a wake that came late does not bring a burst.
      state.due += state.settings.interval;
      if (state.due <= now) state.due = now + state.settings.interval;
      if (!state.busy) {
        state.busy = true;
        state.answered = false;
        ++state.run;
        const Mono deadline = now + state.settings.timeout;
        state.answer_by = deadline + kGrace;
        wake.starts.push_back({name, state.run, deadline});
      }
    }
    wake.next = std::min(wake.next, state.due);
    if (!state.answered) wake.next = std::min(wake.next, state.answer_by);
  }
  return wake;
}

void CheckRuns::RunSoon(const std::string& check, Mono now) {
  auto it = checks_.find(check);
  if (it == checks_.end()) return;
  if (it->second.busy) {
    it->second.soon = true;
  } else {
    it->second.due = std::min(it->second.due, now);
  }
}

bool CheckRuns::Finish(const std::string& check, std::uint64_t run) {
  auto it = checks_.find(check);
  if (it == checks_.end() || it->second.run != run) return false;  // from before a reload
  State& state = it->second;
  state.busy = false;
  if (state.soon) {
    state.soon = false;
    state.due = Mono::min();
  }
  if (state.answered) return false;  // already answered UNKNOWN at its deadline
  state.answered = true;
  state.ever_answered = true;
  return true;
}

bool CheckRuns::AllAnswered() const {
  return std::all_of(checks_.begin(), checks_.end(),
                     [](const auto& c) { return c.second.ever_answered; });
}

}  // namespace fleet
