// The wire contract (protocol/records.h): every record type encodes and decodes back
// unchanged, and the strict decoder refuses, naming the field, what an agent never writes.
#include "protocol/records.h"

#include <doctest/doctest.h>
#include <sodium.h>

#include <nlohmann/json.hpp>
#include <string>

#include "protocol/jws.h"
#include "protocol/key_proof.h"

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
      {SomeEnvelope(), Ack{7, kAt - 240, "ada_l", AckVia::kTelegram, std::nullopt}},
      {SomeEnvelope(), Ack{7, kAt, "hermes", AckVia::kCli, "restarted the gateway\nby hand"}},
      {SomeEnvelope(), Ack{(std::int64_t{1} << 53) - 1, kAt, "op-7", AckVia::kReceiver, ""}},
      {SomeEnvelope(), Maintenance{kAt, kAt + 7200, "kernel upgrade", "hermes"}},
      {SomeEnvelope(), Maintenance{kAt, kAt + kMaxMaintenanceSeconds, "move", "123456789"}},
      {SomeEnvelope(), Remediation{"gateway", "hermes-gateway.service", RemedyAction::kRestartUnit,
                                   "hermes-gateway.service failed (signal)", 1, kAt, kAt + 6,
                                   RemedyOutcome::kSucceeded, "active (running) after 6 s", 7}},
      {SomeEnvelope(), Remediation{"disk", "/", RemedyAction::kRemoveFiles, "/ 95% used", 999, kAt,
                                   kAt, RemedyOutcome::kDryRun, std::nullopt, std::nullopt}},
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
          "payload type 'uptime' is not one of heartbeat, task, incident, agent_start, agent_stop, "
          "ack, maintenance, remediation, key_rotate");
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

namespace {

Record SomeAck() {
  return {SomeEnvelope(), Ack{7, kAt - 240, "ada_l", AckVia::kTelegram, "on it"}};
}
Record SomeMaintenance() {
  return {SomeEnvelope(), Maintenance{kAt, kAt + 7200, "kernel upgrade", "hermes"}};
}

}  // namespace

TEST_CASE("ack: the fields as the agent writes them, and back") {
  const json p = json::parse(EncodeRecord(SomeAck()));
  CHECK(p["type"] == "ack");
  CHECK(p["incident"] == 7);
  CHECK(p["at"] == "2026-11-25T09:56:00Z");
  CHECK(p["by"] == "ada_l");
  CHECK(p["via"] == "telegram");
  CHECK(p["note"] == "on it");
  const Record decoded = DecodeRecord(p.dump()).value();
  const auto& ack = std::get<Ack>(decoded.body);
  CHECK(ack.incident == 7);
  CHECK(ack.at == kAt - 240);
  CHECK(ack.by == "ada_l");
  CHECK(ack.via == AckVia::kTelegram);
  CHECK(ack.note == std::optional<std::string>("on it"));
  for (AckVia via : {AckVia::kTelegram, AckVia::kCli, AckVia::kReceiver}) {
    CHECK(ParseAckVia(AckViaName(via)) == via);
  }
  CHECK_FALSE(ParseAckVia("Telegram").has_value());
  CHECK(json::parse(EncodeRecord({SomeEnvelope(), Ack{1, kAt, "x", AckVia::kCli, {}}}))["note"]
            .is_null());
}

