// The wire contract (protocol/records.h): every record type encodes and decodes back
// unchanged, and the strict decoder refuses, naming the field, what an agent never writes.
#include "protocol/records.h"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "protocol/jws.h"

using namespace fleet;
using namespace fleet::protocol;
using nlohmann::json;

namespace {

constexpr UnixSeconds kAt = 1795600800;  // 2026-11-25T10:00:00Z

Envelope SomeEnvelope() {
  return {"node-1", 2, 41, GenesisHash(), kAt + 3, "97fe4a08-17ea-4d7f", 123456, "0.3.0"};
}

Record SomeHeartbeat() {
  return {
      SomeEnvelope(),
      Heartbeat{kAt, true, {{"tmux", CheckState::kOk}, {"gateway", CheckState::kWarning}}, true}};
}

// The heartbeat's payload as JSON, for edits only JSON text can make.
json HeartbeatJson() { return json::parse(EncodeRecord(SomeHeartbeat())); }

std::string Refusal(const std::string& payload) {
  auto decoded = DecodeRecord(payload);
  REQUIRE_FALSE(decoded.ok());
  return decoded.error();
}

std::string Refusal(const json& payload) { return Refusal(payload.dump()); }

}  // namespace

TEST_CASE("every record type encodes to what it decodes back to") {
  const Record records[] = {
      SomeHeartbeat(),
      {SomeEnvelope(), Heartbeat{kAt, false, {}, false}},
      {SomeEnvelope(), TaskRun{"a1b2c3d4e5f6", "backup", kAt - 7, true, std::nullopt}},
      {SomeEnvelope(), TaskRun{"a1b2c3d4e5f6", "", kAt - 7, false, "empty answer"}},
      {SomeEnvelope(), Incident{7, "gateway", kAt - 600, std::nullopt, "not active (failed)"}},
      {SomeEnvelope(), Incident{7, "gateway", kAt - 600, kAt, "not active (failed)"}},
      {SomeEnvelope(), AgentStart{true, false}},
      {SomeEnvelope(), AgentStop{}},
  };
  for (const Record& record : records) {
    const std::string text = EncodeRecord(record);
    CAPTURE(text);
    auto decoded = DecodeRecord(text);
    REQUIRE(decoded.ok());
    CHECK(decoded->Type() == record.Type());
    CHECK(EncodeRecord(*decoded) == text);
  }
  auto beat = DecodeRecord(EncodeRecord(SomeHeartbeat())).value();
  CHECK(beat.envelope.node == "node-1");
  CHECK(beat.envelope.epoch == 2);
  CHECK(beat.envelope.seq == 41);
  CHECK(beat.envelope.t == kAt + 3);
  CHECK(beat.envelope.mono_ms == 123456);
  const auto& h = std::get<Heartbeat>(beat.body);
  CHECK(h.minute == kAt);
  CHECK(h.up);
  CHECK(h.checks.at("gateway") == CheckState::kWarning);
  // The exact text an agent writes: keys sorted, UTC with Z, the closed state names.
  CHECK(HeartbeatJson()["minute"] == "2026-11-25T10:00:00Z");
  CHECK(HeartbeatJson()["checks"] == json{{"gateway", "warning"}, {"tmux", "ok"}});
}

TEST_CASE("the refusals the receiver must give, each naming the field") {
  json p = HeartbeatJson();
  SUBCASE("up as a string") {
    p["up"] = "0.9";
    CHECK(Refusal(p) == "payload up must be true or false");
  }
  SUBCASE("up twice: refused, neither is picked") {
    const std::string text = p.dump();
    CHECK(Refusal("{\"up\":false," + text.substr(1)) == "payload: duplicate key 'up'");
  }
  SUBCASE("minute not on a minute boundary") {
    p["minute"] = "2026-11-25T10:00:30Z";
    CHECK(Refusal(p) == "payload minute must be on a minute boundary (seconds 00)");
  }
  SUBCASE("minute not in UTC") {
    p["minute"] = "2026-11-25T11:00:00+01:00";
    CHECK(Refusal(p).starts_with("payload minute must be RFC 3339 UTC"));
  }
  SUBCASE("an unknown type") {
    p["type"] = "uptime";
    CHECK(Refusal(p) ==
          "payload type 'uptime' is not one of heartbeat, task, incident, agent_start, agent_stop");
  }
  SUBCASE("an unknown version, whatever else is wrong") {
    p["v"] = 2;
    p["up"] = "yes";
    CHECK(Refusal(p) == "payload v must be 1");
  }
}

