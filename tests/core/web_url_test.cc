// WebUrl: the parts of an http(s) URL and the rules every URL the agent sends to obeys.
#include <doctest/doctest.h>

#include <string>

#include "base/web_url.h"

using namespace fleet;

namespace {

std::optional<WebUrlFault> Fault(std::string_view url, WebUrlRules rules = {}) {
  return FindWebUrlFault(url, rules);
}

}  // namespace

TEST_CASE("SplitWebUrl: scheme, user info, host, port, path, query, fragment") {
  auto url = SplitWebUrl("https://user:pw@example.org:8443/a/b?x=1#top");
  REQUIRE(url.has_value());
  CHECK(url->https);
  CHECK(url->user_info == "user:pw");
  CHECK(url->host == "example.org");
  CHECK(url->port == "8443");
  CHECK(url->path == "/a/b");
  CHECK(url->query == "x=1");
  CHECK(url->fragment == "top");

  url = SplitWebUrl("http://[::1]:8080");
  REQUIRE(url.has_value());
  CHECK_FALSE(url->https);
  CHECK_FALSE(url->user_info.has_value());
  CHECK(url->host == "[::1]");
  CHECK(url->port == "8080");
  CHECK(url->path.empty());
  CHECK_FALSE(url->query.has_value());

  // The last '@' of the authority ends the user info; '@' in a query is not user info.
  url = SplitWebUrl("http://127.0.0.1@evil.example/x");
  REQUIRE(url.has_value());
  CHECK(url->host == "evil.example");
  url = SplitWebUrl("http://127.0.0.1?@evil.example");
  REQUIRE(url.has_value());
  CHECK(url->host == "127.0.0.1");
  CHECK_FALSE(url->user_info.has_value());

  CHECK_FALSE(SplitWebUrl("ftp://x").has_value());
  CHECK_FALSE(SplitWebUrl("HTTPS://x").has_value());
  CHECK_FALSE(SplitWebUrl("").has_value());
}

TEST_CASE("FindWebUrlFault: https anywhere, http only to loopback by name") {
  CHECK_FALSE(Fault("https://fleet.example.org"));
  CHECK_FALSE(Fault("https://fleet.example.org:443/ingest"));
  CHECK_FALSE(Fault("http://127.0.0.1:8080"));
  CHECK_FALSE(Fault("http://localhost/x"));
  CHECK_FALSE(Fault("http://[::1]:9"));
  CHECK(Fault("http://fleet.example.org") == WebUrlFault::kPlainHttpElsewhere);
  CHECK(Fault("http://127.evil.example") == WebUrlFault::kPlainHttpElsewhere);
  CHECK(Fault("http://127.0.0.1@evil.example", {.user_info = true}) ==
        WebUrlFault::kPlainHttpElsewhere);
  CHECK(Fault("ftp://x") == WebUrlFault::kNotHttp);
  CHECK(Fault("fleet.example.org") == WebUrlFault::kNotHttp);
}

TEST_CASE("FindWebUrlFault: only the parts a use allows") {
  CHECK(Fault("https://user:pw@x") == WebUrlFault::kNotPlain);
  CHECK_FALSE(Fault("https://user:pw@x", {.user_info = true}));
  CHECK(Fault("https://x/a?b=1") == WebUrlFault::kNotPlain);
  CHECK_FALSE(Fault("https://x/a?b=1", {.query = true}));
  CHECK(Fault("https://x/a#b", {.path = true, .query = true, .user_info = true}) ==
        WebUrlFault::kNotPlain);
  CHECK(Fault("https://x/bot123:abc/", {.path = false}) == WebUrlFault::kPath);
  CHECK_FALSE(Fault("https://x/", {.path = false}));
  CHECK_FALSE(Fault("https://x:8443", {.path = false}));
}

TEST_CASE("FindWebUrlFault: garbage") {
  for (const char* url : {"https://a b", "https://x/\t", "https://x/\"", "https://x/<a>",
                          "https://x\\@y", "https://x/{}", "https://x/\x01", "https://x/\x7F"}) {
    INFO(url);
    CHECK(Fault(url, {.path = true, .query = true, .user_info = true}) == WebUrlFault::kNotPlain);
  }
  CHECK(Fault("https://") == WebUrlFault::kNoHost);
  CHECK(Fault("https:///path") == WebUrlFault::kNoHost);
  CHECK(Fault("http://[]:80") == WebUrlFault::kNoHost);
  CHECK(Fault("http://[::1") == WebUrlFault::kNoHost);
  CHECK(Fault("http://[::1]x") == WebUrlFault::kNoHost);
  CHECK(Fault("https://x:") == WebUrlFault::kBadPort);
  CHECK(Fault("https://x:0") == WebUrlFault::kBadPort);
  CHECK(Fault("https://x:65536") == WebUrlFault::kBadPort);
  CHECK(Fault("https://x:80a") == WebUrlFault::kBadPort);
  CHECK(Fault("https://x:123456") == WebUrlFault::kBadPort);
  CHECK_FALSE(Fault("https://x:65535"));
}

TEST_CASE("DescribeWebUrlFault: the refused parts follow the rules") {
  CHECK(DescribeWebUrlFault(WebUrlFault::kNotPlain) ==
        "is not a plain URL (no spaces, user names, queries or fragments)");
  CHECK(DescribeWebUrlFault(WebUrlFault::kNotPlain, {.query = true}) ==
        "is not a plain URL (no spaces, user names or fragments)");
  CHECK(DescribeWebUrlFault(WebUrlFault::kNotPlain, {.query = true, .user_info = true}) ==
        "is not a plain URL (no spaces or fragments)");
  CHECK(DescribeWebUrlFault(WebUrlFault::kPlainHttpElsewhere) ==
        "is plain http to another machine (http:// is only for a loopback address)");
  CHECK(DescribeWebUrlFault(WebUrlFault::kPath) ==
        "has a path (give the scheme, host and port only)");
}