TEST_CASE("ack: every field required, exact types, closed via, limits") {
  const json good = json::parse(EncodeRecord(SomeAck()));
  SUBCASE("each field is required, and null only for note") {
    for (const char* name : {"incident", "at", "by", "via", "note"}) {
      CAPTURE(name);
      json missing = good;
      missing.erase(name);
      CHECK(Refusal(missing) == std::string("payload ") + name + " is missing");
    }
    json p = good;
    p["note"] = nullptr;
    CHECK(DecodeRecord(p.dump()).ok());
    for (const char* name : {"incident", "at", "by", "via"}) {
      CAPTURE(name);
      json null = good;
      null[name] = nullptr;
      CHECK(Refusal(null).starts_with(std::string("payload ") + name + " must"));
    }
  }
  SUBCASE("incident: an integer >= 1 and < 2^53") {
    json p = good;
    for (const json& bad : {json(0), json(-3), json(1.5), json("7"), json(std::int64_t{1} << 53),
                            json(std::uint64_t{1} << 63), json(true)}) {
      CAPTURE(bad.dump());
      p["incident"] = bad;
      CHECK(Refusal(p) == "payload incident must be an integer >= 1 and < 2^53");
    }
  }
  SUBCASE("at: RFC 3339 UTC") {
    json p = good;
    for (const json& bad : {json("2026-11-25T10:56:00+01:00"), json("2026-11-25T09:56:00.5Z"),
                            json(1795600560), json("")}) {
      CAPTURE(bad.dump());
      p["at"] = bad;
      CHECK(Refusal(p).starts_with("payload at must be RFC 3339 UTC"));
    }
  }
  SUBCASE("by: 1 to 64 bytes, no control characters") {
    json p = good;
    p["by"] = "";
    CHECK(Refusal(p) == "payload by must not be empty");
    p["by"] = std::string(65, 'b');
    CHECK(Refusal(p) == "payload by is longer than 64 bytes");
    p["by"] = std::string(64, 'b');
    CHECK(DecodeRecord(p.dump()).ok());
    p["by"] = "ada\nl";
    CHECK(Refusal(p) == "payload by must not contain control characters");
    p["by"] = std::string("ada\0", 4);
    CHECK(Refusal(p) == "payload by must not contain control characters");
    p["by"] = 123456789;  // a Telegram id goes as text
    CHECK(Refusal(p) == "payload by must be a string");
  }
  SUBCASE("via: the closed set, exactly spelled") {
    json p = good;
    for (const json& bad : {json("Telegram"), json("discord"), json(""), json(1), json::array()}) {
      CAPTURE(bad.dump());
      p["via"] = bad;
      CHECK(Refusal(p) == "payload via must be one of telegram, cli, receiver");
    }
  }
  SUBCASE("note: text up to 1 KiB, no NUL, or null") {
    json p = good;
    p["note"] = std::string(1024, 'n');
    CHECK(DecodeRecord(p.dump()).ok());
    p["note"] = std::string(1025, 'n');
    CHECK(Refusal(p) == "payload note is longer than 1024 bytes");
    p["note"] = std::string("a\0b", 3);
    CHECK(Refusal(p) == "payload note must not contain NUL");
    p["note"] = "line 1\nline 2\tcaf\u00e9";
    CHECK(DecodeRecord(p.dump()).ok());
    p["note"] = false;
    CHECK(Refusal(p) == "payload note must be a string or null");
  }
  SUBCASE("unknown and repeated fields") {
    json p = good;
    p["reason"] = "maintenance's field on an ack";
    CHECK(Refusal(p) == "payload has unknown field 'reason'");
    const std::string text = good.dump();
    CHECK(Refusal("{\"by\":\"mallory\"," + text.substr(1)) == "payload: duplicate key 'by'");
    CHECK(Refusal("{\"incident\":8," + text.substr(1)) == "payload: duplicate key 'incident'");
  }
}

