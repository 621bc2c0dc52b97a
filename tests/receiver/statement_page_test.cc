// The statement page (statement_page.h) on a SQLite store of signed records: the lines and
// the figures that decided them equal `fleet-receiver statement`'s (the same rules over the
// whole registry), for a partner too (its commissions read the referred operators' figures);
// CSV and JSON of that operator alone; the month in progress says so; a closed month says so
// with its figures; another operator's statement, an unknown one and a future month are 404;
// hostile names escaped.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "base/utc_time.h"
#include "protocol/jws.h"
#include "receiver/report/report_format.h"
#include "receiver/report/statement.h"
#include "receiver/store/closed_statements.h"
#include "receiver/web/html.h"
#include "receiver/web/statement_page.h"
#include "tests/receiver/web_world.h"

namespace fleet::receiver {
namespace {

using testing::WebWorld;

const Period kOctober = *ParseMonth("2026-10");
const std::int64_t kNow = *ParseUtcSeconds("2026-11-02T12:00:30Z");
const std::string kHostileName = "Seven <script>alert(7)</script>";

struct Statements {
  WebWorld world;
  std::unique_ptr<RegistrySource> source;
  std::unique_ptr<SqlLink> link;

  Statements() {
    world.Operator("op-7", kHostileName, kOctober.begin - 400 * 86400);
    world.Operator("op-8", "Eight", kOctober.begin - 400 * 86400);
    world.Operator("op-9", "Nine", kOctober.begin - 30 * 86400);
    world.Operator("op-10", "Ten", kOctober.begin - 30 * 86400);
    world.Node("n7", "op-7", kOctober.begin - 86400);
    world.Node("n8", "op-8", kOctober.begin - 86400);
    world.Node("n9", "op-9", kOctober.begin - 86400);
    // Eight days of October each (enough to count toward the base), n7 with an hour down.
    const std::int64_t end = kOctober.begin + 8 * 86400;
    world.Beats("n7", kOctober.begin, kOctober.begin + 3600, false);
    world.Beats("n7", kOctober.begin + 3600, end);
    world.Beats("n9", kOctober.begin, end);
    world.Beats("n8", kOctober.begin, kOctober.begin + 3600);
    world.Put("n7", protocol::Incident{1, "tmux", kOctober.begin + 7200, std::nullopt, "<i>x</i>"},
              kOctober.begin + 7200, kOctober.begin + 7205);
    world.Put(
        "n7",
        protocol::Incident{1, "tmux", kOctober.begin + 7200, kOctober.begin + 7800, "<i>x</i>"},
        kOctober.begin + 7800, kOctober.begin + 7805);
    world.Commit();
    source = OpenReportSource(world.Db()).value();
    REQUIRE(source->AddReferral({"op-7", "op-9", kOctober.begin - 30 * 86400}).ok());
    REQUIRE(source->AddReferral({"op-7", "op-10", kOctober.begin - 30 * 86400}).ok());
    link = OpenSqlLink(world.Db()).value();
  }
  WebReads Reads() { return {*source, *link, kNow, 180, kLiveWithinSeconds, PayoutPolicy{}}; }

