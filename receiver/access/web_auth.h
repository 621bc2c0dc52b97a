// WebAuth: the dashboard's door (issue 15). It tells who makes a request, from an
// `Authorization: Bearer TOKEN` header (scripts, the JSON API) or else from the login
// cookie kSessionCookie (browsers; AccessTokens' session, bound to the request's Host), and
// serves the login form (GET /login), the login (POST /login, form-urlencoded token and next:
// a 303 to `next` when it is a local path, else to "/", with the cookie: __Host- prefix, Path=/,
// Secure, HttpOnly, SameSite=Strict, Max-Age of a session, no Domain) and the logout (POST
// /logout: the session ends, the cookie is cleared, a 303 to /login). A wrong token gets the
// form again with 401; more than kFailedLoginsPerMinute failed logins in a minute from one
// address (an IPv6 address: its /64) get 429 until the minute has passed. Logins are logged
// (the token's id, never the token), failed logins too (rate-limited, refusal_log.h). Garbage
// in a header, a cookie or a form is a refusal, never a crash. It reads the database over its
// own link, opened at first use by the LinkOpener and used under a mutex (reopened after an
// error); a database error is logged (rate-limited) and answers as no viewer (the caller says
// 401 or 303, never a 500 with details; a login says 503). Thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "receiver/access/access_tokens.h"
#include "receiver/access/viewer.h"
#include "receiver/http/http_server.h"
#include "receiver/store/sql_link.h"

namespace fleet::receiver {

inline constexpr std::string_view kSessionCookie = "__Host-fleet_session";
inline constexpr int kFailedLoginsPerMinute = 10;

// The one value of cookie `name` in a Cookie header; nullopt when absent, given more than
// once, or not a plain cookie value of at most 256 bytes.
std::optional<std::string> CookieValue(std::string_view header, std::string_view name);
// `next` of the login when it is a local path ('/' then not '/' or '\', printable ASCII, no
// '\'), else "/".
std::string LocalRedirect(std::string_view next);

class WebAuth {
 public:
  using LinkOpener = std::function<Result<std::unique_ptr<SqlLink>>()>;
  WebAuth(LinkOpener open, std::function<std::int64_t()> clock);

  // The viewer of a request: `Authorization: Bearer TOKEN`, else the session cookie (bound to
  // request.host). nullopt: neither, or not valid, or the database failed (logged).
  std::optional<Viewer> ViewerOf(const HttpRequest& request);
  // GET/POST /login, POST /logout (other methods: 405). false: the path is none of these.
  bool Handle(const HttpRequest& request, const HttpRespond& respond);

 private:
  HttpResponse Login(const HttpRequest& request);
  HttpResponse Logout(const HttpRequest& request);
  // Runs `use` on the link, opening it first if needed; an error drops the link (reopened next
  // time) and is returned.
  template <typename T>
  Result<T> WithTokens(const std::function<Result<T>(AccessTokens&)>& use);
  bool LoginBlocked(const std::string& peer, std::int64_t now);
  void LoginFailed(const std::string& peer, std::int64_t now);

  LinkOpener open_;
  std::function<std::int64_t()> clock_;
  std::mutex mutex_;  // link_
  std::unique_ptr<SqlLink> link_;
  std::mutex failures_mutex_;
  std::map<std::string, std::deque<std::int64_t>> failures_;  // peer: times of failed logins
};

}  // namespace fleet::receiver
