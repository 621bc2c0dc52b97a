// MetricsServer: the agent's opt-in GET /metrics (config `metrics: {listen: ...}`), a tiny
// HTTP/1.1 server on Boost.Beast on the daemon's own io_context (its one thread). It answers
// the exposition last published (Publish, from each status.json write: at most 5 s old) with
// Content-Type text/plain; version=0.0.4. One request per connection, then it closes:
// GET /metrics 200, another path 404, another method on /metrics 405 (Allow: GET), anything
// that is not a request 400. Hostile clients are bounded: the request's headers must arrive
// within kReadTimeout (a slowloris is cut), in at most kHeaderLimit bytes (431), with no body
// (413 when one is announced); the answer must be taken within kReadTimeout; at most
// kMaxConnections are open, a newcomer beyond them is closed at once. Not thread-safe apart
// from Publish: call the rest on the io_context's thread (or before it runs).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "base/result.h"

namespace fleet {

class MetricsServer {
 public:
  static constexpr std::chrono::seconds kReadTimeout{5};
  static constexpr std::size_t kHeaderLimit = 8 * 1024;
  static constexpr int kMaxConnections = 16;

  explicit MetricsServer(boost::asio::io_context& io);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // Binds `listen` ("a.b.c.d:port", "[v6]:port"; port 0 picks one) and starts accepting;
  // returns the bound endpoint.
  Result<boost::asio::ip::tcp::endpoint> Listen(const std::string& listen);
  // The status document (status_document.h) the next scrapes are answered from. Thread-safe.
  void Publish(const nlohmann::json& status_document);
  void Stop();

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace fleet
