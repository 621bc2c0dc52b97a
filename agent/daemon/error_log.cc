#include "agent/daemon/error_log.h"

#include <spdlog/spdlog.h>

namespace fleet {

void RepeatingErrorLog::Report(const std::string& key, const std::string& message) {
  const std::string shape = Shape(message);
  auto it = entries_.find(key);
  if (it != entries_.end() && it->second.shape == shape) {
    ++it->second.count;
    return;
  }
  if (it != entries_.end() && it->second.count > 1) {
    spdlog::warn("{}: previous error repeated {} times", key, it->second.count);
  }
  spdlog::error("{}: {} (logged once while it repeats)", key, message);
  entries_[key] = Entry{shape, 1};
}

void RepeatingErrorLog::Clear(const std::string& key) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  spdlog::info("{}: recovered after {} failure{}", key, it->second.count,
               it->second.count == 1 ? "" : "s");
  entries_.erase(it);
}

std::string RepeatingErrorLog::Shape(const std::string& message) {
  std::string shape;
  for (char c : message) {
    const bool digit = c >= '0' && c <= '9';
    if (!digit) {
      shape += c;
    } else if (shape.empty() || shape.back() != '#') {
      shape += '#';
    }
  }
  return shape;
}

std::uint64_t RepeatingErrorLog::repeats(const std::string& key) const {
  auto it = entries_.find(key);
  return it == entries_.end() ? 0 : it->second.count;
}

}  // namespace fleet
