// The receiver's metrics (receiver/http/receiver_metrics.h, receiver/report/node_states.h):
// node states from heartbeat ages, the families from a snapshot, and a real HttpServer over
// loopback serving the API behind ReceiverMetrics::Serve: records pushed move the ingested
// counters, a record of an unknown key is counted by its reason, the exposition passes the
// strict reader, and hostile clients (huge headers, a huge body, slowloris) are cut off while
// /metrics keeps answering.
#include "receiver/http/receiver_metrics.h"

#include <doctest/doctest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <thread>

#include "receiver/http/receiver_api.h"
#include "receiver/store/open_report_source.h"
#include "receiver/store/sqlite_store.h"
#include "tests/receiver/store_factory.h"
#include "tests/receiver/test_records.h"
#include "tests/support/exposition_parser.h"
#include "tests/support/raw_client.h"
#include "tests/support/temp_dir.h"

namespace fleet::receiver {
namespace {

using fleet::testing::ParseExposition;
using fleet::testing::SeriesKey;
using Client = fleet::testing::RawClient;
constexpr std::int64_t kAt = 1764064800;  // the test records' minute

TEST_CASE("a node's state follows its last heartbeat's age") {
  const std::int64_t now = kAt + 60;  // the minute kAt has just ended
  CHECK(ClassifyNode(std::nullopt, now, 180) == NodeState::kNeverSeen);
  CHECK(ClassifyNode(kAt, now, 180) == NodeState::kLive);
  CHECK(ClassifyNode(kAt, now + 120, 180) == NodeState::kLive);
  CHECK(ClassifyNode(kAt, now + 121, 180) == NodeState::kLate);
  CHECK(ClassifyNode(kAt, now + 180, 180) == NodeState::kLate);
  CHECK(ClassifyNode(kAt, now + 181, 180) == NodeState::kSilent);
  CHECK(ClassifyNode(kAt, now + kSeenWithinSeconds, 180) == NodeState::kSilent);
  CHECK(ClassifyNode(kAt, now + kSeenWithinSeconds + 1, 180) == NodeState::kNeverSeen);
  // silent_after below the live bound: nothing is late.
  CHECK(ClassifyNode(kAt, now + 60, 60) == NodeState::kLive);
  CHECK(ClassifyNode(kAt, now + 61, 60) == NodeState::kSilent);
  // A minute a little ahead of the receiver's clock is live.
  CHECK(ClassifyNode(kAt + 120, now, 180) == NodeState::kLive);
}

TEST_CASE_TEMPLATE("the fleet's states read from each store, revoked nodes left out", Maker,
                   FLEET_RECEIVER_STORES) {
  Maker maker;
  auto store = maker.Make();
  testing::TestNode node("node-1"), idle("node-2"), gone("node-3");
  for (const auto* n : {&node, &idle, &gone}) REQUIRE(store->AddNode(n->Entry()).ok());
  REQUIRE(store->RevokeNode("node-3", kAt - 3600, "returned").ok());
  auto chain = testing::MakeChain(node, 1, 3);
  REQUIRE(IngestBatch(*store, testing::Body(chain, {1, 2, 3}), kAt + 60).status == 200);
  auto source = OpenReportSource(maker.Db());
  REQUIRE_MESSAGE(source.ok(), (source.ok() ? "" : source.error()));
  const auto at = [&](std::int64_t now) {
    auto states = ReadFleetStates(**source, now, 180);
    REQUIRE_MESSAGE(states.ok(), (states.ok() ? "" : states.error()));
    return states->nodes;
  };
  CHECK(at(kAt + 60) == std::array<std::int64_t, 4>{1, 0, 0, 1});
  CHECK(at(kAt + 60 + 150) == std::array<std::int64_t, 4>{0, 1, 0, 1});
  CHECK(at(kAt + 60 + 7200) == std::array<std::int64_t, 4>{0, 0, 1, 1});  // the second query
  CHECK(at(kAt + 60 + kSeenWithinSeconds + 1) == std::array<std::int64_t, 4>{0, 0, 0, 2});
  CHECK(ReadFleetStates(**source, kAt + 60, 180)->open_alerts == 0);
}

TEST_CASE("the families of a snapshot pass the strict reader, fleet or not") {
  ReceiverMetrics metrics;
  metrics.ObserveRequest(RouteClass::kRecords, 200, std::chrono::milliseconds(3));
  metrics.ObserveRequest(RouteClass::kRecords, 401, std::chrono::milliseconds(30));
  metrics.ObserveRequest(RouteClass::kOther, 404, std::chrono::microseconds(10));
  metrics.ObserveCommit(std::chrono::milliseconds(2));
  FleetStates fleet;
  fleet.nodes = {3, 1, 0, 2};
  fleet.open_alerts = 4;
  auto parsed = ParseExposition(RenderExposition(ReceiverFamilies(metrics.Snapshot(), fleet)));
  REQUIRE_MESSAGE(parsed.ok(), (parsed.ok() ? "" : parsed.error()));
  CHECK(parsed->Value(SeriesKey("fleet_receiver_nodes", {{"state", "live"}})) == 3);
  CHECK(parsed->Value(SeriesKey("fleet_receiver_nodes", {{"state", "never_seen"}})) == 2);
  CHECK(parsed->Value("fleet_receiver_alerts_open") == 4);
  CHECK(parsed->Value("fleet_receiver_fleet_read_ok") == 1);
  CHECK(parsed->Value(SeriesKey("fleet_receiver_http_requests_total",
                                {{"route", "records"}, {"code", "4xx"}})) == 1);
  CHECK(parsed->Value(SeriesKey("fleet_receiver_http_request_duration_seconds_count",
                                {{"route", "records"}})) == 2);
  CHECK(parsed->Value(SeriesKey("fleet_receiver_http_request_duration_seconds_bucket",
                                {{"route", "records"}, {"le", "0.005"}})) == 1);
  CHECK(parsed->Value(SeriesKey("fleet_receiver_http_request_duration_seconds_bucket",
                                {{"route", "records"}, {"le", "0.05"}})) == 2);
  CHECK(parsed->Value("fleet_receiver_db_commit_duration_seconds_count") == 1);
  CHECK(parsed->types.at("fleet_receiver_records_refused_total") == "counter");

  auto unread =
      ParseExposition(RenderExposition(ReceiverFamilies(metrics.Snapshot(), std::nullopt)));
  REQUIRE(unread.ok());
  CHECK(unread->Value("fleet_receiver_fleet_read_ok") == 0);
  CHECK_FALSE(unread->types.count("fleet_receiver_nodes"));
}

struct Reply {
  int status = 0;
  std::string head, body;
};

Reply Exchange(unsigned short port, const std::string& method, const std::string& path,
               const std::string& type = "", const std::string& body = "") {
  Client client(port);
  std::string request =
      method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  if (!type.empty()) request += "Content-Type: " + type + "\r\n";
  request += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  REQUIRE(client.Send(request));
  std::string text;
  REQUIRE(client.ReadToClose(text, std::chrono::seconds(10)));
  Reply reply;
  const auto split = text.find("\r\n\r\n");
  REQUIRE(split != std::string::npos);
  reply.head = text.substr(0, split);
  reply.body = text.substr(split + 4);
  REQUIRE(text.size() > 12);
  reply.status = std::stoi(text.substr(9, 3));
  return reply;
}

// A receiver as `serve` builds it, on SQLite, knowing node-1 and node-2, its clock just after
// the test records' minute.
struct LiveReceiver {
  fleet::testing::TempDir dir;
  testing::TestNode node{"node-1"};
  testing::TestNode idle{"node-2"};
  std::unique_ptr<SqliteStore> store = Open(true);
  std::unique_ptr<SqliteStore> keys = Open(false);
  ReceiverApi api{*store, *keys, [] { return kAt + 60; }};
  ReceiverMetrics metrics;
  std::unique_ptr<RegistrySource> source;
  std::mutex source_mutex;
  boost::asio::io_context io;
  std::optional<HttpServer> server;
  std::thread thread;
  unsigned short port = 0;

