// The custom-range uptime page (uptime_page.h) on a SQLite store of signed records: its JSON
// is ComputeUptime's over [from, to + 1 day) (cut at the current minute), for the nodes the
// viewer sees only; `from` and `to` default to the month's first day and today; the HTML
// escapes hostile names; malformed, reversed, too long or future ranges are 400.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "base/utc_time.h"
#include "receiver/report/report_format.h"
#include "receiver/web/uptime_page.h"
#include "tests/receiver/web_world.h"

namespace fleet::receiver {
namespace {

using testing::WebWorld;

const std::int64_t kOctober30 = *ParseUtcSeconds("2026-10-30T00:00:00Z");
const std::int64_t kNovember = *ParseUtcSeconds("2026-11-01T00:00:00Z");
const std::int64_t kNow = *ParseUtcSeconds("2026-11-02T06:00:30Z");

struct World {
  WebWorld world;
  std::unique_ptr<RegistrySource> source;
  std::unique_ptr<SqlLink> link;
  World() {
    world.Operator("op-7", "<b>Seven</b>", kOctober30 - 100 * 86400);
    world.Operator("op-8", "Eight", kOctober30 - 100 * 86400);
    world.Node("n7", "op-7", kOctober30 - 86400);
    world.Node("n8", "op-8", kOctober30 + 86400);
    world.Beats("n7", kOctober30, kOctober30 + 3600, false);
    world.Beats("n7", kOctober30 + 7200, kNow - 90);
    world.Beats("n8", kOctober30 + 86400, kNovember + 3600, true, 7200);  // late, from a spool
    world.Commit();
    source = OpenReportSource(world.Db()).value();
    link = OpenSqlLink(world.Db()).value();
  }
  WebReads Reads() { return {*source, *link, kNow, 180, kLiveWithinSeconds, PayoutPolicy{}}; }
  nlohmann::json Expected(const Period& period) {
    auto registry = source->LoadRegistry();
    REQUIRE(registry.ok());
    auto uptime = ComputeUptime(*source, *registry, period, kLiveWithinSeconds);
    REQUIRE(uptime.ok());
    return UptimeToJson(*uptime, true);
  }
};

const Viewer kAdmin{std::nullopt, "t-admin"};

TEST_CASE("uptime page: ComputeUptime over the range, to included, cut at now") {
  World w;
  WebReads reads = w.Reads();
  auto got = UptimeJson(reads, kAdmin, "from=2026-10-30&to=2026-10-31");
  REQUIRE(got.status == 200);
  auto doc = nlohmann::json::parse(got.body);
  const Period range{kOctober30, kNovember, "2026-10-30..2026-10-31"};
  auto expected = w.Expected(range);
  CHECK(doc["nodes"] == expected["nodes"]);
  CHECK(doc["operators"] == expected["operators"]);
  CHECK(doc["begin"] == "2026-10-30T00:00:00Z");
  CHECK(doc["end"] == "2026-11-01T00:00:00Z");
  REQUIRE(doc["nodes"].size() == 2);
  CHECK(doc["nodes"][0]["minutes"] == 2 * 1440);
  CHECK(doc["nodes"][0]["down"] == 60);
  CHECK(doc["nodes"][0]["unmeasured"] == 60);
  CHECK(doc["nodes"][1]["up_late"] == 1440);

  // Across the month's end to today: cut at the current minute.
  auto today =
      nlohmann::json::parse(UptimeJson(reads, kAdmin, "from=2026-10-31&to=2026-11-02").body);
  const Period cut{kOctober30 + 86400, kNow - 30, ""};
  CHECK(today["nodes"] == w.Expected(cut)["nodes"]);
  CHECK(today["end"] == "2026-11-02T06:00:00Z");
  // Defaults: the month's first day to today.
  auto defaults = nlohmann::json::parse(UptimeJson(reads, kAdmin, "").body);
  CHECK(defaults["from"] == "2026-11-01");
  CHECK(defaults["to"] == "2026-11-02");
  CHECK(defaults["nodes"] == w.Expected({kNovember, kNow - 30, ""})["nodes"]);
}

TEST_CASE("uptime page: an operator's rows only; escaped HTML; 400s") {
  World w;
  WebReads reads = w.Reads();
  const Viewer seven{"op-7", "t-7"};
  auto doc = nlohmann::json::parse(UptimeJson(reads, seven, "from=2026-10-30&to=2026-11-01").body);
  REQUIRE(doc["nodes"].size() == 1);
  CHECK(doc["nodes"][0]["node"] == "n7");
  REQUIRE(doc["operators"].size() == 1);
  CHECK(doc["operators"][0]["operator"] == "op-7");
  auto page = UptimePage(reads, seven, "from=2026-10-30&to=2026-11-01");
  REQUIRE(page.status == 200);
  CHECK(page.body.find("n8") == std::string::npos);
  CHECK(page.body.find("Eight") == std::string::npos);
  CHECK(page.body.find("<b>Seven") == std::string::npos);
  CHECK(page.body.find("&lt;b&gt;Seven&lt;/b&gt;") != std::string::npos);
  CHECK(page.body.find("<tr data-node=\"n7\">") != std::string::npos);
  auto admin = UptimePage(reads, kAdmin, "from=2026-10-30&to=2026-11-01");
  CHECK(admin.body.find("<tr data-node=\"n8\">") != std::string::npos);

  struct Bad {
    const char* query;
    const char* names;
  };
  for (const Bad& bad :
       {Bad{"from=2026-10-32", "from"}, Bad{"from=20261030", "from"}, Bad{"to=2026-1-01", "to"},
        Bad{"to=", "to"}, Bad{"to=2026-11-01%00", "to"},
        Bad{"from=2026-11-02&to=2026-11-01", "from"}, Bad{"from=2025-10-01&to=2026-10-02", "to"},
        Bad{"from=2026-11-03&to=2026-11-04", "from"}}) {
    CAPTURE(bad.query);
    auto json = UptimeJson(reads, kAdmin, bad.query);
    CHECK(json.status == 400);
    CHECK(nlohmann::json::parse(json.body)["error"].get<std::string>().rfind(bad.names, 0) == 0);
    auto html = UptimePage(reads, kAdmin, bad.query);
    CHECK(html.status == 400);
    CHECK(html.body.find(bad.names) != std::string::npos);
  }
  // 366 days, to included, is the longest range.
  CHECK(UptimeJson(reads, kAdmin, "from=2025-11-02&to=2026-11-02").status == 200);
  CHECK(UptimeJson(reads, kAdmin, "from=2025-11-01&to=2026-11-02").status == 400);
}

}  // namespace
}  // namespace fleet::receiver
