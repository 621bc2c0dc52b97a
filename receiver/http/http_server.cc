#include "receiver/http/http_server.h"

#include <openssl/err.h>
#include <algorithm>
#include <array>

#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/core/detect_ssl.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <type_traits>

#include "base/json_text.h"
#include "receiver/http/connection_table.h"
#include "receiver/http/refusal_log.h"

namespace fleet::receiver {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

struct HttpServer::Shared {
  net::io_context& io;
  HttpOptions options;
  HttpHandler handler;
  tcp::acceptor acceptor;
  net::steady_timer accept_pause;  // on the acceptor's strand
  ConnectionTable connections;
  std::atomic<bool> stopped{false};
  // With TLS: the context new connections get; a reload swaps it under the mutex.
  std::mutex tls_mutex;
  std::shared_ptr<net::ssl::context> tls;

  std::shared_ptr<net::ssl::context> CurrentTls() {
    std::lock_guard lock(tls_mutex);
    return tls;
  }

  Shared(net::io_context& context, HttpOptions opts, HttpHandler h)
      : io(context),
        options(opts),
        handler(std::move(h)),
        acceptor(net::make_strand(context)),
        accept_pause(acceptor.get_executor()),
        connections(ConnectionLimits{opts.max_connections, opts.max_connections_per_peer,
                                     opts.min_body_rate, opts.body_grace}) {}
};

namespace {

constexpr std::chrono::seconds kLingerTimeout{2};
constexpr std::size_t kLingerBytes = 4 << 20;
// Beast reads at most 64 KiB at a time; the buffer holds one request's headers and one read.
constexpr std::size_t kReadSlack = 64 * 1024;
// After an accept error (EMFILE, ENFILE, ENOBUFS) the pending connection stays queued in
// the kernel: pause before trying again rather than failing again at once, in a loop.
constexpr std::chrono::milliseconds kAcceptPause{100};

bool IsParseError(const beast::error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_version).category();
}

ConnectionTable::Clock::time_point Now() { return ConnectionTable::Clock::now(); }

// What a plain-HTTP client on the TLS port gets (as nginx does), before the port closes.
std::string PlainOnTlsPortReply() {
  const std::string body = JsonError(400, "this port speaks TLS: use https://").body;
  return "HTTP/1.1 400 Bad Request\r\nServer: fleet-receiver\r\n"
         "Content-Type: application/json\r\nConnection: close\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

// One connection. kTls: the first bytes must be a TLS handshake (else a plain 400 and the
// connection closes), then HTTP runs inside TLS exactly as it does on a plain connection.
template <bool kTls>
class Session : public std::enable_shared_from_this<Session<kTls>> {
 public:
  using Stream = std::conditional_t<kTls, beast::ssl_stream<beast::tcp_stream>, beast::tcp_stream>;
  using std::enable_shared_from_this<Session<kTls>>::shared_from_this;

  Session(tcp::socket socket, std::string peer, std::shared_ptr<HttpServer::Shared> shared,
          std::shared_ptr<net::ssl::context> tls)
      : tls_(std::move(tls)),
        stream_(MakeStream(std::move(socket), tls_.get())),
        shared_(std::move(shared)),
        peer_(std::move(peer)),
        buffer_(shared_->options.header_limit + kReadSlack) {}
  ~Session() { shared_->connections.Release(id_); }

  // Called once, before Start: the connection's id in the table.
  void Admitted(ConnectionTable::Id id) { id_ = id; }

  void Start() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      if constexpr (kTls) {
        self->Detect();
      } else {
        self->Read();
      }
    });
  }

  // Closes from any thread (eviction): the close runs on the session's strand.
  void CloseSoon() {
    LogRefusal("evicted", peer_,
               "closed a connection from " + peer_ + " to make room (" +
                   std::to_string(shared_->options.max_connections) + " open)");
    net::post(stream_.get_executor(), [self = shared_from_this()] { self->Close(); });
  }

 private:
  static Stream MakeStream(tcp::socket socket, net::ssl::context* tls) {
    if constexpr (kTls) {
      return Stream(beast::tcp_stream(std::move(socket)), *tls);
    } else {
      return Stream(std::move(socket));
    }
  }
  beast::tcp_stream& Tcp() { return beast::get_lowest_layer(stream_); }

  void Enter(ConnectionPhase phase) { shared_->connections.Enter(id_, phase, Now()); }

  // TLS: is it a handshake at all? A client speaking plain HTTP gets told so in plain HTTP.
  void Detect() {
    Enter(ConnectionPhase::kFresh);
    Tcp().expires_after(shared_->options.read_timeout);
    beast::async_detect_ssl(Tcp(), buffer_,
                            [self = shared_from_this()](beast::error_code ec, bool is_tls) {
                              if (ec) return self->Close();
                              if (!is_tls) return self->RefusePlain();
                              self->Handshake();
                            });
  }

  void Handshake() {
    if constexpr (kTls) {
      stream_.async_handshake(
          net::ssl::stream_base::server, buffer_.data(),
          [self = shared_from_this()](beast::error_code ec, std::size_t used) {
            if (ec) {
              if (ec != beast::error::timeout && ec != net::error::operation_aborted) {
                self->LogHandshakeFailure(ec);
              }
              return self->Close();
            }
            self->buffer_.consume(used);
            self->Read();
          });
    }
  }

  void LogHandshakeFailure(const beast::error_code& ec) {
    ERR_clear_error();
    LogRefusal("tls-handshake", peer_,
               "refused a TLS handshake from " + peer_ + ": " + PrintableAscii(ec.message(), 200));
  }

  void RefusePlain() {
    LogRefusal("not-tls", peer_,
               "refused a connection (400) from " + peer_ + ": plain HTTP on the TLS port");
    Enter(ConnectionPhase::kHandling);
    plain_refusal_ = PlainOnTlsPortReply();
    net::async_write(Tcp(), net::buffer(plain_refusal_),
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       if (ec) return self->Close();
                       self->DrainAndClose();
                     });
  }

  void Read() {
    Enter(delivered_ ? ConnectionPhase::kIdle : ConnectionPhase::kFresh);
    parser_.emplace();
    parser_->body_limit(shared_->options.body_limit);
    parser_->header_limit(static_cast<std::uint32_t>(shared_->options.header_limit));
    request_deadline_ = Now() + shared_->options.read_timeout;
    Tcp().expires_at(request_deadline_);
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->OnHeader(ec); });
  }

  // Decided on the headers alone, before any body byte is read. Clients such as libcurl
  // send "Expect: 100-continue" and wait (up to a second) for the go-ahead before the
  // body: give it, so pushes are not slowed down.
  void OnHeader(beast::error_code ec) {
    if (ec) return OnRead(ec);
    auto& message = parser_->get();
    if (message.find(http::field::transfer_encoding) != message.end()) {
      return RefuseTransferEncoding();
    }
    Enter(ConnectionPhase::kBody);
    const auto allowance =
        BodyAllowance(parser_->content_length().value_or(0), shared_->connections.Limits());
    Tcp().expires_at(std::min(request_deadline_, Now() + allowance));
    auto expect = message.find(http::field::expect);
    if (expect == message.end() || !beast::iequals(expect->value(), "100-continue")) {
      return ReadBody();
    }
    continue_ = {http::status::continue_, 11};
    http::async_write(stream_, continue_,
                      [self = shared_from_this()](beast::error_code write_ec, std::size_t) {
                        if (write_ec) return self->Close();
                        self->ReadBody();
                      });
  }

  // RFC 9112 6.3: a last coding other than chunked leaves the length unknown (400, close);
  // chunked is valid HTTP the receiver does not take (411: send Content-Length).
  void RefuseTransferEncoding() {
    const std::string coding(parser_->get()[http::field::transfer_encoding]);
    const bool chunked = parser_->chunked();
    const int status = chunked ? 411 : 400;
    LogRefusal("transfer-encoding", peer_,
               "refused a request (" + std::to_string(status) + ") from " + peer_ +
                   ": Transfer-Encoding '" + PrintableAscii(coding, 80) + "'");
    Reply(JsonError(status, chunked ? "Transfer-Encoding is not accepted: send Content-Length"
                                    : "Transfer-Encoding must end with chunked"),
          false);
  }

  // The body a read at a time, so its progress is known to the connection table.
  void ReadBody() {
    if (parser_->is_done()) return OnRead({});
    http::async_read_some(stream_, buffer_, *parser_,
                          [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                            if (ec) return self->OnRead(ec);
                            self->shared_->connections.AddBodyBytes(self->id_, n);
                            self->ReadBody();
                          });
  }

  void OnRead(beast::error_code ec) {
    // The client left (also mid-request: partial_message), or was too slow, or was evicted.
    if (ec == http::error::end_of_stream || ec == http::error::partial_message ||
        ec == beast::error::timeout || ec == net::error::operation_aborted) {
      return Close();
    }
    Enter(ConnectionPhase::kHandling);
    if (ec == http::error::body_limit) {
      LogRefusal("body-too-large", peer_,
                 "refused a request (413) from " + peer_ + ": body over " +
                     std::to_string(shared_->options.body_limit) + " bytes");
      return Reply(JsonError(413, "body larger than " +
                                      std::to_string(shared_->options.body_limit) + " bytes"),
                   false);
    }
    if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
      LogRefusal("headers-too-large", peer_,
                 "refused a request (431) from " + peer_ + ": headers too large");
      return Reply(JsonError(431, "headers too large"), false);
    }
    if (ec && IsParseError(ec)) {
      LogRefusal("not-http", peer_,
                 "refused a connection (400) from " + peer_ + ": not HTTP (" + ec.message() + ")");
      return Reply(JsonError(400, "not an HTTP request"), false);
    }
    if (ec) return Close();

    auto& message = parser_->get();
    HttpRequest request;
    request.method = std::string(message.method_string());
    const std::string target(message.target());
    const auto question = target.find('?');
    request.path = target.substr(0, question);
    if (question != std::string::npos) request.query = target.substr(question + 1);
    if (auto it = message.find(http::field::content_type); it != message.end()) {
      request.content_type = std::string(it->value());
    }
    if (auto it = message.find(http::field::authorization); it != message.end()) {
      request.authorization = std::string(it->value());
    }
    if (auto it = message.find(http::field::host); it != message.end()) {
      request.host = std::string(it->value());
    }
    for (auto [it, end] = message.equal_range(http::field::cookie); it != end; ++it) {
      if (!request.cookie.empty()) request.cookie += "; ";
      request.cookie.append(it->value().data(), it->value().size());
    }
    request.body = std::move(message.body());
    request.peer = peer_;
    carried_body_ = !request.body.empty();
    const bool keep_alive = message.keep_alive();
    // Exactly one reply goes out, even if a handler answered and then threw.
    auto answered = std::make_shared<std::atomic<bool>>(false);
    HttpRespond respond = [self = shared_from_this(), keep_alive, answered](HttpResponse response) {
      if (answered->exchange(true)) return;
      net::post(self->stream_.get_executor(),
                [self, keep_alive, response = std::move(response)]() mutable {
                  self->Reply(std::move(response), keep_alive);
                });
    };
    try {
      shared_->handler(std::move(request), respond);
    } catch (const std::exception& e) {
      respond(JsonError(500, std::string("internal error: ") + e.what()));
    }
  }

  void Reply(HttpResponse response, bool keep_alive) {
    Enter(ConnectionPhase::kHandling);
    const bool delivered = carried_body_ && response.status >= 200 && response.status < 300;
    carried_body_ = false;
    response_ = {};
    response_.result(static_cast<unsigned>(response.status));
    response_.version(11);
    response_.set(http::field::server, "fleet-receiver");
    response_.set(http::field::content_type, response.content_type);
    if (!response.allow.empty()) response_.set(http::field::allow, response.allow);
    response_.set("X-Content-Type-Options", "nosniff");
    if (response.content_type.rfind("text/html", 0) == 0) {
      response_.set("Content-Security-Policy",
                    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
                    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
      response_.set(http::field::x_frame_options, "DENY");
      response_.set("Referrer-Policy", "same-origin");
    }
    for (const auto& [name, value] : response.headers) {
      const auto unsafe = [](const std::string& text) {
        return text.find_first_of("\r\n") != std::string::npos;
      };
      if (name.empty() || unsafe(name) || unsafe(value)) continue;
      response_.insert(name, value);
    }
    response_.body() = std::move(response.body);
    response_.keep_alive(keep_alive);
    response_.prepare_payload();
    Tcp().expires_after(shared_->options.read_timeout);
    http::async_write(
        stream_, response_,
        [self = shared_from_this(), keep_alive, delivered](beast::error_code ec, std::size_t) {
          if (ec) return self->Close();
          self->delivered_ = self->delivered_ || delivered;
          if (keep_alive && !self->shared_->stopped) return self->Read();
          self->Linger();
        });
  }

  // Closes gracefully: stop sending (TLS: after close_notify), then read and drop what the
  // client still sends, so the kernel does not reset the connection before it has read our
  // reply.
  void Linger() {
    Enter(ConnectionPhase::kLinger);
    if constexpr (kTls) {
      Tcp().expires_after(kLingerTimeout);
      stream_.async_shutdown([self = shared_from_this()](beast::error_code) {
        ERR_clear_error();
        self->DrainAndClose();
      });
    } else {
      DrainAndClose();
    }
  }

  void DrainAndClose() {
    Enter(ConnectionPhase::kLinger);
    beast::error_code ignored;
    Tcp().socket().shutdown(tcp::socket::shutdown_send, ignored);
    Tcp().expires_after(kLingerTimeout);
    Drain();
  }

  void Drain() {
    Tcp().async_read_some(net::buffer(scratch_),
                          [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                            self->drained_ += n;
                            if (ec || self->drained_ > kLingerBytes) return self->Close();
                            self->Drain();
                          });
  }

  void Close() {
    beast::error_code ignored;
    Tcp().socket().shutdown(tcp::socket::shutdown_both, ignored);
    Tcp().close();
  }

  std::shared_ptr<net::ssl::context> tls_;  // kTls: the context this connection started with
  Stream stream_;
  std::shared_ptr<HttpServer::Shared> shared_;
  const std::string peer_;
  ConnectionTable::Id id_ = 0;
  beast::flat_buffer buffer_;  // bounded: header_limit + one read
  std::optional<http::request_parser<http::string_body>> parser_;
  ConnectionTable::Clock::time_point request_deadline_;
  http::response<http::string_body> response_;
  http::response<http::empty_body> continue_;
  std::array<char, 16 * 1024> scratch_{};
  std::string plain_refusal_;
  std::size_t drained_ = 0;
  // A body was accepted (2xx) on this connection: an agent's, not a bare GET of /healthz,
  // so while it waits for its next request it is kIdle, evicted last.
  bool carried_body_ = false;
  bool delivered_ = false;
};

