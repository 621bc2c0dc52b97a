#include "alerting/delivery.h"

#include <algorithm>

namespace fleet::alerting {

Delivery DecideDelivery(const ApiAnswer& answer, bool edit, std::chrono::milliseconds backoff) {
  using std::chrono::milliseconds;
  switch (answer.verdict) {
    case ApiVerdict::kDone:
      return {DeliveryAction::kSent, milliseconds(0), "ok"};
    case ApiVerdict::kRateLimited:
      return {DeliveryAction::kHoldChannel, std::max(answer.retry_after, milliseconds(1000)),
              "rate limited"};
    case ApiVerdict::kRefused:
      // Telegram answers a chat that no longer exists (deleted, the bot removed) with 400
      // "chat not found": the channel, not this message, is refused.
      if (answer.http_status == 400 && answer.error.find("chat not found") != std::string::npos) {
        return {DeliveryAction::kHoldChannel, kRefusedChannelRetry, "refused"};
      }
      if (answer.http_status == 400 || edit)
        return {DeliveryAction::kSetAside, milliseconds(0), "ok"};
      return {DeliveryAction::kHoldChannel, kRefusedChannelRetry, "refused"};
    case ApiVerdict::kRetryLater:
    case ApiVerdict::kConflict:
      break;
  }
  return {DeliveryAction::kRetryMessage, backoff, "retrying"};
}

}  // namespace fleet::alerting
