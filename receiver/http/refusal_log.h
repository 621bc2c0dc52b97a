// The receiver's log of refusals. LogRefusal is rate-limited per (kind, peer): at most
// `burst` lines per window for each pair, the rest counted and the count logged with that
// pair's next line, so a flood from one client, or of one kind, cannot hide another
// client's refusals or another kind, and cannot flood the journal. The table of pairs is
// bounded: when it is full (after dropping pairs whose window has ended) new pairs share
// one overflow entry per kind. LogNodeRefusal is never limited: it is for what is found in
// a batch that carried at least one record verified by a registered node's key (records
// rejected beside it, forks), which an outsider without such a record cannot produce.
// RefusalLimiter is the rule, with the clock injected; the free functions use one
// process-wide limiter on the steady clock and spdlog. Thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace fleet::receiver {

struct RefusalLimits {
  int burst = 5;  // lines per (kind, peer) per window
  std::chrono::seconds window{60};
  std::size_t max_pairs = 1024;  // (kind, peer) pairs tracked at most
};

class RefusalLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  struct Decision {
    bool log = false;
    std::uint64_t suppressed = 0;  // lines of this pair not logged since its last line
  };

  RefusalLimiter(RefusalLimits limits, std::function<Clock::time_point()> clock)
      : limits_(limits), clock_(std::move(clock)) {}

  Decision Admit(std::string_view kind, std::string_view peer);
  std::size_t Pairs() const;

 private:
  struct Pair {
    Clock::time_point window_start;
    int in_window = 0;
    std::uint64_t suppressed = 0;
  };
  void DropExpired(Clock::time_point now);  // under mutex_

  const RefusalLimits limits_;
  std::function<Clock::time_point()> clock_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Pair> pairs_;
};

// One warning line for a refusal of `kind` (e.g. "413", "batch 400") from `peer` (its
// address, or "" when unknown), rate-limited as above.
void LogRefusal(std::string_view kind, std::string_view peer, const std::string& line);
// One warning line, always: a verified node's records refused, or a fork.
void LogNodeRefusal(const std::string& line);

}  // namespace fleet::receiver
