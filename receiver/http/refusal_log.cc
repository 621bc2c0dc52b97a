#include "receiver/http/refusal_log.h"

#include <spdlog/spdlog.h>

namespace fleet::receiver {

RefusalLimiter::Decision RefusalLimiter::Admit(std::string_view kind, std::string_view peer) {
  std::lock_guard lock(mutex_);
  const auto now = clock_();
  std::string key = std::string(kind) + '|' + std::string(peer);
  auto it = pairs_.find(key);
  if (it == pairs_.end()) {
    if (pairs_.size() >= limits_.max_pairs) DropExpired(now);
    if (pairs_.size() >= limits_.max_pairs) key = std::string(kind) + "|*";  // overflow
    it = pairs_.try_emplace(key, Pair{now, 0, 0}).first;
  }
  Pair& pair = it->second;
  if (now - pair.window_start >= limits_.window) {
    pair.window_start = now;
    pair.in_window = 0;
  }
  if (pair.in_window >= limits_.burst) {
    ++pair.suppressed;
    return {};
  }
  ++pair.in_window;
  Decision decision{true, pair.suppressed};
  pair.suppressed = 0;
  return decision;
}

std::size_t RefusalLimiter::Pairs() const {
  std::lock_guard lock(mutex_);
  return pairs_.size();
}

// Pairs whose window has ended (their unreported count is dropped with them, so a flood
// cannot pin the table); overflow entries stay.
void RefusalLimiter::DropExpired(Clock::time_point now) {
  for (auto it = pairs_.begin(); it != pairs_.end();) {
    const bool expired = now - it->second.window_start >= limits_.window;
    if (expired && it->first.back() != '*') {
      it = pairs_.erase(it);
    } else {
      ++it;
    }
  }
}

void LogRefusal(std::string_view kind, std::string_view peer, const std::string& line) {
  static RefusalLimiter limiter(RefusalLimits{}, [] { return RefusalLimiter::Clock::now(); });
  const auto decision = limiter.Admit(kind, peer);
  if (!decision.log) return;
  if (decision.suppressed > 0) {
    spdlog::warn("{} more refusals ({}{}{}) not logged (over {} a minute)", decision.suppressed,
                 kind, peer.empty() ? "" : " from ", peer, RefusalLimits{}.burst);
  }
  spdlog::warn("{}", line);
}

void LogNodeRefusal(const std::string& line) { spdlog::warn("{}", line); }

}  // namespace fleet::receiver
