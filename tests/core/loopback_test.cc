// Which hosts plain http:// may reach: loopback by the URL's host as written (never a name
// that only looks like an address) and by the address connected to; and the host of a URL
// as a connection would read it (user info skipped, brackets kept, port dropped); and which
// URLs a client sends to at all (SchemeToSend).
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>

#include <string>

#include "base/curl_session.h"
#include "base/loopback.h"
#include "base/units.h"

using namespace fleet;

TEST_CASE("plain http: loopback by name, a dotted quad in 127/8, never a name like one") {
  for (const char* host : {"localhost", "127.0.0.1", "127.1.2.3", "127.255.255.255", "[::1]"}) {
    INFO(host);
    CHECK(IsLoopbackHostName(host));
  }
  for (const char* host : {"127.evil.example", "127.0.0.1.evil.example", "127.0.0.1.", "127.0.0",
                           "127.1", "127.0.0.256", "127.0.0.1x", "128.0.0.1", "10.0.0.1",
                           "0x7f.0.0.1", "127..0.1", "localhost.", "localhost.evil.example",
                           "[::2]", "[::ffff:127.0.0.1]", "", "example.org", "127.0000.0.1"}) {
    INFO(host);
    CHECK_FALSE(IsLoopbackHostName(host));
  }
}

namespace {
sockaddr_in V4(const char* text) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  REQUIRE(inet_pton(AF_INET, text, &a.sin_addr) == 1);
  return a;
}
sockaddr_in6 V6(const char* text) {
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  REQUIRE(inet_pton(AF_INET6, text, &a.sin6_addr) == 1);
  return a;
}
}  // namespace

TEST_CASE("plain http: the address connected to must be loopback") {
  for (const char* text : {"127.0.0.1", "127.9.8.7"}) {
    auto a = V4(text);
    CHECK(IsLoopbackAddress(reinterpret_cast<sockaddr*>(&a), sizeof a));
  }
  for (const char* text : {"192.0.2.1", "10.0.0.1", "0.0.0.0", "126.255.255.255", "128.0.0.1"}) {
    INFO(text);
    auto a = V4(text);
    CHECK_FALSE(IsLoopbackAddress(reinterpret_cast<sockaddr*>(&a), sizeof a));
  }
  for (const char* text : {"::1", "::ffff:127.0.0.1"}) {
    INFO(text);
    auto a = V6(text);
    CHECK(IsLoopbackAddress(reinterpret_cast<sockaddr*>(&a), sizeof a));
  }
  for (const char* text : {"::", "::2", "2001:db8::1", "::ffff:192.0.2.1", "fe80::1"}) {
    INFO(text);
    auto a = V6(text);
    CHECK_FALSE(IsLoopbackAddress(reinterpret_cast<sockaddr*>(&a), sizeof a));
  }
  auto a = V4("127.0.0.1");
  CHECK_FALSE(IsLoopbackAddress(reinterpret_cast<sockaddr*>(&a), 4));  // truncated
  CHECK_FALSE(IsLoopbackAddress(nullptr, 0));
}

TEST_CASE("url host: what a connection goes to, as written") {
  CHECK(UrlHost("http://127.0.0.1:8080/bot1:AB/sendMessage") == "127.0.0.1");
  CHECK(UrlHost("https://discord.com/api/webhooks/1/t?wait=true") == "discord.com");
  CHECK(UrlHost("http://[::1]:9/x") == "[::1]");
  CHECK(UrlHost("http://localhost") == "localhost");
  CHECK(UrlHost("http://localhost?x=1") == "localhost");
  // User info is not the host: "127.0.0.1:80@" in front of another name changes nothing.
  CHECK(UrlHost("http://127.0.0.1:80@evil.example/") == "evil.example");
  CHECK(UrlHost("http://user:p@ss@[::1]:80/") == "[::1]");
  CHECK(UrlHost("http://[::1") == "[::1");  // unclosed: never a loopback name
  CHECK(UrlHost("http://") == "");
  CHECK(UrlHost("") == "");
  CHECK_FALSE(IsLoopbackHostName(UrlHost("http://127.0.0.1:80@evil.example/")));
  CHECK_FALSE(IsLoopbackHostName(UrlHost("http://[::1")));
}

TEST_CASE("scheme to send: https anywhere, plain http to a loopback name only, nothing else") {
  CHECK(*SchemeToSend("https://api.telegram.org/bot1:A/getMe") == HttpScheme::kHttps);
  CHECK(*SchemeToSend("HTTPS://discord.com/api/webhooks/1/t") == HttpScheme::kHttps);
  CHECK(*SchemeToSend("http://127.0.0.1:8081/bot1:A/getMe") == HttpScheme::kPlainHttp);
  CHECK(*SchemeToSend("http://[::1]:80/hook") == HttpScheme::kPlainHttp);
  CHECK(*SchemeToSend("HTTP://localhost/hook") == HttpScheme::kPlainHttp);
  for (const char* url :
       {"http://10.255.255.1/bot1:SECRET/sendMessage", "HTTP://example.invalid/SECRET",
        "http://127.0.0.1:80@evil.example/SECRET", "http://127.evil.example/SECRET"}) {
    INFO(url);
    auto scheme = SchemeToSend(url);
    REQUIRE_FALSE(scheme.ok());
    CHECK(scheme.error().find("plain http:// goes only to a loopback address") !=
          std::string::npos);
    CHECK(scheme.error().find("SECRET") == std::string::npos);
  }
  // No scheme (libcurl would guess http://), or another one.
  for (const char* url : {"example.org/SECRET", "ftp://127.0.0.1/SECRET", "file:///SECRET", ""}) {
    INFO(url);
    auto scheme = SchemeToSend(url);
    REQUIRE_FALSE(scheme.ok());
    CHECK(scheme.error().find("only https://") != std::string::npos);
    CHECK(scheme.error().find("SECRET") == std::string::npos);
  }
}
