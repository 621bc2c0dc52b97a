// The dashboard's door on both stores (receiver/access/web_auth.h): the login form, a login
// that sets the __Host- cookie exactly, bearer tokens, sessions bound to their Host and token,
// logout, `next` kept local, the failed-login limit, and garbage in headers, cookies and forms
// answered with a refusal (never a crash, never a viewer). The log names the token's id, never
// the token.
#include "receiver/access/web_auth.h"

#include <doctest/doctest.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <regex>
#include <thread>
#include <vector>

#include "receiver/registry/revocations.h"
#include "receiver/web/html.h"
#include "tests/receiver/store_factory.h"
#include "tests/receiver/test_records.h"

namespace fleet::receiver {
namespace {

using testing::TestNode;

constexpr std::int64_t kNow = 1764064800;
constexpr const char* kHost = "dash.example:8443";
constexpr const char* kForm = "application/x-www-form-urlencoded";

std::string Header(const HttpResponse& response, std::string_view name) {
  std::string out;
  int seen = 0;
  for (const auto& [key, value] : response.headers) {
    if (key != name) continue;
    out = value;
    ++seen;
  }
  REQUIRE_MESSAGE(seen <= 1, "header " << name << " sent " << seen << " times");
  return out;
}

std::string FormPart(std::string_view text) { return UrlPart(text); }

template <typename Maker>
struct World {
  Maker maker;
  std::unique_ptr<RecordStore> store = maker.Make();
  std::unique_ptr<SqlLink> link = [this] {
    auto made = OpenSqlLink(maker.Db());
    REQUIRE_MESSAGE(made.ok(), (made ? "" : made.error()));
    return std::move(made).value();
  }();
  AccessTokens tokens{*link};
  std::atomic<std::int64_t> now{kNow};
  std::atomic<int> opened{0};
  WebAuth auth{[this]() -> Result<std::unique_ptr<SqlLink>> {
                 ++opened;
                 return OpenSqlLink(maker.Db());
               },
               [this] { return now.load(); }};

  World() { REQUIRE(store->AddNode(TestNode("n-1").Entry("op-7")).ok()); }

