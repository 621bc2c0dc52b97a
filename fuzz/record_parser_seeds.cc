// The seed corpus of record_parser_fuzz: records signed the way the agent signs them (with
// the harness's fixed keys), batches of them, and near misses of each rule VerifyRecord
// applies. record_parser_seeds writes them to fuzz/corpus/record_parser/; the regression
// test checks the files are these and that each gets its verdict.
#include <nlohmann/json.hpp>

#include "fuzz/record_parser_harness.h"

namespace fleet::fuzz {
namespace {

std::string Header(const HarnessKey& key, const std::string& alg = "EdDSA",
                   const std::string& typ = "fleet-record+jws") {
  return nlohmann::json{{"alg", alg}, {"kid", key.kid}, {"typ", typ}}.dump();
}

std::string WithField(const std::string& payload, const std::string& name,
                      const nlohmann::json& value) {
  auto p = nlohmann::json::parse(payload);
  p[name] = value;
  return p.dump();
}

// Replaces one character in the middle of the signature with another base64url one.
std::string BreakSignature(std::string jws) {
  const std::size_t i = jws.rfind('.') + 20;
  jws[i] = jws[i] == 'A' ? 'B' : 'A';
  return jws;
}

}  // namespace

std::vector<Seed> RecordParserSeeds() {
  const HarnessKey& key = ActiveKey();
  const std::string genesis = GenesisHash();
  const std::string heartbeat = RecordPayload(key, 1, 1, genesis);
  std::vector<Seed> seeds;
  auto add = [&](std::string name, std::string content) {
    seeds.push_back({std::move(name), std::move(content)});
  };

  add("valid-heartbeat.jws", SignPayload(heartbeat, key));
  add("valid-task.jws",
      SignPayload(RecordPayload(key, 2, 5, ChainHash("seq 4"), protocol::RecordType::kTask), key));
  const std::string ack = RecordPayload(key, 1, 1, genesis, protocol::RecordType::kAck);
  const std::string maintenance =
      RecordPayload(key, 1, 1, genesis, protocol::RecordType::kMaintenance);
  add("valid-ack.jws", SignPayload(ack, key));
  add("valid-maintenance.jws", SignPayload(maintenance, key));
  const std::string remediation =
      RecordPayload(key, 1, 1, genesis, protocol::RecordType::kRemediation);
  add("valid-remediation.jws", SignPayload(remediation, key));
  const std::string key_rotate =
      RecordPayload(key, 1, 1, genesis, protocol::RecordType::kKeyRotate);
  add("valid-key-rotate.jws", SignPayload(key_rotate, key));
  {
    std::vector<std::string> chain;
    std::string prev = genesis;
    for (int seq = 1; seq <= 5; ++seq) {
      chain.push_back(SignPayload(RecordPayload(key, 1, seq, prev), key));
      prev = ChainHash(chain.back());
    }
    add("valid-chain.ndjson",
        chain[0] + "\n" + chain[1] + "\r\n\n" + chain[2] + "\n" + chain[3] + "\n" + chain[4]);
    const std::string fork =
        SignPayload(RecordPayload(key, 1, 1, genesis, protocol::RecordType::kIncident), key);
    add("valid-gap-fork.ndjson",
        chain[0] + "\n" + chain[2] + "\n" + fork + "\n" + chain[0] + "\n" +
            SignPayload(RecordPayload(RevokedKey(), 1, 1, genesis), RevokedKey()) +
            "\nnot a record\n");
  }

  add("bad-revoked.jws", SignPayload(RecordPayload(RevokedKey(), 1, 1, genesis), RevokedKey()));
  add("bad-unknown-kid.jws", SignPayload(RecordPayload(UnknownKey(), 1, 1, genesis), UnknownKey()));
  add("bad-signature.jws", BreakSignature(SignPayload(heartbeat, key)));
  add("bad-alg-none.jws", SignWithHeader(Header(key, "none"), heartbeat, key));
  add("bad-typ.jws", SignWithHeader(Header(key, "EdDSA", "JWT"), heartbeat, key));
  add("bad-header-deep.jws",
      SignWithHeader(WithField(Header(key), "x", nlohmann::json::parse("[[[[[1]]]]]")), heartbeat,
                     key));
  // Near misses the contract's types can express, then the ones only JSON text can.
  auto changed = [&](auto change) {
    protocol::Record record = HarnessRecord(key, 1, 1, genesis);
    change(record);
    return SignPayload(protocol::EncodeRecord(record), key);
  };
  add("bad-payload-node.jws", changed([](auto& r) { r.envelope.node = "fuzz-revoked"; }));
  add("bad-payload-seq-zero.jws", changed([](auto& r) { r.envelope.seq = 0; }));
  add("bad-payload-minute-second.jws",
      changed([](auto& r) { std::get<protocol::Heartbeat>(r.body).minute += 30; }));
  add("bad-payload-version.jws", SignPayload(WithField(heartbeat, protocol::fields::kV, 2), key));
  add("bad-payload-epoch-text.jws",
      SignPayload(WithField(heartbeat, protocol::fields::kEpoch, "1"), key));
  add("bad-payload-up-text.jws",
      SignPayload(WithField(heartbeat, protocol::fields::kUp, "0.9"), key));
  add("bad-payload-up-twice.jws",
      SignPayload("{\"" + std::string(protocol::fields::kUp) + "\":false," + heartbeat.substr(1),
                  key));
  add("bad-payload-minute-offset.jws",
      SignPayload(WithField(heartbeat, protocol::fields::kMinute, "2026-11-25T11:00:00+01:00"),
                  key));
  add("bad-payload-type.jws",
      SignPayload(WithField(heartbeat, protocol::fields::kType, "uptime"), key));
  add("bad-payload-unknown-field.jws", SignPayload(WithField(heartbeat, "load", 0.5), key));
  add("bad-payload-ack-via.jws",
      SignPayload(WithField(ack, protocol::fields::kVia, "discord"), key));
  add("bad-payload-ack-future.jws",  // acknowledged 10 min after the receive time
      SignPayload(WithField(ack, protocol::fields::kAt, "2026-11-25T11:10:00Z"), key));
  add("bad-payload-remediation-action.jws",
      SignPayload(WithField(remediation, protocol::fields::kAction, "reboot"), key));
  add("bad-payload-key-rotate-proof.jws",  // the proof cut short: not the new key's signature
      SignPayload(
          WithField(
              key_rotate, protocol::fields::kProof,
              nlohmann::json::parse(key_rotate)[protocol::fields::kProof].get<std::string>().substr(
                  0, 40) +
                  "A"),
          key));
  add("bad-payload-maintenance-long.jws",
      SignPayload(WithField(maintenance, protocol::fields::kUntil, "2026-12-25T10:00:01Z"), key));
  add("bad-payload-not-json.jws", SignPayload("heartbeat at 10:00", key));
  add("bad-payload-array.jws", SignPayload("[" + heartbeat + "]", key));
  add("bad-payload-deep.jws",
      SignPayload(WithField(heartbeat, "nested",
                            nlohmann::json::parse(std::string(40, '[') + std::string(40, ']'))),
                  key));
  add("bad-too-large.jws", SignPayload(WithField(heartbeat, "note", std::string(50000, 'x')), key));
  add("bad-two-parts.txt", "eyJhbGciOiJFZERTQSJ9.e30");
  add("bad-not-base64.txt", "!!!.###.$$$");
  add("bad-empty.txt", "");

  // Inputs for the signed modes: payloads and a header, as plain JSON.
  add("payload-heartbeat.json", heartbeat);
  {
    std::string body;
    std::string prev = genesis;
    for (int seq = 1; seq <= 3; ++seq) {
      const std::string payload = RecordPayload(key, 7, seq, prev);
      body += payload + "\n";
      prev = ChainHash(SignPayload(payload, key));
    }
    add("payload-chain.ndjson", body);
  }
  add("header-active.json", Header(key));
  return seeds;
}

}  // namespace fleet::fuzz
