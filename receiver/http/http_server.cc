#include "receiver/http/http_server.h"

#include "receiver/http/refusal_log.h"

#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <functional>
#include <list>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>

#include "agent/core/json_text.h"

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
  std::atomic<int> connections{0};
  std::atomic<bool> stopped{false};
  // Sessions waiting for a request's headers, oldest first: at the connection cap the
  // oldest is closed to make room, so idle or trickling clients cannot lock nodes out.
  std::mutex waiting_mutex;
  std::list<std::function<void()>> evictors;  // each closes one waiting session

  Shared(net::io_context& context, HttpOptions opts, HttpHandler h)
      : io(context), options(opts), handler(std::move(h)), acceptor(net::make_strand(context)) {}
};

namespace {

constexpr std::chrono::seconds kLingerTimeout{2};
constexpr std::size_t kLingerBytes = 4 << 20;

bool IsParseError(const beast::error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_version).category();
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<HttpServer::Shared> shared)
      : stream_(std::move(socket)), shared_(std::move(shared)) {}
  ~Session() {
    Waiting(false);
    --shared_->connections;
  }

  void Start() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->Read(); });
  }

 private:
  void Read() {
    Waiting(true);
    parser_.emplace();
    parser_->body_limit(shared_->options.body_limit);
    parser_->header_limit(static_cast<std::uint32_t>(shared_->options.header_limit));
    stream_.expires_after(shared_->options.read_timeout);
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->OnHeader(ec); });
  }

  // Clients such as libcurl send "Expect: 100-continue" and wait (up to a second) for
  // the go-ahead before the body: give it, so pushes are not slowed down.
  void OnHeader(beast::error_code ec) {
    Waiting(false);
    if (ec) return OnRead(ec);
    auto& message = parser_->get();
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

  void ReadBody() {
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == net::error::operation_aborted) {
      return Close();
    }
    if (ec == http::error::body_limit) {
      LogRefusal("refused a request (413): body over " +
                 std::to_string(shared_->options.body_limit) + " bytes");
      return Reply(JsonError(413, "body larger than " +
                                      std::to_string(shared_->options.body_limit) + " bytes"),
                   false);
    }
    if (ec == http::error::header_limit) {
      LogRefusal("refused a request (431): headers too large");
      return Reply(JsonError(431, "headers too large"), false);
    }
    if (ec && IsParseError(ec)) {
      LogRefusal("refused a connection (400): not HTTP (" + ec.message() + ")");
      return Reply(JsonError(400, "not an HTTP request"), false);
    }
    if (ec) return Close();

    auto& message = parser_->get();
    HttpRequest request;
    request.method = std::string(message.method_string());
    const std::string target(message.target());
    request.path = target.substr(0, target.find('?'));
    if (auto it = message.find(http::field::content_type); it != message.end()) {
      request.content_type = std::string(it->value());
    }
    request.body = std::move(message.body());
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
    response_ = {};
    response_.result(static_cast<unsigned>(response.status));
    response_.version(11);
    response_.set(http::field::server, "fleet-receiver");
    response_.set(http::field::content_type, "application/json");
    if (!response.allow.empty()) response_.set(http::field::allow, response.allow);
    response_.body() = std::move(response.body);
    response_.keep_alive(keep_alive);
    response_.prepare_payload();
    stream_.expires_after(shared_->options.read_timeout);
    http::async_write(stream_, response_,
                      [self = shared_from_this(), keep_alive](beast::error_code ec, std::size_t) {
                        if (ec) return self->Close();
                        if (keep_alive && !self->shared_->stopped) return self->Read();
                        self->Linger();
                      });
  }

  // Closes gracefully: stop sending, then read and drop what the client still sends, so
  // the kernel does not reset the connection before it has read our reply.
  void Linger() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(kLingerTimeout);
    Drain();
  }

  void Drain() {
    stream_.async_read_some(net::buffer(scratch_),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                              self->drained_ += n;
                              if (ec || self->drained_ > kLingerBytes) return self->Close();
                              self->Drain();
                            });
  }

  // Enters or leaves the server's list of sessions waiting for headers.
  void Waiting(bool waiting) {
    std::lock_guard lock(shared_->waiting_mutex);
    if (waiting_ == waiting) return;
    waiting_ = waiting;
    if (waiting) {
      std::weak_ptr<Session> weak = weak_from_this();
      shared_->evictors.push_back([weak] {
        if (auto self = weak.lock()) {
          net::post(self->stream_.get_executor(), [self] { self->Close(); });
        }
      });
      evictor_at_ = std::prev(shared_->evictors.end());
    } else {
      shared_->evictors.erase(evictor_at_);
    }
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  std::shared_ptr<HttpServer::Shared> shared_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
  http::response<http::empty_body> continue_;
  std::array<char, 16 * 1024> scratch_{};
  std::size_t drained_ = 0;
  bool waiting_ = false;  // guarded by shared_->waiting_mutex
  std::list<std::function<void()>>::iterator evictor_at_;
};

// At the cap: closes the session that has waited longest for its headers; false when none.
bool EvictOldestWaiting(HttpServer::Shared& shared) {
  std::function<void()> evict;
  {
    std::lock_guard lock(shared.waiting_mutex);
    if (shared.evictors.empty()) return false;
    evict = shared.evictors.front();
  }
  evict();
  return true;
}

void Accept(const std::shared_ptr<HttpServer::Shared>& shared) {
  shared->acceptor.async_accept(
      net::make_strand(shared->io), [shared](beast::error_code ec, tcp::socket socket) {
        if (shared->stopped) return;
        if (!ec) {
          if (shared->connections.load() >= shared->options.max_connections &&
              !EvictOldestWaiting(*shared)) {
            beast::error_code ignored;
            socket.close(ignored);
          } else {
            ++shared->connections;
            std::make_shared<Session>(std::move(socket), shared)->Start();
          }
        }
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

void HttpServer::Stop() {
  if (shared_->stopped.exchange(true)) return;
  net::post(shared_->acceptor.get_executor(), [shared = shared_] {
    beast::error_code ignored;
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
