// HttpServer: a small HTTP/1.1 server on Boost.Beast for the receiver, plain or, with
// HttpOptions::tls, HTTPS only (TLS 1.2+, tls_context.h; a plain-HTTP client on that port gets
// a 400 in plain HTTP and the connection closes; TLS can also end in front of it, e.g. nginx).
// ReloadTls reads the certificate and key again (SIGHUP): new handshakes use the new pair,
// open connections keep theirs; a bad pair leaves the current one in use. It guards itself against
// hostile clients: a request's headers and body must arrive within read_timeout, and its body also
// within BodyAllowance (a short grace plus the length at min_body_rate); headers and bodies are
// size-limited (431 and 413) and the read buffer is bounded; a request with Transfer-Encoding is
// refused at its headers, before any body byte is read (411 when the last coding is chunked, since
// the agent always sends Content-Length; else 400 as RFC 9112 6.3 requires), which also closes
// request smuggling and Beast 1.74's unbounded chunk extensions and trailers; bytes that are
// not HTTP get 400. Each of those refusals closes the connection. ConnectionTable keeps at
// most max_connections open in every phase and at most max_connections_per_peer from one
// address; at the cap the slowest body or oldest waiting newcomer is closed to make room,
// idle keep-alive agents last. Accept errors (EMFILE) are retried after a short pause, not in
// a loop. Keep-alive is honoured. Handlers are called on the io_context's threads, one
// request per connection at a time; they must be thread-safe when several threads run it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "base/result.h"
#include "receiver/http/tls_context.h"

namespace fleet::receiver {

struct HttpOptions {
  std::size_t body_limit = 1 << 20;
  std::size_t header_limit = 16 * 1024;
  std::chrono::seconds read_timeout{30};
  int max_connections = 256;
  int max_connections_per_peer = 64;        // 0: no limit (a proxy in front is one peer)
  std::uint64_t min_body_rate = 16 * 1024;  // bytes a second, after body_grace
  std::chrono::milliseconds body_grace{5000};
  std::optional<TlsFiles> tls;  // set: HTTPS only, with this certificate and key
};

struct HttpRequest {
  std::string method;        // "GET", "POST"...
  std::string path;          // target without the query string, not percent-decoded
  std::string content_type;  // as sent, may be empty
  std::string body;
  std::string peer;             // the client's address, as text
  std::string query{};          // after the '?', without it; empty when none
  std::string authorization{};  // the Authorization header, may be empty
  std::string cookie{};         // the Cookie header(s), joined with "; ", may be empty
  std::string host{};           // the Host header, may be empty
};

struct HttpResponse {
  int status = 200;
  std::string body;                               // JSON text, or what content_type says
  std::string allow;                              // the Allow header for 405, else empty
  std::string content_type = "application/json";  // /metrics: the text exposition's
  // Further headers (Set-Cookie, Location, Content-Disposition, Cache-Control...), sent as
  // given; a name or value with CR or LF is dropped. Every reply also carries
  // X-Content-Type-Options: nosniff, and text/html ones a Content-Security-Policy that
  // allows no script and nothing from another origin, X-Frame-Options DENY and
  // Referrer-Policy same-origin.
  std::vector<std::pair<std::string, std::string>> headers{};
};

// A handler answers by calling `respond` exactly once, from any thread, now or later (the
// receiver answers a batch once its group's transaction has committed).
using HttpRespond = std::function<void(HttpResponse)>;
using HttpHandler = std::function<void(HttpRequest, HttpRespond)>;

// A JSON error reply {"error": message}.
HttpResponse JsonError(int status, std::string_view message);

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, HttpOptions options, HttpHandler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts accepting (with TLS, after loading the certificate and key); returns the
  // bound endpoint (port 0 picks a free one).
  Result<boost::asio::ip::tcp::endpoint> Listen(const boost::asio::ip::tcp::endpoint& at);
  // With TLS: loads the certificate and key again for new connections; on an error (which
  // it returns) the pair in use stays. Thread-safe.
  Outcome ReloadTls();
  // Stops accepting; open connections end with the io_context.
  void Stop();

  struct Shared;

 private:
  std::shared_ptr<Shared> shared_;
};

// Parses "host:port" or "[v6]:port".
Result<boost::asio::ip::tcp::endpoint> ParseListenAddress(std::string_view text);

}  // namespace fleet::receiver
