// The HTTP server with native TLS, over loopback: HTTPS served, certificates reloaded
// without dropping an open keep-alive connection, a bad pair on reload keeping the old one,
// a plain-HTTP client told off in plain HTTP, TLS 1.1 refused; and LoadTlsContext's errors.
#include <doctest/doctest.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <thread>

#include "receiver/http/http_server.h"
#include "receiver/http/tls_context.h"
#include "tests/support/skip.h"
#include "tests/support/temp_dir.h"

namespace fleet::receiver {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace fs = std::filesystem;
using tcp = net::ip::tcp;

bool HaveOpenssl() { return std::system("openssl version >/dev/null 2>&1") == 0; }

// A self-signed P-256 certificate for 127.0.0.1 with common name `name`, and its key.
void MakePair(const std::string& cert, const std::string& key, const std::string& name) {
  const std::string command =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=" +
      name + " -addext subjectAltName=IP:127.0.0.1 -keyout '" + key + "' -out '" + cert +
      "' 2>/dev/null";
  REQUIRE(std::system(command.c_str()) == 0);
}

// A TLS server answering every request 200 {"ok":true}, on its own thread.
struct TlsServer {
  testing::TempDir dir;
  std::string cert = dir.Path("server.pem");
  std::string key = dir.Path("server.key");
  net::io_context io;
  std::optional<HttpServer> server;
  std::thread thread;
  unsigned short port = 0;

  explicit TlsServer(const std::string& name) {
    MakePair(cert, key, name);
    HttpOptions options;
    options.tls = TlsFiles{cert, key};
    server.emplace(io, options, [](HttpRequest, HttpRespond respond) {
      respond(HttpResponse{200, R"({"ok":true})", ""});
    });
    auto bound = server->Listen(tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
    REQUIRE_MESSAGE(bound.ok(), (bound.ok() ? "" : bound.error()));
    port = bound->port();
    thread = std::thread([this] { io.run(); });
  }
  ~TlsServer() {
    server->Stop();
    io.stop();
    thread.join();
  }
};

// A blocking HTTPS client that does not verify (it reads the certificate's name instead).
struct TlsClient {
  net::io_context io;
  net::ssl::context context{net::ssl::context::tls_client};
  std::optional<beast::ssl_stream<beast::tcp_stream>> stream;

  // Connects and handshakes; returns the error, empty when it worked.
  std::string Connect(unsigned short port) {
    stream.emplace(io, context);
    beast::error_code ec;
    beast::get_lowest_layer(*stream).expires_after(std::chrono::seconds(10));
    beast::get_lowest_layer(*stream).connect(
        tcp::endpoint(net::ip::make_address("127.0.0.1"), port), ec);
    if (!ec) stream->handshake(net::ssl::stream_base::client, ec);
    return ec ? ec.message() : "";
  }

  // GET /healthz on the open connection, keep-alive; the status, or 0 when it failed.
  int Get() {
    http::request<http::empty_body> request{http::verb::get, "/healthz", 11};
    request.set(http::field::host, "127.0.0.1");
    request.keep_alive(true);
    beast::error_code ec;
    beast::get_lowest_layer(*stream).expires_after(std::chrono::seconds(10));
    http::write(*stream, request, ec);
    if (ec) return 0;
    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    http::read(*stream, buffer, response, ec);
    return ec ? 0 : static_cast<int>(response.result_int());
  }

  // The common name of the certificate the server presented.
  std::string PeerName() {
    X509* peer = SSL_get1_peer_certificate(stream->native_handle());
    if (peer == nullptr) return "";
    char name[256] = {};
    X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, name, sizeof name);
    X509_free(peer);
    return name;
  }

