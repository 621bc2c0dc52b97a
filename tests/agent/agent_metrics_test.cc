// The agent's metrics: AgentFamilies from a status document (agent/metrics/agent_metrics.h)
// and the MetricsServer over loopback (agent/metrics/metrics_server.h): the exposition passes
// the strict reader, its values are the document's, 404/405, and hostile clients (huge headers,
// an announced body, slowloris, more connections than the cap) are cut off while GET /metrics
// keeps answering.
#include "agent/metrics/metrics_server.h"

#include <doctest/doctest.h>

#include <boost/asio/io_context.hpp>
#include <memory>
#include <thread>
#include <vector>

#include "agent/daemon/status_document.h"
#include "agent/metrics/agent_metrics.h"
#include "base/utc_time.h"
#include "tests/support/exposition_parser.h"
#include "tests/support/raw_client.h"

namespace fleet {
namespace {

using testing::ParseExposition;
using testing::RawClient;
using testing::SeriesKey;

nlohmann::json Document(const std::string& push_state) {
  StatusFacts facts;
  facts.node = "node-7";
  facts.agent_version = "0.1.0";
  facts.now = std::chrono::system_clock::from_time_t(1764064830);
  facts.ready = true;
  facts.up = false;
  facts.evaluation = Evaluation{1764064800 / 60, facts.now, false, true};
  facts.checks.push_back({"tmux", Status::kCritical, "BURN2 missing",
                          std::chrono::system_clock::from_time_t(1764064825),
                          std::chrono::microseconds(1500), true});
  facts.checks.push_back({"disk", Status::kWarning, "81% used",
                          std::chrono::system_clock::from_time_t(1764064820),
                          std::chrono::microseconds(40), true});
  facts.checks.push_back({"cron", Status::kUnknown, "", std::nullopt, {}, true});
  facts.spool = {{"records", 42}, {"bytes", 9000}, {"max_bytes", 1 << 20}};
  facts.push = {{"state", push_state}, {"failures_in_a_row", 3}, {"records_acknowledged", 17}};
  return StatusDocument(facts);
}

TEST_CASE("the agent's series are the status document's, in a strict exposition") {
  auto parsed = ParseExposition(RenderExposition(AgentFamilies(Document("retrying"))));
  REQUIRE_MESSAGE(parsed.ok(), (parsed.ok() ? "" : parsed.error()));
  const auto& e = *parsed;
  CHECK(e.Value(SeriesKey("fleet_agent_info", {{"node", "node-7"}, {"version", "0.1.0"}})) == 1);
  CHECK(e.Value("fleet_agent_up") == 0);
  CHECK(e.Value("fleet_agent_ready") == 1);
  CHECK(e.Value(SeriesKey("fleet_agent_check_status", {{"check", "tmux"}})) == 2);
  CHECK(e.Value(SeriesKey("fleet_agent_check_status", {{"check", "disk"}})) == 1);
  CHECK(e.Value(SeriesKey("fleet_agent_check_status", {{"check", "cron"}})) == 3);
  CHECK(e.Value(SeriesKey("fleet_agent_check_last_run_timestamp_seconds", {{"check", "tmux"}})) ==
        1764064825);
  CHECK_FALSE(
      e.Has(SeriesKey("fleet_agent_check_last_run_timestamp_seconds", {{"check", "cron"}})));
  CHECK(e.Value(SeriesKey("fleet_agent_check_duration_seconds", {{"check", "tmux"}})) == 0.0015);
  CHECK(e.Value("fleet_agent_last_evaluation_timestamp_seconds") == 1764064800);
  CHECK(e.Value("fleet_agent_spool_records") == 42);
  CHECK(e.Value("fleet_agent_spool_bytes") == 9000);
  CHECK(e.Value(SeriesKey("fleet_agent_push_state", {{"state", "retrying"}})) == 1);
  CHECK(e.Value(SeriesKey("fleet_agent_push_state", {{"state", "idle"}})) == 0);
  CHECK(e.Value("fleet_agent_push_failures_in_a_row") == 3);
  CHECK(e.Value("fleet_agent_push_records_acknowledged_total") == 17);
  CHECK(e.Value("fleet_agent_status_timestamp_seconds") == 1764064830);

  // Push states map onto the closed set; what it does not know is "other".
  auto spool = ParseExposition(RenderExposition(AgentFamilies(Document("spool unavailable"))));
  REQUIRE(spool.ok());
  CHECK(spool->Value(SeriesKey("fleet_agent_push_state", {{"state", "spool_unavailable"}})) == 1);
  auto odd = ParseExposition(RenderExposition(AgentFamilies(Document("a \"new\"\nstate"))));
  REQUIRE(odd.ok());
  CHECK(odd->Value(SeriesKey("fleet_agent_push_state", {{"state", "other"}})) == 1);
  // A document missing its parts (a bare object) still renders, with zeros.
  auto bare = ParseExposition(RenderExposition(AgentFamilies(nlohmann::json::object())));
  REQUIRE(bare.ok());
  CHECK(bare->Value(SeriesKey("fleet_agent_push_state", {{"state", "off"}})) == 1);
}

struct Served {
  boost::asio::io_context io;
  std::unique_ptr<MetricsServer> server = std::make_unique<MetricsServer>(io);
  std::thread thread;
  unsigned short port = 0;
  Served() {
    auto bound = server->Listen("127.0.0.1:0");
    REQUIRE_MESSAGE(bound.ok(), (bound.ok() ? "" : bound.error()));
    CHECK(bound->address().is_loopback());
    port = bound->port();
    server->Publish(Document("idle"));
    thread = std::thread([this] { io.run(); });
  }
  ~Served() {
    boost::asio::post(io, [this] { server->Stop(); });
    io.stop();
    thread.join();
  }
  std::string Get(const std::string& request) {
    RawClient client(port);
    REQUIRE(client.Send(request));
    std::string text;
    REQUIRE(client.ReadToClose(text, std::chrono::seconds(10)));
    return text;
  }
};

TEST_CASE("the metrics server answers GET /metrics and refuses the rest") {
  Served served;
  const std::string text = served.Get("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(text.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(text.find("Content-Type: text/plain; version=0.0.4") != std::string::npos);
  auto parsed = ParseExposition(text.substr(text.find("\r\n\r\n") + 4));
  REQUIRE_MESSAGE(parsed.ok(), (parsed.ok() ? "" : parsed.error()));
  CHECK(parsed->Value(SeriesKey("fleet_agent_push_state", {{"state", "idle"}})) == 1);
  CHECK(served.Get("GET /other HTTP/1.1\r\nHost: x\r\n\r\n").rfind("HTTP/1.1 404", 0) == 0);
  const std::string post = served.Get("POST /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(post.rfind("HTTP/1.1 405", 0) == 0);
  CHECK(post.find("Allow: GET") != std::string::npos);
  CHECK(served.Get("\x16\x03\x01 not http\r\n\r\n").rfind("HTTP/1.1 400", 0) == 0);
  // A new document shows at the next scrape.
  served.server->Publish(Document("refused"));
  CHECK(served.Get("GET /metrics HTTP/1.1\r\n\r\n")
            .find("fleet_agent_push_state{state=\"refused\"} 1") != std::string::npos);
  // Taken as written by the config: an address, not a name; a bad port.
  boost::asio::io_context io;
  MetricsServer other(io);
  CHECK_FALSE(other.Listen("localhost:9464").ok());
  CHECK_FALSE(other.Listen("127.0.0.1:99999").ok());
  CHECK_FALSE(other.Listen("127.0.0.1").ok());
}

TEST_CASE("hostile clients of the agent's metrics are cut off, and scrapes still work") {
  Served served;
  CHECK(served.Get("GET /metrics HTTP/1.1\r\nX-Pad: " + std::string(64 * 1024, 'a') + "\r\n\r\n")
            .rfind("HTTP/1.1 431", 0) == 0);
  CHECK(served.Get("GET /metrics HTTP/1.1\r\nContent-Length: 100000000\r\n\r\n")
            .rfind("HTTP/1.1 413", 0) == 0);
  {
    RawClient slow(served.port);
    REQUIRE(slow.Send("GET /metrics HTTP/1.1\r\nHost: x\r\n"));
    const auto start = std::chrono::steady_clock::now();
    CHECK(slow.TrickleUntilCut(std::chrono::seconds(15)));
    const auto took = std::chrono::steady_clock::now() - start;
    CHECK(took < MetricsServer::kReadTimeout + std::chrono::seconds(3));
  }
  {
    // The cap: idle connections fill it; one more is closed at once, not served.
    std::vector<std::unique_ptr<RawClient>> idle;
    for (int i = 0; i < MetricsServer::kMaxConnections; ++i) {
      idle.push_back(std::make_unique<RawClient>(served.port));
    }
    RawClient extra(served.port);
    extra.Send("GET /metrics HTTP/1.1\r\n\r\n");
    std::string text;
    CHECK(extra.ReadToClose(text, std::chrono::seconds(4)));
    CHECK(text.empty());
  }
  // The idle ones are gone (closed by the client); scrapes work again.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::string text;
  while (std::chrono::steady_clock::now() < deadline) {
    text = served.Get("GET /metrics HTTP/1.1\r\n\r\n");
    if (!text.empty()) break;
  }
  CHECK(text.rfind("HTTP/1.1 200", 0) == 0);
}

}  // namespace
}  // namespace fleet
