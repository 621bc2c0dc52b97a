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
