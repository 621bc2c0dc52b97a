// The `metrics:` section (agent/config/metrics_section.h): a literal address and port, loopback
// by default, errors at line:column; ParseListenAddress on good, truncated and garbage text.
#include <doctest/doctest.h>

#include <fstream>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "agent/config/metrics_section.h"
#include "tests/support/string_lists.h"  // error lists print one per line

using namespace fleet;

namespace {

std::vector<std::string> Errors(std::string_view text) {
  std::vector<std::string> out;
  for (const auto& e : ParseConfig(text, "agent.yaml").errors) out.push_back(e.ToString());
  return out;
}

TEST_CASE("metrics: no section, no server; {} is loopback 9464; listen as written") {
  auto none = ParseConfig("node: {id: n1}\n", "agent.yaml");
  REQUIRE(none.config);
  CHECK(none.config->metrics_listen.empty());
  auto empty = ParseConfig("metrics: {}\n", "agent.yaml");
  REQUIRE(empty.config);
  CHECK(empty.config->metrics_listen == "127.0.0.1:9464");
  auto v6 = ParseConfig("metrics: {listen: \"[::1]:9100\"}\n", "agent.yaml");
  REQUIRE(v6.config);
  CHECK(v6.config->metrics_listen == "[::1]:9100");
  auto open = ParseConfig("metrics:\n  listen: 0.0.0.0:9464\n", "agent.yaml");
  REQUIRE(open.config);  // allowed, written out (README warns)
  CHECK(open.config->metrics_listen == "0.0.0.0:9464");
}

TEST_CASE("metrics: unknown keys and bad addresses are errors with line and column") {
  CHECK(Errors("metrics:\n  listen: localhost:9464\n") ==
        std::vector<std::string>{"agent.yaml:2:11: metrics.listen 'localhost' is not a literal "
                                 "IPv4 address (names are not taken) (got 'localhost:9464')"});
  CHECK(Errors("metrics: {listne: 127.0.0.1:9464}\n").size() == 1);
  CHECK(Errors("metrics: {listne: 127.0.0.1:9464}\n")[0].rfind("agent.yaml:1:11: ", 0) == 0);
  CHECK(Errors("metrics: {listen: 127.0.0.1:0}\n").size() == 1);
  CHECK(Errors("metrics: {listen: 127.0.0.1:65536}\n").size() == 1);
  CHECK(Errors("metrics: {listen: [a, b]}\n").size() == 1);
  CHECK(Errors("metrics: 9464\n").size() == 1);
}

TEST_CASE("ParseListenAddress: good, truncated and garbage") {
  std::string why;
  auto v4 = config::ParseListenAddress("127.0.0.2:9464", why);
  REQUIRE(v4);
  CHECK(v4->host == "127.0.0.2");
  CHECK(v4->port == 9464);
  CHECK(v4->loopback);
  auto v6 = config::ParseListenAddress("[::1]:1", why);
  REQUIRE(v6);
  CHECK(v6->v6);
  CHECK(v6->loopback);
  auto any = config::ParseListenAddress("0.0.0.0:9464", why);
  REQUIRE(any);
  CHECK_FALSE(any->loopback);
  CHECK_FALSE(config::ParseListenAddress("[::]:9464", why)->loopback);
  for (const char* bad :
       {"", ":", "127.0.0.1", "127.0.0.1:", "127.0.0.1:x", "127.0.0.1:9464x", "[::1]", "[::1:9464",
        "::1:9464", "127.0.0:9464", "host:80", "127.0.0.1:-1", "\x01\xff:1", "[127.0.0.1]:80"}) {
    INFO(bad);
    CHECK_FALSE(config::ParseListenAddress(bad, why));
    CHECK_FALSE(why.empty());
  }
}

TEST_CASE("the shipped agent.yaml: its metrics line, uncommented, is valid and loopback") {
  std::ifstream in(std::string(FLEET_TEST_DATA) + "/../../packaging/agent.yaml");
  REQUIRE(in.good());
  std::string text;
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("# metrics:")) text = line.substr(2) + "\n";
  }
  REQUIRE_FALSE(text.empty());
  ConfigLoad load = ParseConfig(text, "agent.yaml");
  REQUIRE(load.config.has_value());
  std::string why;
  auto address = config::ParseListenAddress(load.config->metrics_listen, why);
  REQUIRE(address);
  CHECK(address->loopback);
}

}  // namespace
