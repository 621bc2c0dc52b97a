// Live or late: a record about a moment (a heartbeat about its minute, an acknowledgement
// about when it was given) arrived LIVE when the receiver got it no later than
// kLiveWithinSeconds after that moment (the minute's end, the ack's `at`); later, it came
// from a spool, held back while the node was cut off (or by its operator), and the payout
// policy decides what it earns (receiver/report/statement.h). One rule and one allowance
// for both: the reports take the allowance as an option (`--live-within`, this by
// default); the stores judge each acknowledgement once at ingest with the default (the
// `live` column of acks). Pure.
#pragma once

#include <cstdint>

namespace fleet::receiver {

inline constexpr std::int64_t kLiveWithinSeconds = 600;

// due: the moment the record is about (unix seconds); received_at: when the receiver got it.
constexpr bool ArrivedLive(std::int64_t due, std::int64_t received_at,
                           std::int64_t live_within_s = kLiveWithinSeconds) {
  return received_at <= due + live_within_s;
}

}  // namespace fleet::receiver