TEST_CASE("maintenance: every field required, exact types, a window of at most 30 days") {
  const json good = json::parse(EncodeRecord(SomeMaintenance()));
  CHECK(good["type"] == "maintenance");
  CHECK(good["from"] == "2026-11-25T10:00:00Z");
  CHECK(good["until"] == "2026-11-25T12:00:00Z");
  CHECK(good["reason"] == "kernel upgrade");
  CHECK(good["by"] == "hermes");
  const auto window = std::get<Maintenance>(DecodeRecord(good.dump()).value().body);
  CHECK(window.from == kAt);
  CHECK(window.until == kAt + 7200);
  CHECK(window.reason == "kernel upgrade");
  CHECK(window.by == "hermes");
  SUBCASE("each field is required, none may be null") {
    for (const char* name : {"from", "until", "reason", "by"}) {
      CAPTURE(name);
      json missing = good;
      missing.erase(name);
      CHECK(Refusal(missing) == std::string("payload ") + name + " is missing");
      json null = good;
      null[name] = nullptr;
      CHECK(Refusal(null).starts_with(std::string("payload ") + name + " must"));
    }
  }
  SUBCASE("until after from, at most 30 days after") {
    json p = good;
    p["until"] = p["from"];
    CHECK(Refusal(p) == "payload until is not after from");
    p["until"] = "2026-11-25T09:59:59Z";
    CHECK(Refusal(p) == "payload until is not after from");
    p["until"] = "2026-12-25T10:00:00Z";  // exactly 30 days
    CHECK(DecodeRecord(p.dump()).ok());
    p["until"] = "2026-12-25T10:00:01Z";
    CHECK(Refusal(p) == "payload until is more than 30 days after from");
    p["until"] = "2026-11-25T12:00:00+00:00";
    CHECK(Refusal(p).starts_with("payload until must be RFC 3339 UTC"));
    p["until"] = good["until"];
    p["from"] = 1795600800;
    CHECK(Refusal(p).starts_with("payload from must be RFC 3339 UTC"));
  }
  SUBCASE("reason: 1 byte to 1 KiB, no NUL; by as for ack") {
    json p = good;
    p["reason"] = "";
    CHECK(Refusal(p) == "payload reason must not be empty");
    p["reason"] = std::string(1025, 'r');
    CHECK(Refusal(p) == "payload reason is longer than 1024 bytes");
    p["reason"] = std::string(1024, 'r');
    CHECK(DecodeRecord(p.dump()).ok());
    p["reason"] = std::string("a\0b", 3);
    CHECK(Refusal(p) == "payload reason must not contain NUL");
    p["reason"] = "disk swap\nback at 14:00";
    CHECK(DecodeRecord(p.dump()).ok());
    p["by"] = std::string(65, 'b');
    CHECK(Refusal(p) == "payload by is longer than 64 bytes");
    p["by"] = "a\x7f";
    CHECK(Refusal(p) == "payload by must not contain control characters");
  }
  SUBCASE("unknown and repeated fields") {
    json p = good;
    p["via"] = "cli";
    CHECK(Refusal(p) == "payload has unknown field 'via'");
    const std::string text = good.dump();
    CHECK(Refusal("{\"until\":\"2026-12-01T00:00:00Z\"," + text.substr(1)) ==
          "payload: duplicate key 'until'");
  }
}

TEST_CASE("ack and maintenance: truncated and garbage payloads are refused, never a crash") {
  for (const Record& record : {SomeAck(), SomeMaintenance()}) {
    const std::string good = EncodeRecord(record);
    CAPTURE(good);
    for (std::size_t n = 0; n < good.size(); ++n) {
      CAPTURE(n);
      CHECK_FALSE(DecodeRecord(good.substr(0, n)).ok());
    }
    // A raw control character anywhere (JSON text holds none, in strings or out of them).
    for (std::size_t i = 0; i < good.size(); ++i) {
      CAPTURE(i);
      std::string bad = good;
      bad[i] = '\x01';
      CHECK_FALSE(DecodeRecord(bad).ok());
    }
  }
}

namespace {

Record SomeRemediation() {
  return {SomeEnvelope(),
          Remediation{"tmux", "BURN2", RemedyAction::kCreateSession,
                      "BURN2 missing; start it: tmux new-session -d -s BURN2 'hermes chat --yolo'",
                      2, kAt, kAt + 1, RemedyOutcome::kSucceeded,
                      "session BURN2 created running 'hermes chat --yolo'", 12}};
}

}  // namespace