TEST_CASE("strict decoding: exact types, every field, closed sets, limits") {
  json p = HeartbeatJson();
  SUBCASE("each envelope and heartbeat field is required") {
    for (const char* name : {"v", "node", "epoch", "seq", "prev", "type", "t", "boot", "mono_ms",
                             "agent", "minute", "up", "checks", "ntp_synced"}) {
      CAPTURE(name);
      json missing = p;
      missing.erase(name);
      const std::string why = Refusal(missing);
      CHECK(why.find(std::string("payload ") + name) == 0);
    }
  }
  SUBCASE("a field the contract does not know") {
    p["load"] = 0.5;
    CHECK(Refusal(p) == "payload has unknown field 'load'");
  }
  SUBCASE("a check state outside the closed set") {
    p["checks"]["gateway"] = "warn";
    CHECK(Refusal(p) == "payload checks.gateway must be one of ok, warning, critical, unknown");
    p["checks"]["gateway"] = 1;
    CHECK(Refusal(p) == "payload checks.gateway must be one of ok, warning, critical, unknown");
  }
  SUBCASE("numbers: integers only, in range") {
    p["seq"] = 1.5;
    CHECK(Refusal(p).starts_with("payload seq must be an integer >= 1 and < 2^53"));
    p["seq"] = std::int64_t{1} << 53;
    CHECK(Refusal(p).starts_with("payload seq must be an integer >= 1 and < 2^53"));
    p["seq"] = 0;
    CHECK(Refusal(p).starts_with("payload seq must be an integer >= 1"));
    p["seq"] = std::uint64_t{1} << 63;
    CHECK(Refusal(p).starts_with("payload seq must be an integer"));
    p["seq"] = 3;
    p["mono_ms"] = -1;
    CHECK(Refusal(p).starts_with("payload mono_ms must be an integer >= 0"));
  }
  SUBCASE("identifiers: not empty, bounded, no control characters") {
    p["node"] = "";
    CHECK(Refusal(p) == "payload node must not be empty");
    p["node"] = std::string(65, 'n');
    CHECK(Refusal(p) == "payload node is longer than 64 bytes");
    p["node"] = std::string("node\0x", 6);
    CHECK(Refusal(p) == "payload node must not contain control characters");
  }
  SUBCASE("times: UTC as records carry them, real dates") {
    for (const char* bad : {"2026-11-25 10:00:03Z", "2026-11-25T10:00:03.5Z",
                            "2026-02-29T10:00:00Z", "2026-11-25T10:00:03", "1795600803", ""}) {
      CAPTURE(bad);
      p["t"] = bad;
      CHECK(Refusal(p).starts_with("payload t must be RFC 3339 UTC"));
    }
    p["t"] = 1795600803;
    CHECK(Refusal(p).starts_with("payload t must be RFC 3339 UTC"));
  }
  SUBCASE("more checks than a heartbeat can carry") {
    for (int i = 0; i < 65; ++i) p["checks"]["c" + std::to_string(i)] = "ok";
    CHECK(Refusal(p) == "payload checks has more than 64 entries");
  }
  SUBCASE("null only where the type says so") {
    p["up"] = nullptr;
    CHECK(Refusal(p) == "payload up must be true or false");
  }
}

