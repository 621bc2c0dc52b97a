#include "receiver/report/minute_map.h"

#include <algorithm>

#include "receiver/core/live_arrival.h"

namespace fleet::receiver {
namespace {

constexpr std::int64_t kDay = 86400;

// What the heartbeats claimed about one minute, as bits: none is unmeasured; an up claim
// and a down claim for the same minute are a conflict.
enum : std::uint8_t { kClaimUpLive = 1, kClaimUpLate = 2, kClaimDown = 4 };

MinuteState Fold(std::uint8_t claims) {
  const bool up = (claims & (kClaimUpLive | kClaimUpLate)) != 0;
  if ((claims & kClaimDown) && up) return MinuteState::kConflicting;
  if (claims & kClaimDown) return MinuteState::kDown;
  if (claims & kClaimUpLive) return MinuteState::kUpLive;
  if (claims & kClaimUpLate) return MinuteState::kUpLate;
  return MinuteState::kUnmeasured;
}

}  // namespace

MinuteState MinuteMap::At(std::int64_t minute) const {
  if (minute < from || minute >= to) return MinuteState::kNotRegistered;
  const auto index = static_cast<std::size_t>((minute - from) / 60);
  return index < minutes.size() ? minutes[index] : MinuteState::kNotRegistered;
}

Result<MinuteMap> MapMinutes(ReportSource& source, const NodeRegistration& node,
                             const Period& period, std::int64_t live_within_s) {
  MinuteMap map;
  map.period = period;
  // Measured from 00:00 UTC of the day it was added, until it was revoked.
  const std::int64_t from = std::max(period.begin, node.added_at - node.added_at % kDay);
  const std::int64_t to = std::min(period.end, node.revoked_at.value_or(period.end));
  if (to <= from) {
    map.from = map.to = period.begin;
    return map;
  }
  map.from = from;
  map.to = to;
  // A minute counts when it began while the node was registered (revoked mid-minute: that
  // minute is in).
  std::vector<std::uint8_t> claims(static_cast<std::size_t>((to - from + 59) / 60), 0);
  auto beats = source.ForEachHeartbeat(node.node, from, to, [&](const HeartbeatRow& beat) {
    if (beat.minute < from || beat.minute >= to) return;
    const auto index = static_cast<std::size_t>((beat.minute - from) / 60);
    if (index >= claims.size()) return;
    const std::int64_t minute_end = beat.minute + 60;
    if (beat.received_at < minute_end - kClockSkewSeconds) return;  // before the minute was over
    const bool live = ArrivedLive(minute_end, beat.received_at, live_within_s);
    claims[index] |= !beat.up ? kClaimDown : live ? kClaimUpLive : kClaimUpLate;
  });
  if (!beats) return Error{beats.error()};
  map.minutes.reserve(claims.size());
  for (std::uint8_t c : claims) map.minutes.push_back(Fold(c));
  return map;
}

std::vector<HourTally> TallyHours(const MinuteMap& map) {
  std::vector<HourTally> hours;
  const std::int64_t begin = map.period.begin - map.period.begin % 3600;
  for (std::int64_t start = begin; start < map.period.end; start += 3600) {
    hours.push_back({start, 0, 0, 0, 0, 0, 0});
  }
  for (std::size_t i = 0; i < map.minutes.size(); ++i) {
    const std::int64_t minute = map.from + static_cast<std::int64_t>(i) * 60;
    const auto index = static_cast<std::size_t>((minute - begin) / 3600);
    if (minute < begin || index >= hours.size()) continue;
    HourTally& hour = hours[index];
    ++hour.registered;
    switch (map.minutes[i]) {
      case MinuteState::kUpLate:
        ++hour.late;
        [[fallthrough]];
      case MinuteState::kUpLive:
        ++hour.up;
        break;
      case MinuteState::kConflicting:
        ++hour.conflicting;
        [[fallthrough]];
      case MinuteState::kDown:
        ++hour.down;
        break;
      case MinuteState::kUnmeasured:
      case MinuteState::kNotRegistered:
        ++hour.unmeasured;
        break;
    }
  }
  return hours;
}

}  // namespace fleet::receiver