// Admits a connection into the table (making room at the cap) or closes it at once.
template <bool kTls>
void AdmitSession(const std::shared_ptr<HttpServer::Shared>& shared, tcp::socket socket,
                  std::shared_ptr<net::ssl::context> tls) {
  beast::error_code ec;
  const auto remote = socket.remote_endpoint(ec);
  if (ec) return;  // already gone
  const std::string peer = remote.address().to_string();
  auto session = std::make_shared<Session<kTls>>(std::move(socket), peer, shared, std::move(tls));
  std::weak_ptr<Session<kTls>> weak = session;
  auto admission = shared->connections.Admit(peer, Now(), [weak] {
    if (auto victim = weak.lock()) victim->CloseSoon();
  });
  if (admission.close_victim) admission.close_victim();
  if (admission.verdict != ConnectionTable::Verdict::kAdmitted) {
    const bool full = admission.verdict == ConnectionTable::Verdict::kFull;
    LogRefusal(full ? "full" : "peer-limit", peer,
               "closed a connection from " + peer +
                   (full ? ": " + std::to_string(shared->options.max_connections) +
                               " connections open, all busy"
                         : ": " + std::to_string(shared->options.max_connections_per_peer) +
                               " connections open from that address"));
    return;  // the session (and its socket) goes with this scope
  }
  session->Admitted(admission.id);
  session->Start();
}

