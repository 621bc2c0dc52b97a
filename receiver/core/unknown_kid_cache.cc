#include "receiver/core/unknown_kid_cache.h"

namespace fleet::receiver {

Result<std::optional<RegisteredKey>> UnknownKidCache::Find(const std::string& kid, std::int64_t now,
                                                           const KeyLookup& find_key) {
  if (RememberedUnknown(kid, now)) return std::optional<RegisteredKey>();
  auto found = find_key(kid);
  if (found && !found->has_value()) RememberUnknown(kid, now);
  return found;
}

std::size_t UnknownKidCache::Size() const {
  std::lock_guard lock(mutex_);
  return expires_.size();
}

bool UnknownKidCache::RememberedUnknown(const std::string& kid, std::int64_t now) {
  std::lock_guard lock(mutex_);
  auto it = expires_.find(kid);
  return it != expires_.end() && now < it->second;
}

void UnknownKidCache::RememberUnknown(const std::string& kid, std::int64_t now) {
  std::lock_guard lock(mutex_);
  // Every entry lives as long, so the oldest inserted expires first; an entry of order_
  // whose kid was remembered again since is stale and only dropped.
  auto drop_front = [&] {
    auto it = expires_.find(order_.front().first);
    if (it != expires_.end() && it->second == order_.front().second) expires_.erase(it);
    order_.pop_front();
  };
  while (!order_.empty() && order_.front().second <= now) drop_front();
  while (expires_.size() >= kCapacity && !order_.empty()) drop_front();
  expires_[kid] = now + kTtlSeconds;
  order_.emplace_back(kid, now + kTtlSeconds);
  // Stale entries (kids remembered again) must not let order_ grow without bound.
  while (order_.size() > 2 * kCapacity) drop_front();
}

}  // namespace fleet::receiver
