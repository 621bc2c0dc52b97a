// LogRefusal: one warning line per refused request or record, at most 20 a second; lines
// beyond that are counted and the count is logged with the next line that gets through,
// so a hostile client cannot flood the journal and an operator still sees every kind of
// refusal. Thread-safe.
#pragma once

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace fleet::receiver {

inline void LogRefusal(const std::string& line) {
  static std::mutex mutex;
  static std::chrono::steady_clock::time_point window{};
  static int in_window = 0;
  static std::uint64_t suppressed = 0;
  std::lock_guard lock(mutex);
  const auto now = std::chrono::steady_clock::now();
  if (now - window >= std::chrono::seconds(1)) {
    window = now;
    in_window = 0;
  }
  if (++in_window > 20) {
    ++suppressed;
    return;
  }
  if (suppressed > 0) {
    spdlog::warn("{} more refusals not logged (over 20 a second)", suppressed);
    suppressed = 0;
  }
  spdlog::warn("{}", line);
}

}  // namespace fleet::receiver