void Admit(const std::shared_ptr<HttpServer::Shared>& shared, tcp::socket socket) {
  if (auto tls = shared->CurrentTls()) {
    AdmitSession<true>(shared, std::move(socket), std::move(tls));
  } else {
    AdmitSession<false>(shared, std::move(socket), nullptr);
  }
}

void Accept(const std::shared_ptr<HttpServer::Shared>& shared) {
  shared->acceptor.async_accept(
      net::make_strand(shared->io), [shared](beast::error_code ec, tcp::socket socket) {
        if (shared->stopped) return;
        if (ec) {
          LogRefusal("accept", "", "cannot accept a connection: " + ec.message());
          shared->accept_pause.expires_after(kAcceptPause);
          shared->accept_pause.async_wait([shared](beast::error_code wait_ec) {
            if (!wait_ec && !shared->stopped) Accept(shared);
          });
          return;
        }
        Admit(shared, std::move(socket));
        Accept(shared);
      });
}

}  // namespace

HttpResponse JsonError(int status, std::string_view message) {
  const nlohmann::json body = {{"error", PrintableAscii(message, 500)}};
  return {status, body.dump(), ""};
}

HttpServer::HttpServer(net::io_context& io, HttpOptions options, HttpHandler handler)
    : shared_(std::make_shared<Shared>(io, options, std::move(handler))) {}

