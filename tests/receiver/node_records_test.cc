// The records behind a node's figures (receiver/web/node_records.h) over a real store holding
// signed records taken through the receiver's ingest: an hour's records by t with kid, chain
// position and a verdict recomputed now (a rotated key's records verify with the key the node
// moved to; a stored JWS tampered with afterwards does not; a record past a gap is stored but not
// chained); the day's NDJSON is exactly the stored JWS, each verifying; bad hours and days are
// 400; another operator's node is a 404 like an unknown one. On SQLite and on PostgreSQL.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "protocol/key_proof.h"
#include "receiver/core/record_verify.h"
#include "receiver/web/node_records.h"
#include "receiver/web/record_listing.h"
#include "tests/receiver/node_world.h"

namespace fleet::receiver {
namespace {

using testing::AllOf;
using testing::ChainSigner;
using testing::TestNode;

const std::int64_t kTen = DaysFromCivil(2026, 11, 2) * 86400 + 10 * 3600;  // 2026-11-02T10:00Z
const Viewer kAdmin{std::nullopt, "t-admin"};
const Viewer kOpA{std::string("op-a"), "t-a"};
const Viewer kOpB{std::string("op-b"), "t-b"};

// node-r (op-a): heartbeats for 09:50 .. 10:59, each signed a second after its minute (so the
// 10:59 one is 11:00:01, the next hour's), an incident at 10:30:05, then at 10:40:30 a move to
// a new key (key_rotate) and the rest signed with it; epoch 2 holds seqs 1-2 and 4 (3 missing).
template <typename Maker>
struct RecordsWorld : testing::NodeWorld<Maker> {
  TestNode r{"node-r"};
  TestNode next{"node-r"};  // the key node-r moves to
  TestNode other{"node-o"};
  std::vector<std::string> day;          // every record of the 2nd pushed, in (epoch, seq) order
  std::vector<std::string> epoch1_hour;  // those of epoch 1 with t in 10:00-10:59
  const std::int64_t now = kTen + 5 * 86400;