  std::string VersionUsed() { return SSL_get_version(stream->native_handle()); }
};

TEST_CASE("TLS: HTTPS is served, and a reload changes new handshakes, not open connections") {
  if (!HaveOpenssl()) FLEET_SKIP("the openssl command is not installed");
  TlsServer world("first");
  TlsClient open;
  REQUIRE(open.Connect(world.port) == "");
  CHECK(open.Get() == 200);
  CHECK(open.PeerName() == "first");

  // Renewed on disk (a new key too), then SIGHUP's reload.
  MakePair(world.cert, world.key, "second");
  auto reloaded = world.server->ReloadTls();
  REQUIRE_MESSAGE(reloaded.ok(), (reloaded.ok() ? "" : reloaded.error()));

  TlsClient fresh;
  REQUIRE(fresh.Connect(world.port) == "");
  CHECK(fresh.Get() == 200);
  CHECK(fresh.PeerName() == "second");
  // The keep-alive connection opened before the reload still works, on its first pair.
  CHECK(open.Get() == 200);
  CHECK(open.Get() == 200);
  CHECK(open.PeerName() == "first");
}

TEST_CASE("TLS: a bad pair on reload is refused with a clear error and the pair in use stays") {
  if (!HaveOpenssl()) FLEET_SKIP("the openssl command is not installed");
  TlsServer world("current");
  testing::TempDir other;
  MakePair(other.Path("c.pem"), other.Path("k.pem"), "other");

  SUBCASE("a key that is not the certificate's") {
    fs::copy_file(other.Path("k.pem"), world.key, fs::copy_options::overwrite_existing);
    auto reloaded = world.server->ReloadTls();
    REQUIRE_FALSE(reloaded.ok());
    CHECK(reloaded.error().find(world.key) != std::string::npos);
    CHECK(reloaded.error().find("key values mismatch") != std::string::npos);
  }
  SUBCASE("a certificate file cut short") {
    std::ifstream in(world.cert);
    const std::string text{std::istreambuf_iterator<char>(in), {}};
    in.close();
    std::ofstream(world.cert, std::ios::trunc) << text.substr(0, text.size() / 2);
    auto reloaded = world.server->ReloadTls();
    REQUIRE_FALSE(reloaded.ok());
    CHECK(reloaded.error().find("TLS certificate " + world.cert) == 0);
  }
  SUBCASE("the files gone") {
    fs::remove(world.cert);
    auto reloaded = world.server->ReloadTls();
    REQUIRE_FALSE(reloaded.ok());
    CHECK(reloaded.error().find(world.cert) != std::string::npos);
  }

  TlsClient client;
  REQUIRE(client.Connect(world.port) == "");
  CHECK(client.Get() == 200);
  CHECK(client.PeerName() == "current");
}

TEST_CASE("TLS: a plain-HTTP client on the TLS port gets a 400 in plain HTTP, then the close") {
  if (!HaveOpenssl()) FLEET_SKIP("the openssl command is not installed");
  TlsServer world("server");
  net::io_context io;
  tcp::socket socket(io);
  socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), world.port));
  const std::string request = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  net::write(socket, net::buffer(request));
  std::string reply;
  beast::error_code ec;
  char chunk[1024];
  while (!ec && reply.size() < 64 * 1024) {
    const std::size_t n = socket.read_some(net::buffer(chunk), ec);
    reply.append(chunk, n);
  }
  CHECK(ec == net::error::eof);  // closed by the server, not reset
  CHECK(reply.rfind("HTTP/1.1 400 Bad Request\r\n", 0) == 0);
  CHECK(reply.find("Connection: close") != std::string::npos);
  CHECK(reply.find(R"({"error":"this port speaks TLS: use https://"})") != std::string::npos);
}

TEST_CASE("TLS: 1.1 is refused, 1.2 and 1.3 are served") {
  if (!HaveOpenssl()) FLEET_SKIP("the openssl command is not installed");
  TlsServer world("server");
  auto with_versions = [&](int version) {
    TlsClient client;
    SSL_CTX* native = client.context.native_handle();
    SSL_CTX_set_security_level(native, 0);  // lets this client offer TLS 1.1 at all
    SSL_CTX_set_min_proto_version(native, version);
    SSL_CTX_set_max_proto_version(native, version);
    std::string error = client.Connect(world.port);
    if (error.empty() && client.Get() != 200) error = "no reply";
    return std::make_pair(error, error.empty() ? client.VersionUsed() : "");
  };
  auto [error_11, version_11] = with_versions(TLS1_1_VERSION);
  // The server's alert, so the client did offer 1.1 and the server said no.
  CHECK_MESSAGE(error_11.find("alert protocol version") != std::string::npos, error_11);
  auto [error_12, version_12] = with_versions(TLS1_2_VERSION);
  CHECK(error_12 == "");
  CHECK(version_12 == "TLSv1.2");
  auto [error_13, version_13] = with_versions(TLS1_3_VERSION);
  CHECK(error_13 == "");
  CHECK(version_13 == "TLSv1.3");
}

TEST_CASE("LoadTlsContext: good pair, missing files, garbage, a key of another certificate") {
  if (!HaveOpenssl()) FLEET_SKIP("the openssl command is not installed");
  testing::TempDir dir;
  MakePair(dir.Path("a.pem"), dir.Path("a.key"), "a");
  MakePair(dir.Path("b.pem"), dir.Path("b.key"), "b");
  CHECK(LoadTlsContext({dir.Path("a.pem"), dir.Path("a.key")}).ok());

  auto missing = LoadTlsContext({dir.Path("none.pem"), dir.Path("a.key")});
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().find("TLS certificate " + dir.Path("none.pem")) == 0);

  const std::string garbage = dir.WriteFile("garbage.pem", "not a certificate\n\x01\x02");
  auto bad_cert = LoadTlsContext({garbage, dir.Path("a.key")});
  REQUIRE_FALSE(bad_cert.ok());
  CHECK(bad_cert.error().find("TLS certificate " + garbage) == 0);

  auto bad_key = LoadTlsContext({dir.Path("a.pem"), garbage});
  REQUIRE_FALSE(bad_key.ok());
  CHECK(bad_key.error().find("TLS key " + garbage) == 0);

  auto mismatch = LoadTlsContext({dir.Path("a.pem"), dir.Path("b.key")});
  REQUIRE_FALSE(mismatch.ok());
  CHECK(mismatch.error().find("TLS key " + dir.Path("b.key")) == 0);
}

}  // namespace
}  // namespace fleet::receiver