TEST_CASE("task and incident fields: types, nulls, order of times") {
  json task =
      json::parse(EncodeRecord({SomeEnvelope(), TaskRun{"job", "n", kAt, true, std::nullopt}}));
  CHECK(DecodeRecord(task.dump()).ok());
  task["error"] = 3;
  CHECK(Refusal(task) == "payload error must be a string or null");
  task["error"] = std::string(1025, 'e');
  CHECK(Refusal(task) == "payload error is longer than 1024 bytes");
  task["error"] = nullptr;
  task["run_at"] = "2026-11-25T10:00:00.123456+00:00";  // Hermes's own form: the agent converts
  CHECK(Refusal(task).starts_with("payload run_at must be RFC 3339 UTC"));
  task["run_at"] = "2026-11-25T10:00:00Z";
  task["job"] = std::string(257, 'j');
  CHECK(Refusal(task) == "payload job is longer than 256 bytes");

  json incident =
      json::parse(EncodeRecord({SomeEnvelope(), Incident{1, "tmux", kAt, kAt + 60, "pane dead"}}));
  CHECK(DecodeRecord(incident.dump()).ok());
  incident["closed"] = "2026-11-25T09:59:00Z";
  CHECK(Refusal(incident) == "payload closed is before opened");
  incident["closed"] = false;
  CHECK(Refusal(incident).starts_with("payload closed must be RFC 3339 UTC"));
  incident["closed"] = nullptr;
  incident["id"] = 0;
  CHECK(Refusal(incident).starts_with("payload id must be an integer >= 1"));

  json stop = json::parse(EncodeRecord({SomeEnvelope(), AgentStop{}}));
  stop["rebooted"] = true;  // agent_start's field on another type
  CHECK(Refusal(stop) == "payload has unknown field 'rebooted'");
}

TEST_CASE("truncated and garbage payloads are refused, never a crash") {
  const std::string good = EncodeRecord(SomeHeartbeat());
  for (std::size_t n = 0; n < good.size(); ++n) {
    CAPTURE(n);
    CHECK_FALSE(DecodeRecord(good.substr(0, n)).ok());
  }
  for (const std::string& bad :
       {std::string("null"), std::string("[]"), std::string("\"heartbeat\""),
        std::string("\xef\xbb\xbf") + good, std::string(200, '['), std::string("{\"v\":1}{}"),
        std::string("\xff\xfe{}", 4)}) {
    CHECK_FALSE(DecodeRecord(bad).ok());
  }
  CHECK(Refusal(std::string("[]")) == "payload is not a JSON object");
}

TEST_CASE("moving a payload in the chain keeps every other field, even unknown ones") {
  json p = HeartbeatJson();
  p["future_field"] = {1, 2};
  auto moved = MoveInChain(p.dump(), 5, 9, "prev-hash");
  REQUIRE(moved.ok());
  json m = json::parse(*moved);
  CHECK(m["epoch"] == 5);
  CHECK(m["seq"] == 9);
  CHECK(m["prev"] == "prev-hash");
  m["epoch"] = p["epoch"];
  m["seq"] = p["seq"];
  m["prev"] = p["prev"];
  CHECK(m == p);
  CHECK_FALSE(MoveInChain("not json", 1, 1, "x").ok());
  CHECK_FALSE(MoveInChain("[1]", 1, 1, "x").ok());
}

TEST_CASE("free text may hold any character but NUL, which PostgreSQL text cannot store") {
  json task = json::parse(
      EncodeRecord({SomeEnvelope(), TaskRun{"job", "n\tname", kAt, false, "line 1\nline 2"}}));
  CHECK(DecodeRecord(task.dump()).ok());
  task["error"] = std::string("a\0b", 3);
  CHECK(Refusal(task) == "payload error must not contain NUL");
  task["error"] = nullptr;
  task["name"] = std::string("a\0b", 3);
  CHECK(Refusal(task) == "payload name must not contain NUL");
  CHECK(EncodeCheckStates({{"tmux", CheckState::kCritical}, {"disk", CheckState::kOk}}) ==
        R"({"disk":"ok","tmux":"critical"})");
}
