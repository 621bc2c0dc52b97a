#include "receiver/access/web_auth.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <cctype>

#include "receiver/http/refusal_log.h"
#include "receiver/web/html.h"

namespace fleet::receiver {
namespace {

constexpr std::size_t kMaxCookieValue = 256;
constexpr std::size_t kMaxTrackedPeers = 65536;

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// RFC 6265's cookie-octet: printable ASCII but space, '"', ',', ';' and '\'.
bool IsCookieValue(std::string_view value) {
  return std::all_of(value.begin(), value.end(), [](char c) {
    return c > ' ' && c <= '~' && c != '"' && c != ',' && c != ';' && c != '\\';
  });
}

// The token of `Authorization: Bearer TOKEN`; nullopt when the header is another scheme.
std::optional<std::string_view> BearerToken(std::string_view header) {
  header = Trim(header);
  constexpr std::string_view kScheme = "bearer";
  if (header.size() <= kScheme.size() || Lower(header.substr(0, kScheme.size())) != kScheme ||
      (header[kScheme.size()] != ' ' && header[kScheme.size()] != '\t')) {
    return std::nullopt;
  }
  return Trim(header.substr(kScheme.size()));
}

// Failed logins are counted per address; IPv6 per /64, which one client usually holds whole.
std::string PeerKey(const std::string& peer) {
  boost::system::error_code error;
  const auto address = boost::asio::ip::make_address(peer, error);
  if (error || !address.is_v6() || address.to_v6().is_v4_mapped()) return peer;
  auto bytes = address.to_v6().to_bytes();
  std::fill(bytes.begin() + 8, bytes.end(), 0);
  return boost::asio::ip::address_v6(bytes).to_string() + "/64";
}

std::string SessionCookie(std::string_view value, std::int64_t max_age) {
  return std::string(kSessionCookie) + "=" + std::string(value) +
         "; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=" + std::to_string(max_age);
}

// The login form; `message` (text) above it when not empty. Not Page(): nobody is logged in.
HttpResponse LoginForm(int status, std::string_view next, std::string_view message) {
  std::string html =
      "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<title>Log in · fleet-receiver</title><style>"
      "body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1b1f24;background:#fafafa}"
      "main{max-width:26em;margin:4em auto;padding:1.5em;background:#fff;border:1px solid #ddd}"
      "label,input,button{display:block;width:100%;box-sizing:border-box;margin:.3em 0}"
      "input{padding:.4em;font:inherit}button{padding:.5em;font:inherit}"
      ".error{color:#a00000;font-weight:bold}"
      "</style></head><body><main><h1>fleet-receiver</h1>\n";
  if (!message.empty()) html += "<p class=\"error\" role=\"alert\">" + Escape(message) + "</p>\n";
  html +=
      "<form method=\"post\" action=\"/login\">\n"
      "<label for=\"token\">Access token (fleet-receiver tokens add)</label>\n"
      "<input name=\"token\" type=\"password\" id=\"token\" autocomplete=\"current-password\" "
      "required autofocus>\n"
      "<input name=\"next\" type=\"hidden\" value=\"" +
      Escape(next) +
      "\">\n"
      "<button type=\"submit\">Log in</button>\n"
      "</form></main></body></html>\n";
  return HtmlPage(status, std::move(html));
}

HttpResponse SeeOther(const std::string& location) {
  HttpResponse response =
      HtmlPage(303, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>See " +
                        Escape(location) + "</title></head><body><p><a href=\"" + Escape(location) +
                        "\">Continue</a></p></body></html>\n");
  response.headers.emplace_back("Location", location);
  return response;
}

bool IsFormContent(std::string_view content_type) {
  const std::string_view media = Trim(content_type.substr(0, content_type.find(';')));
  return Lower(media) == "application/x-www-form-urlencoded";
}

}  // namespace

std::optional<std::string> CookieValue(std::string_view header, std::string_view name) {
  std::optional<std::string> found;
  while (!header.empty()) {
    const auto semi = header.find(';');
    const std::string_view pair = header.substr(0, semi);
    header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
    const auto eq = pair.find('=');
    if (eq == std::string_view::npos || Trim(pair.substr(0, eq)) != name) continue;
    if (found) return std::nullopt;  // given twice: which one is the browser's?
    std::string_view value = Trim(pair.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    if (value.size() > kMaxCookieValue || !IsCookieValue(value)) return std::nullopt;
    found = std::string(value);
  }
  return found;
}

std::string LocalRedirect(std::string_view next) {
  if (next.empty() || next.front() != '/') return "/";
  if (next.size() > 1 && (next[1] == '/' || next[1] == '\\')) return "/";
  // Browsers drop tabs and newlines from a URL ("/\t/evil" is "//evil") and read '\' as '/'.
  for (char c : next) {
    if (c <= ' ' || c > '~' || c == '\\') return "/";
  }
  return std::string(next);
}

WebAuth::WebAuth(LinkOpener open, std::function<std::int64_t()> clock)
    : open_(std::move(open)), clock_(std::move(clock)) {}

template <typename T>
Result<T> WebAuth::WithTokens(const std::function<Result<T>(AccessTokens&)>& use) {
  std::lock_guard lock(mutex_);
  if (!link_) {
    auto opened = open_();
    if (!opened) return Error{"opening the database: " + opened.error()};
    link_ = std::move(opened).value();
  }
  AccessTokens tokens(*link_);
  auto result = use(tokens);
  if (!result) link_.reset();  // a lost connection, a damaged handle: a fresh one next time
  return result;
}

std::optional<Viewer> WebAuth::ViewerOf(const HttpRequest& request) {
  const std::int64_t now = clock_();
  Result<std::optional<Viewer>> viewer = std::optional<Viewer>();
  if (auto bearer = BearerToken(request.authorization)) {
    if (!LooksLikeAccessToken(*bearer)) return std::nullopt;
    const std::string token(*bearer);
    viewer = WithTokens<std::optional<Viewer>>(
        [&](AccessTokens& tokens) { return tokens.Check(token, now); });
  } else {
    auto secret = CookieValue(request.cookie, kSessionCookie);
    if (!secret || !LooksLikeSessionSecret(*secret)) return std::nullopt;
    viewer = WithTokens<std::optional<Viewer>>(
        [&](AccessTokens& tokens) { return tokens.CheckSession(*secret, request.host, now); });
  }
  if (!viewer) {
    // Rate-limited: while the database is down every request would say it.
    LogRefusal("dashboard database", "",
               "dashboard access: checking a request's token: " + viewer.error());
    return std::nullopt;
  }
  return *viewer;
}

bool WebAuth::Handle(const HttpRequest& request, const HttpRespond& respond) {
  if (request.path == "/login") {
    if (request.method != "GET" && request.method != "POST") {
      HttpResponse response = HtmlError(405, "GET or POST /login");
      response.allow = "GET, POST";
      respond(std::move(response));
    } else {
      respond(Login(request));
    }
    return true;
  }
  if (request.path == "/logout") {
    if (request.method != "POST") {
      HttpResponse response = HtmlError(405, "POST /logout (the page's Log out button)");
      response.allow = "POST";
      respond(std::move(response));
    } else {
      respond(Logout(request));
    }
    return true;
  }
  return false;
}

HttpResponse WebAuth::Login(const HttpRequest& request) {
  if (request.method == "GET") {
    return LoginForm(200, LocalRedirect(QueryValue(request.query, "next").value_or("/")), "");
  }
  if (!IsFormContent(request.content_type)) {
    return HtmlError(415, "a login is a form: application/x-www-form-urlencoded");
  }
  const std::int64_t now = clock_();
  const std::string peer = PeerKey(request.peer);
  if (LoginBlocked(peer, now)) {
    LogRefusal("login 429", request.peer,
               "dashboard login from " + request.peer + " refused: more than " +
                   std::to_string(kFailedLoginsPerMinute) + " failed logins in a minute");
    HttpResponse response = LoginForm(429, "/", "Too many failed logins: wait a minute.");
    response.headers.emplace_back("Retry-After", "60");
    return response;
  }
  const std::string next = LocalRedirect(QueryValue(request.body, "next").value_or("/"));
  const std::string token(Trim(QueryValue(request.body, "token").value_or("")));
  if (token.empty()) return LoginForm(400, next, "Enter an access token.");
  if (request.host.empty()) return LoginForm(400, next, "The request has no Host header.");
  auto viewer = WithTokens<std::optional<Viewer>>(
      [&](AccessTokens& tokens) { return tokens.Check(token, now); });
  if (!viewer) {
    LogRefusal("dashboard database", "", "dashboard login: checking a token: " + viewer.error());
    return LoginForm(503, next, "Tokens cannot be checked now: try again later.");
  }
  if (!*viewer) {
    LoginFailed(peer, now);
    LogRefusal("login 401", request.peer,
               "dashboard login from " + request.peer + " refused: token not valid");
    return LoginForm(401, next, "token not valid");
  }
  auto secret = WithTokens<std::string>(
      [&](AccessTokens& tokens) { return tokens.OpenSession(**viewer, request.host, now); });
  if (!secret) {
    LogRefusal("dashboard database", "", "dashboard login: opening a session: " + secret.error());
    return LoginForm(503, next, "No session can be opened now: try again later.");
  }
  const Viewer& who = **viewer;
  spdlog::info("dashboard login: token {} ({}) from {}", who.token_id,
               who.admin() ? std::string("admin") : "operator " + *who.operator_id, request.peer);
  HttpResponse response = SeeOther(next);
  response.headers.emplace_back("Set-Cookie", SessionCookie(*secret, kSessionSeconds));
  return response;
}

HttpResponse WebAuth::Logout(const HttpRequest& request) {
  if (auto secret = CookieValue(request.cookie, kSessionCookie);
      secret && LooksLikeSessionSecret(*secret)) {
    auto closed = WithTokens<Done>(
        [&](AccessTokens& tokens) -> Outcome { return tokens.CloseSession(*secret); });
    if (!closed) LogRefusal("dashboard database", "", "dashboard logout: " + closed.error());
  }
  HttpResponse response = SeeOther("/login");
  response.headers.emplace_back("Set-Cookie", SessionCookie("", 0));
  return response;
}

bool WebAuth::LoginBlocked(const std::string& peer, std::int64_t now) {
  std::lock_guard lock(failures_mutex_);
  auto it = failures_.find(peer);
  if (it == failures_.end()) return false;
  while (!it->second.empty() && it->second.front() <= now - 60) it->second.pop_front();
  if (it->second.empty()) {
    failures_.erase(it);
    return false;
  }
  return static_cast<int>(it->second.size()) >= kFailedLoginsPerMinute;
}

void WebAuth::LoginFailed(const std::string& peer, std::int64_t now) {
  std::lock_guard lock(failures_mutex_);
  if (failures_.size() >= kMaxTrackedPeers) {
    // Forget the addresses quiet for a minute; if all are busy, the first one.
    std::erase_if(failures_, [&](const auto& entry) { return entry.second.back() <= now - 60; });
    if (failures_.size() >= kMaxTrackedPeers) failures_.erase(failures_.begin());
  }
  auto& times = failures_[peer];
  times.push_back(now);
  while (static_cast<int>(times.size()) > kFailedLoginsPerMinute) times.pop_front();
}

}  // namespace fleet::receiver
