// AlertFeed: what the alert worker reads of the records the receiver stored, in arrival
// order, from a cursor it saves. Only chained, acknowledged records are read (at or below
// their epoch's watermark, which advances only along an unbroken prev chain, in commit
// order on either store: the watermark row is locked by each batch), so a cursor per
// (node, epoch) never skips a record, even when several receivers commit at once. Read()
// takes, in one read-only snapshot and a fixed handful of statements whatever the size of
// the fleet: every (node, epoch) whose watermark is past the worker's cursor (at most `chunk`
// seqs of each: the rest next time), the incidents, acknowledgements and maintenance windows
// of those ranges by seq with their receive times, and the newest heartbeat of each range when
// it arrived live (receiver/core/live_arrival.h), for the silent-node rule. The caller saves
// the cursors (SaveCursors) in the transaction that applies what it read. Uses the caller's
// link.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
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
  std::int64_t minute = 0;  // the minute it is about (unix seconds of its start)
};

struct FeedRead {
  using Key = std::pair<std::string, std::int64_t>;  // (node, epoch)
  std::vector<FeedRange> ranges;                     // by node, then epoch
  std::map<Key, std::vector<FeedEvent>> events;      // each by seq
  std::map<Key, LiveBeat> beats;                     // ranges with a live heartbeat
};

class AlertFeed {
 public:
  explicit AlertFeed(SqlLink& link) : link_(link) {}

  Result<FeedRead> Read(std::int64_t chunk, std::int64_t live_within_s);
  Outcome SaveCursors(const std::vector<FeedRange>& ranges);

 private:
  Result<FeedRead> ReadInSnapshot(std::int64_t chunk, std::int64_t live_within_s);

  SqlLink& link_;
};

}  // namespace fleet::receiver
