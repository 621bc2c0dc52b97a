// IngestBatch: the receiver's rules for one pushed batch (ndjson, one compact JWS a line),
// applied to a RecordStore in one transaction, answered only after it commits.
// - Each non-empty line is verified (record_verify.h); the first valid record decides the
//   batch's node and epoch, valid records of another node or epoch are rejected.
// - Valid records are inserted once by (node, epoch, seq): the same hash again is a
//   duplicate, another hash a fork (kept aside, reported; the original stays).
// - The watermark ack_seq of (node, epoch) advances from its stored value, record by record,
//   only while the next seq is stored and its prev is the hash of the record before.
// Reply 200 {"node","epoch","ack_seq","gaps","stored","duplicates","forks","rejected"}
// plus "chain_break" (the seq after ack_seq when stored but not linking) and "next_epoch"
// (when forks were seen). No valid line: 401 when every kid is unknown, 403 when every
// bad line is an unknown or revoked kid and one is revoked, else 400; store failures 503.
// Pure apart from the store; `now` is the receive time (unix seconds).
#pragma once

#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "receiver/core/record_store.h"

namespace fleet::receiver {

inline constexpr int kMaxGapRanges = 100;

struct IngestReply {
  int status = 200;
  nlohmann::json body;  // the reply document ({"error":...} when status is not 200)
};

IngestReply IngestBatch(RecordStore& store, std::string_view body, std::int64_t now);

}  // namespace fleet::receiver
