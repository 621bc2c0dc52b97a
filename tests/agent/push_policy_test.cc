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

TEST_CASE("push reply: a rejected line is described by its line") {
  CHECK(Describe(RejectedLine{3, "bad signature"}) == "line 3: bad signature");
  CHECK(Describe(RejectedLine{0, "x"}) == "line ?: x");
}

TEST_CASE("Retry-After: libcurl's seconds, none when zero, capped at an hour") {
  CHECK(RetryAfterDelay(120) == 120s);
  CHECK(RetryAfterDelay(1) == 1s);
  CHECK_FALSE(RetryAfterDelay(0).has_value());  // absent, unreadable or a date in the past
  CHECK_FALSE(RetryAfterDelay(-5).has_value());
  CHECK(RetryAfterDelay(86400) == 3600s);
  CHECK(RetryAfterDelay(INT64_MAX) == 3600s);
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
  const SentBatch batch{3, 1, 10, 10, {}};
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
    ack.rejected = {{0, "bad signature"}};  // names no line: the batch stays
    CHECK_FALSE(ApplyAck(ack, "n1", batch, SpoolHead{4, 20})->remove_batch);
  }
}

TEST_CASE("a record the receiver refuses for good is set aside; the others go on") {
  // Lines 1..10 are seqs 11..15 and 17..21 (16 was set aside before).
  SentBatch batch{3, 11, 21, 10, {11, 12, 13, 14, 15, 17, 18, 19, 20, 21}};
  PushAck ack;
  ack.node = "n1";
  ack.epoch = 3;
  ack.ack_seq = 13;  // 14 (line 4) is refused: the watermark stops before it
  ack.stored = 9;
  ack.rejected = {{4, "record larger than 65536 bytes"}};
  SUBCASE("in the current epoch: set aside, and the rest leaves once taken") {
    auto effect = ApplyAck(ack, "n1", batch, SpoolHead{3, 30});
    REQUIRE(effect.ok());
    CHECK(effect->refused ==
          std::vector<AckEffect::Refused>{{14, "record larger than 65536 bytes"}});
    CHECK(effect->unplaced.empty());
    CHECK(effect->remove_up_to == 13);
    CHECK(effect->remove_batch);           // 9 stored + 1 set aside: the whole batch is taken
    CHECK_FALSE(effect->start_new_epoch);  // SetAside closes the epoch itself
  }
  SUBCASE("refused and forks together: set aside, and a new epoch where the receiver says") {
    ack.forks = {11};
    ack.stored = 8;
    ack.next_epoch = 9;
    auto effect = ApplyAck(ack, "n1", batch, SpoolHead{3, 30});
    CHECK(effect->refused.size() == 1);
    CHECK(effect->remove_batch);
    CHECK(effect->start_new_epoch);
    CHECK(effect->new_epoch_at_least == 9);
  }
  SUBCASE("a line after the gap in the seqs maps to its own seq") {
    ack.rejected = {{7, "bad signature"}};
    ack.ack_seq = 15;
    auto effect = ApplyAck(ack, "n1", batch, SpoolHead{3, 30});
    REQUIRE(effect->refused.size() == 1);
    CHECK(effect->refused[0].seq == 18);
  }
  SUBCASE("several refused, some stored records not yet counted: the batch stays") {
    ack.rejected = {{4, "a"}, {9, "b"}};
    ack.stored = 7;
    auto effect = ApplyAck(ack, "n1", batch, SpoolHead{3, 30});
    CHECK(effect->refused.size() == 2);
    CHECK_FALSE(effect->remove_batch);
  }
  SUBCASE("a rejected line that names no record of the batch is not set aside") {
    for (std::int64_t line : {0, 11, 99}) {
      ack.rejected = {{line, "?"}};
      auto effect = ApplyAck(ack, "n1", batch, SpoolHead{3, 30});
      CHECK(effect->refused.empty());
      CHECK(effect->unplaced.size() == 1);
      CHECK_FALSE(effect->remove_batch);
    }
    ack.rejected = {{1, "already acknowledged?"}};  // seq 11 <= ack_seq: not a refusal
    CHECK(ApplyAck(ack, "n1", batch, SpoolHead{3, 30})->refused.empty());
  }
  SUBCASE("the reply's rejected list, as the receiver writes it") {
    auto parsed = protocol::DecodePushAck(
        R"({"node":"n1","epoch":3,"ack_seq":13,"stored":9,"duplicates":0,"forks":[],)"
        R"("rejected":[{"line":4,"reason":"record larger than 65536 bytes"}]})");
    REQUIRE(parsed.ok());
    auto effect = ApplyAck(*parsed, "n1", batch, SpoolHead{3, 30});
    REQUIRE(effect->refused.size() == 1);
    CHECK(effect->refused[0].seq == 14);
  }
}

TEST_CASE("a batch refused whole: 403 is the node's revocation, said with its reason") {
  const std::string revoked_body =
      R"x({"error":"line 1: node vps-1 is revoked since 2026-11-25T10:00:00Z (operator op-7 )x"
      R"x(revoked: left)","rejected":[{"line":1,"reason":"revoked"}]})x";
  const RefusedBatch revoked = DescribeRefusal(403, revoked_body, std::chrono::minutes(10));
  CHECK(revoked.state == "revoked");
  CHECK(revoked.message ==
        "the receiver refuses this node's records (HTTP 403): line 1: node vps-1 is revoked "
        "since 2026-11-25T10:00:00Z (operator op-7 revoked: left); they stay in the spool, "
        "retrying every 10m");

  const RefusedBatch unknown = DescribeRefusal(
      401, R"({"error":"line 1: unknown kid AAAAAAAAAAA"})", std::chrono::minutes(10));
  CHECK(unknown.state == "refused");
  CHECK(unknown.message.find("(HTTP 401: line 1: unknown kid AAAAAAAAAAA)") != std::string::npos);
  CHECK(unknown.message.find("fleet-agent pubkey --jwk") != std::string::npos);

  // Not the receiver's JSON (a proxy's page): shown cut and printable.
  const RefusedBatch proxy =
      DescribeRefusal(403, "<html>\x1b" + std::string(500, 'x'), std::chrono::seconds(3));
  CHECK(proxy.state == "revoked");
  CHECK(proxy.message.find("<html>?xxx") != std::string::npos);
  CHECK(proxy.message.find("retrying every 3s") != std::string::npos);
  CHECK(proxy.message.size() < 400);
  CHECK(DescribeRefusal(400, "", std::chrono::seconds(3)).message.find("(empty body)") !=
        std::string::npos);
}
