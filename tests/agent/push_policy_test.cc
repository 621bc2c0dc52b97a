#include <doctest/doctest.h>

#include <string>

#include "agent/push/push_policy.h"

using namespace fleet;
using namespace std::chrono_literals;

TEST_CASE("push reply: status codes sort into acknowledged, retry and refused") {
  CHECK(ClassifyReply(200) == ReplyKind::kAcknowledged);
  for (long code : {408L, 429L, 500L, 502L, 503L, 504L, 0L, 204L, 301L, 302L, 100L}) {
    INFO(code);
    CHECK(ClassifyReply(code) == ReplyKind::kRetry);
  }
  for (long code : {400L, 401L, 403L, 404L, 405L, 413L, 415L}) {
    INFO(code);
    CHECK(ClassifyReply(code) == ReplyKind::kRefused);
  }
}

TEST_CASE("push reply: a good acknowledgement") {
  auto ack = ParsePushAck(
      R"({"node":"n1","epoch":2,"ack_seq":40,"gaps":[[42,44],[50,50]],"stored":9,)"
      R"("duplicates":1,"forks":[],"rejected":[{"line":3,"reason":"bad signature"}]})");
  REQUIRE(ack.ok());
  CHECK(ack->node == "n1");
  CHECK(ack->epoch == 2);
  CHECK(ack->ack_seq == 40);
  REQUIRE(ack->gaps.size() == 2);
  CHECK(ack->gaps[0] == std::pair<std::int64_t, std::int64_t>(42, 44));
  CHECK(ack->stored == 9);
  CHECK(ack->duplicates == 1);
  CHECK(ack->rejected == std::vector<std::string>{"line 3: bad signature"});
  CHECK_FALSE(ack->next_epoch.has_value());
  auto minimal = ParsePushAck(R"({"node":"n1","epoch":1,"ack_seq":0})");
  REQUIRE(minimal.ok());
  CHECK(minimal->gaps.empty());
}

TEST_CASE("push reply: garbage, truncation and wrong shapes are errors, never a throw") {
  const std::string good = R"({"node":"n1","epoch":1,"ack_seq":5,"gaps":[[7,9]],"forks":[6]})";
  for (std::size_t cut = 0; cut < good.size(); ++cut) {
    INFO(good.substr(0, cut));
    CHECK_FALSE(ParsePushAck(good.substr(0, cut)).ok());
  }
  for (const char* body :
       {"", "null", "[]", "\"ok\"", "<html>502 Bad Gateway</html>", R"({"node":"n1"})",
        R"({"node":1,"epoch":1,"ack_seq":1})", R"({"node":"n1","epoch":0,"ack_seq":1})",
        R"({"node":"n1","epoch":1,"ack_seq":-1})", R"({"node":"n1","epoch":1,"ack_seq":"5"})",
        R"({"node":"n1","epoch":1,"ack_seq":1.5})",
        R"({"node":"n1","epoch":1,"ack_seq":1,"gaps":5})",
        R"({"node":"n1","epoch":1,"ack_seq":1,"gaps":[[3,2]]})",
        R"({"node":"n1","epoch":1,"ack_seq":1,"gaps":[[0,2]]})",
        R"({"node":"n1","epoch":1,"ack_seq":1,"gaps":[[1]]})",
        R"({"node":"n1","epoch":1,"ack_seq":1,"forks":["x"]})",
        R"({"node":"n1","epoch":1,"ack_seq":1,"next_epoch":0})"}) {
    INFO(body);
    CHECK_FALSE(ParsePushAck(body).ok());
  }
  CHECK_FALSE(ParsePushAck(std::string(100000, '[') + std::string(100000, ']')).ok());
  CHECK_FALSE(ParsePushAck(std::string(2 << 20, ' ')).ok());
  CHECK_FALSE(ParsePushAck(std::string("\x00\xff\xfe", 3)).ok());
}

