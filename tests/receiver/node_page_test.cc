// The node page and its JSON (receiver/web/node_page.h) over a real store holding signed
// records taken through the receiver's ingest: the heat map's cells sum to the uptime report
// (live, late, early, down, conflicting minutes from two epochs, a node added mid-month), the
// incidents with their times to acknowledge and resolve, remediations and tasks; hostile text
// from records escaped; another operator's node answered exactly as an unknown one; bad months
// refused. On SQLite and on PostgreSQL.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "receiver/report/uptime_report.h"
#include "receiver/web/node_page.h"
#include "tests/receiver/node_world.h"

namespace fleet::receiver {
namespace {

using testing::AllOf;
using testing::ChainSigner;
using testing::TestNode;

const Period kNovember = *ParseMonth("2026-11");
const std::int64_t kDay2 = kNovember.begin + 86400;  // 2026-11-02T00:00:00Z
const Viewer kAdmin{std::nullopt, "t-admin"};
const Viewer kOpA{std::string("op-a"), "t-a"};
const Viewer kOpB{std::string("op-b"), "t-b"};
const std::string kHostileCheck = "<b>tmux</b>";
const std::string kHostileSummary = "<script>alert(\"x\")</script> & 'y' <img src=x onerror=1>";

// node-a (op-a), added 2026-11-02 10:00, so counted from that day's 00:00:
// - 00:00-03:59 heartbeats pushed every 10 minutes (live), every 17th minute down;
//   an incident (hostile check and summary) 01:00-01:20, acked 01:10 by telegram; a
//   remediation and two task runs (one failed);
// - a heartbeat for 04:00 received at 04:00:10, before its minute was over (not counted);
// - 05:00-05:59 up, pushed only the next day (late);
// - epoch 2 (a restored spool) claims 00:00-00:59 up, pushed on the 4th: where epoch 1 said
//   down the minute is conflicting, so down.
template <typename Maker>
struct PageWorld : testing::NodeWorld<Maker> {
  TestNode a{"node-a"};
  TestNode b{"node-b"};
  const std::int64_t now = kNovember.begin + 20 * 86400;

  PageWorld() {
    this->Add(a, "op-a", kDay2 + 10 * 3600);
    this->Add(b, "op-b", kDay2);
    ChainSigner chain{a};
    std::vector<std::string> batch;
    for (int i = 0; i < 240; ++i) {
      const std::int64_t minute = kDay2 + i * 60;
      batch.push_back(chain.Beat(minute, i % 17 != 0));
      if (minute == kDay2 + 3600) {
        batch.push_back(chain.Sign(minute + 5, protocol::Incident{1, kHostileCheck, minute,
                                                                  std::nullopt, kHostileSummary}));
        batch.push_back(chain.Sign(
            minute + 50,
            protocol::Remediation{kHostileCheck, "BURN2", protocol::RemedyAction::kCreateSession,
                                  "<i>missing</i>", 1, minute + 40, minute + 42,
                                  protocol::RemedyOutcome::kSucceeded, std::nullopt, 1}));
        batch.push_back(
            chain.Sign(minute + 55, protocol::TaskRun{"job-1", "nightly", minute, true, {}}));
        batch.push_back(chain.Sign(minute + 56, protocol::TaskRun{"job-2", "<u>weekly</u>", minute,
                                                                  false, std::string("boom")}));
      }
      if (minute == kDay2 + 3600 + 600) {
        batch.push_back(chain.Sign(
            minute + 3, protocol::Ack{1, minute, "ada", protocol::AckVia::kTelegram, {}}));
      }
      if (minute == kDay2 + 3600 + 1200) {
        batch.push_back(chain.Sign(minute + 5, protocol::Incident{1, kHostileCheck, kDay2 + 3600,
                                                                  minute, kHostileSummary}));
      }
      if (i % 10 == 9) {
        this->Push(batch, minute + 63);
        batch.clear();
      }
    }
    const std::int64_t four = kDay2 + 4 * 3600;
    this->Push(
        {chain.Sign(four + 10,
                    protocol::Heartbeat{four, true, {{"tmux", protocol::CheckState::kOk}}, true})},
        four + 10);
    for (int i = 0; i < 60; ++i) batch.push_back(chain.Beat(kDay2 + 5 * 3600 + i * 60, true));
    this->Push(batch, kDay2 + 86400 + 12 * 3600);
    batch.clear();

    ChainSigner restored{a, 2};
    for (int i = 0; i < 60; ++i) batch.push_back(restored.Beat(kDay2 + i * 60, true));
    this->Push(batch, kDay2 + 2 * 86400);
    batch.clear();

    ChainSigner other{b};
    this->Push({other.Beat(kDay2, true)}, kDay2 + 70);
  }

