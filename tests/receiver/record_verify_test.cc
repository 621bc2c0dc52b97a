#include "receiver/core/record_verify.h"

#include <doctest/doctest.h>

#include <map>

#include "tests/receiver/test_records.h"

namespace fleet::receiver {
namespace {

using testing::Member;
using testing::TestNode;
namespace fields = protocol::fields;

constexpr std::int64_t kNow = 1764064800;  // 2025-11-25T10:00:00Z, the test records' t

struct Registry {
  std::map<std::string, RegisteredKey> keys;
  KeyLookup Lookup() const {
    return [this](const std::string& kid) -> Result<std::optional<RegisteredKey>> {
      auto it = keys.find(kid);
      if (it == keys.end()) return std::optional<RegisteredKey>();
      return std::optional<RegisteredKey>(it->second);
    };
  }
};

Rejection Rejected(const VerifyOutcome& outcome) {
  REQUIRE(std::holds_alternative<Rejection>(outcome));
  return std::get<Rejection>(outcome);
}

std::string UnsignedJws(const nlohmann::json& header, const nlohmann::json& payload,
                        const std::string& signature) {
  return Base64UrlEncode(header.dump()) + "." + Base64UrlEncode(payload.dump()) + "." +
         Base64UrlEncode(signature);
}

// Replaces the character at index i with another valid base64url character.
std::string Flip(std::string text, std::size_t i) {
  text[i] = text[i] == 'A' ? 'B' : 'A';
  return text;
}

TEST_CASE("a good record verifies and yields its chain fields") {
  TestNode node("node-1");
  Registry registry{{{node.kid, node.Key()}}};
  const std::string jws = node.Sign(node.Payload(3, 7, GenesisHash()));
  auto outcome = VerifyRecord(jws, registry.Lookup(), kNow);
  REQUIRE(std::holds_alternative<VerifiedRecord>(outcome));
  const auto& record = std::get<VerifiedRecord>(outcome);
  CHECK(record.node == "node-1");
  CHECK(record.epoch == 3);
  CHECK(record.seq == 7);
  CHECK(record.prev == GenesisHash());
  CHECK(record.type == "heartbeat");
  CHECK(record.t == "2025-11-25T10:00:00Z");
  CHECK(record.jws == jws);
  CHECK(record.hash == ChainHash(jws));
  auto decoded = protocol::DecodeRecord(record.payload);  // the payload text, as signed
  REQUIRE_MESSAGE(decoded.ok(), decoded.error());
  CHECK(std::get<protocol::Heartbeat>(decoded->body).minute == kNow);
}

TEST_CASE("tampered records are refused") {
  TestNode node("node-1");
  Registry registry{{{node.kid, node.Key()}}};
  const std::string jws = node.Sign(node.Payload(1, 1, GenesisHash()));
  const auto first = jws.find('.');
  const auto second = jws.find('.', first + 1);

  SUBCASE("a payload byte") {
    for (std::size_t i = first + 1; i < second; i += 7) {
      const Rejection why = Rejected(VerifyRecord(Flip(jws, i), registry.Lookup(), kNow));
      CHECK(why.kind == RejectKind::kInvalid);
    }
  }
  SUBCASE("a signature byte") {
    const Rejection why = Rejected(VerifyRecord(Flip(jws, second + 5), registry.Lookup(), kNow));
    CHECK(why.kind == RejectKind::kInvalid);
    CHECK(why.reason == "bad signature");
  }
  SUBCASE("the signature of another record") {
    const std::string other = node.Sign(node.Payload(1, 2, GenesisHash()));
    const std::string spliced = jws.substr(0, second) + other.substr(other.rfind('.'));
    CHECK(Rejected(VerifyRecord(spliced, registry.Lookup(), kNow)).reason == "bad signature");
  }
}

TEST_CASE("alg is pinned to EdDSA") {
  TestNode node("node-1");
  Registry registry{{{node.kid, node.Key()}}};
  const auto payload = node.Payload(1, 1, GenesisHash());
  SUBCASE("none") {
    const std::string jws =
        UnsignedJws({{"alg", "none"}, {"kid", node.kid}, {"typ", "fleet-record+jws"}}, payload, "");
    const Rejection why = Rejected(VerifyRecord(jws, registry.Lookup(), kNow));
    CHECK(why.kind == RejectKind::kInvalid);
    CHECK(why.reason.find("alg must be EdDSA") != std::string::npos);
  }
  SUBCASE("HS256 keyed with the public key") {
    const std::string jws =
        UnsignedJws({{"alg", "HS256"}, {"kid", node.kid}, {"typ", "fleet-record+jws"}}, payload,
                    std::string(32, 'x'));
    CHECK(Rejected(VerifyRecord(jws, registry.Lookup(), kNow)).reason.find("alg must be EdDSA") !=
          std::string::npos);
  }
  SUBCASE("missing typ") {
    const std::string jws =
        UnsignedJws({{"alg", "EdDSA"}, {"kid", node.kid}}, payload, std::string(64, 'x'));
    CHECK(Rejected(VerifyRecord(jws, registry.Lookup(), kNow)).reason.find("typ") !=
          std::string::npos);
  }
}

TEST_CASE("the key must be registered, unrevoked, and the node's own") {
  TestNode node("node-1");
  TestNode other("node-2");
  SUBCASE("unknown kid") {
    Registry registry{{{other.kid, other.Key()}}};
    const auto& why = Rejected(
        VerifyRecord(node.Sign(node.Payload(1, 1, GenesisHash())), registry.Lookup(), kNow));
    CHECK(why.kind == RejectKind::kUnknownKey);
    CHECK(why.reason.find(node.kid) != std::string::npos);
  }
  SUBCASE("revoked before the record was signed: refused with the reason") {
    Registry registry{{{node.kid, node.Key(kNow - 1)}}};
    const auto& why = Rejected(
        VerifyRecord(node.Sign(node.Payload(1, 1, GenesisHash())), registry.Lookup(), kNow));
    CHECK(why.kind == RejectKind::kRevokedKey);
    CHECK(why.node == "node-1");
    CHECK(why.reason ==
          "node node-1 is revoked since 2025-11-25T09:59:59Z (retired): kid " + node.kid +
              " signed this record at 2025-11-25T10:00:00Z, after that; records it signed before "
              "still count");
  }
  SUBCASE("revoked at or after the time it was signed: taken (spooled, late)") {
    for (std::int64_t at : {kNow, kNow + 1, kNow + 86400}) {
      Registry registry{{{node.kid, node.Key(at)}}};
      auto outcome =
          VerifyRecord(node.Sign(node.Payload(1, 1, GenesisHash())), registry.Lookup(), kNow);
      CHECK(std::holds_alternative<VerifiedRecord>(outcome));
    }
  }
  SUBCASE("revoked: a record that is not valid anyway is refused for what it is") {
    Registry registry{{{node.kid, node.Key(kNow - 3600)}}};
    auto payload = node.Payload(1, 1, GenesisHash());
    payload["up"] = "yes";
    const auto& why = Rejected(VerifyRecord(node.Sign(payload), registry.Lookup(), kNow));
    CHECK(why.kind == RejectKind::kInvalid);
  }
  SUBCASE("a payload naming another node") {
    Registry registry{{{node.kid, node.Key()}, {other.kid, other.Key()}}};
    const auto& why = Rejected(
        VerifyRecord(node.Sign(other.Payload(1, 1, GenesisHash())), registry.Lookup(), kNow));
    CHECK(why.kind == RejectKind::kInvalid);
    CHECK(why.reason.find("belongs to node 'node-1'") != std::string::npos);
  }
  SUBCASE("a registry that cannot be read") {
    KeyLookup broken = [](const std::string&) -> Result<std::optional<RegisteredKey>> {
      return Error{"disk I/O error"};
    };
    CHECK(Rejected(VerifyRecord(node.Sign(node.Payload(1, 1, GenesisHash())), broken, kNow)).kind ==
          RejectKind::kStoreError);
  }
}

TEST_CASE("payload fields must have the contract's types") {
  TestNode node("node-1");
  Registry registry{{{node.kid, node.Key()}}};
  auto check_refused = [&](nlohmann::json payload, const std::string& reason_part) {
    CAPTURE(payload.dump());
    const Rejection why = Rejected(VerifyRecord(node.Sign(payload), registry.Lookup(), kNow));
    CHECK(why.kind == RejectKind::kInvalid);
    CHECK(why.reason.find(reason_part) != std::string::npos);
  };
  auto good = node.Payload(1, 1, GenesisHash());
  auto with = [&](const char* key, nlohmann::json value) {
    auto p = good;
    p[key] = std::move(value);
    return p;
  };
  auto without = [&](const char* key) {
    auto p = good;
    p.erase(key);
    return p;
  };
  check_refused(with(fields::kV, 2), "v must be 1");
  check_refused(without(fields::kV), "v must be 1");
  check_refused(with(fields::kSeq, 0), "seq must be an integer >= 1");
  check_refused(with(fields::kSeq, "1"), "seq must be an integer >= 1");
  check_refused(with(fields::kSeq, 1.5), "seq must be an integer >= 1");
  check_refused(with(fields::kEpoch, -1), "epoch must be an integer >= 1");
  check_refused(with(fields::kEpoch, std::int64_t{1} << 53),
                "epoch must be an integer >= 1 and < 2^53");
  check_refused(with(fields::kSeq, std::uint64_t{1} << 63),
                "seq must be an integer >= 1 and < 2^53");
  check_refused(with(fields::kType, std::string("task\0", 5)),
                "type must not contain control characters");
  check_refused(with(fields::kT, "2025-11-25T10:05:01Z"),
                "payload t 2025-11-25T10:05:01Z is 301 s ahead");
  check_refused(with(fields::kT, "2025-11-25T10:00:00.000Z"), "payload t must be RFC 3339 UTC");
  check_refused(with(fields::kMinute, "2025-11-25T10:06:00Z"),
                "payload minute 2025-11-25T10:06:00Z is 360 s ahead");
  check_refused(without(fields::kEpoch), "payload epoch is missing");
  check_refused(with(fields::kPrev, 5), "prev must be a string");
  check_refused(without(fields::kType), "payload type is missing");
  check_refused(with(fields::kT, nullptr), "payload t must be RFC 3339 UTC");
  check_refused(with(fields::kNode, nullptr), "node must be a string");
  check_refused(nlohmann::json::array({1, 2}), "not a JSON object");
  // The typed payload of each record type (protocol/records.h): issue 12's cases.
  check_refused(with(fields::kUp, "0.9"), "payload up must be true or false");
  check_refused(without(fields::kUp), "payload up is missing");
  check_refused(with(fields::kType, "heartbeats"), "payload type 'heartbeats' is not one of");
  check_refused(with(fields::kChecks, {{"tmux", "warn"}}),
                "payload checks.tmux must be one of ok, warning");
  check_refused(with(fields::kChecks, "ok"), "payload checks must be an object");
  check_refused(with(fields::kMinute, "2025-11-25T10:00:30Z"),
                "payload minute must be on a minute boundary");
  check_refused(with(fields::kMinute, "2025-11-25T11:00:00+01:00"),
                "payload minute must be RFC 3339 UTC");
  check_refused(with("extra", 1), "payload has unknown field 'extra'");
  check_refused(with(fields::kAgent, std::string(65, 'a')),
                "payload agent is longer than 64 bytes");
  {
    auto task = node.Payload(1, 1, GenesisHash(), "task");
    task[fields::kOk] = 1;
    check_refused(task, "payload ok must be true or false");
    task = node.Payload(1, 1, GenesisHash(), "task");
    task[fields::kRunAt] = "2025-11-25T10:59:00+01:00";
    check_refused(task, "payload run_at must be RFC 3339 UTC");
    auto incident = node.Payload(1, 1, GenesisHash(), "incident");
    incident[fields::kClosed] = "2025-11-25T09:00:00Z";  // before opened
    check_refused(incident, "payload closed is before opened");
    incident = node.Payload(1, 1, GenesisHash(), "incident");
    incident.erase(fields::kSummary);
    check_refused(incident, "payload summary is missing");
    // An ack's at decides whether it answered in time and came live: bounded like t.
    auto ack = node.Payload(1, 1, GenesisHash(), "ack");
    CHECK(std::holds_alternative<VerifiedRecord>(
        VerifyRecord(node.Sign(ack), registry.Lookup(), kNow)));
    ack[fields::kAt] = "2025-11-25T10:05:00Z";  // 300 s ahead: a clock a little fast
    CHECK(std::holds_alternative<VerifiedRecord>(
        VerifyRecord(node.Sign(ack), registry.Lookup(), kNow)));
    ack[fields::kAt] = "2025-11-25T10:05:01Z";
    check_refused(ack, "payload at 2025-11-25T10:05:01Z is 301 s ahead");
    ack = node.Payload(1, 1, GenesisHash(), "ack");
    ack[fields::kVia] = "sms";
    check_refused(ack, "payload via must be one of telegram, cli, receiver");
    // A maintenance window may be planned ahead; it is bounded by the contract.
    auto window = node.Payload(1, 1, GenesisHash(), "maintenance");
    window[fields::kFrom] = "2025-11-26T10:00:00Z";
    window[fields::kUntil] = "2025-11-26T12:00:00Z";
    CHECK(std::holds_alternative<VerifiedRecord>(
        VerifyRecord(node.Sign(window), registry.Lookup(), kNow)));
    window[fields::kUntil] = "2025-11-26T09:00:00Z";
    check_refused(window, "payload until is not after from");
  }
  // A duplicate key is refused, not picked (nlohmann and json_extract would pick differently).
  {
    std::string text = good.dump();
    text.insert(text.size() - 1, "," + Member(fields::kUp, "false"));
    const Rejection dup = Rejected(VerifyRecord(node.SignText(text), registry.Lookup(), kNow));
    CHECK(dup.kind == RejectKind::kInvalid);
    CHECK(dup.reason.find("duplicate") != std::string::npos);
  }
  const std::string cut = "{" + Member(fields::kV, "1") + ",";  // JSON cut short
  const Rejection why = Rejected(VerifyRecord(node.SignText(cut), registry.Lookup(), kNow));
  CHECK(why.reason.find("not valid JSON") != std::string::npos);
  // A byte order mark before good JSON: refused (the reports' SQL JSON functions reject it).
  const Rejection bom =
      Rejected(VerifyRecord(node.SignText("\xEF\xBB\xBF" + good.dump()), registry.Lookup(), kNow));
  CHECK(bom.kind == RejectKind::kInvalid);
  CHECK(bom.reason.find("byte order mark") != std::string::npos);
  CHECK(std::holds_alternative<VerifiedRecord>(
      VerifyRecord(node.Sign(good), registry.Lookup(), kNow)));
}

TEST_CASE("deep JSON is refused before it is parsed") {
  TestNode node("node-1");
  Registry registry{{{node.kid, node.Key()}}};
  std::string deep = node.Payload(1, 1, GenesisHash()).dump();
  deep.pop_back();
  deep += ",\"x\":" + std::string(20000, '[') + std::string(20000, ']') + "}";  // < 64 KiB
  const Rejection why = Rejected(VerifyRecord(node.SignText(deep), registry.Lookup(), kNow));
  CHECK(why.reason.find("nested deeper") != std::string::npos);
  // Far deeper, the line is over the record size limit and refused before anything else.
  std::string deeper = node.Payload(1, 1, GenesisHash()).dump();
  deeper.pop_back();
  deeper += ",\"x\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  CHECK(Rejected(VerifyRecord(node.SignText(deeper), registry.Lookup(), kNow)).reason ==
        "record larger than 65536 bytes");