TEST_CASE("Retry-After: seconds or an HTTP date, capped at an hour") {
  const auto now = std::chrono::system_clock::from_time_t(784111777);  // 06 Nov 1994 08:49:37
  CHECK(ParseRetryAfter("120", now) == 120s);
  CHECK(ParseRetryAfter(" 7\r\n", now) == 7s);
  CHECK(ParseRetryAfter("0", now) == 0s);
  CHECK(ParseRetryAfter("999999999999999999999999", now) == 3600s);
  CHECK(ParseRetryAfter("86400", now) == 3600s);
  CHECK(ParseRetryAfter("Sun, 06 Nov 1994 08:50:07 GMT", now) == 30s);
  CHECK(ParseRetryAfter("Sun, 06 Nov 1994 08:00:00 GMT", now) == 0s);  // in the past
  for (const char* bad : {"", "-5", "1.5", "soon", "Sun, 06 Nov 1994", "12 s", "0x10"}) {
    INFO(bad);
    CHECK_FALSE(ParseRetryAfter(bad, now).has_value());
  }
}

TEST_CASE("backoff: full jitter under a doubling ceiling, capped, reset on success") {
  Backoff backoff(1s, 300s, 42);
  std::chrono::milliseconds ceiling = 1s;
  for (int attempt = 0; attempt < 40; ++attempt) {
    const auto wait = backoff.Next();
    INFO("attempt " << attempt << " waited " << wait.count() << " ms");
    CHECK(wait >= 0ms);
    CHECK(wait <= ceiling);
    ceiling = std::min<std::chrono::milliseconds>(ceiling * 2, 300s);
  }
  // Jitter: late attempts spread over the whole range instead of all waiting the cap.
  std::chrono::milliseconds lowest = 300s, highest = 0ms;
  for (int i = 0; i < 200; ++i) {
    const auto wait = backoff.Next();
    lowest = std::min(lowest, wait);
    highest = std::max(highest, wait);
  }
  CHECK(lowest < 60s);
  CHECK(highest > 240s);
  backoff.Reset();
  CHECK(backoff.attempt() == 0);
  CHECK(backoff.Next() <= 1s);
}

TEST_CASE("acknowledgement: what leaves the spool, and when a new epoch starts") {
  PushAck ack;
  ack.node = "n1";
  ack.epoch = 3;
  ack.ack_seq = 10;
  ack.stored = 10;
  const SentBatch batch{3, 1, 10, 10};
  SUBCASE("everything acknowledged in the current epoch") {
    auto effect = ApplyAck(ack, "n1", batch, SpoolHead{3, 11});
    REQUIRE(effect.ok());
    CHECK(effect->remove_up_to == 10);
    CHECK_FALSE(effect->remove_batch);
    CHECK_FALSE(effect->start_new_epoch);
  }
  SUBCASE("a gap: only up to the watermark leaves") {
    ack.ack_seq = 6;
    ack.gaps = {{7, 7}};
    auto effect = ApplyAck(ack, "n1", batch, SpoolHead{3, 11});
    CHECK(effect->remove_up_to == 6);
    CHECK_FALSE(effect->start_new_epoch);
  }
  SUBCASE("another node's or epoch's reply is not an acknowledgement") {
    CHECK_FALSE(ApplyAck(ack, "n2", batch, SpoolHead{3, 11}).ok());
    ack.epoch = 2;
    CHECK_FALSE(ApplyAck(ack, "n1", batch, SpoolHead{3, 11}).ok());
  }
  SUBCASE("the receiver holds more than this spool ever made: restored from an old copy") {
    ack.ack_seq = 500;
    auto effect = ApplyAck(ack, "n1", batch, SpoolHead{3, 11});
    CHECK(effect->start_new_epoch);
    CHECK(effect->remove_up_to == 500);
  }
  SUBCASE("forks: a new epoch, at least where the receiver says") {
    ack.forks = {1, 2, 3};
    ack.next_epoch = 7;
    auto effect = ApplyAck(ack, "n1", batch, SpoolHead{3, 11});
    CHECK(effect->start_new_epoch);
    CHECK(effect->new_epoch_at_least == 7);
  }
  SUBCASE("a closed epoch leaves whole once taken, and starts no new epoch") {
    ack.ack_seq = 0;
    ack.stored = 4;
    ack.duplicates = 3;
    ack.forks = {1, 2, 3};
    auto effect = ApplyAck(ack, "n1", batch, SpoolHead{4, 20});
    CHECK(effect->remove_batch);
    CHECK_FALSE(effect->start_new_epoch);
    ack.rejected = {"line 2: bad signature"};
    CHECK_FALSE(ApplyAck(ack, "n1", batch, SpoolHead{4, 20})->remove_batch);
  }
}