  IssuedAccessToken Add(std::optional<std::string> op, std::optional<std::int64_t> ttl = 86400) {
    auto issued = tokens.Add(std::move(op), "", ttl, now.load());
    REQUIRE_MESSAGE(issued.ok(), (issued ? "" : issued.error()));
    return *issued;
  }
  // Handle(), which must answer these paths.
  HttpResponse Send(HttpRequest request) {
    std::optional<HttpResponse> got;
    REQUIRE(auth.Handle(request, [&](HttpResponse r) { got = std::move(r); }));
    REQUIRE(got.has_value());
    return *got;
  }
  HttpResponse Login(const std::string& body, const std::string& peer = "192.0.2.1",
                     const std::string& content_type = kForm, const std::string& host = kHost) {
    return Send({"POST", "/login", content_type, body, peer, "", "", "", host});
  }
  HttpResponse LoginWith(const std::string& token, const std::string& next = "/") {
    return Login("token=" + FormPart(token) + "&next=" + FormPart(next));
  }
  // The session secret a successful login set.
  std::string SecretOf(const HttpResponse& response) {
    const std::string cookie = Header(response, "Set-Cookie");
    std::smatch m;
    REQUIRE_MESSAGE(std::regex_match(cookie, m,
                                     std::regex("__Host-fleet_session=([A-Za-z0-9_-]{43}); "
                                                "Path=/; Secure; HttpOnly; "
                                                "SameSite=Strict; Max-Age=43200")),
                    cookie);
    return m[1];
  }
  std::optional<Viewer> ByCookie(const std::string& cookie, const std::string& host = kHost) {
    return auth.ViewerOf({"GET", "/", "", "", "192.0.2.1", "", "", cookie, host});
  }
  std::optional<Viewer> ByBearer(const std::string& authorization) {
    return auth.ViewerOf({"GET", "/v1/fleet", "", "", "192.0.2.1", "", authorization, "", kHost});
  }
};

}  // namespace

TEST_CASE("CookieValue: one value of the name, else nothing") {
  const std::string secret(43, 'a');
  CHECK(CookieValue("__Host-fleet_session=" + secret, kSessionCookie) == secret);
  CHECK(CookieValue("a=b;  __Host-fleet_session=" + secret + " ;c=d", kSessionCookie) == secret);
  CHECK(CookieValue("__Host-fleet_session=\"" + secret + "\"", kSessionCookie) == secret);
  CHECK(CookieValue("__Host-fleet_session=", kSessionCookie) == "");
  for (const std::string& garbage :
       {std::string(), std::string(";;;"), std::string("="), std::string("__Host-fleet_session"),
        "__Host-fleet_session=" + secret + "; __Host-fleet_session=" + secret,
        "__Host-fleet_session=x; __Host-fleet_session=" + secret, "__host-fleet_session=" + secret,
        "fleet_session=" + secret, "__Host-fleet_session=" + std::string(300, 'a'),
        "__Host-fleet_session=" + std::string(1 << 20, 'a'),
        std::string("__Host-fleet_session=a b"), std::string("__Host-fleet_session=\xff\xfe"),
        std::string("__Host-fleet_session=a\\b"), std::string("__Host-fleet_session=a,b"),
        std::string("__Host-fleet_session=\"a")}) {
    CHECK_FALSE(CookieValue(garbage, kSessionCookie).has_value());
  }
}

TEST_CASE("LocalRedirect: a local path, else /") {
  CHECK(LocalRedirect("/") == "/");
  CHECK(LocalRedirect("/nodes/n-1?month=2026-11") == "/nodes/n-1?month=2026-11");
  CHECK(LocalRedirect("/statements/op-7/2026-11.csv") == "/statements/op-7/2026-11.csv");
  for (const char* open :
       {"//evil.example", "https://evil.example", "/\\evil.example", "\\\\evil.example",
        "/\t/evil.example", "/\n/evil.example", "http:/evil.example", "evil.example", "", " /x",
        "/x y", "/\xc3\xa9", "javascript:alert(1)", "///evil.example"}) {
    CHECK(LocalRedirect(open) == "/");
  }
}

TEST_CASE_TEMPLATE("web auth: the login form, and a login that sets the __Host- cookie", Maker,
                   FLEET_RECEIVER_STORES) {
  World<Maker> w;
  const IssuedAccessToken token = w.Add("op-7");

  HttpResponse form =
      w.Send({"GET", "/login", "", "", "192.0.2.1", "next=%2Fnodes%2Fn-1%3Fmonth%3D2026-11"});
  CHECK(form.status == 200);
  CHECK(form.content_type == "text/html; charset=utf-8");
  CHECK(form.body.find("<form method=\"post\" action=\"/login\">") != std::string::npos);
  CHECK(form.body.find("<input name=\"token\" type=\"password\"") != std::string::npos);
  CHECK(
      form.body.find("<input name=\"next\" type=\"hidden\" value=\"/nodes/n-1?month=2026-11\">") !=
      std::string::npos);
  CHECK(form.body.find("<button type=\"submit\">Log in</button>") != std::string::npos);
  CHECK(form.body.find("<script") == std::string::npos);
  CHECK(Header(form, "Set-Cookie").empty());
  // The form's own `next` is kept local too, and escaped.
  form = w.Send({"GET", "/login", "", "", "192.0.2.1", "next=%2F%2Fevil.example"});
  CHECK(form.body.find("name=\"next\" type=\"hidden\" value=\"/\">") != std::string::npos);
  for (const char* query : {"next=%zz", "next=a&next=b", "next", "%%%", "next=%2F%00"}) {
    form = w.Send({"GET", "/login", "", "", "192.0.2.1", query});
    CHECK(form.status == 200);
    CHECK(form.body.find("name=\"next\" type=\"hidden\" value=\"/\">") != std::string::npos);
  }
  form = w.Send({"GET", "/login", "", "", "192.0.2.1", "next=%2F%22%3E%3Cb%3E"});
  CHECK(form.body.find("value=\"/&quot;&gt;&lt;b&gt;\"") != std::string::npos);

  HttpResponse login = w.LoginWith(token.token, "/nodes/n-1?month=2026-11");
  CHECK(login.status == 303);
  CHECK(Header(login, "Location") == "/nodes/n-1?month=2026-11");
  const std::string cookie = Header(login, "Set-Cookie");
  CHECK(cookie.find("Domain") == std::string::npos);
  CHECK(cookie.find("domain") == std::string::npos);
  const std::string secret = w.SecretOf(login);
  CHECK(secret != token.token);

  auto viewer = w.ByCookie("__Host-fleet_session=" + secret);
  REQUIRE(viewer.has_value());
  CHECK(viewer->operator_id == "op-7");
  CHECK(viewer->token_id == token.id);
  CHECK(w.ByCookie("theme=dark; __Host-fleet_session=" + secret + "; lang=en").has_value());
  // The cookie is good for the Host it was made for only.
  CHECK_FALSE(w.ByCookie("__Host-fleet_session=" + secret, "evil.example").has_value());
  CHECK_FALSE(w.ByCookie("__Host-fleet_session=" + secret, "").has_value());
  // Given twice (another value beside it): no viewer.
  CHECK_FALSE(w.ByCookie("__Host-fleet_session=" + std::string(43, 'A') +
                         "; __Host-fleet_session=" + secret)
                  .has_value());

  // A charset parameter is fine; another content type is not.
  login = w.Login("token=" + token.token, "192.0.2.1",
                  "Application/X-WWW-Form-Urlencoded; charset=UTF-8");
  CHECK(login.status == 303);
  CHECK(Header(login, "Location") == "/");
  for (const char* type :
       {"application/json", "multipart/form-data; boundary=x", "", "text/plain"}) {
    CHECK(w.Login("token=" + token.token, "192.0.2.1", type).status == 415);
  }
  // No Host: no session to bind.
  CHECK(w.Login("token=" + token.token, "192.0.2.1", kForm, "").status == 400);
  // Methods.
  HttpResponse put = w.Send({"PUT", "/login", kForm, "", "192.0.2.1"});
  CHECK(put.status == 405);
  CHECK(put.allow == "GET, POST");
  HttpResponse get_logout = w.Send({"GET", "/logout", "", "", "192.0.2.1"});
  CHECK(get_logout.status == 405);
  CHECK(get_logout.allow == "POST");
  CHECK_FALSE(w.auth.Handle({"GET", "/", "", "", "192.0.2.1"}, [](HttpResponse) {}));
  CHECK_FALSE(w.auth.Handle({"GET", "/login/x", "", "", "192.0.2.1"}, [](HttpResponse) {}));
}

TEST_CASE_TEMPLATE("web auth: wrong, expired, revoked tokens and revoked operators get no viewer",
                   Maker, FLEET_RECEIVER_STORES) {
  World<Maker> w;
  const IssuedAccessToken good = w.Add("op-7", 3600);
  const IssuedAccessToken admin = w.Add(std::nullopt, std::nullopt);

  auto viewer = w.ByBearer("Bearer " + good.token);
  REQUIRE(viewer.has_value());
  CHECK(viewer->operator_id == "op-7");
  CHECK(w.ByBearer("bearer   " + good.token + "  ").has_value());
  CHECK(w.ByBearer("Bearer " + admin.token)->admin());
  for (const std::string& wrong :
       {std::string(), std::string("Bearer"), std::string("Bearer "), "Basic " + good.token,
        "Bearer " + good.token + "x", "Bearer fr_" + std::string(43, 'A'), "Bearer" + good.token,
        "Bearer " + good.token.substr(3), "Bearer " + std::string(20000, 'x'),
        std::string("Bearer \0", 8) + good.token}) {
    CHECK_FALSE(w.ByBearer(wrong).has_value());
  }
  // A wrong token at the login: the form again, 401, no cookie.
  HttpResponse wrong = w.LoginWith("fr_" + std::string(43, 'A'), "/uptime");
  CHECK(wrong.status == 401);
  CHECK(wrong.body.find("token not valid") != std::string::npos);
  CHECK(wrong.body.find("<form method=\"post\" action=\"/login\">") != std::string::npos);
  CHECK(wrong.body.find("value=\"/uptime\"") != std::string::npos);
  CHECK(Header(wrong, "Set-Cookie").empty());

  // Expired.
  w.now = kNow + 3600;
  CHECK_FALSE(w.ByBearer("Bearer " + good.token).has_value());
  CHECK(w.LoginWith(good.token).status == 401);
  // Revoked.
  const IssuedAccessToken other = w.Add("op-7");
  CHECK(w.ByBearer("Bearer " + other.token).has_value());
  REQUIRE(*w.tokens.Revoke(other.id, w.now.load()));
  CHECK_FALSE(w.ByBearer("Bearer " + other.token).has_value());
  CHECK(w.LoginWith(other.token).status == 401);
  // The operator revoked.
  const IssuedAccessToken third = w.Add("op-7");
  const std::string secret = w.SecretOf(w.LoginWith(third.token));
  CHECK(w.ByCookie("__Host-fleet_session=" + secret).has_value());
  REQUIRE(Revocations(*w.link).RevokeOperator("op-7", w.now.load(), "left").ok());
  CHECK_FALSE(w.ByBearer("Bearer " + third.token).has_value());
  CHECK_FALSE(w.ByCookie("__Host-fleet_session=" + secret).has_value());
  CHECK(w.LoginWith(third.token).status == 401);
  CHECK(w.ByBearer("Bearer " + admin.token).has_value());
}

TEST_CASE_TEMPLATE("web auth: a session ends with its token, its 12 h, or a logout", Maker,
                   FLEET_RECEIVER_STORES) {
  World<Maker> w;
  const IssuedAccessToken token = w.Add("op-7", 30 * 86400);
  const std::string s1 = w.SecretOf(w.LoginWith(token.token));
  const std::string s2 = w.SecretOf(w.LoginWith(token.token));
  const std::string s3 = w.SecretOf(w.LoginWith(token.token));
  CHECK(w.ByCookie("__Host-fleet_session=" + s1).has_value());

  // Logout: the session ends, the cookie is cleared, back to the login.
  HttpResponse out = w.Send(
      {"POST", "/logout", kForm, "", "192.0.2.1", "", "", "__Host-fleet_session=" + s1, kHost});
  CHECK(out.status == 303);
  CHECK(Header(out, "Location") == "/login");
  CHECK(Header(out, "Set-Cookie") ==
        "__Host-fleet_session=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0");
  CHECK_FALSE(w.ByCookie("__Host-fleet_session=" + s1).has_value());
  CHECK(w.ByCookie("__Host-fleet_session=" + s2).has_value());  // another login stays
  // Logging out with no cookie or a garbage one still clears it.
  for (const char* cookie : {"", "__Host-fleet_session=%%%", "x=y"}) {
    out = w.Send({"POST", "/logout", kForm, "", "192.0.2.1", "", "", cookie, kHost});
    CHECK(out.status == 303);
    CHECK(Header(out, "Set-Cookie").find("Max-Age=0") != std::string::npos);
  }

  // 12 h.
  w.now = kNow + kSessionSeconds - 1;
  CHECK(w.ByCookie("__Host-fleet_session=" + s2).has_value());
  w.now = kNow + kSessionSeconds;
  CHECK_FALSE(w.ByCookie("__Host-fleet_session=" + s2).has_value());

  // Its token revoked.
  w.now = kNow + 10;
  CHECK(w.ByCookie("__Host-fleet_session=" + s3).has_value());
  REQUIRE(*w.tokens.Revoke(token.id, w.now.load()));
  CHECK_FALSE(w.ByCookie("__Host-fleet_session=" + s3).has_value());
}

TEST_CASE_TEMPLATE("web auth: next is a local path, else /", Maker, FLEET_RECEIVER_STORES) {
  World<Maker> w;
  const IssuedAccessToken token = w.Add(std::nullopt);
  for (const char* open :
       {"//evil.example", "https://evil.example", "/\\evil.example", "\\/evil.example",
        "/\t/evil.example", "http:evil.example", "evil.example"}) {
    HttpResponse login = w.LoginWith(token.token, open);
    CHECK(login.status == 303);
    CHECK_MESSAGE(Header(login, "Location") == "/", open);
  }
  // Percent-encoded slashes are decoded once, as a browser sends them, and refused too.
  HttpResponse login = w.Login("token=" + token.token + "&next=%2F%2Fevil.example");
  CHECK(Header(login, "Location") == "/");
  login = w.Login("token=" + token.token + "&next=/a&next=//evil.example");  // repeated
  CHECK(Header(login, "Location") == "/");
  login = w.Login("next=%2Fstatements%2Fop-7%2F2026-11&token=" + token.token);
  CHECK(Header(login, "Location") == "/statements/op-7/2026-11");
}

TEST_CASE_TEMPLATE("web auth: garbage forms and cookies are refused, nothing crashes", Maker,
                   FLEET_RECEIVER_STORES) {
  World<Maker> w;
  const IssuedAccessToken token = w.Add("op-7");
  for (const std::string& body :
       {std::string(), std::string("&&&=&="), std::string("token"), std::string("token="),
        std::string("token=%zz"), std::string("token=%"), std::string("token=a%00b"),
        std::string("token=%ff%fe"), "token=" + token.token + "&token=" + token.token,
        "token=" + std::string(100000, 'a'), std::string(1 << 20, '&'), std::string("\0\0\0", 3),
        "token=" + token.token.substr(0, 20)}) {
    HttpResponse r = w.Login(body, "198.51.100.7");
    CHECK_MESSAGE((r.status == 400 || r.status == 401), body.substr(0, 40) << ": " << r.status);
    CHECK(Header(r, "Set-Cookie").empty());
  }
  for (const std::string& cookie :
       {std::string(";;;;"), std::string("=="), std::string("__Host-fleet_session"),
        std::string("__Host-fleet_session=" + std::string(16000, 'A')),
        std::string("__Host-fleet_session=\x01\x02\x03"), token.token,
        "__Host-fleet_session=" + token.token, std::string(16000, ';')}) {
    CHECK_FALSE(w.ByCookie(cookie).has_value());
  }
  // The token itself as a cookie is no session, but it is still a good bearer token.
  CHECK(w.ByBearer("Bearer " + token.token).has_value());
}

TEST_CASE_TEMPLATE("web auth: more than 10 failed logins a minute from one address: 429", Maker,
                   FLEET_RECEIVER_STORES) {
  World<Maker> w;
  const IssuedAccessToken token = w.Add("op-7");
  const std::string bad = "fr_" + std::string(43, 'B');
  for (int i = 0; i < kFailedLoginsPerMinute; ++i) {
    CHECK(w.Login("token=" + bad, "192.0.2.9").status == 401);
    w.now += 1;
  }
  HttpResponse blocked = w.Login("token=" + token.token, "192.0.2.9");  // even a good token
  CHECK(blocked.status == 429);
  CHECK(Header(blocked, "Retry-After") == "60");
  CHECK(Header(blocked, "Set-Cookie").empty());
  // Another address is not held up.
  CHECK(w.Login("token=" + token.token, "192.0.2.10").status == 303);
  // IPv6: the /64 is one client.
  for (int i = 0; i < kFailedLoginsPerMinute; ++i) {
    CHECK(w.Login("token=" + bad, "2001:db8:1:2::" + std::to_string(i + 1)).status == 401);
  }
  CHECK(w.Login("token=" + token.token, "2001:db8:1:2::ffff").status == 429);
  CHECK(w.Login("token=" + token.token, "2001:db8:1:3::1").status == 303);
  // A minute after the first failures, the address may try again.
  w.now = kNow + 59;
  CHECK(w.Login("token=" + token.token, "192.0.2.9").status == 429);
  w.now = kNow + 60;  // the first failure is a minute old: 9 left in the last minute
  CHECK(w.Login("token=" + token.token, "192.0.2.9").status == 303);
  // Successful logins are not counted.
  for (int i = 0; i < 2 * kFailedLoginsPerMinute; ++i) {
    CHECK(w.Login("token=" + token.token, "192.0.2.11").status == 303);
  }
}

TEST_CASE_TEMPLATE("web auth: the log names the token's id, never the token", Maker,
                   FLEET_RECEIVER_STORES) {
  World<Maker> w;
  const IssuedAccessToken token = w.Add("op-7");
  auto sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(64);
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("test", sink));
  const HttpResponse good = w.LoginWith(token.token);
  const HttpResponse bad = w.Login("token=fr_" + std::string(43, 'C'), "203.0.113.5");
  spdlog::set_default_logger(previous);
  REQUIRE(good.status == 303);
  REQUIRE(bad.status == 401);
  std::string log;
  for (const auto& line : sink->last_formatted()) log += line;
  CHECK(log.find("dashboard login: token " + token.id + " (operator op-7) from 192.0.2.1") !=
        std::string::npos);
  CHECK(log.find("203.0.113.5") != std::string::npos);
  CHECK(log.find(token.token) == std::string::npos);
  CHECK(log.find(std::string(43, 'C')) == std::string::npos);
  CHECK(log.find(w.SecretOf(good)) == std::string::npos);
}