TEST_CASE("remediation: the fields as the agent writes them, and back") {
  const json p = json::parse(EncodeRecord(SomeRemediation()));
  CHECK(p["type"] == "remediation");
  CHECK(p["check"] == "tmux");
  CHECK(p["target"] == "BURN2");
  CHECK(p["action"] == "create_session");
  CHECK(p["attempt"] == 2);
  CHECK(p["started"] == "2026-11-25T10:00:00Z");
  CHECK(p["finished"] == "2026-11-25T10:00:01Z");
  CHECK(p["outcome"] == "succeeded");
  CHECK(p["changed"] == "session BURN2 created running 'hermes chat --yolo'");
  CHECK(p["incident"] == 12);
  const auto done = std::get<Remediation>(DecodeRecord(p.dump()).value().body);
  CHECK(done.check == "tmux");
  CHECK(done.target == "BURN2");
  CHECK(done.action == RemedyAction::kCreateSession);
  CHECK(done.attempt == 2);
  CHECK(done.started == kAt);
  CHECK(done.finished == kAt + 1);
  CHECK(done.outcome == RemedyOutcome::kSucceeded);
  CHECK(done.incident == std::optional<std::int64_t>(12));
  for (auto action :
       {RemedyAction::kRestartUnit, RemedyAction::kCreateSession, RemedyAction::kRespawnPane,
        RemedyAction::kInterruptPane, RemedyAction::kRemoveFiles, RemedyAction::kRunScript,
        RemedyAction::kQuarantineFile}) {
    CHECK(ParseRemedyAction(RemedyActionName(action)) == action);
  }
  for (auto outcome : {RemedyOutcome::kSucceeded, RemedyOutcome::kFailed, RemedyOutcome::kDryRun,
                       RemedyOutcome::kExhausted}) {
    CHECK(ParseRemedyOutcome(RemedyOutcomeName(outcome)) == outcome);
  }
  CHECK_FALSE(ParseRemedyAction("restart").has_value());
  CHECK_FALSE(ParseRemedyOutcome("ok").has_value());
}

