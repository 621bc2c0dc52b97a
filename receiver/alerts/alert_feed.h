// AlertFeed: what the alert worker reads of the records the receiver stored, in arrival
// order, from a cursor it saves. Only chained, acknowledged records are read (at or below
// their epoch's watermark, which advances only along an unbroken prev chain, in commit
// order on either store: the watermark row is locked by each batch), so a cursor per
// (node, epoch) never skips a record, even when several receivers commit at once:
// Advanced() lists the (node, epoch) whose watermark is past the worker's cursor; Events()
// gives the incidents, acknowledgements and maintenance windows of such a range by seq, each
// with its receive time; LatestLiveBeat() the last heartbeat of the range that arrived live
// (receiver/core/live_arrival.h), for the silent-node rule. The caller saves the cursor
// (SaveCursor) in the transaction that applies what it read. Uses the caller's link.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "receiver/store/sql_link.h"

namespace fleet::receiver {

// Seqs (after, upto] of one node's epoch.
struct FeedRange {
  std::string node;
  std::int64_t epoch = 0;
  std::int64_t after = 0;
  std::int64_t upto = 0;
  bool more = false;  // the watermark is past upto: the rest comes next time
};

struct FeedEvent {
  enum class Kind { kIncident, kAck, kMaintenance };
  Kind kind = Kind::kIncident;
  std::int64_t seq = 0;
  std::int64_t received_at = 0;
  // kIncident (an incident record: written when it opens and again when it closes)
  std::int64_t incident = 0;  // the node's incident id; kAck: the incident it acknowledges
  std::string check;
  std::int64_t opened = 0;
  std::optional<std::int64_t> closed;
  std::string summary;
  // kAck
  std::int64_t at = 0;
  std::string by;
  std::string via;
  std::optional<std::string> note;
  // kMaintenance
  std::int64_t from = 0;
  std::int64_t until = 0;
};

struct LiveBeat {
  std::int64_t received_at = 0;
  std::int64_t minute = 0;  // the minute it covers (unix seconds of its start)
};

class AlertFeed {
 public:
  explicit AlertFeed(SqlLink& link) : link_(link) {}

  // Every (node, epoch) with records past the cursor: after = the cursor, upto = the
  // watermark, cut to at most `chunk` seqs (the rest comes next time).
  Result<std::vector<FeedRange>> Advanced(std::int64_t chunk);
  Result<std::vector<FeedEvent>> Events(const FeedRange& range);
  Result<std::optional<LiveBeat>> LatestLiveBeat(const FeedRange& range,
                                                 std::int64_t live_within_s);
  Outcome SaveCursor(const std::string& node, std::int64_t epoch, std::int64_t seq);

 private:
  SqlLink& link_;
};

}  // namespace fleet::receiver
