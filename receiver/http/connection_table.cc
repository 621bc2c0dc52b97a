#include "receiver/http/connection_table.h"

#include <limits>
#include <tuple>
#include <utility>

namespace fleet::receiver {

std::chrono::milliseconds BodyAllowance(std::uint64_t length, const ConnectionLimits& limits) {
  const std::uint64_t rate = limits.min_body_rate > 0 ? limits.min_body_rate : 1;
  const std::uint64_t ms = length / rate * 1000 + length % rate * 1000 / rate;
  return limits.body_grace + std::chrono::milliseconds(ms);
}

ConnectionTable::Admission ConnectionTable::Admit(const std::string& peer, Clock::time_point now,
                                                  std::function<void()> close) {
  std::lock_guard lock(mutex_);
  Admission admission;
  auto peer_it = per_peer_.find(peer);
  if (limits_.max_per_peer > 0 && peer_it != per_peer_.end() &&
      peer_it->second >= limits_.max_per_peer) {
    admission.verdict = Verdict::kPeerLimit;
    return admission;
  }
  if (static_cast<int>(entries_.size()) >= limits_.max_connections) {
    auto victim = ChooseVictim(now);
    if (!victim) {
      admission.verdict = Verdict::kFull;
      return admission;
    }
    auto it = entries_.find(*victim);
    admission.close_victim = std::move(it->second.close);
    Remove(it);
  }
  admission.verdict = Verdict::kAdmitted;
  admission.id = next_id_++;
  entries_.emplace(admission.id, Entry{peer, ConnectionPhase::kFresh, now, 0, std::move(close)});
  ++per_peer_[peer];
  return admission;
}

void ConnectionTable::Enter(Id id, ConnectionPhase phase, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  it->second.phase = phase;
  it->second.since = now;
  it->second.body_bytes = 0;
}

void ConnectionTable::AddBodyBytes(Id id, std::uint64_t bytes) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(id);
  if (it != entries_.end()) it->second.body_bytes += bytes;
}

void ConnectionTable::Release(Id id) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(id);
  if (it != entries_.end()) Remove(it);
}

int ConnectionTable::Size() const {
  std::lock_guard lock(mutex_);
  return static_cast<int>(entries_.size());
}

int ConnectionTable::PeerCount(const std::string& peer) const {
  std::lock_guard lock(mutex_);
  auto it = per_peer_.find(peer);
  return it == per_peer_.end() ? 0 : it->second;
}

void ConnectionTable::Remove(std::unordered_map<Id, Entry>::iterator it) {
  auto peer_it = per_peer_.find(it->second.peer);
  if (peer_it != per_peer_.end() && --peer_it->second <= 0) per_peer_.erase(peer_it);
  entries_.erase(it);
}

// Ranks every evictable connection by (class, key, id) and takes the smallest: the class
// is the order in the header's contract; the key is the body rate for bodies (slowest
// first) and the phase's start for the others (oldest first); the id breaks ties (older).
std::optional<ConnectionTable::Id> ConnectionTable::ChooseVictim(Clock::time_point now) const {
  std::optional<Id> best;
  std::tuple<int, double, Id> best_rank{std::numeric_limits<int>::max(), 0, 0};
  for (const auto& [id, entry] : entries_) {
    const double age_s = std::chrono::duration<double>(now - entry.since).count();
    std::tuple<int, double, Id> rank;
    switch (entry.phase) {
      case ConnectionPhase::kHandling:
        continue;
      case ConnectionPhase::kLinger:
        rank = {0, -age_s, id};
        break;
      case ConnectionPhase::kBody: {
        const double rate = static_cast<double>(entry.body_bytes) / (age_s > 1e-3 ? age_s : 1e-3);
        const double paced_s = age_s - std::chrono::duration<double>(limits_.body_grace).count();
        const bool behind = paced_s > 0 && static_cast<double>(entry.body_bytes) <
                                               static_cast<double>(limits_.min_body_rate) * paced_s;
        rank = {behind ? 1 : 3, rate, id};
        break;
      }
      case ConnectionPhase::kFresh:
        rank = {2, -age_s, id};
        break;
      case ConnectionPhase::kIdle:
        rank = {4, -age_s, id};
        break;
    }
    if (!best || rank < best_rank) {
      best = id;
      best_rank = rank;
    }
  }
  return best;
}

}  // namespace fleet::receiver
