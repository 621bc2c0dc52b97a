#include "receiver/core/ingest.h"

#include "protocol/push_reply.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <span>
#include <variant>
#include <vector>

namespace fleet::receiver {
namespace {

struct Line {
  std::size_t number = 0;  // 1-based, counting empty lines too
  std::string_view text;
};

std::vector<Line> SplitLines(std::string_view body) {
  std::vector<Line> lines;
  std::size_t number = 0;
  while (!body.empty()) {
    ++number;
    auto end = body.find('\n');
    std::string_view text = body.substr(0, end);
    body.remove_prefix(end == std::string_view::npos ? body.size() : end + 1);
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    if (!text.empty()) lines.push_back({number, text});
  }
  return lines;
}

std::int64_t FloorMinute(std::int64_t unix_seconds) {
  return std::chrono::floor<std::chrono::minutes>(std::chrono::seconds{unix_seconds}).count();
}

using Rejected = RejectedLine;

std::vector<protocol::RejectedLine> WireRejected(const std::vector<Rejected>& rejected) {
  std::vector<protocol::RejectedLine> out;
  out.reserve(rejected.size());
  for (const auto& r : rejected) {
    out.push_back({static_cast<std::int64_t>(r.line), r.why.reason});
  }
  return out;
}

IngestReply ErrorReply(int status, const std::string& message,
                       const std::vector<Rejected>& rejected = {}) {
  return {status, protocol::EncodePushRefusal({message, WireRejected(rejected)}), false};
}

IngestReply StoreFailure(const std::string& what) {
  return {503, protocol::EncodePushRefusal({"storing the batch: " + what, {}}), true};
}

// Status for a batch where nothing verified.
int NothingValidStatus(const std::vector<Rejected>& rejected) {
  // The batch stops at a revoked line (PrepareBatch): that line says why.
  if (!rejected.empty() && rejected.back().why.kind == RejectKind::kRevokedKey) return 403;
  bool all_unknown = true;
  bool all_key_problems = true;
  bool any_revoked = false;
  for (const auto& r : rejected) {
    all_unknown = all_unknown && r.why.kind == RejectKind::kUnknownKey;
    any_revoked = any_revoked || r.why.kind == RejectKind::kRevokedKey;
    all_key_problems = all_key_problems && (r.why.kind == RejectKind::kUnknownKey ||
                                            r.why.kind == RejectKind::kRevokedKey);
  }
  if (all_unknown) return 401;
  if (all_key_problems && any_revoked) return 403;
  return 400;
}

struct Advance {
  Watermark mark;
  std::optional<std::int64_t> chain_break;
};

// Walks the stored chain from the watermark; stops at a missing seq or a broken link.
Result<Advance> AdvanceWatermark(RecordStore& store, const std::string& node, std::int64_t epoch,
                                 Watermark mark) {
  constexpr int kPage = 1000;
  Advance out{std::move(mark), std::nullopt};
  if (out.mark.ack_seq == 0) out.mark.ack_hash = GenesisHash();
  for (;;) {
    auto links = store.LinksFrom(node, epoch, out.mark.ack_seq + 1, kPage);
    if (!links) return Error{links.error()};
    for (const auto& link : *links) {
      if (link.seq != out.mark.ack_seq + 1) return out;
      if (link.prev != out.mark.ack_hash) {
        out.chain_break = link.seq;
        return out;
      }
      out.mark.ack_seq = link.seq;
      out.mark.ack_hash = link.hash;
    }
    if (links->size() < static_cast<std::size_t>(kPage)) return out;
  }
}

}  // namespace

PreparedBatch PrepareBatch(std::string_view body, const KeyLookup& find_key, std::int64_t now) {
  PreparedBatch batch;
  const std::vector<Line> lines = SplitLines(body);
  if (lines.empty()) {
    batch.refused = ErrorReply(400, "empty batch: send one compact JWS per line");
    return batch;
  }

  std::map<std::string, Result<std::optional<RegisteredKey>>> keys;
  std::string over_kid_budget;  // the line's kid, when it was one too many (not looked up)
  KeyLookup lookup = [&](const std::string& kid) -> Result<std::optional<RegisteredKey>> {
    auto it = keys.find(kid);
    if (it == keys.end()) {
      if (keys.size() >= kMaxKidsPerBatch) {
        over_kid_budget = kid;
        return std::optional<RegisteredKey>();
      }
      it = keys.emplace(kid, find_key(kid)).first;
    }
    return it->second;
  };

  auto& records = batch.records;
  auto& rejected = batch.rejected;
  std::map<std::int64_t, int> per_minute;  // records of the batch's node by minute of t
  for (const Line& line : lines) {
    over_kid_budget.clear();
    VerifyOutcome outcome = VerifyRecord(line.text, lookup, now);
    if (auto* why = std::get_if<Rejection>(&outcome); why != nullptr && !over_kid_budget.empty()) {
      why->reason = "kid " + over_kid_budget + " not looked up: a batch may name at most " +
                    std::to_string(kMaxKidsPerBatch) + " distinct kids";
    }
    if (auto* why = std::get_if<Rejection>(&outcome)) {
      if (why->kind == RejectKind::kStoreError) {
        batch.refused = IngestReply{503, protocol::EncodePushRefusal({why->reason, {}}), true};
        return batch;
      }
      // The batch's own node revoked: the rest of the batch waits (see the header). A
      // revoked line of another node is only one more line that does not belong.
      const bool revoked = why->kind == RejectKind::kRevokedKey &&
                           (records.empty() || why->node == records.front().node);
      if (revoked && !records.empty()) break;
      rejected.push_back({line.number, std::move(*why)});
      if (revoked) break;
      continue;
    }
    auto& record = std::get<VerifiedRecord>(outcome);
    if (!records.empty() && record.node != records.front().node) {
      rejected.push_back({line.number,
                          {RejectKind::kInvalid, "batch mixes nodes: " + record.node + " after " +
                                                     records.front().node}});
    } else if (!records.empty() && record.epoch != records.front().epoch) {
      rejected.push_back(
          {line.number,
           {RejectKind::kInvalid, "batch mixes epochs: " + std::to_string(record.epoch) +
                                      " after " + std::to_string(records.front().epoch)}});
    } else if (++per_minute[FloorMinute(record.t_unix)] > kMaxRecordsPerMinute) {
      rejected.push_back(
          {line.number,
           {RejectKind::kInvalid, "payload t: more than " + std::to_string(kMaxRecordsPerMinute) +
                                      " records of node " + record.node + " in the minute of " +
                                      record.t}});
    } else {
      const bool key_move = std::holds_alternative<protocol::KeyRotate>(record.decoded.body);
      records.push_back(std::move(record));
      batch.record_lines.push_back(line.number);
      if (key_move) break;  // the rest is signed with the new key: see the header
    }
  }
  if (records.empty()) {
    const int status = NothingValidStatus(rejected);
    const Rejected& first = status == 403 && rejected.back().why.kind == RejectKind::kRevokedKey
                                ? rejected.back()
                                : rejected.front();
    batch.refused = ErrorReply(
        status, "line " + std::to_string(first.line) + ": " + first.why.reason, rejected);
  }
  return batch;
}

IngestReply ApplyBatch(RecordStore& store, const PreparedBatch& batch, std::int64_t now) {
  if (batch.refused) return *batch.refused;
  std::span<const VerifiedRecord> records = batch.records;
  const std::string& node = records.front().node;
  const std::int64_t epoch = records.front().epoch;
  protocol::PushAck ack;
  ack.node = node;
  ack.epoch = epoch;
  std::vector<RejectedLine> rejected = batch.rejected;
  // A key_rotate ends a batch (PrepareBatch): its new key is registered before it is stored.
  const VerifiedRecord& last = records.back();
  if (const auto* rotate = std::get_if<protocol::KeyRotate>(&last.decoded.body)) {
    auto moved = store.AddRotatedKey({last.node, last.kid, rotate->new_kid, rotate->new_key,
                                      last.t_unix, last.epoch, last.seq, now});
    if (!moved) return StoreFailure(moved.error());
    if (moved->result == RotateResult::kRefused) {
      rejected.push_back({batch.record_lines.back(), {RejectKind::kInvalid, moved->refusal}});
      records = records.first(records.size() - 1);
      if (records.empty()) {
        return ErrorReply(
            400, "line " + std::to_string(rejected.back().line) + ": " + moved->refusal, rejected);
      }
    }
  }
  // Records of the node in each minute of t, stored before or by this batch: at most
  // kMaxRecordsPerMinute across batches (a record already stored is a duplicate, not one
  // more).
  std::vector<std::int64_t> minutes;
  minutes.reserve(records.size());
  for (const VerifiedRecord& record : records) minutes.push_back(FloorMinute(record.t_unix) * 60);
  auto stored_in_minute = store.CountInMinutes(node, minutes);
  if (!stored_in_minute) return StoreFailure(stored_in_minute.error());
  std::map<std::int64_t, std::int64_t> in_minute = std::move(stored_in_minute).value();
  const auto count_result = [&](InsertResult inserted, std::size_t i) {
    const VerifiedRecord& record = records[i];
    switch (inserted) {
      case InsertResult::kStored:
        ++ack.stored;
        ++in_minute[minutes[i]];
        break;
      case InsertResult::kDuplicate:
        ++ack.duplicates;
        break;
      case InsertResult::kFork:
        ack.forks.push_back(record.seq);
        break;
    }
  };
  // The usual batch stays under the bound in every minute even if all of it is new: stored
  // in one call. Otherwise one by one, since only a record actually stored counts.
  std::map<std::int64_t, std::int64_t> at_most = in_minute;
  for (std::int64_t minute : minutes) ++at_most[minute];
  const bool within_bound = std::all_of(at_most.begin(), at_most.end(), [](const auto& m) {
    return m.second <= kMaxRecordsPerMinute;
  });
  if (within_bound) {
    auto inserted = store.InsertRecords(records, now);
    if (!inserted) return StoreFailure(inserted.error());
    if (inserted->size() != records.size()) {
      return StoreFailure("the store answered for " + std::to_string(inserted->size()) + " of " +
                          std::to_string(records.size()) + " records");
    }
    for (std::size_t i = 0; i < records.size(); ++i) count_result((*inserted)[i], i);
  } else {
    for (std::size_t i = 0; i < records.size(); ++i) {
      const VerifiedRecord& record = records[i];
      if (in_minute[minutes[i]] >= kMaxRecordsPerMinute) {
        rejected.push_back({i < batch.record_lines.size() ? batch.record_lines[i] : 0,
                            {RejectKind::kInvalid, "payload t: node " + node + " already has " +
                                                       std::to_string(kMaxRecordsPerMinute) +
                                                       " records in the minute of " + record.t}});
        continue;
      }
      auto inserted = store.InsertRecord(record, now);
      if (!inserted) return StoreFailure(inserted.error());
      count_result(*inserted, i);
    }
  }
  auto mark = store.LoadWatermark(node, epoch);
  if (!mark) return StoreFailure(mark.error());
  const std::int64_t old_ack = mark->ack_seq;
  auto advanced = AdvanceWatermark(store, node, epoch, std::move(mark).value());
  if (!advanced) return StoreFailure(advanced.error());
  if (advanced->mark.ack_seq != old_ack) {
    if (auto saved = store.SaveWatermark(node, epoch, advanced->mark); !saved) {
      return StoreFailure(saved.error());
    }
  }
  auto gaps = store.MissingRanges(node, epoch, advanced->mark.ack_seq, kMaxGapRanges);
  if (!gaps) return StoreFailure(gaps.error());
  ack.ack_seq = advanced->mark.ack_seq;
  ack.gaps = std::move(*gaps);
  std::stable_sort(rejected.begin(), rejected.end(),
                   [](const Rejected& a, const Rejected& b) { return a.line < b.line; });
  ack.rejected = WireRejected(rejected);
  ack.chain_break = advanced->chain_break;
  if (!ack.forks.empty()) {
    auto max_epoch = store.MaxEpoch(node);
    if (!max_epoch) return StoreFailure(max_epoch.error());
    ack.next_epoch = *max_epoch + 1;
  }
  return {200, protocol::EncodePushAck(ack), false};
}

IngestReply IngestBatch(RecordStore& store, std::string_view body, std::int64_t now) {
  PreparedBatch batch = PrepareBatch(
      body, [&store](const std::string& kid) { return store.FindKey(kid); }, now);
  if (batch.refused) return *batch.refused;
  if (auto begun = store.Begin(); !begun) return StoreFailure(begun.error());
  IngestReply reply = ApplyBatch(store, batch, now);
  if (!reply.store_failed) {
    if (auto committed = store.Commit(); !committed) reply = StoreFailure(committed.error());
  }
  if (reply.store_failed) store.Rollback();
  return reply;
}

}  // namespace fleet::receiver
