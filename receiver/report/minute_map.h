// MinuteMap: what one node's heartbeats say about each minute of a period, as the uptime
// report counts it (uptime_report.h is built on it, so the two never disagree). The node counts
// from 00:00 UTC of the day it was added until it was revoked (the minute it was revoked in
// included); outside that a minute is kNotRegistered. A heartbeat received more than
// kClockSkewSeconds before its minute ended claims time that had not passed and is not counted;
// one received within `live_within_s` after the minute's end is live (live_arrival.h), later
// ones late. The same minute claimed more than once (two epochs, a replayed spool) is counted
// once: claims that agree are up live if any came live; an up claim and a down claim are a
// conflict, counted down whatever arrived first. A registered minute no counted heartbeat
// claims is unmeasured. HourTally sums a map by UTC hour (the dashboard's heat map,
// receiver/web/node_page.h). Pure rules over a ReportSource.
#pragma once

#include <cstdint>
#include <vector>

#include "base/result.h"
#include "base/utc_time.h"
#include "receiver/report/report_source.h"

namespace fleet::receiver {

inline constexpr std::int64_t kClockSkewSeconds = 5;

enum class MinuteState : std::uint8_t {
  kNotRegistered,
  kUnmeasured,
  kUpLive,
  kUpLate,
  kDown,
  kConflicting,  // claimed up and down: counted down
};

struct MinuteMap {
  Period period;
  // The registered part of the period, [from, to): empty (from == to) when the node was not
  // registered in it. Minutes are counted from `from` (a day's start, so a minute boundary);
  // `to` may fall inside a minute (revoked mid-minute), that minute counted.
  std::int64_t from = 0;
  std::int64_t to = 0;
  std::vector<MinuteState> minutes;  // one per minute of [from, to), rounded up

  bool registered() const { return !minutes.empty(); }
  // The state of the minute starting at `minute` (unix seconds, any minute of the period).
  MinuteState At(std::int64_t minute) const;
};

// `period` must start on a day boundary (a month, a week, a day).
Result<MinuteMap> MapMinutes(ReportSource& source, const NodeRegistration& node,
                             const Period& period, std::int64_t live_within_s);

// The minutes of one UTC hour of a map, as the report would count them.
struct HourTally {
  std::int64_t start = 0;  // unix seconds of the hour's start
  std::int64_t registered = 0;
  std::int64_t up = 0;    // live and late
  std::int64_t late = 0;  // of up
  std::int64_t down = 0;  // conflicting included
  std::int64_t conflicting = 0;
  std::int64_t unmeasured = 0;
};

// Each hour of map.period, in order (a 30-day month: 720).
std::vector<HourTally> TallyHours(const MinuteMap& map);

}  // namespace fleet::receiver
