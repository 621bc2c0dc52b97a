#include "agent/push/push_policy.h"

#include <algorithm>
#include <charconv>

#include "base/json_text.h"
#include "base/units.h"

namespace fleet {
namespace {

constexpr auto kMaxRetryAfter = std::chrono::seconds(3600);

}  // namespace

ReplyKind ClassifyReply(long http_status) {
  if (http_status == 200) return ReplyKind::kAcknowledged;
  if (http_status == 408 || http_status == 429) return ReplyKind::kRetry;
  if (http_status >= 400 && http_status < 500) return ReplyKind::kRefused;
  return ReplyKind::kRetry;
}

std::string Describe(const RejectedLine& rejected) {
  return "line " + (rejected.line > 0 ? std::to_string(rejected.line) : std::string("?")) + ": " +
         rejected.reason;
}

RefusedBatch DescribeRefusal(long http_status, std::string_view body,
                             std::chrono::milliseconds retry) {
  const std::string status = "HTTP " + std::to_string(http_status);
  auto refusal = protocol::DecodePushRefusal(body);
  std::string why = refusal ? refusal->error : PrintableAscii(body, 200);
  if (why.empty()) why = "(empty body)";
  const std::string again =
      "retrying every " + FormatDuration(std::chrono::duration_cast<std::chrono::seconds>(retry));
  if (http_status == 403) {
    return {"revoked", "the receiver refuses this node's records (" + status + "): " + why +
                           "; they stay in the spool, " + again};
  }
  return {"refused", "the receiver refused the records (" + status + ": " + why +
                         "); they stay in the spool. Check that this node's key is registered "
                         "(fleet-agent pubkey --jwk) and the upstream url; " +
                         again};
}

std::optional<std::chrono::seconds> RetryAfterDelay(std::int64_t seconds) {
  if (seconds <= 0) return std::nullopt;
  return std::min(std::chrono::seconds(seconds), kMaxRetryAfter);
}

Result<AckEffect> ApplyAck(const PushAck& ack, const std::string& node, const SentBatch& batch,
                           const SpoolHead& head) {
  if (ack.node != node) {
    return Error{"reply is for node '" + PrintableAscii(ack.node, 64) + "', not '" + node + "'"};
  }
  if (ack.epoch != batch.epoch) {
    return Error{"reply is for epoch " + std::to_string(ack.epoch) + ", the batch was epoch " +
                 std::to_string(batch.epoch)};
  }
  AckEffect effect;
  effect.remove_up_to = ack.ack_seq;
  for (const RejectedLine& rejected : ack.rejected) {
    const bool placed = rejected.line >= 1 &&
                        rejected.line <= static_cast<std::int64_t>(batch.seqs.size()) &&
                        batch.seqs[rejected.line - 1] > ack.ack_seq;
    if (placed) {
      effect.refused.push_back({batch.seqs[rejected.line - 1], rejected.reason});
    } else {
      effect.unplaced.push_back(rejected);
    }
  }
  // Set aside, a refused record is taken too: it will not be sent again.
  const bool taken_whole =
      effect.unplaced.empty() &&
      ack.stored + ack.duplicates +
              static_cast<std::int64_t>(ack.forks.size() + effect.refused.size()) >=
          batch.records;
  // A closed epoch (or one the refused records close): no record will ever extend it, so
  // whatever the receiver has taken (stored, or kept aside as a fork) may leave.
  if (batch.epoch < head.epoch || !effect.refused.empty()) effect.remove_batch = taken_whole;
  if (batch.epoch >= head.epoch && (!ack.forks.empty() || ack.ack_seq >= head.next_seq)) {
    effect.start_new_epoch = true;
    effect.new_epoch_at_least = ack.next_epoch.value_or(0);
  }
  return effect;
}

}  // namespace fleet
