// The record parser's fuzz harness, shared by the libFuzzer target (record_parser_fuzz.cc)
// and the regression test (tests/receiver/fuzz_regressions_test.cc). RunRecordParser takes
// one input and feeds it (a) as one line to ReadJwsHeader and VerifyRecord, with a registry
// that knows the harness's keys (one active, one revoked); (b) as an NDJSON batch to
// IngestBatch over a fresh MemoryRecordStore; (c) line by line signed as record payloads
// with the active key, to VerifyRecord and IngestBatch, so the payload, chain and watermark
// rules are reached past the signature, and the first line's payload decoded and
// re-encoded (the contract's round trip); (d) its first line signed as a JWS header. It
// returns the verdicts and every invariant it saw broken (the fuzz target aborts on any).
// The keys come from constant seeds, so the signed seeds in fuzz/corpus/record_parser/
// (RecordParserSeeds, written by record_parser_seeds) stay valid. Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/jws.h"
#include "protocol/records.h"
#include "receiver/core/record_verify.h"

namespace fleet::fuzz {

// How many lines of an input (c) signs: each costs a signature and a verification.
inline constexpr std::size_t kMaxSignedLines = 4;

struct HarnessKey {
  std::string node;
  PublicKey public_key{};
  SecretKey secret_key{};
  std::string kid;
};
const HarnessKey& ActiveKey();   // registered to node "fuzz-node"
const HarnessKey& RevokedKey();  // registered to node "fuzz-revoked", revoked
const HarnessKey& UnknownKey();  // not registered (node "fuzz-stranger")
const HarnessKey& NextKey();     // not registered: the active node's key_rotate moves to it

// A compact JWS of payload with the usual header, signed with key.
std::string SignPayload(std::string_view payload, const HarnessKey& key);
// A compact JWS with header_json taken as it is as the protected header, signed with key.
std::string SignWithHeader(std::string_view header_json, std::string_view payload,
                           const HarnessKey& key);
// An agent's record of the given type for key's node, made at 2026-11-25T10:00:00Z, and
// its payload as the contract encodes it (protocol/records.h).
protocol::Record HarnessRecord(const HarnessKey& key, std::int64_t epoch, std::int64_t seq,
                               const std::string& prev,
                               protocol::RecordType type = protocol::RecordType::kHeartbeat);
std::string RecordPayload(const HarnessKey& key, std::int64_t epoch, std::int64_t seq,
                          const std::string& prev,
                          protocol::RecordType type = protocol::RecordType::kHeartbeat);

struct ParserRun {
  bool header_read = false;                      // (a) ReadJwsHeader accepted the input
  std::optional<receiver::RejectKind> rejected;  // (a) VerifyRecord: nullopt when accepted
  std::string reason;                            // (a) the rejection's reason
  int batch_status = 0;                          // (b) IngestBatch's HTTP status
  std::string batch_body;                        // (b) its reply, as the receiver sends it
  int signed_status = 0;                         // (c) IngestBatch over the signed lines
  std::vector<std::string> broken;               // invariants that did not hold (empty: all fine)
};

ParserRun RunRecordParser(std::string_view data);

// The seed corpus: real signed records and near misses, by file name.
struct Seed {
  std::string name;
  std::string content;
};
std::vector<Seed> RecordParserSeeds();

}  // namespace fleet::fuzz