  LiveReceiver() {
    auto opened = OpenReportSource(dir.Path("r.db"));
    REQUIRE(opened.ok());
    source = std::move(opened).value();
    api.CountInto(&metrics);
    HttpOptions options;
    options.read_timeout = std::chrono::seconds(1);
    options.header_limit = 8 * 1024;
    options.body_limit = 64 * 1024;
    server.emplace(io, options,
                   metrics.Serve(
                       [this](HttpRequest request, HttpRespond respond) {
                         api.Handle(std::move(request), std::move(respond));
                       },
                       [this]() -> std::optional<FleetStates> {
                         std::lock_guard lock(source_mutex);
                         auto states = ReadFleetStates(*source, kAt + 60, 180);
                         if (!states) return std::nullopt;
                         return *states;
                       }));
    auto bound = server->Listen(
        boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
    REQUIRE(bound.ok());
    port = bound->port();
    thread = std::thread([this] { io.run(); });
  }
  ~LiveReceiver() {
    server->Stop();
    io.stop();
    thread.join();
    api.Stop();
  }
  std::unique_ptr<SqliteStore> Open(bool create) {
    auto opened = SqliteStore::Open(dir.Path("r.db"), create);
    REQUIRE(opened.ok());
    if (create) {
      REQUIRE((*opened)->AddNode(node.Entry()).ok());
      REQUIRE((*opened)->AddNode(idle.Entry()).ok());
    }
    return std::move(opened).value();
  }
  fleet::testing::Exposition Scrape() {
    Reply reply = Exchange(port, "GET", "/metrics");
    REQUIRE(reply.status == 200);
    CHECK(reply.head.find("Content-Type: text/plain; version=0.0.4") != std::string::npos);
    auto parsed = ParseExposition(reply.body);
    REQUIRE_MESSAGE(parsed.ok(), (parsed.ok() ? "" : parsed.error()));
    return std::move(parsed).value();
  }
};

double Ingested(const fleet::testing::Exposition& e, const char* outcome) {
  return e.Value(SeriesKey("fleet_receiver_records_ingested_total", {{"outcome", outcome}}));
}
double Refused(const fleet::testing::Exposition& e, const char* reason) {
  return e.Value(SeriesKey("fleet_receiver_records_refused_total", {{"reason", reason}}));
}
double Requests(const fleet::testing::Exposition& e, const char* route, const char* code) {
  return e.Value(
      SeriesKey("fleet_receiver_http_requests_total", {{"route", route}, {"code", code}}));
}

TEST_CASE("over loopback, pushed records move the counters and a refusal counts by reason") {
  LiveReceiver receiver;
  auto before = receiver.Scrape();
  CHECK(Ingested(before, "stored") == 0);
  CHECK(before.Value(SeriesKey("fleet_receiver_nodes", {{"state", "never_seen"}})) == 2);
  CHECK(before.Value(SeriesKey("fleet_receiver_nodes", {{"state", "live"}})) == 0);

  auto chain = testing::MakeChain(receiver.node, 1, 3);
  const std::string ndjson = "application/x-ndjson";
  CHECK(Exchange(receiver.port, "POST", "/v1/records", ndjson, testing::Body(chain, {1, 2, 3}))
            .status == 200);
  CHECK(
      Exchange(receiver.port, "POST", "/v1/records", ndjson, testing::Body(chain, {2, 3})).status ==
      200);
  testing::TestNode stranger("node-x");  // a key nobody registered
  auto foreign = testing::MakeChain(stranger, 1, 1);
  CHECK(
      Exchange(receiver.port, "POST", "/v1/records", ndjson, testing::Body(foreign, {1})).status ==
      401);
  CHECK(Exchange(receiver.port, "POST", "/v1/records", ndjson, "not a jws\n").status == 400);
  CHECK(Exchange(receiver.port, "POST", "/v1/records", "text/plain", "x").status == 415);
  CHECK(Exchange(receiver.port, "GET", "/nowhere").status == 404);
  Reply wrong_method = Exchange(receiver.port, "POST", "/metrics");
  CHECK(wrong_method.status == 405);
  CHECK(wrong_method.head.find("Allow: GET") != std::string::npos);

  auto after = receiver.Scrape();
  CHECK(Ingested(after, "stored") == 3);
  CHECK(Ingested(after, "duplicate") == 2);
  CHECK(Ingested(after, "fork") == 0);
  CHECK(Refused(after, "unknown_key") == 1);
  CHECK(Refused(after, "invalid") == 1);
  CHECK(Refused(after, "store_failed") == 0);
  CHECK(Requests(after, "records", "2xx") == 2);
  CHECK(Requests(after, "records", "4xx") == 3);
  CHECK(Requests(after, "other", "4xx") == 1);
  CHECK(Requests(after, "metrics", "4xx") == 1);
  CHECK(Requests(after, "metrics", "2xx") == 1);  // the first scrape; this one is not yet answered
  CHECK(after.Value(SeriesKey("fleet_receiver_http_request_duration_seconds_count",
                              {{"route", "records"}})) == 5);
  CHECK(after.Value("fleet_receiver_db_commit_duration_seconds_count") >= 1);
  CHECK(after.Value(SeriesKey("fleet_receiver_nodes", {{"state", "live"}})) == 1);
  CHECK(after.Value(SeriesKey("fleet_receiver_nodes", {{"state", "never_seen"}})) == 1);
  CHECK(after.Value("fleet_receiver_alerts_open") == 0);
  CHECK(after.Value("fleet_receiver_fleet_read_ok") == 1);
}

TEST_CASE("hostile clients are cut off and /metrics keeps answering") {
  LiveReceiver receiver;
  {  // Headers past the limit: 431, connection closed.
    Client client(receiver.port);
    client.Send("GET /metrics HTTP/1.1\r\nHost: x\r\nX-Pad: " + std::string(200 * 1024, 'a') +
                "\r\n\r\n");
    std::string text;
    CHECK(client.ReadToClose(text, std::chrono::seconds(10)));
    CHECK(text.rfind("HTTP/1.1 431", 0) == 0);
  }
  {  // A body past the limit, announced: 413 before it is read.
    Client client(receiver.port);
    client.Send("GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n");
    std::string text;
    CHECK(client.ReadToClose(text, std::chrono::seconds(10)));
    CHECK(text.rfind("HTTP/1.1 413", 0) == 0);
  }
  {  // Slowloris: a header byte every 100 ms never completes the request; cut at read_timeout.
    Client client(receiver.port);
    client.Send("GET /metrics HTTP/1.1\r\nHost: x\r\n");
    const auto start = std::chrono::steady_clock::now();
    bool cut = false;
    while (!cut && std::chrono::steady_clock::now() - start < std::chrono::seconds(10)) {
      if (!client.Send("X")) {
        cut = true;
        break;
      }
      char byte;
      const ssize_t n = ::recv(client.fd, &byte, 1, 0);
      cut = n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) ||
            n > 0;  // any answer to an unfinished request is the server giving up on it
    }
    CHECK(cut);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
  }
  auto scraped = receiver.Scrape();
  CHECK(scraped.Value("fleet_receiver_fleet_read_ok") == 1);
}

}  // namespace
}  // namespace fleet::receiver
