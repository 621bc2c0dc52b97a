// UnknownKidCache: remembers, for kTtlSeconds, the kids the key registry did not know, so a
// flood of made-up kids costs the registry (and the lock callers hold around it) one lookup
// per kid and minute instead of one per record. Known keys, revoked or not, are never kept:
// a revocation takes effect at the next lookup. At most kCapacity kids are kept; when full,
// the oldest goes. A kid registered while remembered as unknown is refused until its entry
// expires (the agent retries). Safe for concurrent use from many threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

#include "receiver/core/record_verify.h"

namespace fleet::receiver {

class UnknownKidCache {
 public:
  static constexpr std::size_t kCapacity = 4096;
  static constexpr std::int64_t kTtlSeconds = 60;

  // The key of kid through find_key, unless kid was unknown to it less than kTtlSeconds
  // before now (unix seconds); then unknown at once.
  Result<std::optional<RegisteredKey>> Find(const std::string& kid, std::int64_t now,
                                            const KeyLookup& find_key);
  std::size_t Size() const;

 private:
  bool RememberedUnknown(const std::string& kid, std::int64_t now);
  void RememberUnknown(const std::string& kid, std::int64_t now);

  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::int64_t> expires_;   // kid -> unix seconds
  std::deque<std::pair<std::string, std::int64_t>> order_;  // oldest first, as inserted
};

}  // namespace fleet::receiver
