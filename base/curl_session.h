// CurlSession: one libcurl easy handle held to this project's rules for HTTP, shared by the
// agent's push client (agent/push/http_client.h) and the chat transport (alerting/
// curl_chat_transport.cc). Every option is checked as it is set: one libcurl refuses (an old or
// odd build, a TLS backend without pinning) is an error naming it, and nothing is sent, so a
// request is never silently weaker than configured. The same for every exchange: http and https
// only, no redirects, connect and whole-exchange timeouts, TLS verified (peer and host, TLS 1.2
// at least; a CA file and a pinned key may narrow it), the reply capped, an abort flag checked
// during transfers. Plain http goes to loopback only: the caller checks the URL's host
// (SchemeToSend) and turns on the address check (RequireLoopback), which refuses before
// connecting every address that is not loopback. A failure is said in the session's own words,
// never with the URL or its host (a chat URL holds a secret); libcurl's own message, which may
// hold them, is kept apart (curl_message) for callers whose URL is no secret. One session per
// thread; it keeps its connections between exchanges.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace fleet {

struct CurlLibrary;

enum class HttpScheme { kHttps, kPlainHttp };

// The scheme of a URL that may be sent to: https://, or http:// to a host that is loopback by
// name (IsLoopbackHostName; then RequireLoopback(true) checks the address too). An Error naming
// no part of the URL for any other scheme or none (libcurl would guess http:// for
// "example.org/x") and for plain http to any other host. Schemes are matched ignoring case.
Result<HttpScheme> SchemeToSend(std::string_view url);

struct CurlLimits {
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds timeout{20'000};  // a whole exchange, reply included
  std::size_t max_reply_bytes = 1 << 20;
  std::string ca_file;                       // PEM bundle to trust instead of the system's
  std::string pinned_pubkey;                 // libcurl's CURLOPT_PINNEDPUBLICKEY form
  const std::atomic<bool>* abort = nullptr;  // cancels an exchange in flight; may be null
};

struct CurlExchange {
  std::string method = "POST";  // POST, or another method sending the same body (PATCH)
  std::string url;
  std::string_view body;                 // must outlive Perform
  std::chrono::milliseconds timeout{0};  // 0: CurlLimits::timeout
};

struct CurlReply {
  long status = 0;
  std::string body;
  std::int64_t retry_after = 0;  // Retry-After in seconds as libcurl read it; 0: none
  // The headers asked for when the session was made, by lowercase name (the last one wins).
  std::map<std::string, std::string> headers;
};

class CurlSession {
 public:
  // `header_lines` go with every request ("Content-Type: ..."); `keep_headers` are the reply
  // headers to keep (any case). The handle is made and its fixed options set here.
  static Result<std::unique_ptr<CurlSession>> Create(const CurlLibrary& lib,
                                                     const CurlLimits& limits,
                                                     const std::vector<std::string>& header_lines,
                                                     std::vector<std::string> keep_headers = {});
  ~CurlSession();
  CurlSession(const CurlSession&) = delete;
  CurlSession& operator=(const CurlSession&) = delete;

  // Plain http: every address a connection is about to use must be loopback (a name, a proxy).
  Outcome RequireLoopback(bool on);

  // The reply whatever its status; an Error when none was read: an option refused, not
  // loopback, a timeout, a reply over the cap, aborted, or what libcurl's code says.
  Result<CurlReply> Perform(const CurlExchange& exchange);

  // libcurl's own message about the last failure of Perform, when it gave one. It may name the
  // host or the URL: only for callers whose URL is no secret.
  const std::string& curl_message() const { return curl_message_; }

 private:
  CurlSession() = default;
  Outcome SetFixedOptions();

  const CurlLibrary* lib_ = nullptr;
  void* curl_ = nullptr;     // CURL*
  void* headers_ = nullptr;  // curl_slist*
  CurlLimits limits_;
  std::vector<std::string> keep_headers_;  // lowercase
  bool loopback_only_ = false;
  std::string refused_address_;  // set by the socket callback: a non-loopback address
  std::string curl_message_;
};

}  // namespace fleet