TEST_CASE("remediation: every field required, exact types, closed sets, limits") {
  const json good = json::parse(EncodeRecord(SomeRemediation()));
  SUBCASE("each field is required; null only for changed and incident") {
    for (const char* name : {"check", "target", "action", "reason", "attempt", "started",
                             "finished", "outcome", "changed", "incident"}) {
      CAPTURE(name);
      json missing = good;
      missing.erase(name);
      CHECK(Refusal(missing) == std::string("payload ") + name + " is missing");
    }
    json p = good;
    p["changed"] = nullptr;
    p["incident"] = nullptr;
    const auto done = std::get<Remediation>(DecodeRecord(p.dump()).value().body);
    CHECK_FALSE(done.changed.has_value());
    CHECK_FALSE(done.incident.has_value());
    for (const char* name :
         {"check", "target", "action", "reason", "attempt", "started", "finished", "outcome"}) {
      CAPTURE(name);
      json null = good;
      null[name] = nullptr;
      CHECK(Refusal(null).starts_with(std::string("payload ") + name + " must"));
    }
  }
  SUBCASE("action and outcome: the closed sets, exactly spelled") {
    json p = good;
    for (const json& bad : {json("restart"), json("Restart_Unit"), json(""), json(2)}) {
      CAPTURE(bad.dump());
      p["action"] = bad;
      CHECK(Refusal(p) ==
            "payload action must be one of restart_unit, create_session, respawn_pane, "
            "interrupt_pane, remove_files, run_script, quarantine_file");
    }
    p = good;
    for (const json& bad : {json("ok"), json("dry-run"), json(true)}) {
      CAPTURE(bad.dump());
      p["outcome"] = bad;
      CHECK(Refusal(p) == "payload outcome must be one of succeeded, failed, dry_run, exhausted");
    }
  }
  SUBCASE("attempt 1..999, incident >= 1 and < 2^53") {
    json p = good;
    for (const json& bad : {json(0), json(1000), json(1.5), json("2")}) {
      CAPTURE(bad.dump());
      p["attempt"] = bad;
      CHECK(Refusal(p) == "payload attempt must be an integer >= 1 and < 1000");
    }
    p = good;
    for (const json& bad : {json(0), json(std::int64_t{1} << 53), json("12")}) {
      CAPTURE(bad.dump());
      p["incident"] = bad;
      CHECK(Refusal(p) == "payload incident must be an integer >= 1 and < 2^53");
    }
  }
  SUBCASE("times: RFC 3339 UTC, finished not before started, within a day") {
    json p = good;
    p["finished"] = "2026-11-25T09:59:59Z";
    CHECK(Refusal(p) == "payload finished is before started");
    p["finished"] = "2026-11-26T10:00:00Z";
    CHECK(DecodeRecord(p.dump()).ok());
    p["finished"] = "2026-11-26T10:00:01Z";
    CHECK(Refusal(p) == "payload finished is more than a day after started");
    p["finished"] = good["finished"];
    p["started"] = "2026-11-25T10:00:00+00:00";
    CHECK(Refusal(p).starts_with("payload started must be RFC 3339 UTC"));
  }
  SUBCASE("text: check and target identifiers, reason and changed bounded") {
    json p = good;
    p["target"] = "";
    CHECK(Refusal(p) == "payload target must not be empty");
    p["target"] = std::string(257, 't');
    CHECK(Refusal(p) == "payload target is longer than 256 bytes");
    p["target"] = std::string(256, 't');
    CHECK(DecodeRecord(p.dump()).ok());
    p["target"] = "/home/hermes/.hermes/cron/output";
    CHECK(DecodeRecord(p.dump()).ok());
    p["target"] = "BURN\n2";
    CHECK(Refusal(p) == "payload target must not contain control characters");
    p["target"] = "BURN\x1b[2";
    CHECK(Refusal(p) == "payload target must not contain control characters");
    p = good;
    p["check"] = std::string(65, 'c');
    CHECK(Refusal(p) == "payload check is longer than 64 bytes");
    p = good;
    p["reason"] = "";
    CHECK(Refusal(p) == "payload reason must not be empty");
    p["reason"] = std::string(1025, 'r');
    CHECK(Refusal(p) == "payload reason is longer than 1024 bytes");
    p = good;
    p["changed"] = std::string(1025, 'c');
    CHECK(Refusal(p) == "payload changed is longer than 1024 bytes");
    p["changed"] = std::string("a\0b", 3);
    CHECK(Refusal(p) == "payload changed must not contain NUL");
  }
  SUBCASE("unknown and repeated fields") {
    json p = good;
    p["by"] = "hermes";
    CHECK(Refusal(p) == "payload has unknown field 'by'");
    const std::string text = good.dump();
    CHECK(Refusal("{\"outcome\":\"failed\"," + text.substr(1)) ==
          "payload: duplicate key 'outcome'");
  }
  SUBCASE("truncated and garbage payloads are refused, never a crash") {
    const std::string text = good.dump();
    for (std::size_t n = 0; n < text.size(); ++n) {
      CAPTURE(n);
      CHECK_FALSE(DecodeRecord(text.substr(0, n)).ok());
    }
    for (std::size_t i = 0; i < text.size(); ++i) {
      CAPTURE(i);
      std::string bad = text;
      bad[i] = '\x01';
      CHECK_FALSE(DecodeRecord(bad).ok());
    }
  }
}

namespace {

// A key pair made from a fixed seed (the tests' keys are the same every run).
struct SeedKey {
  PublicKey public_key{};
  SecretKey secret_key{};
  std::string kid;
  explicit SeedKey(char fill) {
    REQUIRE(sodium_init() >= 0);
    const std::string seed(crypto_sign_SEEDBYTES, fill);
    crypto_sign_seed_keypair(public_key.data(), secret_key.data(),
                             reinterpret_cast<const unsigned char*>(seed.data()));
    kid = KeyId(public_key);
  }
};

Record SomeKeyRotate() {
  const SeedKey next('n');
  const Envelope e = SomeEnvelope();
  return {e, KeyRotate{next.public_key, next.kid,
                       SignKeyProof({e.node, "oldkidAAAAA", next.kid, e.t}, next.secret_key)}};
}

json KeyRotateJson() { return json::parse(EncodeRecord(SomeKeyRotate())); }

}  // namespace