  // `fleet-receiver statement --month 2026-10`'s way: the whole registry.
  MonthStatement Full() {
    auto registry = source->LoadRegistry();
    REQUIRE(registry.ok());
    auto uptime = ComputeUptime(*source, *registry, kOctober, kLiveWithinSeconds);
    REQUIRE(uptime.ok());
    return ComputeStatement(*uptime, *registry, PayoutPolicy{});
  }
  static MonthStatement Only(MonthStatement statement, const std::string& op) {
    std::vector<OperatorStatement> kept;
    for (auto& o : statement.operators) {
      if (o.operator_id == op) kept.push_back(o);
    }
    REQUIRE(kept.size() == 1);
    statement.operators = kept;
    statement.total = kept[0].total;
    return statement;
  }
};

const Viewer kAdmin{std::nullopt, "t-admin"};
const Viewer kSeven{"op-7", "t-7"};

TEST_CASE("statement page: the figures are the statement command's, for one operator") {
  Statements s;
  WebReads reads = s.Reads();
  const MonthStatement expected = Statements::Only(s.Full(), "op-7");
  REQUIRE(expected.operators[0].partner);
  REQUIRE(expected.operators[0].commissions.size() == 2);  // op-9 and op-10 (nothing earned)
  CHECK(expected.operators[0].paid_nodes == 1);

  auto csv = StatementPage(reads, kSeven, "op-7", "2026-10", StatementFormat::kCsv);
  REQUIRE(csv.status == 200);
  CHECK(csv.body == StatementToCsv(expected));
  CHECK(csv.content_type.rfind("text/csv", 0) == 0);

  auto json = StatementPage(reads, kSeven, "op-7", "2026-10", StatementFormat::kApi);
  REQUIRE(json.status == 200);
  auto doc = nlohmann::json::parse(json.body);
  CHECK(doc["operators"] == StatementToJson(expected)["operators"]);
  CHECK(doc["to_date"] == false);
  CHECK(doc["closed"].is_null());
  auto download = StatementPage(reads, kSeven, "op-7", "2026-10", StatementFormat::kJson);
  CHECK(download.body == json.body);

  auto page = StatementPage(reads, kSeven, "op-7", "2026-10", StatementFormat::kHtml);
  REQUIRE(page.status == 200);
  const std::string& html = page.body;
  CHECK(html.find("<table id=\"payout\">") != std::string::npos);
  CHECK(html.find("<a href=\"/statements/op-7/2026-10.csv\">") != std::string::npos);
  CHECK(html.find("<a href=\"/statements/op-7/2026-10.json\">") != std::string::npos);
  for (const BonusLine& bonus : expected.operators[0].bonuses) {
    CAPTURE(bonus.name);
    CHECK(html.find("<td class=\"figure\">" + Escape(bonus.figure) + "</td>") != std::string::npos);
  }
  CHECK(html.find("commission: op-9") != std::string::npos);
  CHECK(html.find("<script>") == std::string::npos);
  CHECK(html.find("&lt;script&gt;alert(7)&lt;/script&gt;") != std::string::npos);
  CHECK(html.find("id=\"in-progress\"") == std::string::npos);
  CHECK(html.find("id=\"closed\"") == std::string::npos);
  // Nothing of op-8 (not referred by op-7) is in it.
  CHECK(html.find("op-8") == std::string::npos);
  CHECK(json.body.find("op-8") == std::string::npos);
}

TEST_CASE("statement page: 404 for another operator, an unknown one, a future month") {
  Statements s;
  WebReads reads = s.Reads();
  for (auto format : {StatementFormat::kHtml, StatementFormat::kCsv, StatementFormat::kApi}) {
    CHECK(StatementPage(reads, kSeven, "op-8", "2026-10", format).status == 404);
    CHECK(StatementPage(reads, kSeven, "op-9", "2026-10", format).status == 404);
    CHECK(StatementPage(reads, kAdmin, "op-99", "2026-10", format).status == 404);
    CHECK(StatementPage(reads, kAdmin, "op-7", "2026-12", format).status == 404);
  }
  auto other =
      StatementPage(reads, Viewer{"op-8", "t-8"}, "op-7", "2026-10", StatementFormat::kHtml);
  CHECK(other.status == 404);
  CHECK(other.body.find("alert(7)") == std::string::npos);
  CHECK(StatementPage(reads, kAdmin, "op-8", "2026-10", StatementFormat::kHtml).status == 200);
}

TEST_CASE("statement page: the month in progress and a closed month say so") {
  Statements s;
  WebReads reads = s.Reads();
  auto now = StatementPage(reads, kSeven, "op-7", "2026-11", StatementFormat::kHtml);
  REQUIRE(now.status == 200);
  CHECK(now.body.find("id=\"in-progress\"") != std::string::npos);
  auto now_json = nlohmann::json::parse(
      StatementPage(reads, kSeven, "op-7", "2026-11", StatementFormat::kApi).body);
  CHECK(now_json["to_date"] == true);
  CHECK(now_json["until"] == "2026-11-02T12:00:00Z");

  const MonthStatement full = s.Full();
  const nlohmann::json signed_doc = {{"statement", StatementToJson(full)}};
  ClosedStatements closed(*s.link);
  auto inserted = closed.Insert(
      {"2026-10", kOctober.end + 7 * 86400, "receiver-kid-1",
       Base64UrlEncode("{}") + "." + Base64UrlEncode(signed_doc.dump()) + ".c2ln", ""});
  REQUIRE(inserted.ok());
  auto page = StatementPage(reads, kSeven, "op-7", "2026-10", StatementFormat::kHtml);
  REQUIRE(page.status == 200);
  CHECK(page.body.find("id=\"closed\"") != std::string::npos);
  CHECK(page.body.find("receiver-kid-1") != std::string::npos);
  char total[32];
  std::snprintf(total, sizeof total, "%.2f", Statements::Only(full, "op-7").total);
  CHECK(page.body.find("<span id=\"closed-total\">" + std::string(total) + "</span>") !=
        std::string::npos);
  CHECK(page.body.find("agree") != std::string::npos);
  auto json = nlohmann::json::parse(
      StatementPage(reads, kSeven, "op-7", "2026-10", StatementFormat::kApi).body);
  CHECK(json["closed"]["receiver_kid"] == "receiver-kid-1");
  CHECK(json["closed"]["operator"]["operator"] == "op-7");
  // The closed document's other operators are not shown to op-7.
  CHECK(json.dump().find("op-8") == std::string::npos);
}

}  // namespace
}  // namespace fleet::receiver
