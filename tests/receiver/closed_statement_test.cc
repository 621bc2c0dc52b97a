// Closed monthly statements (receiver/report/closed_statement.h, receiver/store/
// closed_statements.h, receiver/cli/statement_commands.h): the record list and its digest,
// the signed document verified good, tampered and truncated, wallet shapes good and bad;
// and on both stores (SQLite, and the PostgreSQL at FLEET_TEST_PG_URL): a month closed from
// real signed records, closing twice refused, a late record leaving the closed month as it
// was and showing as an adjustment in the next, export + verify ok, one byte changed or a
// record left out failing and naming what, payouts from the closed statement with wallets.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "base/utc_time.h"
#include "protocol/records.h"
#include "receiver/cli/statement_commands.h"
#include "receiver/registry/wallet.h"
#include "receiver/report/closed_statement.h"
#include "receiver/report/receiver_key.h"
#include "receiver/store/closed_statements.h"
#include "receiver/store/open_report_source.h"
#include "receiver/store/sql_link.h"
#include "tests/receiver/store_factory.h"
#include "tests/receiver/test_records.h"
#include "tests/support/temp_dir.h"

namespace fleet::receiver {
namespace {

const Period kOctober = *ParseMonth("2026-10");
constexpr std::int64_t kDay = 86400;

// Runs body with std::cout captured; returns (exit code, output).
std::pair<int, std::string> Captured(const std::function<int()>& body) {
  std::ostringstream out;
  auto* old = std::cout.rdbuf(out.rdbuf());
  const int code = body();
  std::cout.rdbuf(old);
  return {code, out.str()};
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void WriteAll(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

// A node's chain of real signed records, stored as the receiver stores them.
struct Chain {
  testing::TestNode node{"n1"};
  std::int64_t seq = 0;
  std::string prev = GenesisHash();

  VerifiedRecord Next(std::int64_t t, protocol::RecordBody body) {
    ++seq;
    protocol::Record record{{node.node, 1, seq, prev, t, "boot", 1000 + seq, "0.1.0"},
                            std::move(body)};
    VerifiedRecord v;
    v.node = node.node;
    v.epoch = 1;
    v.seq = seq;
    v.prev = prev;
    v.type = std::string(protocol::RecordTypeName(record.Type()));
    v.t = FormatUtc(t);
    v.payload = protocol::EncodeRecord(record);
    v.jws = node.SignText(v.payload);
    v.hash = ChainHash(v.jws);
    v.t_unix = t;
    v.decoded = std::move(record);
    v.kid = node.kid;
    prev = v.hash;
    return v;
  }

  void Store(RecordStore& store, const std::vector<VerifiedRecord>& records,
             std::int64_t received_at) {
    REQUIRE(store.Begin().ok());
    for (const auto& r : records) {
      auto done = store.InsertRecord(r, received_at);
      REQUIRE_MESSAGE(done.ok(), (done ? "" : done.error()));
      REQUIRE(*done == InsertResult::kStored);
    }
    REQUIRE(store.SaveWatermark(node.node, 1, {seq, prev}).ok());
    REQUIRE(store.Commit().ok());
  }
};

protocol::RecordBody Beat(std::int64_t minute, bool up) {
  return protocol::Heartbeat{minute, up, {{"tmux", protocol::CheckState::kOk}}, true};
}

// Records of an October, signed; a receiver key; the unit cases' raw material.
struct Signed {
  Chain chain;
  std::vector<StatementRecord> records;
  StatementInputs inputs;
  ReceiverKey key;
  fleet::testing::TempDir dir;

  Signed() {
    inputs.registry.operators.push_back({"op-1", "Ada", kOctober.begin - 200 * kDay});
    inputs.registry.nodes.push_back({"n1", "op-1", kOctober.begin - 30 * kDay, std::nullopt});
    inputs.live_within_s = 600;
    inputs.node_keys[chain.node.kid] = Base64UrlEncode(
        std::string_view(reinterpret_cast<const char*>(chain.node.public_key.data()), 32));
    for (int i = 0; i < 30; ++i) {
      const std::int64_t minute = kOctober.begin + 3 * kDay + i * 60;
      auto v = chain.Next(minute + 30, Beat(minute, i != 7));
      records.push_back({v.node, v.epoch, v.seq, v.jws, v.payload, v.hash, minute + 40});
    }
    auto task = chain.Next(
        kOctober.begin + 4 * kDay,
        protocol::TaskRun{"job-1", "job", kOctober.begin + 4 * kDay, true, std::nullopt});
    records.push_back(
        {task.node, task.epoch, task.seq, task.jws, task.payload, task.hash, task.t_unix + 5});
    auto made = LoadReceiverKey(dir.Path("receiver.key"), true);
    REQUIRE(made.ok());
    key = *made;
  }

  std::string Ndjson() const {
    std::string out;
    for (const auto& r : records) out += r.jws + "\n";
    return out;
  }
  // The signed statement (jws) and the record list.
  std::pair<std::string, std::string> Close() {
    nlohmann::json alerts = nlohmann::json::object();
    auto statement = StatementFromRecords(inputs, kOctober, records, nullptr, alerts);
    REQUIRE(statement.ok());
    const std::string list = RecordListText(records);
    auto doc = ClosedDocument(*statement, inputs, alerts, list, records.size(),
                              kOctober.end + 8 * kDay, key.kid);
    return {SignClosedDocument(doc, key.secret_key, key.kid), list};
  }
};

TEST_CASE("the record list is sorted 'hash received_at' lines, its digest their SHA-256") {
  std::vector<StatementRecord> records = {{"n", 1, 2, "b", "", "hb", 20},
                                          {"n", 1, 1, "a", "", "ha", 10}};
  const std::string list = RecordListText(records);
  CHECK(list == "ha 10\nhb 20\n");
  std::reverse(records.begin(), records.end());
  CHECK(RecordListText(records) == list);  // order of reading does not matter
  CHECK(RecordListDigest(list) == ChainHash("ha 10\nhb 20\n"));
  records[0].received_at = 21;  // a receive time is part of what is signed
  CHECK(RecordListDigest(RecordListText(records)) != RecordListDigest(list));
}

TEST_CASE("a closed statement verifies from its records; signature, list and records checked") {
  Signed s;
  auto [jws, list] = s.Close();
  const std::string ndjson = s.Ndjson();

  SUBCASE("good") {
    VerifyReport report = VerifyClosedStatement(jws, s.key.public_key, list, ndjson);
    CHECK_MESSAGE(report.ok, (report.problems.empty() ? "" : report.problems.front()));
    CHECK(report.document["statement"]["operators"][0]["operator"] == "op-1");
    CHECK(report.document["records"]["count"] == 31);
    // The tasks bonus is the figure the records decide: one run, ok.
    bool tasks = false;
    for (const auto& b : report.document["statement"]["operators"][0]["bonuses"]) {
      if (b["bonus"] == "tasks") tasks = b["earned"];
    }
    CHECK(tasks);
  }
  SUBCASE("another key") {
    Signed other;
    VerifyReport report = VerifyClosedStatement(jws, other.key.public_key, list, ndjson);
    CHECK_FALSE(report.ok);
    REQUIRE(report.problems.size() == 1);
    CHECK(report.problems[0].rfind("signature:", 0) == 0);
  }
  SUBCASE("the signed statement changed by one byte") {
    std::string bad = jws;
    bad[bad.find('.') + 5] = bad[bad.find('.') + 5] == 'A' ? 'B' : 'A';
    VerifyReport report = VerifyClosedStatement(bad, s.key.public_key, list, ndjson);
    CHECK_FALSE(report.ok);
    CHECK(report.problems.at(0).rfind("signature:", 0) == 0);
  }
  SUBCASE("a record's signature changed by one byte") {
    std::string bad = ndjson;
    const std::size_t at = bad.find('\n') - 3;  // in line 1's signature
    bad[at] = bad[at] == 'A' ? 'B' : 'A';
    VerifyReport report = VerifyClosedStatement(jws, s.key.public_key, list, bad);
    CHECK_FALSE(report.ok);
    std::string all;
    for (const auto& p : report.problems) all += p + "\n";
    CHECK_MESSAGE(all.find("records line 1: hash") != std::string::npos, all);
    CHECK_MESSAGE(all.find("is missing") != std::string::npos, all);
  }
  SUBCASE("truncated: the last record left out") {
    std::string cut = ndjson.substr(0, ndjson.rfind('\n', ndjson.size() - 2) + 1);
    VerifyReport report = VerifyClosedStatement(jws, s.key.public_key, list, cut);
    CHECK_FALSE(report.ok);
    std::string all;
    for (const auto& p : report.problems) all += p + "\n";
    CHECK_MESSAGE(all.find(s.records.back().hash + " is missing") != std::string::npos, all);
    // Without the task run the statement comes out otherwise: that is said too.
    CHECK_MESSAGE(
        all.find("statement: recomputed from the records it differs") != std::string::npos, all);
  }
  SUBCASE("the list changed: a receive time moved") {
    std::string bad = list;
    bad.insert(bad.find('\n'), "9");
    VerifyReport report = VerifyClosedStatement(jws, s.key.public_key, bad, ndjson);
    CHECK_FALSE(report.ok);
    CHECK(report.problems.at(0).rfind("record list: its digest", 0) == 0);
  }
  SUBCASE("garbage") {
    CHECK_FALSE(VerifyClosedStatement("", s.key.public_key, "", "").ok);
    CHECK_FALSE(VerifyClosedStatement("a.b.c", s.key.public_key, list, ndjson).ok);
    VerifyReport report = VerifyClosedStatement(jws, s.key.public_key, "no-space\n", "x.y.z\n");
    CHECK_FALSE(report.ok);
    CHECK(report.problems.size() >= 3);
  }
}

TEST_CASE("the receiver key is made once, 0600, and read back the same") {
  fleet::testing::TempDir dir;
  const std::string path = dir.Path("k");
  CHECK_FALSE(LoadReceiverKey(path, false).ok());
  auto made = LoadReceiverKey(path, true);
  REQUIRE(made.ok());
  CHECK(made->created);
  CHECK(std::filesystem::status(path).permissions() ==
        (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
  auto again = LoadReceiverKey(path, true);
  REQUIRE(again.ok());
  CHECK_FALSE(again->created);
  CHECK(again->kid == made->kid);
  std::filesystem::permissions(path, std::filesystem::perms::group_read,
                               std::filesystem::perm_options::add);
  CHECK_FALSE(LoadReceiverKey(path, false).ok());  // readable by others: refused
  WriteAll(dir.Path("bad"), "not a key\n");
  std::filesystem::permissions(
      dir.Path("bad"), std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  CHECK_FALSE(LoadReceiverKey(dir.Path("bad"), false).ok());
  CHECK(DefaultReceiverKeyPath("/var/lib/fleet-receiver/receiver.db").value() ==
        "/var/lib/fleet-receiver/receiver-statement.key");
  CHECK_FALSE(DefaultReceiverKeyPath("postgresql://db/fleet").ok());
}

TEST_CASE("wallet shapes") {
  const auto ok = [](std::string address, std::string chain, std::string token = "USDC") {
    return CheckWallet({std::move(address), std::move(chain), std::move(token)}).ok();
  };
  CHECK(ok("0x52908400098527886E0F7030069857D2E4169EE7", "ethereum"));
  CHECK(ok("0xde709f2102306220921060314715629080e2fb77", "polygon", "USDT"));
  CHECK(ok("0xDE709F2102306220921060314715629080E2FB77", "base"));
  CHECK(ok("0x27b1fdb04752bbc536007a920d24acb045561c26", "arbitrum"));
  CHECK(ok("7EcDhSYGxXyscszYEp35KHN8vvw3svAuLKTzXwCFLtV", "solana"));
  CHECK(ok("TNPeeaaFB7K9cmo4uQpcU32zGK8G1NYqeL", "tron", "USDT"));
  CHECK_FALSE(ok("0x52908400098527886E0F7030069857D2E4169EE", "ethereum"));    // 39 hex
  CHECK_FALSE(ok("0x52908400098527886E0F7030069857D2E4169EE77", "ethereum"));  // 41
  CHECK_FALSE(ok("52908400098527886E0F7030069857D2E4169EE7ab", "ethereum"));   // no 0x
  CHECK_FALSE(ok("0xZ2908400098527886E0F7030069857D2E4169EE7", "polygon"));    // not hex
  CHECK_FALSE(ok("0x52908400098527886E0F7030069857D2E4169EE7", "bitcoin"));    // chain
  CHECK_FALSE(ok("0x52908400098527886E0F7030069857D2E4169EE7", "ethereum", "DAI"));
  CHECK_FALSE(ok("7EcDhSYGxXyscszYEp35KHN8vvw3svAuLKTzXwCFLt0", "solana"));  // 0 not base58
  CHECK_FALSE(ok("7EcDhSYGxXyscszYEp35KHN8", "solana"));                     // short
  CHECK_FALSE(ok("ANPeeaaFB7K9cmo4uQpcU32zGK8G1NYqeL", "tron"));             // not T
  CHECK_FALSE(ok("TNPeeaaFB7K9cmo4uQpcU32zGK8G1NYqe", "tron"));              // 33
  CHECK_FALSE(ok("TNPeeaaFB7K9cmo4uQpcU32zGK8G1NYqIL", "tron"));             // I
  CHECK_FALSE(ok("", "tron"));
  auto message = CheckWallet({"0x12", "ethereum", "USDC"});
  REQUIRE_FALSE(message.ok());
  CHECK(message.error().rfind("wallet.address:", 0) == 0);
}

TEST_CASE("the month due for closing: its window past its end") {
  const std::int64_t dec1 = ParseMonth("2026-12")->begin;
  constexpr std::int64_t kWeek = 7 * kDay;
  CHECK(DueMonth(kWeek, dec1 + kWeek) == "2026-11");      // the window just passed
  CHECK(DueMonth(kWeek, dec1 + kWeek - 1) == "2026-10");  // a second before: not yet
  CHECK(DueMonth(kWeek, dec1 + 20 * kDay) == "2026-11");
  CHECK(DueMonth(0, dec1) == "2026-11");
  CHECK(DueMonth(kWeek, ParseMonth("2027-01")->begin + kWeek) == "2026-12");
}

TEST_CASE("serve's automatic close: the due month once, nothing without operators") {
  testing::SqliteStoreMaker maker;
  auto store = maker.Make();
  fleet::testing::TempDir dir;
  const std::string key = dir.Path("receiver.key");
  const std::int64_t after_window = kOctober.end + 7 * kDay;
  CHECK(CloseDueMonth(maker.Db(), key, 7 * kDay, after_window) == 0);
  CHECK_FALSE(std::filesystem::exists(key));  // no operator: nothing closed, no key made
  {
    auto source = OpenReportSource(maker.Db());
    REQUIRE(source.ok());
    REQUIRE((*source)->AddOperator({"op-1", "Ada", kOctober.begin - 200 * kDay}).ok());
  }
  CHECK(Captured([&] {
          return CloseDueMonth(maker.Db(), key, 7 * kDay, after_window - 1);
        }).first == 0);  // September's window passed: September closed
  CHECK(Captured([&] { return CloseDueMonth(maker.Db(), key, 7 * kDay, after_window); }).first ==
        0);
  CHECK(Captured([&] {
          return CloseDueMonth(maker.Db(), key, 7 * kDay, after_window + 60);
        }).first == 0);  // again: it stays as it was
  auto link = OpenSqlLink(maker.Db());
  REQUIRE(link.ok());
  auto months = ClosedStatements(**link).Months();
  REQUIRE(months.ok());
  CHECK(*months == std::vector<std::string>{"2026-09", "2026-10"});
}

TEST_CASE_TEMPLATE("a closed month: frozen, late records as adjustments, export and verify", Maker,
                   FLEET_RECEIVER_STORES) {
  Maker maker;
  auto store = maker.Make();
  fleet::testing::TempDir dir;
  const std::string db = maker.Db();
  Chain chain;
  NodeEntry entry{
      "n1",         "op-1", chain.node.kid, chain.node.public_key, kOctober.begin - 30 * kDay,
      std::nullopt, ""};
  REQUIRE(store->AddNode(entry).ok());
  {
    auto source = OpenReportSource(db);
    REQUIRE(source.ok());
    REQUIRE((*source)->AddOperator({"op-1", "Ada", kOctober.begin - 200 * kDay}).ok());
  }
  std::vector<VerifiedRecord> october;
  for (int i = 0; i < 60; ++i) {
    const std::int64_t minute = kOctober.begin + 2 * kDay + i * 60;
    october.push_back(chain.Next(minute + 20, Beat(minute, i % 10 != 0)));
  }
  chain.Store(*store, october, kOctober.begin + 2 * kDay + 3600);

  StatementCloseArgs close;
  close.report.db = db;
  close.report.month = "2026-10";
  close.key = dir.Path("receiver.key");
  close.now = kOctober.end + 8 * kDay;
  ReportArgs json{db, "2026-10", "json"};

  {
    StatementCloseArgs early = close;  // a month not over is not closed
    early.now = kOctober.end - 60;
    CHECK(Captured([&] { return RunStatementClose(early); }).first == 1);
  }
  const auto [closed_code, closed_out] = Captured([&] { return RunStatementClose(close); });
  REQUIRE_MESSAGE(closed_code == 0, closed_out);
  CHECK(closed_out.find("closed 2026-10: 1 operators") != std::string::npos);
  CHECK(closed_out.find("60 records") != std::string::npos);
  CHECK(Captured([&] { return RunStatementClose(close); }).first == 1);  // twice: refused

  const auto [before_code, before] = Captured([&] { return RunStatement(json); });
  REQUIRE(before_code == 0);
  const auto closed_json = nlohmann::json::parse(before);
  CHECK(closed_json["closed"]["records"]["count"] == 60);
  auto tasks_bonus = [](const nlohmann::json& statement) {
    for (const auto& b : statement["operators"][0]["bonuses"]) {
      if (b["bonus"] == "tasks") return b["amount"].get<double>();
    }
    return -1.0;
  };
  CHECK(tasks_bonus(closed_json) == 0);

  // A task run of October arrives in November, after the close.
  chain.Store(*store,
              {chain.Next(kOctober.begin + 5 * kDay,
                          protocol::TaskRun{"job-1", "job", kOctober.begin + 5 * kDay, true,
                                            std::nullopt})},
              kOctober.end + 9 * kDay);
  const auto [after_code, after] = Captured([&] { return RunStatement(json); });
  REQUIRE(after_code == 0);
  CHECK(after == before);  // the closed month is as it was

  // The open month computed fresh would count it: the next month shows the difference.
  const auto [next_code, next] = Captured([&] {
    return RunStatement(ReportArgs{db, "2026-11", "json"});
  });
  REQUIRE_MESSAGE(next_code == 0, next);
  const auto next_json = nlohmann::json::parse(next);
  REQUIRE(next_json.contains("adjustments"));
  CHECK(next_json["adjustments"]["month"] == "2026-10");
  CHECK(next_json["adjustments"]["late_records"] == 1);
  bool saw_tasks = false;
  for (const auto& line : next_json["adjustments"]["lines"]) {
    if (line["operator"] == "op-1" && line["figure"] == "bonus tasks") {
      saw_tasks = true;
      CHECK(line["amount"] == 30.0);
    }
  }
  CHECK_MESSAGE(saw_tasks, next_json["adjustments"].dump());
  CHECK(next_json["adjustments"]["total"] == 30.0);
  const auto [table_code, table] = Captured([&] {
    return RunStatement(ReportArgs{db, "2026-11", "table"});
  });
  CHECK(table_code == 0);
  CHECK(table.find("Adjustments to 2026-10") != std::string::npos);
  const auto [csv_code, adjusted_csv] = Captured([&] {
    return RunStatement(ReportArgs{db, "2026-11", "csv"});
  });
  CHECK(csv_code == 0);
  CHECK_MESSAGE(adjusted_csv.find("\nop-1,adjustment,2026-10 bonus tasks: ") != std::string::npos,
                adjusted_csv);
  CHECK_MESSAGE(adjusted_csv.find(",true,30.00\n") != std::string::npos, adjusted_csv);
  CHECK_MESSAGE(adjusted_csv.find("\n,adjustment_total,2026-10 (closed; records that arrived "
                                  "after it was closed),,30.00\n") != std::string::npos,
                adjusted_csv);

  // Export and verify.
  const std::string out = dir.Path("export");
  ReportArgs export_args{db, "2026-10"};
  const auto [export_code, export_out] =
      Captured([&] { return RunStatementExport(export_args, close.key, out); });
  REQUIRE_MESSAGE(export_code == 0, export_out);
  const std::string ndjson = ReadAll(out + "/records.ndjson");
  CHECK(std::count(ndjson.begin(), ndjson.end(), '\n') == 60);  // not the late record
  const auto [verify_code, verify_out] = Captured([&] { return RunStatementVerify(out, ""); });
  CHECK_MESSAGE(verify_code == 0, verify_out);
  CHECK(verify_out.find("statement verify: OK 2026-10, 60 records") != std::string::npos);
  CHECK(Captured([&] { return RunStatementVerify(out + "/statement.jws", ""); }).first == 0);

  SUBCASE("one byte of a record changed") {
    std::string bad = ndjson;
    const std::size_t at = bad.find('\n', bad.find('\n') + 1) - 2;  // line 2's signature
    bad[at] = bad[at] == 'A' ? 'B' : 'A';
    WriteAll(out + "/records.ndjson", bad);
    const auto [code, text] = Captured([&] { return RunStatementVerify(out, ""); });
    CHECK(code == 1);
    CHECK_MESSAGE(text.find("MISMATCH records line 2: hash") != std::string::npos, text);
  }
  SUBCASE("one byte of statement.json changed") {
    std::string shown = ReadAll(out + "/statement.json");
    shown.replace(shown.find("\"op-1\""), 6, "\"op-7\"");
    WriteAll(out + "/statement.json", shown);
    const auto [code, text] = Captured([&] { return RunStatementVerify(out, ""); });
    CHECK(code == 1);
    CHECK_MESSAGE(
        text.find("MISMATCH statement.json: not the signed document") != std::string::npos, text);
  }
  SUBCASE("payouts from the closed statement, with the wallet") {
    auto link = OpenSqlLink(db);
    REQUIRE(link.ok());
    REQUIRE(ClosedStatements(**link)
                .SetWallet("op-1", {"0x52908400098527886E0F7030069857D2E4169EE7", "base", "USDC"})
                .ok());
    const auto [code, csv] = Captured([&] {
      return RunStatementPayouts(ReportArgs{db, "2026-10", "csv"});
    });
    CHECK(code == 0);
    CHECK_MESSAGE(csv.find("op-1,Ada,0x52908400098527886E0F7030069857D2E4169EE7,base,USDC,") !=
                      std::string::npos,
                  csv);
    CHECK(Captured([&] {
            return RunStatementPayouts(ReportArgs{db, "2026-11", "csv"});
          }).first == 1);  // not closed
  }
}

}  // namespace
}  // namespace fleet::receiver
