// The record parser's fuzz regressions, in the ordinary build (and under ASan in
// build-asan): every input kept in tests/data/fuzz/record_parser/ (what fuzz/run-fuzz.sh
// found) and every seed of fuzz/corpus/record_parser/ goes through the fuzz harness's entry
// points (fuzz/record_parser_harness.h: VerifyRecord, ReadJwsHeader, IngestBatch) without a
// crash or a broken invariant, and each seed gets the verdict a pushing agent would see.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "fuzz/record_parser_harness.h"

namespace fleet::fuzz {
namespace {

namespace fs = std::filesystem;
using receiver::RejectKind;

const fs::path kFindings = fs::path(FLEET_TEST_DATA) / "fuzz" / "record_parser";
const fs::path kSeeds =
    fs::path(FLEET_TEST_DATA) / ".." / ".." / "fuzz" / "corpus" / "record_parser";

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<fs::path> FilesIn(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.is_regular_file() && entry.path().extension() != ".md") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// What each seed must give: VerifyRecord's verdict on it as one line (nullopt: accepted)
// with a part of the reason, IngestBatch's status on it as a batch, and on its lines signed
// as payloads with the harness's active key.
struct Verdict {
  std::optional<RejectKind> rejected;
  std::string reason;
  int batch_status;
  int signed_status;
};

const std::map<std::string, Verdict>& SeedVerdicts() {
  constexpr auto kInvalid = RejectKind::kInvalid;
  static const std::map<std::string, Verdict> verdicts = {
      {"valid-heartbeat.jws", {std::nullopt, "", 200, 400}},
      {"valid-task.jws", {std::nullopt, "", 200, 400}},
      {"valid-ack.jws", {std::nullopt, "", 200, 400}},
      {"valid-maintenance.jws", {std::nullopt, "", 200, 400}},
      {"valid-remediation.jws", {std::nullopt, "", 200, 400}},
      {"valid-key-rotate.jws", {std::nullopt, "", 200, 400}},
      {"valid-chain.ndjson", {kInvalid, "not a compact JWS", 200, 400}},
      {"valid-gap-fork.ndjson", {kInvalid, "not a compact JWS", 200, 400}},
      {"bad-revoked.jws",
       {RejectKind::kRevokedKey, "node fuzz-revoked is revoked since", 403, 400}},
      {"bad-unknown-kid.jws", {RejectKind::kUnknownKey, "unknown kid", 401, 400}},
      {"bad-signature.jws", {kInvalid, "bad signature", 400, 400}},
      {"bad-alg-none.jws", {kInvalid, "alg must be EdDSA, not 'none'", 400, 400}},
      {"bad-typ.jws", {kInvalid, "typ must be fleet-record+jws", 400, 400}},
      {"bad-header-deep.jws", {kInvalid, "the JWS header is not a JSON object", 400, 400}},
      {"bad-payload-version.jws", {kInvalid, "payload v must be 1", 400, 400}},
      {"bad-payload-node.jws", {kInvalid, "payload names node 'fuzz-revoked'", 400, 400}},
      {"bad-payload-seq-zero.jws", {kInvalid, "payload seq must be an integer >= 1", 400, 400}},
      {"bad-payload-epoch-text.jws", {kInvalid, "payload epoch must be an integer >= 1", 400, 400}},
      {"bad-payload-minute-second.jws",
       {kInvalid, "payload minute must be on a minute boundary", 400, 400}},
      {"bad-payload-up-text.jws", {kInvalid, "payload up must be true or false", 400, 400}},
      {"bad-payload-up-twice.jws", {kInvalid, "duplicate key 'up'", 400, 400}},
      {"bad-payload-minute-offset.jws",
       {kInvalid, "payload minute must be RFC 3339 UTC", 400, 400}},
      {"bad-payload-type.jws", {kInvalid, "payload type 'uptime' is not one of", 400, 400}},
      {"bad-payload-unknown-field.jws", {kInvalid, "payload has unknown field 'load'", 400, 400}},
      {"bad-payload-ack-via.jws",
       {kInvalid, "payload via must be one of telegram, cli, receiver", 400, 400}},
      {"bad-payload-ack-future.jws",
       {kInvalid, "payload at 2026-11-25T11:10:00Z is 600 s ahead", 400, 400}},
      {"bad-payload-remediation-action.jws",
       {kInvalid, "payload action must be one of restart_unit, create_session", 400, 400}},
      {"bad-payload-key-rotate-proof.jws",
       {kInvalid, "payload proof: not signed by the new key", 400, 400}},
      {"bad-payload-maintenance-long.jws",
       {kInvalid, "payload until is more than 30 days after from", 400, 400}},
      {"bad-payload-not-json.jws", {kInvalid, "payload: not valid JSON", 400, 400}},
      {"bad-payload-array.jws", {kInvalid, "payload is not a JSON object", 400, 400}},
      {"bad-payload-deep.jws", {kInvalid, "nested deeper than 8 levels", 400, 400}},
      {"bad-too-large.jws", {kInvalid, "record larger than 65536 bytes", 400, 400}},
      {"bad-two-parts.txt", {kInvalid, "not a compact JWS", 400, 400}},
      {"bad-not-base64.txt", {kInvalid, "the JWS header is not base64url", 400, 400}},
      {"bad-empty.txt", {kInvalid, "not a compact JWS", 400, 400}},
      {"payload-heartbeat.json", {kInvalid, "the JWS header is not base64url", 400, 200}},
      {"payload-chain.ndjson", {kInvalid, "not a compact JWS", 400, 200}},
      {"header-active.json", {kInvalid, "not a compact JWS", 400, 400}},
  };
  return verdicts;
}

TEST_CASE("the seed corpus on disk is the harness's, with a verdict for each seed") {
  REQUIRE(fs::is_directory(kSeeds));
  std::set<std::string> made;
  for (const auto& seed : RecordParserSeeds()) {
    CAPTURE(seed.name);
    made.insert(seed.name);
    CHECK(SeedVerdicts().count(seed.name) == 1);
    CHECK_MESSAGE(ReadFile(kSeeds / seed.name) == seed.content,
                  "stale seed: rebuild target record_parser_seeds and run it on "
                  "fuzz/corpus/record_parser");
  }
  for (const auto& file : FilesIn(kSeeds)) {
    CHECK_MESSAGE(made.count(file.filename().string()) == 1,
                  "a seed the harness does not make: " << file);
  }
  CHECK(made.size() == SeedVerdicts().size());
}

TEST_CASE("each seed gets its verdict, as a record, a batch and signed payloads") {
  for (const auto& entry : SeedVerdicts()) {
    const std::string& name = entry.first;  // not a structured binding: clang 14 and CAPTURE
    const Verdict& verdict = entry.second;
    CAPTURE(name);
    const ParserRun run = RunRecordParser(ReadFile(kSeeds / name));
    CHECK(run.broken.empty());
    for (const auto& what : run.broken) MESSAGE("broken: " << what);
    CHECK(run.rejected == verdict.rejected);
    CHECK_MESSAGE(run.reason.find(verdict.reason) != std::string::npos, run.reason);
    CHECK(run.batch_status == verdict.batch_status);
    CHECK(run.signed_status == verdict.signed_status);
  }
}

TEST_CASE("the signed batch seeds are stored, linked and acknowledged") {
  SUBCASE("a chain with CRLF and empty lines is acknowledged to its end") {
    const auto body =
        nlohmann::json::parse(RunRecordParser(ReadFile(kSeeds / "valid-chain.ndjson")).batch_body);
    CHECK(body["ack_seq"] == 5);
    CHECK(body["stored"] == 5);
    CHECK(body["gaps"].empty());
  }
  SUBCASE("a gap, a fork, a duplicate, a revoked key and garbage in one batch") {
    const auto body = nlohmann::json::parse(
        RunRecordParser(ReadFile(kSeeds / "valid-gap-fork.ndjson")).batch_body);
    CHECK(body["ack_seq"] == 1);
    CHECK(body["stored"] == 2);
    CHECK(body["duplicates"] == 1);
    CHECK(body["forks"] == nlohmann::json::array({1}));
    CHECK(body["gaps"] == nlohmann::json::parse("[[2,2]]"));
    CHECK(body["next_epoch"] == 2);
    REQUIRE(body["rejected"].size() == 2);
    CHECK(body["rejected"][0]["line"] == 5);
    CHECK(body["rejected"][1]["line"] == 6);
  }
}

TEST_CASE("every input the fuzzer kept runs without a crash or a broken invariant") {
  REQUIRE(fs::is_directory(kFindings));
  const auto files = FilesIn(kFindings);
  MESSAGE(files.size() << " kept fuzz findings in tests/data/fuzz/record_parser/");
  for (const auto& file : files) {
    CAPTURE(file);
    const ParserRun run = RunRecordParser(ReadFile(file));
    CHECK(run.broken.empty());
    for (const auto& what : run.broken) MESSAGE("broken: " << what);
  }
}

}  // namespace
}  // namespace fleet::fuzz
