// The dashboard's shared HTML pieces: escaping, URL parts, query values (good, repeated,
// broken escapes, NUL, too long, not UTF-8) and the page layout.
#include <doctest/doctest.h>

#include <string>

#include "receiver/web/html.h"

namespace fleet::receiver {
namespace {

TEST_CASE("Escape and UrlPart make hostile text inert") {
  CHECK(Escape("<script>\"x\" & 'y'</script>") ==
        "&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/script&gt;");
  CHECK(UrlPart("vps fra/03?a=b&c") == "vps%20fra%2F03%3Fa%3Db%26c");
  CHECK(UrlPart("op-7_a.b~") == "op-7_a.b~");
}

TEST_CASE("QueryValue: present, absent, repeated, broken, too long, not text") {
  CHECK(QueryValue("month=2026-11&node=vps%2D1", "node") == "vps-1");
  CHECK(QueryValue("month=2026-11", "month") == "2026-11");
  CHECK(QueryValue("a=1+2", "a") == "1 2");
  CHECK(QueryValue("flag", "flag") == "");
  CHECK_FALSE(QueryValue("month=2026-11", "day").has_value());
  CHECK_FALSE(QueryValue("", "day").has_value());
  CHECK_FALSE(QueryValue("day=1&day=2", "day").has_value());
  CHECK_FALSE(QueryValue("day=%2", "day").has_value());
  CHECK_FALSE(QueryValue("day=%zz", "day").has_value());
  CHECK_FALSE(QueryValue("day=a%00b", "day").has_value());
  CHECK_FALSE(QueryValue("day=%ff%fe", "day").has_value());
  CHECK_FALSE(QueryValue("day=" + std::string(kMaxQueryValue + 1, 'a'), "day").has_value());
  CHECK(QueryValue("day=" + std::string(kMaxQueryValue, 'a'), "day")->size() == kMaxQueryValue);
  CHECK(PercentDecode("%41%4a") == "AJ");
}

TEST_CASE("QueryParam: absent is no value, unreadable is an error naming the parameter") {
  auto absent = QueryParam("month=2026-11", "day");
  REQUIRE(absent.ok());
  CHECK_FALSE(absent->has_value());
  auto given = QueryParam("day=2026-11-03", "day");
  REQUIRE(given.ok());
  CHECK(**given == "2026-11-03");
  auto empty = QueryParam("day=", "day");
  REQUIRE(empty.ok());
  CHECK(**empty == "");
  for (const char* bad : {"day=1&day=2", "day=%zz", "day=a%00b", "d%61y=%ff"}) {
    auto refused = QueryParam(bad, "day");
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().starts_with("day: "));
  }
  CHECK_FALSE(PercentDecode("%").has_value());
}

TEST_CASE("Page names the viewer, escapes the title, has a logout form and no script") {
  const Viewer admin{std::nullopt, "t-1"};
  const Viewer op{std::string("op-<7>"), "t-2"};
  const std::string a = Page("Fleet <now>", admin, "<p>x</p>");
  CHECK(a.find("<title>Fleet &lt;now&gt; · fleet-receiver</title>") != std::string::npos);
  CHECK(a.find(">admin<") != std::string::npos);
  CHECK(a.find("action=\"/logout\"") != std::string::npos);
  CHECK(a.find("<script") == std::string::npos);
  CHECK(Page("x", op, "").find("operator op-&lt;7&gt;") != std::string::npos);
  const HttpResponse page = HtmlPage(200, a);
  CHECK(page.content_type == "text/html; charset=utf-8");
  const HttpResponse error = HtmlError(404, "no node <x>");
  CHECK(error.status == 404);
  CHECK(error.body.find("no node &lt;x&gt;") != std::string::npos);
}

}  // namespace
}  // namespace fleet::receiver
