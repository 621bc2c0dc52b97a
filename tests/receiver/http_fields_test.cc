// The HTTP server over loopback hands a handler the query, Authorization, Cookie and Host of a
// request, sends the headers a reply names (dropping one with CR or LF, so a value cannot
// split the reply), and puts the browser protections on HTML replies.
#include <doctest/doctest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <optional>
#include <string>
#include <thread>

#include "receiver/http/http_server.h"

namespace fleet::receiver {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

// A plain server that keeps the last request and answers with `reply`.
struct EchoServer {
  net::io_context io;
  std::optional<HttpServer> server;
  std::thread thread;
  unsigned short port = 0;
  HttpRequest last;
  HttpResponse reply;

  EchoServer() {
    server.emplace(io, HttpOptions{}, [this](HttpRequest request, HttpRespond respond) {
      last = std::move(request);
      respond(reply);
    });
    auto bound = server->Listen(tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
    REQUIRE_MESSAGE(bound.ok(), (bound.ok() ? "" : bound.error()));
    port = bound->port();
    thread = std::thread([this] { io.run(); });
  }
  ~EchoServer() {
    server->Stop();
    io.stop();
    thread.join();
  }

  http::response<http::string_body> Send(http::request<http::string_body> request) {
    net::io_context client;
    beast::tcp_stream stream(client);
    stream.expires_after(std::chrono::seconds(10));
    stream.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
    request.prepare_payload();
    http::write(stream, request);
    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    http::read(stream, buffer, response);
    return response;
  }
};

TEST_CASE("a handler sees the query, Authorization, every Cookie header and Host") {
  EchoServer server;
  server.reply = HttpResponse{200, "{}", ""};
  http::request<http::string_body> request{http::verb::get, "/nodes/vps-1?month=2026-11&x=1", 11};
  request.set(http::field::host, "fleet.example:8443");
  request.set(http::field::authorization, "Bearer abc");
  request.insert(http::field::cookie, "a=1");
  request.insert(http::field::cookie, "__Host-fleet_session=s2");
  auto response = server.Send(request);
  CHECK(response.result_int() == 200);
  CHECK(server.last.path == "/nodes/vps-1");
  CHECK(server.last.query == "month=2026-11&x=1");
  CHECK(server.last.authorization == "Bearer abc");
  CHECK(server.last.cookie == "a=1; __Host-fleet_session=s2");
  CHECK(server.last.host == "fleet.example:8443");
  CHECK(response["X-Content-Type-Options"] == "nosniff");
  CHECK(response["Content-Security-Policy"].empty());  // JSON: no page to protect

  http::request<http::string_body> bare{http::verb::get, "/healthz", 11};
  server.Send(bare);
  CHECK(server.last.query.empty());
  CHECK(server.last.authorization.empty());
  CHECK(server.last.cookie.empty());
}

TEST_CASE("a reply's headers are sent, one with CR or LF is dropped, HTML gets its protections") {
  EchoServer server;
  server.reply = HttpResponse{303, "", "", "text/html; charset=utf-8"};
  server.reply.headers = {{"Location", "/"},
                          {"Set-Cookie", "__Host-fleet_session=x; Path=/; Secure; HttpOnly"},
                          {"X-Evil", "a\r\nSet-Cookie: stolen=1"},
                          {"X-Evil\r\nInjected", "b"}};
  http::request<http::string_body> request{http::verb::post, "/login", 11};
  auto response = server.Send(request);
  CHECK(response.result_int() == 303);
  CHECK(response[http::field::location] == "/");
  CHECK(response.count(http::field::set_cookie) == 1);
  CHECK(response[http::field::set_cookie] == "__Host-fleet_session=x; Path=/; Secure; HttpOnly");
  CHECK(response["X-Evil"].empty());
  CHECK(response.find("Injected") == response.end());
  CHECK(response["Content-Security-Policy"].find("default-src 'none'") != std::string::npos);
  CHECK(response["X-Frame-Options"] == "DENY");
  CHECK(response["Referrer-Policy"] == "same-origin");
}

}  // namespace
}  // namespace fleet::receiver
