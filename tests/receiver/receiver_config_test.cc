// receiver.yaml: a full file, the empty file, every key's bad values with file:line:column,
// truncated text and garbage.
#include "receiver/config/receiver_config.h"

#include <doctest/doctest.h>

#include <string>

#include "tests/support/temp_dir.h"

namespace fleet::receiver {
namespace {

ParsedReceiverConfig Parse(std::string_view text) {
  return ParseReceiverConfig("receiver.yaml", text);
}

// The one error the text gives (fails when there are none or several).
std::string OneError(std::string_view text) {
  auto parsed = Parse(text);
  REQUIRE_MESSAGE(parsed.errors.size() == 1, parsed.errors.size(), " errors for: ", text);
  return parsed.errors.front();
}

TEST_CASE("receiver.yaml: every key read") {
  auto parsed = Parse(R"(# the foundation's receiver
listen: ["0.0.0.0:8443", "[::]:8443"]
database: postgresql://fleet@db.internal/fleet
tls:
  cert: /etc/fleet-receiver/tls/fullchain.pem
  key: /etc/fleet-receiver/tls/privkey.pem
threads: 4
max_connections: 1000
max_connections_per_peer: 0
read_timeout: 20s
alerts_file: /etc/fleet-receiver/alerts.yaml
silent_after: 5m
reports:
  live_within: 10m
  late_minutes: ignore
metrics: off
dashboard: on
statements:
  close: auto
  close_after: 10d
  key: /var/lib/fleet-receiver/statement.key
)");
  REQUIRE(parsed.errors.empty());
  const ReceiverConfig& c = parsed.config;
  CHECK(c.listen == std::vector<std::string>{"0.0.0.0:8443", "[::]:8443"});
  CHECK(c.database == "postgresql://fleet@db.internal/fleet");
  REQUIRE(c.tls.has_value());
  CHECK(c.tls->cert == "/etc/fleet-receiver/tls/fullchain.pem");
  CHECK(c.tls->key == "/etc/fleet-receiver/tls/privkey.pem");
  CHECK(c.threads == 4);
  CHECK(c.max_connections == 1000);
  CHECK(c.max_connections_per_peer == 0);
  CHECK(c.read_timeout_s == 20);
  CHECK(c.alerts_file == "/etc/fleet-receiver/alerts.yaml");
  CHECK(c.silent_after_s == 300);
  CHECK(c.live_within == "10m");
  CHECK(c.late_minutes == "ignore");
  CHECK(c.metrics == "off");
  CHECK(c.dashboard == true);
  CHECK(c.close_months == true);
  CHECK(c.close_after == "10d");
  CHECK(c.statement_key == "/var/lib/fleet-receiver/statement.key");
}

TEST_CASE("receiver.yaml: empty, comments only, or one address as a string") {
  for (const char* text : {"", "# nothing set\n", "---\n"}) {
    auto parsed = Parse(text);
    CHECK(parsed.errors.empty());
    CHECK(parsed.config.listen.empty());
    CHECK_FALSE(parsed.config.database.has_value());
    CHECK_FALSE(parsed.config.tls.has_value());
  }
  auto one = Parse("listen: 127.0.0.1:8080\ndatabase: /var/lib/fleet-receiver/receiver.db\n");
  REQUIRE(one.errors.empty());
  CHECK(one.config.listen == std::vector<std::string>{"127.0.0.1:8080"});
  CHECK(one.config.database == "/var/lib/fleet-receiver/receiver.db");
  CHECK(std::string(kDefaultReceiverDb) == "/var/lib/fleet-receiver/receiver.db");
}

TEST_CASE("receiver.yaml: bad values are errors at their line and column") {
  CHECK(OneError("listen: localhost:80\n") ==
        "receiver.yaml:1:9: listen: 'localhost:80': 'localhost' is not an IP address");
  CHECK(OneError("listen: [\"127.0.0.1:80\", \"127.0.0.1:99999\"]\n") ==
        "receiver.yaml:1:26: listen[1]: '127.0.0.1:99999': '99999' is not a port (0-65535)");
  CHECK(OneError("listen: []\n") == "receiver.yaml:1:9: listen must list from 1 to 16 addresses");
  CHECK(OneError("database: receiver.db\n") ==
        "receiver.yaml:1:11: database must be an absolute path to a SQLite file or a "
        "postgresql:// URL");
  CHECK(OneError("tls:\n  cert: /a.pem\n") == "receiver.yaml:2:3: tls needs both cert and key");
  CHECK(OneError("tls:\n  cert: a.pem\n  key: /k.pem\n") ==
        "receiver.yaml:2:9: tls.cert must be an absolute path (got 'a.pem')");
  CHECK(OneError("tls: /etc/cert.pem\n") == "receiver.yaml:1:6: tls must be a map");
  CHECK(OneError("threads: 0\n") ==
        "receiver.yaml:1:10: threads must be a whole number from 1 to 64 (got '0')");
  CHECK(OneError("max_connections: lots\n") ==
        "receiver.yaml:1:18: max_connections must be a whole number from 1 to 100000 (got "
        "'lots')");
  CHECK(OneError("read_timeout: 2h\n") ==
        "receiver.yaml:1:15: read_timeout must be from 1s to 1h in whole seconds (got '2h')");
  CHECK(OneError("silent_after: 10s\n").starts_with("receiver.yaml:1:15: silent_after must be"));
  CHECK(OneError("alerts_file: alerts.yaml\n") ==
        "receiver.yaml:1:14: alerts_file must be an absolute path (got 'alerts.yaml')");
  CHECK(OneError("reports:\n  late_minutes: sometimes\n") ==
        "receiver.yaml:2:17: reports.late_minutes must be count or ignore (got 'sometimes')");
  CHECK(OneError("reports: {live_within: soon}\n")
            .starts_with("receiver.yaml:1:24: reports.live_within: "));
  CHECK(OneError("metrics: yes please\n") ==
        "receiver.yaml:1:10: metrics must be on, off or token (got 'yes please')");
  CHECK(Parse("metrics: token\n").config.metrics == "token");
  CHECK(Parse("metrics: false\n").config.metrics == "off");
  CHECK(OneError("dashboard: [on]\n") == "receiver.yaml:1:12: dashboard must be on or off");
  CHECK(OneError("statements:\n  close: sometimes\n") ==
        "receiver.yaml:2:10: statements.close must be auto or manual (got 'sometimes')");
  CHECK(OneError("statements: {close_after: 5m}\n")
            .starts_with("receiver.yaml:1:27: statements.close_after must be from 1h to"));
  CHECK(OneError("statements: {key: statement.key}\n") ==
        "receiver.yaml:1:19: statements.key must be an absolute path (got 'statement.key')");
  CHECK(OneError("statements: {closing: auto}\n").find("unknown key 'closing' in statements") !=
        std::string::npos);
}

TEST_CASE("receiver.yaml: unknown and repeated keys; every error at once, in file order") {
  CHECK(OneError("listen: 127.0.0.1:80\nlisten_on: 1\n")
            .starts_with("receiver.yaml:2:1: unknown key 'listen_on' (known: alerts_file, "
                         "dashboard, database, listen,"));
  CHECK(OneError("tls: {cert: /c, key: /k, chain: /x}\n")
            .starts_with("receiver.yaml:1:26: unknown key 'chain' in tls (known: cert, key)"));
  CHECK(OneError("threads: 2\nthreads: 3\n") == "receiver.yaml:2:1: threads is given twice");
  auto many = Parse("threads: 0\ndatabase: x\nbogus: 1\n");
  REQUIRE(many.errors.size() == 3);
  CHECK(many.errors[0].starts_with("receiver.yaml:1:"));
  CHECK(many.errors[1].starts_with("receiver.yaml:2:"));
  CHECK(many.errors[2].starts_with("receiver.yaml:3:"));
  // Nothing of a file with errors is used.
  CHECK(many.config.threads == std::nullopt);
}

TEST_CASE("receiver.yaml: a database URL with a password is never quoted back") {
  auto error = OneError("database: mysql://fleet:s3cret@db/fleet\n");
  CHECK(error.find("s3cret") == std::string::npos);
}

TEST_CASE("receiver.yaml: truncated text") {
  const std::string full =
      "listen: [\"127.0.0.1:8443\"]\ntls:\n  cert: /etc/c.pem\n  key: /etc/k.pem\n";
  // Cut inside the flow sequence: not YAML, with where.
  auto cut_list = Parse(full.substr(0, 20));
  REQUIRE(cut_list.errors.size() == 1);
  CHECK(cut_list.errors[0].starts_with("receiver.yaml:"));
  CHECK(cut_list.errors[0].find("not YAML") != std::string::npos);
  // Cut after "tls:" and after "cert": a section left half-written is an error, never a default.
  CHECK(OneError(full.substr(0, full.find("tls:") + 5)) == "receiver.yaml:2:1: tls has no value");
  CHECK(OneError("threads:\n") == "receiver.yaml:1:1: threads has no value");
  CHECK(OneError(full.substr(0, full.find("key:"))) ==
        "receiver.yaml:3:3: tls needs both cert and key");
  // Every prefix either parses or says where it went wrong (never throws); TLS is taken
  // only once the key is there.
  for (std::size_t n = 0; n <= full.size(); ++n) {
    auto parsed = Parse(full.substr(0, n));
    for (const auto& e : parsed.errors) CHECK(e.starts_with("receiver.yaml:"));
    if (parsed.errors.empty() && parsed.config.tls) {
      CHECK(n > full.find("key: /"));
      CHECK(parsed.config.tls->cert == "/etc/c.pem");
    }
  }
}

TEST_CASE("receiver.yaml: garbage") {
  CHECK(OneError("listen: [127.0.0.1:80\n").find("not YAML") != std::string::npos);
  CHECK(OneError("just words\n") == "receiver.yaml:1:1: the file must be a map");
  CHECK(OneError("- a\n- b\n") == "receiver.yaml:1:1: the file must be a map");
  CHECK(OneError(std::string("threads: 2\0\n", 12)).starts_with("receiver.yaml:1:"));
  CHECK(OneError("threads: \xff\xfe\n").starts_with("receiver.yaml:1:10:"));
  CHECK(OneError(std::string(100, '[')).starts_with("receiver.yaml:1:"));
  CHECK(OneError(std::string(kMaxReceiverConfigBytes + 1, '#')) ==
        "receiver.yaml: larger than 64 KiB");
  CHECK(OneError("{listen: {a: b}}\n").starts_with("receiver.yaml:1:10: listen must be"));
}

TEST_CASE("receiver.yaml: read from a file, or a clear error when it cannot be") {
  testing::TempDir dir;
  const std::string file = dir.WriteFile("receiver.yaml", "threads: 3\n");
  auto read = ReadReceiverConfig(file);
  REQUIRE(read.errors.empty());
  CHECK(read.config.threads == 3);
  auto missing = ReadReceiverConfig(dir.Path("none.yaml"));
  REQUIRE(missing.errors.size() == 1);
  CHECK(missing.errors[0] == dir.Path("none.yaml") + ": cannot be read");
}

}  // namespace
}  // namespace fleet::receiver