HttpServer::~HttpServer() { Stop(); }

Result<tcp::endpoint> HttpServer::Listen(const tcp::endpoint& at) {
  if (shared_->options.tls) {
    auto loaded = LoadTlsContext(*shared_->options.tls);
    if (!loaded) return Error{loaded.error()};
    std::lock_guard lock(shared_->tls_mutex);
    shared_->tls = std::move(loaded).value();
  }
  beast::error_code ec;
  auto& acceptor = shared_->acceptor;
  acceptor.open(at.protocol(), ec);
  if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(at, ec);
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return Error{"cannot listen on " + at.address().to_string() + ":" + std::to_string(at.port()) +
                 ": " + ec.message()};
  }
  auto bound = acceptor.local_endpoint(ec);
  if (ec) return Error{"cannot read the bound address: " + ec.message()};
  Accept(shared_);
  return bound;
}

Outcome HttpServer::ReloadTls() {
  if (!shared_->options.tls) return Error{"TLS is not configured"};
  auto loaded = LoadTlsContext(*shared_->options.tls);
  if (!loaded) return Error{loaded.error()};
  std::lock_guard lock(shared_->tls_mutex);
  shared_->tls = std::move(loaded).value();
  return Success();
}

void HttpServer::Stop() {
  if (shared_->stopped.exchange(true)) return;
  net::post(shared_->acceptor.get_executor(), [shared = shared_] {
    beast::error_code ignored;
    shared->accept_pause.cancel();
    shared->acceptor.close(ignored);
  });
}

Result<tcp::endpoint> ParseListenAddress(std::string_view text) {
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find("]:");
    if (close == std::string_view::npos) return Error{"expected [v6-address]:port"};
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return Error{"expected host:port"};
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  beast::error_code ec;
  auto address = net::ip::make_address(std::string(host), ec);
  if (ec) return Error{"'" + std::string(host) + "' is not an IP address"};
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != port.npos ||
      std::stoi(std::string(port)) > 65535) {
    return Error{"'" + std::string(port) + "' is not a port (0-65535)"};
  }
  return tcp::endpoint(address, static_cast<unsigned short>(std::stoi(std::string(port))));
}

}  // namespace fleet::receiver