  UptimeFigures Report() {
    WebReads reads = this->Reads(now);
    auto registry = reads.source.LoadRegistry();
    REQUIRE(registry.ok());
    auto report = ComputeUptime(reads.source, *registry, kNovember, kLiveWithinSeconds);
    REQUIRE(report.ok());
    for (const auto& row : report->nodes) {
      if (row.node == "node-a") return row.figures;
    }
    FAIL("node-a not in the report");
    return {};
  }
};

std::int64_t Sum(const std::vector<std::string>& values) {
  std::int64_t sum = 0;
  for (const auto& v : values) sum += std::stoll(v);
  return sum;
}

TEST_CASE_TEMPLATE("node page: the heat map's cells sum to the uptime report", Maker,
                   FLEET_RECEIVER_STORES) {
  PageWorld<Maker> world;
  const UptimeFigures f = world.Report();
  CHECK(f.minutes == 29 * 1440);
  CHECK(f.up_late == 60);
  CHECK(f.conflicting == 4);  // minutes 0, 17, 34, 51
  CHECK(f.up == 240 - 15 + 60);
  CHECK(f.down == 15);

  WebReads reads = world.Reads(world.now);
  const HttpResponse page = NodePage(reads, kAdmin, "node-a", "month=2026-11");
  REQUIRE(page.status == 200);
  CHECK(page.content_type.find("text/html") == 0);
  const std::string& html = page.body;
  const std::string cell = R"(<rect class="cell[^"]*" data-day="[0-9-]+" data-hour="\d\d" )";
  CHECK(AllOf(html, "(<rect class=\"cell)").size() == 30 * 24);
  CHECK(AllOf(html, "(<rect class=\"cell none\")").size() == 24);  // November 1st
  CHECK(Sum(AllOf(html, cell + R"re(data-up="(\d+)")re")) == f.up);
  CHECK(Sum(AllOf(html, R"re(data-late="(\d+)")re")) == f.up_late);
  CHECK(Sum(AllOf(html, R"re(data-down="(\d+)")re")) == f.down);
  CHECK(Sum(AllOf(html, R"re(data-unmeasured="(\d+)")re")) == f.unmeasured);
  char percent[16];
  std::snprintf(percent, sizeof percent, "%.2f", f.UptimePercent(true));
  CHECK(html.find("<span id=\"uptime-percent\">" + std::string(percent) + "</span>") !=
        std::string::npos);
  // The cells of the hours that tell the story, each a link to its records.
  CHECK(html.find(R"(<a href="/nodes/node-a/records?hour=2026-11-02T00"><rect class="cell" )"
                  R"(data-day="2026-11-02" data-hour="00" data-up="56" data-late="0" )"
                  R"(data-down="4" data-unmeasured="0")") != std::string::npos);
  CHECK(html.find(R"(data-day="2026-11-02" data-hour="04" data-up="0" data-late="0" )"
                  R"(data-down="0" data-unmeasured="60")") != std::string::npos);
  CHECK(html.find(R"(data-day="2026-11-02" data-hour="05" data-up="60" data-late="60" )"
                  R"(data-down="0" data-unmeasured="0")") != std::string::npos);
  CHECK(html.find("<table id=\"heatmap-table\">") != std::string::npos);
  CHECK(html.find("<tr data-day=\"2026-11-02\"><th scope=\"row\">2026-11-02</th>"
                  "<td class=\"num\">1440</td><td class=\"num\">285</td>") != std::string::npos);
  // Cues besides colour, and no script anywhere.
  CHECK(html.find("class=\"cue late\"") != std::string::npos);
  CHECK(html.find("class=\"cue down\"") != std::string::npos);
  CHECK(html.find("class=\"cue unmeasured\"") != std::string::npos);
  CHECK(html.find("<script") == std::string::npos);

  // The incident: acknowledged after 10 minutes, resolved after 20.
  const auto incidents = html.substr(html.find("<table id=\"incidents\">"));
  CHECK(incidents.find("<td class=\"to-ack\">10 min 0 s</td>") != std::string::npos);
  CHECK(incidents.find("<td class=\"to-resolve\">20 min 0 s</td>") != std::string::npos);
  CHECK(incidents.find("by ada via telegram") != std::string::npos);
  CHECK(html.find("<table id=\"remediations\">") != std::string::npos);
  CHECK(html.find("create_session") != std::string::npos);
  CHECK(html.find("<table id=\"tasks\">") != std::string::npos);
  CHECK(html.find("1 of 2 runs succeeded") != std::string::npos);
}

TEST_CASE_TEMPLATE("node page: text from records is escaped", Maker, FLEET_RECEIVER_STORES) {
  PageWorld<Maker> world;
  WebReads reads = world.Reads(world.now);
  const std::string html = NodePage(reads, kAdmin, "node-a", "month=2026-11").body;
  CHECK(html.find("<script>") == std::string::npos);
  CHECK(html.find("<img") == std::string::npos);
  CHECK(html.find("<b>tmux") == std::string::npos);
  CHECK(html.find("<i>missing") == std::string::npos);
  CHECK(html.find("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39; "
                  "&lt;img src=x onerror=1&gt;") != std::string::npos);
  CHECK(html.find("&lt;b&gt;tmux&lt;/b&gt;") != std::string::npos);
  CHECK(html.find("&lt;i&gt;missing&lt;/i&gt;") != std::string::npos);
  // The JSON carries the same text, as JSON strings.
  const HttpResponse json = NodeJson(reads, kAdmin, "node-a", "month=2026-11");
  REQUIRE(json.status == 200);
  const auto doc = nlohmann::json::parse(json.body);
  REQUIRE(doc["incidents"].size() == 1);
  CHECK(doc["incidents"][0]["summary"] == kHostileSummary);
  CHECK(doc["incidents"][0]["check"] == kHostileCheck);
}

TEST_CASE_TEMPLATE("node page: another operator's node is answered as an unknown node", Maker,
                   FLEET_RECEIVER_STORES) {
  PageWorld<Maker> world;
  WebReads reads = world.Reads(world.now);
  CHECK(NodePage(reads, kOpA, "node-a", "month=2026-11").status == 200);
  CHECK(NodePage(reads, kOpB, "node-b", "").status == 200);
  const HttpResponse foreign = NodePage(reads, kOpB, "node-a", "month=2026-11");
  const HttpResponse unknown = NodePage(reads, kOpB, "node-zz", "month=2026-11");
  CHECK(foreign.status == 404);
  CHECK(unknown.status == 404);
  CHECK(foreign.body == unknown.body);
  CHECK(foreign.body.find("node-a") == std::string::npos);
  // The same in JSON, and without a month.
  const HttpResponse foreign_json = NodeJson(reads, kOpB, "node-a", "");
  const HttpResponse unknown_json = NodeJson(reads, kOpB, "node-zz", "");
  CHECK(foreign_json.status == 404);
  CHECK(foreign_json.body == unknown_json.body);
  CHECK(NodeJson(reads, kOpA, "node-a", "").status == 200);
}

TEST_CASE_TEMPLATE("node page: bad months are 400; none is the current month", Maker,
                   FLEET_RECEIVER_STORES) {
  PageWorld<Maker> world;
  WebReads reads = world.Reads(world.now);
  for (const char* query : {"month=2026-13", "month=2026-1", "month=abc", "month=", "month",
                            "month=2026-11-01", "month=2026-11&month=2026-10", "month=%ZZ",
                            "month=2026%2D11%00", "month=1969-12", "month=%E2%80%AE2026-11"}) {
    CAPTURE(query);
    const HttpResponse page = NodePage(reads, kAdmin, "node-a", query);
    CHECK(page.status == 400);
    CHECK(page.body.find("month") != std::string::npos);
    const HttpResponse json = NodeJson(reads, kAdmin, "node-a", query);
    CHECK(json.status == 400);
    CHECK(nlohmann::json::parse(json.body)["error"].get<std::string>().find("month") == 0);
  }
  // Percent-encoded but valid; other parameters ignored.
  CHECK(NodePage(reads, kAdmin, "node-a", "month=2026%2D11&x=1").status == 200);
  const HttpResponse current = NodePage(reads, kAdmin, "node-a", "");
  REQUIRE(current.status == 200);
  CHECK(current.body.find("<strong>2026-11</strong>") != std::string::npos);
  // A month before the node was added: every cell "none", uptime n/a.
  const HttpResponse before = NodePage(reads, kAdmin, "node-a", "month=2026-10");
  REQUIRE(before.status == 200);
  CHECK(AllOf(before.body, "(<rect class=\"cell none\")").size() == 31 * 24);
  CHECK(before.body.find("<span id=\"uptime-percent\">n/a</span>") != std::string::npos);
  const auto doc = nlohmann::json::parse(NodeJson(reads, kAdmin, "node-a", "month=2026-10").body);
  CHECK(doc["registered"] == false);
  CHECK(doc["uptime_percent"].is_null());
  CHECK(doc["hours"].size() == 31 * 24);
}

TEST_CASE_TEMPLATE("node JSON: the hours sum to the report, the figures are the report's", Maker,
                   FLEET_RECEIVER_STORES) {
  PageWorld<Maker> world;
  const UptimeFigures f = world.Report();
  WebReads reads = world.Reads(world.now);
  const HttpResponse reply = NodeJson(reads, kAdmin, "node-a", "month=2026-11");
  REQUIRE(reply.status == 200);
  CHECK(reply.content_type == "application/json");
  const auto doc = nlohmann::json::parse(reply.body);
  std::int64_t up = 0, late = 0, down = 0, unmeasured = 0, registered = 0;
  for (const auto& hour : doc["hours"]) {
    up += hour["up"].get<std::int64_t>();
    late += hour["late"].get<std::int64_t>();
    down += hour["down"].get<std::int64_t>();
    unmeasured += hour["unmeasured"].get<std::int64_t>();
    registered += hour["registered"].get<std::int64_t>();
  }
  CHECK(up == f.up);
  CHECK(late == f.up_late);
  CHECK(down == f.down);
  CHECK(unmeasured == f.unmeasured);
  CHECK(registered == f.minutes);
  CHECK(doc["minutes"]["up"] == f.up);
  CHECK(doc["minutes"]["conflicting"] == f.conflicting);
  CHECK(doc["uptime_percent"].get<double>() == doctest::Approx(f.UptimePercent(true)));
  CHECK(doc["incidents"][0]["to_ack_s"] == 600);
  CHECK(doc["incidents"][0]["to_resolve_s"] == 1200);
  CHECK(doc["remediations"].size() == 1);
  CHECK(doc["tasks"]["runs"] == 2);
  CHECK(doc["tasks"]["ok"] == 1);
}

}  // namespace
}  // namespace fleet::receiver
