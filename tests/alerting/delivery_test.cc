#include "alerting/delivery.h"

#include <doctest/doctest.h>

using namespace fleet::alerting;
using std::chrono::milliseconds;

namespace {

ApiAnswer Answer(ApiVerdict verdict, long status, milliseconds retry_after = milliseconds(0)) {
  ApiAnswer answer;
  answer.verdict = verdict;
  answer.http_status = status;
  answer.retry_after = retry_after;
  return answer;
}

}  // namespace

TEST_CASE("done: the message leaves the outbox") {
  const Delivery d = DecideDelivery(Answer(ApiVerdict::kDone, 200), false, milliseconds(5));
  CHECK(d.action == DeliveryAction::kSent);
  CHECK(d.channel_state == "ok");
}

TEST_CASE("a rate limit holds the whole channel as long as asked, a second at least") {
  Delivery d = DecideDelivery(Answer(ApiVerdict::kRateLimited, 429, milliseconds(7000)), false,
                              milliseconds(5));
  CHECK(d.action == DeliveryAction::kHoldChannel);
  CHECK(d.delay == milliseconds(7000));
  d = DecideDelivery(Answer(ApiVerdict::kRateLimited, 429, milliseconds(0)), false,
                     milliseconds(5));
  CHECK(d.delay == milliseconds(1000));
}

TEST_CASE("a channel refused as configured holds its messages; a refused message is set aside") {
  for (long status : {401L, 403L, 404L}) {
    const Delivery d = DecideDelivery(Answer(ApiVerdict::kRefused, status), false, milliseconds(5));
    CAPTURE(status);
    CHECK(d.action == DeliveryAction::kHoldChannel);
    CHECK(d.delay == kRefusedChannelRetry);
    CHECK(d.channel_state == "refused");
  }
  CHECK(DecideDelivery(Answer(ApiVerdict::kRefused, 400), false, milliseconds(5)).action ==
        DeliveryAction::kSetAside);
  // An edit refused (the message is gone, 404 on Discord) never holds the channel.
  CHECK(DecideDelivery(Answer(ApiVerdict::kRefused, 404), true, milliseconds(5)).action ==
        DeliveryAction::kSetAside);
}

TEST_CASE("5xx, garbage and no reply: this message again after the backoff") {
  for (ApiVerdict verdict : {ApiVerdict::kRetryLater, ApiVerdict::kConflict}) {
    const Delivery d = DecideDelivery(Answer(verdict, 503), false, milliseconds(1234));
    CHECK(d.action == DeliveryAction::kRetryMessage);
    CHECK(d.delay == milliseconds(1234));
    CHECK(d.channel_state == "retrying");
  }
}

TEST_CASE("a chat that no longer exists (Telegram's 400 chat not found) holds the channel") {
  ApiAnswer gone = Answer(ApiVerdict::kRefused, 400);
  gone.error = "telegram: 400 Bad Request: chat not found";
  for (bool edit : {false, true}) {
    const Delivery d = DecideDelivery(gone, edit, milliseconds(5));
    CHECK(d.action == DeliveryAction::kHoldChannel);
    CHECK(d.delay == kRefusedChannelRetry);
    CHECK(d.channel_state == "refused");
  }
  ApiAnswer bad = Answer(ApiVerdict::kRefused, 400);
  bad.error = "telegram: 400 Bad Request: message text is empty";
  CHECK(DecideDelivery(bad, false, milliseconds(5)).action == DeliveryAction::kSetAside);
}
