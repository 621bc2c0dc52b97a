// PushPolicy: the pure rules of the push protocol (design.md, "Push protocol"), apart from
// the HTTP client and the spool so they can be tested with literals: what a receiver's
// reply means (acknowledged, retry later, refused; the reply itself is decoded by
// protocol/push_reply.h), the Retry-After delay, full-jitter exponential backoff, what an
// acknowledgement does to the spool (which records leave, which the receiver refused for good,
// whether a new epoch must start). Which hosts plain http may reach is base/loopback.h.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/backoff.h"
#include "base/result.h"
#include "protocol/push_reply.h"

namespace fleet {

// The receiver's reply is the wire contract's (protocol/push_reply.h).
using protocol::PushAck;
using protocol::RejectedLine;

enum class ReplyKind {
  kAcknowledged,  // 200: parse the acknowledgement
  kRetry,         // 408, 429, 5xx and anything unexpected: back off and send again
  kRefused,       // 400, 401, 403 and other 4xx: the receiver will not take these; retry slowly
};
ReplyKind ClassifyReply(long http_status);

// "line N: reason", for logs and status.
std::string Describe(const RejectedLine& rejected);

// A batch refused whole (400, 401, 403, other 4xx): the pusher's state and the one line it
// logs (once while it repeats) and shows. 403 is the receiver's revocation of this node: its
// reason (the refusal's error, protocol/push_reply.h) is said as it came, state "revoked".
// Others say to check the key's registration and the URL. Either way the records stay in
// the spool and the batch is tried again after `retry`.
struct RefusedBatch {
  std::string state;  // "revoked" or "refused"
  std::string message;
};
RefusedBatch DescribeRefusal(long http_status, std::string_view body,
                             std::chrono::milliseconds retry);

// The wait a Retry-After asks for, as libcurl read it (CURLINFO_RETRY_AFTER: seconds from
// now, from delay-seconds or an HTTP-date; 0 when absent or unreadable): nullopt for none,
// capped at one hour so a confused receiver cannot park the node for days.
std::optional<std::chrono::seconds> RetryAfterDelay(std::int64_t seconds);

// A batch as sent: one epoch, seqs first..last (the spool sends them in order), one record
// a line; `seqs` holds each line's seq (line N is seqs[N - 1]) when known.
struct SentBatch {
  std::int64_t epoch = 0;
  std::int64_t first_seq = 0;
  std::int64_t last_seq = 0;
  std::int64_t records = 0;
  std::vector<std::int64_t> seqs;
};

// The spool's current epoch and the seq its next record takes.
struct SpoolHead {
  std::int64_t epoch = 1;
  std::int64_t next_seq = 1;
};

struct AckEffect {
  // Records of batch.epoch with seq in [1, remove_up_to] leave the spool (0: none).
  std::int64_t remove_up_to = 0;
  // The whole batch leaves too (a closed epoch the receiver took whole).
  bool remove_batch = false;
  // The receiver holds records this spool never made (lost or restored from an old copy):
  // close the epoch and go on in max(current + 1, new_epoch_at_least).
  bool start_new_epoch = false;
  std::int64_t new_epoch_at_least = 0;
  // Records the receiver refused for good: it verified other lines of the same batch (a 200
  // reply) and named these, so the node's key and the receiver are fine and these records
  // never will be taken. They leave the spool for the refused table (Spool::SetAside); the
  // others are pushed on. (A batch refused whole, 400/401/403, names no record: it stays.)
  struct Refused {
    std::int64_t seq = 0;
    std::string reason;
    bool operator==(const Refused&) const = default;
  };
  std::vector<Refused> refused;
  // Rejected lines that name no record of the batch: the batch stays, retried slowly.
  std::vector<RejectedLine> unplaced;
};

// Checks that the acknowledgement answers this batch (same node and epoch), then decides.
// A record set aside closes its epoch (the receiver's watermark advances only along an
// unbroken prev chain, so nothing after the missing seq could ever be acknowledged); the
// rest of that epoch then leaves as any closed epoch does, once the receiver took it whole.
Result<AckEffect> ApplyAck(const PushAck& ack, const std::string& node, const SentBatch& batch,
                           const SpoolHead& head);

}  // namespace fleet
