// IngestBatch: the receiver's rules for one pushed batch (ndjson, one compact JWS a line),
// applied to a RecordStore in one transaction, answered only after it commits.
// - Each non-empty line is verified (record_verify.h) against the receive time `now`; the
//   first valid record decides the batch's node and epoch, valid records of another node or
//   epoch are rejected.
// - A batch may name at most kMaxKidsPerBatch distinct kids: lines with another kid are
//   refused unlooked-up (an agent signs with one key; the registry is shared by everyone).
// - At most kMaxRecordsPerMinute records of a node may share one minute of t, in a batch
//   and with those already stored (ApplyBatch counts them; a duplicate is not one more): the
//   agent writes about one heartbeat and a few task or incident records a minute, so more
//   is a node inflating its figures, and the rest of that minute is refused.
// - Valid records are inserted once by (node, epoch, seq): the same hash again is a
//   duplicate, another hash a fork (kept aside, reported; the original stays).
// - The watermark ack_seq of (node, epoch) advances from its stored value, record by record,
//   only while the next seq is stored and its prev is the hash of the record before.
// - A record a revoked node signed after its revocation (record_verify.h) ends the batch:
//   neither it nor any line after it is looked at, so the records before it are stored and
//   acknowledged (a 200 that does not name it: nothing the agent should set aside for good),
//   and the agent's next push, starting at it, is refused 403 with the revocation's reason.
// - A key_rotate record (verified with both signatures, record_verify.h) ends the batch too:
//   the lines after it, signed with the new key, are not looked at (nor their kid looked up,
//   so no cache remembers it unknown); ApplyBatch registers the new key for the node
//   (RecordStore::AddRotatedKey) in the transaction that stores the record, and the agent's
//   next push, starting after it, verifies with that key. A move the registry refuses (the
//   new kid is a key already registered, the old key moved before to another) refuses that
//   record, and nothing is registered. The move is registered even when the record lands as a
//   fork: both keys signed it.
// Reply 200: a PushAck (protocol/push_reply.h), chain_break set when the seq after ack_seq
// is stored but does not link, next_epoch when forks were seen. No valid line: 403 when the
// batch stopped at a revoked line (its reason the error), 401 when every kid is unknown, 403
// when every bad line is an unknown or revoked kid and one is revoked, else 400;
// store failures 503 (each a PushRefusal). Pure apart from the store; `now` is the receive time
// (unix seconds). The rules come in two steps so many batches can share one transaction
// (group_commit.h): PrepareBatch verifies, reading only keys (on any thread, through any
// connection), and ApplyBatch writes inside a transaction the caller holds. IngestBatch is both, in
// a transaction of its own.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "receiver/core/record_store.h"

namespace fleet::receiver {

inline constexpr int kMaxGapRanges = 100;
inline constexpr std::size_t kMaxKidsPerBatch = 4;
inline constexpr int kMaxRecordsPerMinute = 120;

struct IngestReply {
  int status = 200;
  nlohmann::json body;  // the reply document ({"error":...} when status is not 200)
  // The store failed (503): the transaction holding the batch must be rolled back.
  bool store_failed = false;
};

struct RejectedLine {
  std::size_t line = 0;  // 1-based
  Rejection why;
};

// A verified batch, ready to be applied; `refused` holds the final reply when nothing in it
// can be stored (no valid line, a store failure while reading keys).
struct PreparedBatch {
  std::optional<IngestReply> refused;
  std::vector<VerifiedRecord> records;    // all of one node and epoch, in line order
  std::vector<std::size_t> record_lines;  // the body line of each record
  std::vector<RejectedLine> rejected;
};

// find_key: the registry's key of a kid (RecordStore::FindKey of some connection, perhaps
// behind an UnknownKidCache); now: the receive time, unix seconds.
PreparedBatch PrepareBatch(std::string_view body, const KeyLookup& find_key, std::int64_t now);
// Writes a prepared batch (not refused) inside the caller's transaction; its reply is only
// true once the caller commits. On store_failed the caller must roll back.
IngestReply ApplyBatch(RecordStore& store, const PreparedBatch& batch, std::int64_t now);

IngestReply IngestBatch(RecordStore& store, std::string_view body, std::int64_t now);

}  // namespace fleet::receiver
