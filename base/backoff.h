// Backoff: full-jitter exponential backoff (the AWS architecture blog's "full jitter"):
// attempt n waits uniformly in [0, min(cap, base * 2^n)]; Reset() after a success. Used by
// the pusher, the alert senders and the Telegram poller. Seeded by the caller, so tests
// can repeat a sequence. Not thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace fleet {

class Backoff {
 public:
  Backoff(std::chrono::milliseconds base, std::chrono::milliseconds cap, std::uint64_t seed);
  std::chrono::milliseconds Next();
  void Reset() { attempt_ = 0; }
  int attempt() const { return attempt_; }

 private:
  std::chrono::milliseconds base_;
  std::chrono::milliseconds cap_;
  int attempt_ = 0;
  std::mt19937_64 random_;
};

}  // namespace fleet
