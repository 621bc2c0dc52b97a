// Push reply: what a receiver answers to a pushed batch (design.md "Push protocol"), the
// other half of the wire contract. 200 carries a PushAck: node, epoch, ack_seq (everything
// up to it durably stored), gaps, stored, duplicates, forks, rejected lines, and
// chain_break and next_epoch when they apply. Any other status carries a PushRefusal: the
// error and, when lines were verified and refused, those lines. Encode and decode side by
// side; DecodePushAck takes at most 1 MiB of depth-limited JSON, checks every field's type
// and range, ignores fields it does not know (a newer receiver may add some) and cuts a
// rejected line's reason to 200 printable characters; DecodePushRefusal does the same for a
// refusal, its error cut to kMaxRefusalChars (a revocation's reason rides in it). Pure;
// never throws.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace fleet::protocol {

inline constexpr std::size_t kMaxPushReplyBytes = 1 << 20;
inline constexpr std::size_t kMaxRefusalChars = 600;

// A line of a batch the receiver would not take.
struct RejectedLine {
  std::int64_t line = 0;  // 1-based line of the batch; 0 when the reply did not say
  std::string reason;
  bool operator==(const RejectedLine&) const = default;
};

struct PushAck {
  std::string node;
  std::int64_t epoch = 0;
  std::int64_t ack_seq = 0;
  std::vector<std::pair<std::int64_t, std::int64_t>> gaps;  // inclusive ranges it misses
  std::int64_t stored = 0;
  std::int64_t duplicates = 0;
  std::vector<std::int64_t> forks;  // seqs it holds a different record for
  std::vector<RejectedLine> rejected;
  std::optional<std::int64_t> chain_break;  // the seq after ack_seq: stored, not linking
  std::optional<std::int64_t> next_epoch;   // with forks: where the node should go on
};

struct PushRefusal {
  std::string error;
  std::vector<RejectedLine> rejected;
};

nlohmann::json EncodePushAck(const PushAck& ack);
nlohmann::json EncodePushRefusal(const PushRefusal& refusal);
Result<PushAck> DecodePushAck(std::string_view body);
Result<PushRefusal> DecodePushRefusal(std::string_view body);

}  // namespace fleet::protocol