TEST_CASE("key_rotate: the new key as a JWK and the proof, and back") {
  const Record record = SomeKeyRotate();
  const std::string text = EncodeRecord(record);
  CAPTURE(text);
  const json p = json::parse(text);
  CHECK(p["type"] == "key_rotate");
  CHECK(p["new_jwk"] == json::parse(PublicJwk(std::get<KeyRotate>(record.body).new_key)));
  auto decoded = DecodeRecord(text);
  REQUIRE(decoded.ok());
  CHECK(decoded->Type() == RecordType::kKeyRotate);
  const auto& rotate = std::get<KeyRotate>(decoded->body);
  CHECK(rotate.new_key == std::get<KeyRotate>(record.body).new_key);
  CHECK(rotate.new_kid == SeedKey('n').kid);
  CHECK(rotate.proof == std::get<KeyRotate>(record.body).proof);
  CHECK(EncodeRecord(*decoded) == text);
}

TEST_CASE("key_rotate: the JWK exactly an Ed25519 key with its own kid, the proof bounded") {
  json p = KeyRotateJson();
  SUBCASE("new_jwk missing") {
    p.erase("new_jwk");
    CHECK(Refusal(p) == "payload new_jwk is missing");
  }
  SUBCASE("new_jwk a string") {
    p["new_jwk"] = PublicJwk(SeedKey('n').public_key);
    CHECK(Refusal(p) == "payload new_jwk must be an object");
  }
  SUBCASE("a member the agent never writes (a private key)") {
    p["new_jwk"]["d"] = p["new_jwk"]["x"];
    CHECK(Refusal(p) == "payload new_jwk has unknown member 'd'");
  }
  SUBCASE("another curve") {
    p["new_jwk"]["crv"] = "X25519";
    CHECK(Refusal(p) == "payload new_jwk must be an Ed25519 key (kty OKP, crv Ed25519)");
  }
  SUBCASE("x of 31 bytes") {
    p["new_jwk"]["x"] = Base64UrlEncode(std::string(31, 'x'));
    CHECK(Refusal(p) == "payload new_jwk.x must be a 32-byte key in base64url");
  }
  SUBCASE("x not canonical base64url (padding)") {
    p["new_jwk"]["x"] = p["new_jwk"]["x"].get<std::string>() + "=";
    CHECK(Refusal(p) == "payload new_jwk.x must be a 32-byte key in base64url");
  }
  SUBCASE("kid missing or another key's") {
    p["new_jwk"].erase("kid");
    CHECK(Refusal(p) == "payload new_jwk.kid must be the key's kid " + SeedKey('n').kid);
    p["new_jwk"]["kid"] = SeedKey('o').kid;
    CHECK(Refusal(p) == "payload new_jwk.kid must be the key's kid " + SeedKey('n').kid);
  }
  SUBCASE("proof missing, empty, too long") {
    p.erase("proof");
    CHECK(Refusal(p) == "payload proof is missing");
    p["proof"] = "";
    CHECK(Refusal(p) == "payload proof must not be empty");
    p["proof"] = std::string(kMaxProofBytes + 1, 'a');
    CHECK(Refusal(p) ==
          "payload proof is longer than " + std::to_string(kMaxProofBytes) + " bytes");
  }
  SUBCASE("a field of another type") {
    p["up"] = true;
    CHECK(Refusal(p) == "payload has unknown field 'up'");
  }
}

TEST_CASE("key_rotate: truncated and garbage payloads are refused, never a crash") {
  const std::string good = EncodeRecord(SomeKeyRotate());
  for (std::size_t n = 0; n < good.size(); ++n) {
    CAPTURE(n);
    CHECK_FALSE(DecodeRecord(good.substr(0, n)).ok());
  }
  for (std::size_t i = 0; i < good.size(); ++i) {
    CAPTURE(i);
    std::string bad = good;
    bad[i] = '\x01';
    CHECK_FALSE(DecodeRecord(bad).ok());
  }
}
