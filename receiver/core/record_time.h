// Record times: the RFC 3339 UTC form the agent writes ("2026-11-25T10:00:00Z", exactly
// that: four-digit year, seconds, no fraction, no offset but Z), read strictly into Unix
// seconds with <chrono>'s civil calendar, and the bound on how far ahead of the receiver's
// clock a record may be dated. Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace fleet::receiver {

// A record's t (or a heartbeat's minute) more than this ahead of the receive time is
// refused: a node's clock a few minutes fast still gets through, next month's minutes do not.
inline constexpr std::int64_t kMaxFutureSeconds = 300;

// Unix seconds of "YYYY-MM-DDTHH:MM:SSZ"; nullopt for anything else (other forms, a date
// that does not exist, hour 24, second 60).
std::optional<std::int64_t> ParseRecordTime(std::string_view text);

}  // namespace fleet::receiver
