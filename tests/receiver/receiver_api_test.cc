// Routing of the HTTP API (the server itself is tested over loopback by
// tests/integration/receiver_test.sh).
#include "receiver/http/receiver_api.h"

#include <doctest/doctest.h>

#include <future>
#include <sstream>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "receiver/store/sqlite_store.h"
#include "tests/receiver/test_records.h"
#include "tests/support/temp_dir.h"

namespace fleet::receiver {
namespace {

// The answer Handle gives, waited for (it comes from the committer's thread).
HttpResponse Answer(ReceiverApi& api, HttpRequest request) {
  std::promise<HttpResponse> answered;
  auto answer = answered.get_future();
  api.Handle(std::move(request), [&answered](HttpResponse r) { answered.set_value(std::move(r)); });
  return answer.get();
}

// A receiver API on a fresh SQLite store that knows node-1, at the test records' time.
struct ApiWithNode {
  fleet::testing::TempDir dir;
  testing::TestNode node{"node-1"};
  std::unique_ptr<SqliteStore> store = Open(true);
  std::unique_ptr<SqliteStore> keys = Open(false);
  ReceiverApi api{*store, *keys, [] { return std::int64_t{1764064800}; }};

  std::unique_ptr<SqliteStore> Open(bool create) {
    auto opened = SqliteStore::Open(dir.Path("r.db"), create);
    REQUIRE(opened.ok());
    if (create) REQUIRE((*opened)->AddNode(node.Entry()).ok());
    return std::move(opened).value();
  }
};

TEST_CASE("the API routes records and health, and answers errors in JSON") {
  ApiWithNode world;
  ReceiverApi& api = world.api;
  auto chain = testing::MakeChain(world.node, 1, 2);
  auto call = [&](const std::string& method, const std::string& path, const std::string& type,
                  const std::string& body) {
    HttpResponse response = Answer(api, {method, path, type, body, "127.0.0.1"});
    auto json = nlohmann::json::parse(response.body, nullptr, false);
    CHECK_FALSE(json.is_discarded());
    return std::make_pair(response.status, json);
  };

  auto [status, body] = call("POST", "/v1/records", "application/x-ndjson; charset=utf-8",
                             testing::Body(chain, {1, 2}));
  CHECK(status == 200);
  CHECK(body["ack_seq"] == 2);
  CHECK(call("POST", "/v1/records", "application/json", "{}").first == 415);
  CHECK(call("POST", "/v1/records", "", "x").first == 415);
  CHECK(call("GET", "/v1/records", "", "").first == 405);
  CHECK(Answer(api, {"GET", "/v1/records", "", "", "127.0.0.1"}).allow == "POST");
  CHECK(call("GET", "/healthz", "", "").second == nlohmann::json{{"ok", true}});
  CHECK(call("POST", "/healthz", "", "").first == 405);
  auto [missing, error] = call("GET", "/v2/records", "", "");
  CHECK(missing == 404);
  CHECK(error.contains("error"));
}

TEST_CASE("a flood of refusals hides neither another address's refusal nor a fork") {
  std::ostringstream log;
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>(
      "capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(log)));
  ApiWithNode world;
  ReceiverApi& api = world.api;
  auto chain = testing::MakeChain(world.node, 1, 2);
  REQUIRE(Answer(api, {"POST", "/v1/records", "application/x-ndjson", testing::Body(chain, {1, 2}),
                       "10.0.0.1"})
              .status == 200);

  for (int i = 0; i < 500; ++i) {
    Answer(api, {"POST", "/v1/records", "text/plain", "x", "10.6.6.6"});
  }
  Answer(api, {"POST", "/v1/records", "text/plain", "x", "10.0.0.2"});
  testing::TestNode& node = world.node;
  const std::string forked = node.Sign(node.Payload(1, 2, ChainHash(chain[0]), "agent_stop"));
  auto reply =
      Answer(api, {"POST", "/v1/records", "application/x-ndjson", forked + "\n", "10.6.6.6"});
  CHECK(reply.status == 200);
  spdlog::set_default_logger(previous);

  const std::string text = log.str();
  CHECK(text.find("node node-1: 1 record(s) clash with stored ones") != std::string::npos);
  CHECK(text.find("refused a batch (415) from 10.0.0.2") != std::string::npos);
  std::size_t flood_lines = 0;
  for (auto at = text.find("from 10.6.6.6: Content-Type"); at != std::string::npos;
       at = text.find("from 10.6.6.6: Content-Type", at + 1)) {
    ++flood_lines;
  }
  CHECK(flood_lines == 5);
}

}  // namespace
}  // namespace fleet::receiver
