// AlertLeases: what only one receiver at a time may do (the alert worker, the Telegram
// poller), as lease rows in the shared database: a holder takes a lease that is free or
// expired and renews it before it runs out; when it stops renewing (it died, it hangs, its
// clock stopped), the lease expires and another receiver takes it over. Renew, called inside
// the holder's write transaction, is its fence: it succeeds only while the lease is still
// the holder's and unexpired, and on PostgreSQL it keeps the lease row locked until the
// transaction ends, so no other receiver takes the lease while that transaction commits.
// Also the small values the alerting keeps (the Telegram poll offset, the poller's state).
// Uses the caller's link (one thread).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "receiver/store/sql_link.h"

namespace fleet::receiver {

inline constexpr std::string_view kWorkerLease = "worker";
inline constexpr std::string_view kPollerLease = "telegram_poller";

struct LeaseRow {
  std::string holder;
  std::int64_t expires = 0;
};

class AlertLeases {
 public:
  explicit AlertLeases(SqlLink& link) : link_(link) {}

  // true when `holder` has the lease until now + ttl (it was free, expired, or its own).
  Result<bool> Take(std::string_view name, const std::string& holder, std::int64_t now,
                    std::int64_t ttl);
  // Inside the holder's transaction: true when the lease was still its own and unexpired
  // (now it runs until now + ttl).
  Result<bool> Renew(std::string_view name, const std::string& holder, std::int64_t now,
                     std::int64_t ttl);
  // Gives the lease up (when it is the holder's), so another receiver takes it at once.
  Outcome Release(std::string_view name, const std::string& holder);
  Result<std::optional<LeaseRow>> Find(std::string_view name);

  Result<std::optional<std::string>> Value(std::string_view key);
  Outcome SetValue(std::string_view key, const std::string& value);

 private:
  SqlLink& link_;
};

// A holder name for this process: host, pid and a random part (two receivers on one host,
// a pid reused after a restart).
std::string MakeHolderName();

}  // namespace fleet::receiver
