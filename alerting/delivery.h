// Delivery: what an alert sender does once a channel answered one message, the same rules
// on the node (agent/alerts/alert_sender.h) and on the receiver. Done: the message leaves
// the outbox. Rate limited: the whole channel waits as long as the API asked (a second at
// least), its messages kept in order. Retry later (5xx, garbage, no reply) and Conflict:
// this message is tried again after the caller's backoff. Refused: a message refused for
// itself (HTTP 400), or an edit the API will not make, is set aside as failed and the
// channel goes on; a channel refused as configured (401/403/404: a bad token, a chat or
// webhook that is gone; Telegram's 400 "chat not found" too) holds every message and is
// tried again every kRefusedChannelRetry, so nothing is lost when the operator fixes it. Pure.
#pragma once

#include <chrono>
#include <string>

#include "alerting/api_answer.h"

namespace fleet::alerting {

inline constexpr std::chrono::milliseconds kRefusedChannelRetry{10 * 60 * 1000};

enum class DeliveryAction {
  kSent,          // mark it sent (with the message id, for later edits)
  kHoldChannel,   // every waiting message of the channel waits `delay`
  kRetryMessage,  // this message waits `delay`, then is tried again
  kSetAside,      // mark it failed, kept: never taken, never retried
};

struct Delivery {
  DeliveryAction action = DeliveryAction::kSent;
  std::chrono::milliseconds delay{0};
  std::string channel_state;  // for status: "ok", "rate limited", "refused", "retrying"
};

// `backoff` is the wait the caller's backoff gives for this channel's next retry.
Delivery DecideDelivery(const ApiAnswer& answer, bool edit, std::chrono::milliseconds backoff);

}  // namespace fleet::alerting
