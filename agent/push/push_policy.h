// PushPolicy: the pure rules of the push protocol (design.md, "Push protocol"), apart from
// the HTTP client and the spool so they can be tested with literals: what a receiver's
// reply means (acknowledged, retry later, refused), the acknowledgement's fields, the
// Retry-After header, full-jitter exponential backoff, and what an acknowledgement does to
// the spool (which records leave, whether a new epoch must start).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/core/result.h"

namespace fleet {

// The receiver's 200 reply.
struct PushAck {
  std::string node;
  std::int64_t epoch = 0;
  std::int64_t ack_seq = 0;  // everything up to here is durably stored
  std::vector<std::pair<std::int64_t, std::int64_t>> gaps;  // inclusive ranges it misses
  std::int64_t stored = 0;
  std::int64_t duplicates = 0;
  std::vector<std::int64_t> forks;         // seqs it holds a different record for
  std::vector<std::string> rejected;       // "line N: reason"
  std::optional<std::int64_t> next_epoch;  // with forks: where the node should go on
};

// Parses and checks the reply body (at most 1 MiB; JSON depth-limited); never throws.
Result<PushAck> ParsePushAck(std::string_view body);

enum class ReplyKind {
  kAcknowledged,  // 200: parse the acknowledgement
  kRetry,         // 408, 429, 5xx and anything unexpected: back off and send again
  kRefused,       // 400, 401, 403 and other 4xx: the receiver will not take these; retry slowly
};
ReplyKind ClassifyReply(long http_status);

// Retry-After: delay-seconds or an HTTP-date (RFC 9110); nullopt when absent or unreadable.
// Capped at one hour so a confused receiver cannot park the node for days.
std::optional<std::chrono::seconds> ParseRetryAfter(std::string_view value,
                                                    std::chrono::system_clock::time_point now);

// Full-jitter exponential backoff: attempt n waits uniformly in [0, min(cap, base * 2^n)].
class Backoff {
 public:
  Backoff(std::chrono::milliseconds base, std::chrono::milliseconds cap, std::uint64_t seed);
  std::chrono::milliseconds Next();
  void Reset() { attempt_ = 0; }
  int attempt() const { return attempt_; }

 private:
  std::chrono::milliseconds base_;
  std::chrono::milliseconds cap_;
  int attempt_ = 0;
  std::mt19937_64 random_;
};

// A batch as sent: one epoch, seqs first..last (the spool sends them in order).
struct SentBatch {
  std::int64_t epoch = 0;
  std::int64_t first_seq = 0;
  std::int64_t last_seq = 0;
  std::int64_t records = 0;
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
};

// Checks that the acknowledgement answers this batch (same node and epoch), then decides.
Result<AckEffect> ApplyAck(const PushAck& ack, const std::string& node, const SentBatch& batch,
                           const SpoolHead& head);

}  // namespace fleet
