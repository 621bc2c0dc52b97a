// The push reply (protocol/push_reply.h): what a receiver encodes, an agent decodes back;
// garbage, truncation and wrong shapes are errors, never a throw.
#include "protocol/push_reply.h"

#include <doctest/doctest.h>

#include <string>

using namespace fleet::protocol;

TEST_CASE("a good acknowledgement") {
  auto ack = DecodePushAck(
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
  REQUIRE(ack->rejected.size() == 1);
  CHECK(ack->rejected[0] == RejectedLine{3, "bad signature"});
  CHECK_FALSE(ack->next_epoch.has_value());
  auto minimal = DecodePushAck(R"({"node":"n1","epoch":1,"ack_seq":0})");
  REQUIRE(minimal.ok());
  CHECK(minimal->gaps.empty());
}

TEST_CASE("garbage, truncation and wrong shapes are errors, never a throw") {
  const std::string good = R"({"node":"n1","epoch":1,"ack_seq":5,"gaps":[[7,9]],"forks":[6]})";
  for (std::size_t cut = 0; cut < good.size(); ++cut) {
    INFO(good.substr(0, cut));
    CHECK_FALSE(DecodePushAck(good.substr(0, cut)).ok());
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
    CHECK_FALSE(DecodePushAck(body).ok());
  }
  CHECK_FALSE(DecodePushAck(std::string(100000, '[') + std::string(100000, ']')).ok());
  CHECK_FALSE(DecodePushAck(std::string(2 << 20, ' ')).ok());
  CHECK_FALSE(DecodePushAck(std::string("\x00\xff\xfe", 3)).ok());
}

TEST_CASE("what the receiver encodes decodes back, acknowledgement and refusal") {
  PushAck ack{"node-1", 3, 17, {{19, 20}}, 4, 1, {18}, {{2, "payload up must be true or false"}},
              18,       4};
  auto back = DecodePushAck(EncodePushAck(ack).dump());
  REQUIRE(back.ok());
  CHECK(back->node == ack.node);
  CHECK(back->epoch == 3);
  CHECK(back->ack_seq == 17);
  CHECK(back->gaps == ack.gaps);
  CHECK(back->stored == 4);
  CHECK(back->duplicates == 1);
  CHECK(back->forks == ack.forks);
  CHECK(back->rejected == ack.rejected);
  CHECK(back->chain_break == 18);
  CHECK(back->next_epoch == 4);
  PushAck plain{"node-1", 1, 0, {}, 0, 0, {}, {}, std::nullopt, std::nullopt};
  const auto plain_json = EncodePushAck(plain);
  CHECK_FALSE(plain_json.contains("chain_break"));
  CHECK_FALSE(plain_json.contains("next_epoch"));
  CHECK_FALSE(DecodePushAck(plain_json.dump())->next_epoch.has_value());

  const auto refusal = EncodePushRefusal({"line 1: bad signature", {{1, "bad signature"}}});
  CHECK(refusal["error"] == "line 1: bad signature");
  CHECK(refusal["rejected"][0]["line"] == 1);
  CHECK_FALSE(EncodePushRefusal({"empty batch", {}}).contains("rejected"));
  CHECK_FALSE(DecodePushAck(refusal.dump()).ok());  // not an acknowledgement
}

TEST_CASE("a reason is cut to 200 printable characters; fields it does not know are ignored") {
  auto ack = DecodePushAck(R"({"node":"n","epoch":1,"ack_seq":0,"later":{"x":1},)"
                           R"("rejected":[{"line":-4,"reason":")" +
                           std::string(300, 'r') + R"(\u0007"}, 5]})");
  REQUIRE(ack.ok());
  REQUIRE(ack->rejected.size() == 2);
  CHECK(ack->rejected[0].line == 0);
  CHECK(ack->rejected[0].reason == std::string(200, 'r') + "...");
  CHECK(ack->rejected[1].reason == "5");
}

TEST_CASE("a refusal decodes: its error (a revocation's reason) and the lines it names") {
  const std::string reason =
      "line 1: node vps-1 is revoked since 2026-11-25T10:00:00Z (operator op-7 revoked: left)";
  auto refusal = DecodePushRefusal(EncodePushRefusal({reason, {{1, "revoked"}}}).dump());
  REQUIRE(refusal.ok());
  CHECK(refusal->error == reason);
  CHECK(refusal->rejected == std::vector<RejectedLine>{{1, "revoked"}});
  CHECK(DecodePushRefusal(R"({"error":"empty batch"})")->rejected.empty());

  // Long and unprintable: cut, never raw bytes in a log line.
  auto cut = DecodePushRefusal(R"({"error":")" + std::string(700, 'e') + R"(\u001b[31m"})");
  REQUIRE(cut.ok());
  CHECK(cut->error == std::string(kMaxRefusalChars, 'e') + "...");

  for (const char* bad : {"", "{", "[]", R"({"error":5})", R"({"rejected":[]})",
                          R"({"error":"x","rejected":{}})", "<html>502</html>"}) {
    CAPTURE(bad);
    CHECK_FALSE(DecodePushRefusal(bad).ok());
  }
  CHECK_FALSE(DecodePushRefusal(std::string(kMaxPushReplyBytes + 1, ' ')).ok());
}