TEST_CASE_TEMPLATE("web auth: requests on several threads share its one link safely", Maker,
                   FLEET_RECEIVER_STORES) {
  World<Maker> w;
  const IssuedAccessToken op = w.Add("op-7");
  const IssuedAccessToken admin = w.Add(std::nullopt);
  const std::string secret = w.SecretOf(w.LoginWith(op.token));
  std::atomic<int> right{0}, wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        std::optional<Viewer> v;
        switch ((t + i) % 3) {
          case 0:
            v = w.ByBearer("Bearer " + admin.token);
            (v && v->admin() ? right : wrong)++;
            break;
          case 1:
            v = w.ByCookie("__Host-fleet_session=" + secret);
            (v && v->operator_id == "op-7" ? right : wrong)++;
            break;
          default:
            v = w.ByBearer("Bearer fr_" + std::string(43, 'Z'));
            (v ? wrong : right)++;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(right == 200);
  CHECK(wrong == 0);
  CHECK(w.opened == 1);  // one link, opened at the first use
}

TEST_CASE("web auth: a database that cannot be opened gives no viewer and a 503 login") {
  std::atomic<int> tries{0};
  WebAuth auth(
      [&]() -> Result<std::unique_ptr<SqlLink>> {
        ++tries;
        return Error{"connection refused"};
      },
      [] { return kNow; });
  const std::string token = "fr_" + std::string(43, 'D');
  CHECK_FALSE(auth.ViewerOf({"GET", "/", "", "", "192.0.2.1", "", "Bearer " + token, "", kHost})
                  .has_value());
  CHECK_FALSE(auth.ViewerOf({"GET", "/", "", "", "192.0.2.1", "", "",
                             "__Host-fleet_session=" + std::string(43, 'E'), kHost})
                  .has_value());
  CHECK(tries == 2);  // tried again each time
  std::optional<HttpResponse> got;
  REQUIRE(auth.Handle({"POST", "/login", kForm, "token=" + token, "192.0.2.1", "", "", "", kHost},
                      [&](HttpResponse r) { got = std::move(r); }));
  REQUIRE(got.has_value());
  CHECK(got->status == 503);
  CHECK(got->body.find("connection refused") == std::string::npos);
  // Garbage never reaches the database.
  CHECK_FALSE(auth.ViewerOf({"GET", "/", "", "", "192.0.2.1", "", "Bearer x", "", kHost}));
  CHECK(tries == 3);
}

}  // namespace fleet::receiver