  const std::string deep_header = Base64UrlEncode(std::string(100000, '[')) + ".e30.AAAA";
  CHECK(Rejected(VerifyRecord(deep_header, registry.Lookup(), kNow)).kind == RejectKind::kInvalid);
}

TEST_CASE("garbage and truncated lines are refused, never accepted, never a crash") {
  TestNode node("node-1");
  Registry registry{{{node.kid, node.Key()}}};
  for (std::string garbage :
       {std::string(), std::string("."), std::string(".."), std::string("..."),
        std::string("a.b.c"), std::string("{\"alg\":\"EdDSA\"}"),
        std::string("\xff\xfe\x00\x01", 4), std::string("eyJ9.eyJ9.eyJ9"),
        Base64UrlEncode("null") + "." + Base64UrlEncode("{}") + ".",
        Base64UrlEncode("\"EdDSA\"") + ".e30.AAAA", std::string(5000, '.')}) {
    CAPTURE(garbage);
    CHECK(Rejected(VerifyRecord(garbage, registry.Lookup(), kNow)).kind == RejectKind::kInvalid);
  }
  const std::string jws = node.Sign(node.Payload(1, 1, GenesisHash()));
  int refused = 0;
  for (std::size_t length = 0; length < jws.size(); ++length) {
    if (std::holds_alternative<Rejection>(
            VerifyRecord(jws.substr(0, length), registry.Lookup(), kNow))) {
      ++refused;
    }
  }
  CHECK(refused == static_cast<int>(jws.size()));
  CHECK(std::holds_alternative<VerifiedRecord>(VerifyRecord(jws, registry.Lookup(), kNow)));
}

TEST_CASE("ReadJwsHeader reads alg, kid and typ without a key") {
  TestNode node("node-1");
  auto header = ReadJwsHeader(node.Sign(node.Payload(1, 1, GenesisHash())));
  REQUIRE(header.ok());
  CHECK(header->alg == "EdDSA");
  CHECK(header->kid == node.kid);
  CHECK(header->typ == "fleet-record+jws");
  CHECK_FALSE(ReadJwsHeader("abc").ok());
  CHECK_FALSE(ReadJwsHeader(Base64UrlEncode("[1]") + ".e30.").ok());
  auto partial = ReadJwsHeader(Base64UrlEncode(R"({"alg":5,"kid":"k"})") + ".e30.");
  REQUIRE(partial.ok());
  CHECK(partial->alg.empty());
  CHECK(partial->kid == "k");
  // Nothing but alg, kid and typ, each once (other verifiers would read more, or another one).
  CHECK(ReadJwsHeader(Base64UrlEncode(R"({"kid":"k","crit":["b64"],"b64":false})") + ".e30.")
            .error() == "the JWS header must not carry b64 (no JWS extension is accepted)");
  CHECK(ReadJwsHeader(Base64UrlEncode(R"({"kid":"k","x5u":"u"})") + ".e30.").error() ==
        "the JWS header carries 'x5u' (only alg, kid and typ are accepted)");
  CHECK(ReadJwsHeader(Base64UrlEncode(R"({"kid":"a","kid":"b"})") + ".e30.").error() ==
        "the JWS header is not a JSON object: duplicate key 'kid'");
}

}  // namespace
}  // namespace fleet::receiver
