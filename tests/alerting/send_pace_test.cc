#include "alerting/send_pace.h"

#include <doctest/doctest.h>

using fleet::alerting::SendPace;

TEST_CASE("a burst goes at once, then one message per interval") {
  SendPace pace(3, 2000);
  std::int64_t now = 5000;
  for (int i = 0; i < 3; ++i) {
    CHECK(pace.WaitMs(now) == 0);
    pace.Take(now);
  }
  CHECK(pace.WaitMs(now) == 2000);
  CHECK(pace.WaitMs(now + 1999) == 1);
  CHECK(pace.WaitMs(now + 2000) == 0);
  pace.Take(now + 2000);
  CHECK(pace.WaitMs(now + 2000) == 2000);
  // Idle long enough, the whole burst is back, never more.
  for (int i = 0; i < 3; ++i) {
    CHECK(pace.WaitMs(now + 60000) == 0);
    pace.Take(now + 60000);
  }
  CHECK(pace.WaitMs(now + 60000) > 0);
}

TEST_CASE("the chat services' limits: 20 a minute to a Telegram group, 30 to a Discord webhook") {
  for (auto [kind, per_minute] : {std::pair{"telegram", 20}, std::pair{"discord", 30}}) {
    SendPace pace = SendPace::ForChannel(kind);
    int sent = 0;
    std::int64_t now = 0;
    // Over ten minutes of a steady storm, at most the burst plus the rate.
    for (now = 0; now < 600'000; now += 100) {
      if (pace.WaitMs(now) == 0) {
        pace.Take(now);
        ++sent;
      }
    }
    CAPTURE(kind);
    CHECK(sent <= per_minute * 10 + 20);
    CHECK(sent >= per_minute * 10 - 1);
  }
}
