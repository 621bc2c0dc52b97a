// ApiAnswer: what a chat API's reply means for the sender, the same words for every channel.
// Done: the message went (its id, for editing it later). RateLimited: the API asked to wait
// retry_after (Telegram's parameters.retry_after, Discord's retry_after or
// X-RateLimit-Reset-After): honour it, then send again. RetryLater: a 5xx, a reply that is
// not the API's (garbage, truncated, a proxy's page) or no reply: back off and send again.
// Refused: the API will not take it as configured (401/403: a bad token or webhook; 404:
// a chat or webhook that does not exist; 400: a request it rejects): not retried, told
// once (log, `status`, `check`). Conflict: Telegram's 409, another getUpdates poller uses
// this bot token: wait long, say so, never a tight loop. `error` is one line naming the
// channel's words and never a secret (a token is part of Telegram's URL, so callers redact
// transport errors with RedactSecret).
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace fleet::alerting {

enum class ApiVerdict { kDone, kRateLimited, kRetryLater, kRefused, kConflict };

struct ApiAnswer {
  ApiVerdict verdict = ApiVerdict::kRetryLater;
  std::chrono::milliseconds retry_after{0};  // kRateLimited: the wait the API asked for
  std::string message_id;                    // kDone, for a message sent: what to edit later
  std::string error;                         // every verdict but kDone
  // The reply's HTTP status (0: no reply). A sender tells a refused message (400: this
  // request will never be taken) from a refused channel (401/403/404: nothing will be).
  long http_status = 0;
};

// At most this long a wait the API asks for is honoured as asked (longer: this long).
inline constexpr std::chrono::milliseconds kMaxRetryAfter{std::chrono::hours(1)};

// `text` with every occurrence of `secret` replaced by "<redacted>" (nothing when empty).
std::string RedactSecret(std::string text, std::string_view secret);

}  // namespace fleet::alerting
