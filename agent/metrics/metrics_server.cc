#include "agent/metrics/metrics_server.h"

#include <utility>  // before Asio: Boost 1.74 Asio under C++20 needs std::exchange

#include <boost/asio/ip/address.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <mutex>

#include "agent/metrics/agent_metrics.h"
#include "base/prometheus_text.h"

namespace fleet {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct MetricsServer::State : std::enable_shared_from_this<MetricsServer::State> {
  explicit State(asio::io_context& context) : io(context), acceptor(context) {}
  asio::io_context& io;
  tcp::acceptor acceptor;
  int open = 0;
  bool stopped = false;
  std::mutex mutex;
  std::string text;  // nothing until the daemon has gathered its figures

  std::string Text() {
    std::lock_guard lock(mutex);
    return text;
  }
  void Accept();
};

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<MetricsServer::State> state)
      : stream_(std::move(socket)), state_(std::move(state)) {
    ++state_->open;
  }
  ~Session() { --state_->open; }

  void Start() {
    parser_.header_limit(MetricsServer::kHeaderLimit);
    parser_.body_limit(0);
    stream_.expires_after(MetricsServer::kReadTimeout);
    http::async_read(
        stream_, buffer_, parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->OnRead(ec); });
  }

 private:
  void OnRead(beast::error_code ec) {
    if (ec == beast::error::timeout || ec == http::error::end_of_stream ||
        ec == asio::error::operation_aborted) {
      return;  // cut: nothing is owed to a client that never finished its request
    }
    if (ec == http::error::header_limit) return Answer(431, "headers too large\n");
    if (ec == http::error::body_limit) return Answer(413, "no body is taken\n");
    if (ec) return Answer(400, "bad request\n");
    const auto& request = parser_.get();
    if (request.target() != "/metrics") return Answer(404, "only /metrics is here\n");
    if (request.method() != http::verb::get) return Answer(405, "use GET on /metrics\n");
    Answer(200, state_->Text());
  }

  void Answer(unsigned status, std::string body) {
    response_.result(status);
    response_.version(11);
    response_.set(http::field::server, "fleet-agent");
    response_.set(http::field::content_type, status == 200 ? std::string(kExpositionContentType)
                                                           : "text/plain; charset=utf-8");
    if (status == 405) response_.set(http::field::allow, "GET");
    response_.keep_alive(false);
    response_.body() = std::move(body);
    response_.prepare_payload();
    stream_.expires_after(MetricsServer::kReadTimeout);
    http::async_write(stream_, response_,
                      [self = shared_from_this()](beast::error_code, std::size_t) {
                        beast::error_code ignored;
                        self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
                        self->stream_.close();
                      });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_{MetricsServer::kHeaderLimit + 1024};
  http::request_parser<http::empty_body> parser_;
  http::response<http::string_body> response_;
  std::shared_ptr<MetricsServer::State> state_;
};

}  // namespace

void MetricsServer::State::Accept() {
  acceptor.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
    if (self->stopped) return;
    if (!ec) {
      if (self->open >= kMaxConnections) {
        beast::error_code ignored;
        socket.close(ignored);
      } else {
        std::make_shared<Session>(std::move(socket), self)->Start();
      }
    }
    self->Accept();
  });
}

MetricsServer::MetricsServer(asio::io_context& io) : state_(std::make_shared<State>(io)) {}

MetricsServer::~MetricsServer() { Stop(); }

Result<tcp::endpoint> MetricsServer::Listen(const std::string& listen) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos) return Error{"metrics.listen: no port in '" + listen + "'"};
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  beast::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec) return Error{"metrics.listen: '" + host + "' is not an address"};
  unsigned long port = 0;
  try {
    port = std::stoul(listen.substr(colon + 1));
  } catch (const std::exception&) {
    return Error{"metrics.listen: bad port in '" + listen + "'"};
  }
  if (port > 65535) return Error{"metrics.listen: bad port in '" + listen + "'"};
  const tcp::endpoint at(address, static_cast<unsigned short>(port));
  auto& acceptor = state_->acceptor;
  acceptor.open(at.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(at, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Error{"metrics.listen " + listen + ": " + ec.message()};
  auto bound = acceptor.local_endpoint(ec);
  if (ec) return Error{"metrics.listen " + listen + ": " + ec.message()};
  state_->Accept();
  return bound;
}

void MetricsServer::Publish(const nlohmann::json& status_document) {
  std::string text = RenderExposition(AgentFamilies(status_document));
  std::lock_guard lock(state_->mutex);
  state_->text = std::move(text);
}

void MetricsServer::Stop() {
  state_->stopped = true;
  beast::error_code ignored;
  state_->acceptor.close(ignored);
}

}  // namespace fleet