  RecordsWorld() {
    this->Add(r, "op-a", kTen - 86400);
    this->Add(other, "op-b", kTen - 86400);
    ChainSigner chain{r};
    std::vector<std::string> batch;
    const auto keep = [&](std::string jws, std::int64_t t) {
      day.push_back(jws);
      if (t >= kTen && t < kTen + 3600) epoch1_hour.push_back(jws);
      batch.push_back(std::move(jws));
    };
    for (std::int64_t minute = kTen - 600; minute < kTen + 40 * 60; minute += 60) {
      keep(chain.Beat(minute, true), minute + 61);
      if (minute == kTen + 30 * 60) {
        keep(chain.Sign(minute + 5,
                        protocol::Incident{1, "gateway", minute, std::nullopt, "<b>down</b>"}),
             minute + 5);
      }
    }
    this->Push(batch, kTen + 40 * 60 + 1);
    batch.clear();
    const std::int64_t at = kTen + 40 * 60 + 30;
    keep(chain.Sign(at, protocol::KeyRotate{next.public_key, next.kid,
                                            protocol::SignKeyProof({r.node, r.kid, next.kid, at},
                                                                   next.secret_key)}),
         at);
    this->Push(batch, at + 1);
    batch.clear();
    ChainSigner moved{next, 1, chain.seq, chain.prev};
    for (std::int64_t minute = kTen + 40 * 60; minute < kTen + 3600; minute += 60) {
      keep(moved.Beat(minute, true), minute + 61);
    }
    this->Push(batch, kTen + 3600 + 2);
    batch.clear();
    ChainSigner restored{next, 2};
    const std::string s1 = restored.Beat(kTen + 5 * 60, true);
    const std::string s2 = restored.Beat(kTen + 6 * 60, true);
    (void)restored.Beat(kTen + 7 * 60, true);  // seq 3: never pushed
    const std::string s4 = restored.Beat(kTen + 8 * 60, true);
    this->Push({s1, s2}, kTen + 3600 + 10);
    this->Push({s4}, kTen + 3600 + 11);
    day.insert(day.end(), {s1, s2, s4});
    this->Push({ChainSigner{other}.Beat(kTen, true)}, kTen + 62);
  }
};

// The rows of the records table: (epoch, seq, kid, verified cell, jws).
struct Row {
  std::string epoch, seq, kid, verified, jws;
};
std::vector<Row> Rows(const std::string& html) {
  std::vector<Row> rows;
  const std::regex re(
      R"re(<tr data-epoch="(\d+)" data-seq="(\d+)">.*?<td class="kid">([^<]*)</td>)re"
      R"re(<td class="verified">([^<]*)</td>.*?<code class="jws">([^<]*)</code>)re");
  for (auto it = std::sregex_iterator(html.begin(), html.end(), re); it != std::sregex_iterator();
       ++it) {
    rows.push_back({(*it)[1], (*it)[2], (*it)[3], (*it)[4], (*it)[5]});
  }
  return rows;
}

TEST_CASE_TEMPLATE("records of an hour: kid, chain position, verified now", Maker,
                   FLEET_RECEIVER_STORES) {
  RecordsWorld<Maker> world;
  WebReads reads = world.Reads(world.now);
  const HttpResponse page = NodeRecordsPage(reads, kOpA, "node-r", "hour=2026-11-02T10");
  REQUIRE(page.status == 200);
  const std::vector<Row> rows = Rows(page.body);
  // Epoch 1: 09:59's heartbeat (signed 10:00:01) to 10:58's, the incident, the key_rotate;
  // then epoch 2's three.
  REQUIRE(rows.size() == world.epoch1_hour.size() + 3);
  CHECK(world.epoch1_hour.size() == 60 + 1 + 1);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    CAPTURE(i);
    CHECK(rows[i].verified == "verified");
    if (i < world.epoch1_hour.size()) {
      CHECK(rows[i].epoch == "1");
      CHECK(rows[i].jws == world.epoch1_hour[i]);
    } else {
      CHECK(rows[i].epoch == "2");
    }
    if (i > 0 && rows[i].epoch == rows[i - 1].epoch) {
      CHECK(std::stoll(rows[i].seq) > std::stoll(rows[i - 1].seq));
    }
  }
  // Signed with the first key up to the move (the key_rotate itself included), then the new.
  CHECK(rows.front().kid == world.r.kid);
  CHECK(rows[world.epoch1_hour.size() - 1].kid == world.next.kid);
  CHECK(AllOf(page.body, "(<td class=\"kid\">" + world.next.kid + "</td>)").size() == 19 + 3);
  // Types, t, the minute a heartbeat covers; the incident's text escaped.
  CHECK(page.body.find("<td class=\"type\">key_rotate</td>") != std::string::npos);
  CHECK(
      page.body.find("<td class=\"t\">2026-11-02T10:00:01Z</td><td class=\"minute\">09:59</td>") !=
      std::string::npos);
  CHECK(page.body.find("2026-11-02T11:00:01Z") == std::string::npos);
  CHECK(page.body.find("<b>down") == std::string::npos);
  // Epoch 2's seq 4 is stored past a gap: not chained, not counted.
  CHECK(AllOf(page.body, "(<td class=\"chained\">not yet)").size() == 1);
  CHECK(page.body.find(
            "<a class=\"download\" href=\"/nodes/node-r/records.ndjson?day=2026-11-02\"") !=
        std::string::npos);
  CHECK(page.body.find("<script") == std::string::npos);
  // The admin sees it too; an empty hour is an empty table.
  std::string as_admin = page.body;
  as_admin.replace(as_admin.find("operator op-a"), 13, "admin");
  CHECK(NodeRecordsPage(reads, kAdmin, "node-r", "hour=2026-11-02T10").body == as_admin);
  const HttpResponse empty = NodeRecordsPage(reads, kOpA, "node-r", "hour=2026-11-02T03");
  CHECK(empty.status == 200);
  CHECK(Rows(empty.body).empty());
}

TEST_CASE_TEMPLATE("records: a stored JWS tampered with is shown not verified", Maker,
                   FLEET_RECEIVER_STORES) {
  RecordsWorld<Maker> world;
  WebReads reads = world.Reads(world.now);
  // Seq 12: one signature byte changed; seq 13: another record, validly signed by the node,
  // put in its place (the stored hash and columns no longer match); seq 14: not a JWS at all.
  std::string forged = world.day[11];
  forged[forged.size() - 5] = forged[forged.size() - 5] == 'A' ? 'B' : 'A';
  ChainSigner elsewhere{world.r, 1, 40};
  const std::string swapped = elsewhere.Beat(kTen + 20 * 60, false);
  for (const auto& [seq, jws] :
       std::vector<std::pair<int, std::string>>{{12, forged}, {13, swapped}, {14, "garbage"}}) {
    auto done =
        reads.link.Run("UPDATE records SET jws = $1 WHERE node = $2 AND epoch = 1 AND seq = $3",
                       {jws, std::string("node-r"), std::int64_t{seq}});
    REQUIRE_MESSAGE(done.ok(), (done ? "" : done.error()));
    CHECK(done->affected() == 1);
  }
  const std::string html = NodeRecordsPage(reads, kAdmin, "node-r", "day=2026-11-02").body;
  const std::vector<Row> rows = Rows(html);
  REQUIRE(rows.size() == world.day.size());
  int not_verified = 0;
  for (const Row& row : rows) {
    CAPTURE(row.seq);
    const bool tampered =
        row.epoch == "1" && (row.seq == "12" || row.seq == "13" || row.seq == "14");
    if (tampered) {
      CHECK(row.verified.rfind("not verified: ", 0) == 0);
      CHECK(row.verified.size() > 14);
      ++not_verified;
    } else {
      CHECK(row.verified == "verified");
    }
  }
  CHECK(not_verified == 3);
  // The JSON says the same.
  const auto doc =
      nlohmann::json::parse(NodeRecordsJson(reads, kAdmin, "node-r", "day=2026-11-02").body);
  REQUIRE(doc["records"].size() == world.day.size());
  CHECK(doc["records"][11]["verified"] == false);
  CHECK(doc["records"][11]["reason"].get<std::string>() != "");
  CHECK(doc["records"][10]["verified"] == true);
  CHECK(doc["records"][10]["kid"] == world.r.kid);
  CHECK(doc["day"] == "2026-11-02");
  CHECK(doc["cut"] == false);
}

TEST_CASE_TEMPLATE("records: the day's NDJSON is the stored JWS, each verifying", Maker,
                   FLEET_RECEIVER_STORES) {
  RecordsWorld<Maker> world;
  WebReads reads = world.Reads(world.now);
  const HttpResponse reply = NodeRecordsNdjson(reads, kOpA, "node-r", "day=2026-11-02");
  REQUIRE(reply.status == 200);
  CHECK(reply.content_type == "application/x-ndjson");
  bool disposition = false;
  for (const auto& [name, value] : reply.headers) {
    if (name == "Content-Disposition") {
      CHECK(value == "attachment; filename=\"node-r-2026-11-02.ndjson\"");
      disposition = true;
    }
  }
  CHECK(disposition);
  std::vector<std::string> lines;
  std::istringstream in(reply.body);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  CHECK(lines == world.day);
  CHECK(reply.body.back() == '\n');
  const std::map<std::string, RegisteredKey> keys{{world.r.kid, world.r.Key()},
                                                  {world.next.kid, world.next.Key()}};
  const KeyLookup lookup = [&](const std::string& kid) -> Result<std::optional<RegisteredKey>> {
    auto it = keys.find(kid);
    if (it == keys.end()) return std::optional<RegisteredKey>();
    return std::optional<RegisteredKey>(it->second);
  };
  for (const auto& line : lines) {
    auto header = ReadJwsHeader(line);
    REQUIRE(header.ok());
    const PublicKey& key = header->kid == world.r.kid ? world.r.public_key : world.next.public_key;
    CHECK(VerifyCompactJws(line, key).ok());
    CHECK(std::holds_alternative<VerifiedRecord>(VerifyRecord(line, lookup, world.now)));
  }
  // An hour works too; a day with nothing is an empty file.
  const HttpResponse hour = NodeRecordsNdjson(reads, kOpA, "node-r", "hour=2026-11-02T10");
  CHECK(hour.status == 200);
  CHECK(std::count(hour.body.begin(), hour.body.end(), '\n') ==
        static_cast<long>(world.epoch1_hour.size() + 3));
  const HttpResponse none = NodeRecordsNdjson(reads, kOpA, "node-r", "day=2026-10-02");
  CHECK(none.status == 200);
  CHECK(none.body.empty());
}

TEST_CASE_TEMPLATE("records: bad hours and days are 400, another operator's node 404", Maker,
                   FLEET_RECEIVER_STORES) {
  RecordsWorld<Maker> world;
  WebReads reads = world.Reads(world.now);
  using Fn = HttpResponse (*)(WebReads&, const Viewer&, const std::string&, std::string_view);
  for (Fn fn : {Fn(&NodeRecordsPage), Fn(&NodeRecordsNdjson), Fn(&NodeRecordsJson)}) {
    for (const char* query : {"",
                              "day=",
                              "day",
                              "day=2026-11-31",
                              "day=2026-11-2",
                              "day=2026-13-01",
                              "day=20261102",
                              "day=2026-11-02T10",
                              "day=../../etc/passwd",
                              "day=%2E%2E%2Fx",
                              "day=2026-11-02%00",
                              "day=2026-11-02&day=2026-11-03",
                              "hour=2026-11-02T24",
                              "hour=2026-11-02 10",
                              "hour=2026-11-02T1",
                              "hour=2026-11-02",
                              "hour=2026-11-02T10:00",
                              "day=2026-11-02&hour=2026-11-02T10",
                              "day=%ZZ",
                              "hour=%E2%80%AE"}) {
      CAPTURE(query);
      const HttpResponse reply = fn(reads, kAdmin, "node-r", query);
      CHECK(reply.status == 400);
      CHECK((reply.body.find("day") != std::string::npos ||
             reply.body.find("hour") != std::string::npos));
    }
    const HttpResponse foreign = fn(reads, kOpB, "node-r", "day=2026-11-02");
    const HttpResponse unknown = fn(reads, kOpB, "node-zz", "day=2026-11-02");
    CHECK(foreign.status == 404);
    CHECK(unknown.status == 404);
    CHECK(foreign.body == unknown.body);
    CHECK(foreign.body.find("node-r") == std::string::npos);
    CHECK(fn(reads, kOpB, "node-o", "day=2026-11-02").status == 200);
    CHECK(fn(reads, kOpA, "node-o", "day=2026-11-02").status == 404);
  }
}

TEST_CASE_TEMPLATE("records: a listing longer than its limit is cut and says so", Maker,
                   FLEET_RECEIVER_STORES) {
  RecordsWorld<Maker> world;
  WebReads reads = world.Reads(world.now);
  auto span = ParseSpan("day=2026-11-02");
  REQUIRE(span.ok());
  auto cut = ListRecords(reads.link, "node-r", *span, 5, true, world.now);
  REQUIRE(cut.ok());
  CHECK(cut->records.size() == 5);
  CHECK(cut->cut);
  auto whole = ListRecords(reads.link, "node-r", *span, static_cast<int>(world.day.size()), false,
                           world.now);
  REQUIRE(whole.ok());
  CHECK(whole->records.size() == world.day.size());
  CHECK_FALSE(whole->cut);
  CHECK_FALSE(whole->records[0].verified);  // not asked to verify
  CHECK(whole->records[0].kid == world.r.kid);
}

}  // namespace
}  // namespace fleet::receiver
