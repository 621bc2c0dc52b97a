// RecordListing: a node's stored records whose `t` (the time the agent signed them, RFC 3339
// UTC text) lies in a span (an hour or a day), as the records table keeps them on both stores,
// ordered by epoch and seq, at most `limit` (more: `cut`). Each is checked again now against the
// node's registered keys (its first key and those it rotated to, read through the SqlLink):
// VerifyRecord (record_verify.h) with the node's keys only, at `now`, and the stored columns
// must be what the signed record says (node, epoch, seq, prev, type, t; hash the ChainHash of
// the stored JWS). `chained`: at or below its epoch's acknowledged watermark, so counted by the
// reports. The kid is read from the JWS's protected header, whatever the verdict. ParseSpan
// reads the pages' ?hour=YYYY-MM-DDTHH or ?day=YYYY-MM-DD (exactly one). Not thread-safe: the
// WebReads of one request.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "receiver/store/sql_link.h"

namespace fleet::receiver {

struct RecordSpan {
  std::int64_t begin = 0;  // unix seconds
  std::int64_t end = 0;
  std::string label;  // "2026-11-03T14" or "2026-11-03", as asked
  bool day = false;
};

// From a raw query string: Error "hour: ..." / "day: ..." to answer 400 with.
Result<RecordSpan> ParseSpan(std::string_view query);

struct ListedRecord {
  std::int64_t epoch = 0, seq = 0;
  std::string type, t, prev, hash, jws, kid;
  std::int64_t received_at = 0;
  bool chained = false;
  bool verified = false;
  std::string reason;                  // why not verified
  std::optional<std::int64_t> minute;  // a verified heartbeat's minute
};

struct RecordListing {
  std::vector<ListedRecord> records;
  bool cut = false;
};

inline constexpr int kMaxListedRecords = 5000;

// verify: false leaves `verified`, `reason` and `minute` unset (the NDJSON download, which the
// reader verifies).
Result<RecordListing> ListRecords(SqlLink& link, const std::string& node, const RecordSpan& span,
                                  int limit, bool verify, std::int64_t now);

}  // namespace fleet::receiver
