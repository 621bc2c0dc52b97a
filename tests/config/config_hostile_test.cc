// ParseConfig on hostile text: alias bombs, deep nesting, binary, tabs, huge inputs,
// truncation and garbage. Each must come back quickly with errors (never a crash, a hang
// or a blown stack), and every error must stay one printable line.
#include <doctest/doctest.h>

#include <chrono>
#include <random>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "base/yaml_text.h"

#include "tests/support/string_lists.h"  // error lists print one per line

using namespace fleet;

namespace {

constexpr auto kQuick = std::chrono::seconds(20);  // a hang guard: sanitizers on a busy CI

struct Timed {
  ConfigLoad load;
  std::chrono::steady_clock::duration took;
};

Timed ParseTimed(std::string_view text) {
  auto start = std::chrono::steady_clock::now();
  ConfigLoad load = ParseConfig(text, "agent.yaml");
  return {std::move(load), std::chrono::steady_clock::now() - start};
}

// Rejected, quickly, with well-formed one-line errors; returns them.
std::vector<std::string> Rejected(std::string_view text) {
  Timed t = ParseTimed(text);
  CHECK(t.took < kQuick);
  CHECK_FALSE(t.load.config.has_value());
  REQUIRE_FALSE(t.load.errors.empty());
  std::vector<std::string> out;
  for (const auto& e : t.load.errors) {
    std::string line = e.ToString();
    CHECK(line.find('\n') == std::string::npos);
    CHECK(line.find('\r') == std::string::npos);
    CHECK(line.size() < 400);
    out.push_back(line);
  }
  return out;
}

std::string Repeat(std::string_view piece, std::size_t times) {
  std::string out;
  out.reserve(piece.size() * times);
  for (std::size_t i = 0; i < times; ++i) out += piece;
  return out;
}

// The classic: nine levels of nine aliases each, 9^9 strings if expanded.
std::string AliasBomb() {
  std::string text =
      "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n";
  const std::string names = "abcdefghi";
  for (std::size_t level = 1; level < names.size(); ++level) {
    const std::string prev = "*" + std::string(1, names[level - 1]);
    text += std::string(1, names[level]) + ": &" + names[level] + " [" + prev;
    for (int k = 1; k < 9; ++k) text += "," + prev;
    text += "]\n";
  }
  return text;
}

}  // namespace

TEST_CASE("an alias bomb is neither expanded nor walked") {
  const std::string bomb = AliasBomb();
  auto errors = Rejected(bomb);  // nine unknown top-level keys
  CHECK(errors.size() == 9);
  CHECK(errors[0] ==
        "agent.yaml:1:1: unknown key 'a' at the top level (known keys: node, interval, hermes, "
        "checks, uptime, state_dir, upstream, spool, alerts, remedies, node_key, metrics)");
  // Fed into a list the schema does read: each of the nine items is a list, not a name.
  std::string in_expect = "defs:\n";
  for (std::size_t pos = 0; pos < bomb.size();) {
    const std::size_t end = bomb.find('\n', pos);
    in_expect += "  " + bomb.substr(pos, end - pos + 1);
    pos = end + 1;
  }
  in_expect += "checks: {tmux: {expect: *i}}\n";
  errors = Rejected(in_expect);
  CHECK(errors.size() == 10);  // 'defs' unknown + nine list items
  CHECK(errors[1].find("checks.tmux.expect must be a list of names") != std::string::npos);
}

TEST_CASE("an alias that contains itself does not loop") {
  auto errors = Rejected("checks: &c {tmux: *c}\n");
  CHECK(errors == std::vector<std::string>{
                      "agent.yaml:1:13: unknown key 'tmux' in checks.tmux (known keys: socket, "
                      "expect, idle_warning, enabled, timeout, interval)"});
  Rejected("checks: {tmux: {expect: &l [a, *l]}}\n");
  Rejected("&k a: *k\n");
}

TEST_CASE("aliases used plainly work") {
  ConfigLoad load = ParseConfig(
      "checks:\n  tmux: {expect: &names [BURN, FORGE]}\nuptime: {require: [tmux]}\n"
      "x-unused: *names\n",
      "agent.yaml");
  CHECK(load.errors.size() == 1);  // only the unknown key
  load = ParseConfig("checks:\n  disk: {paths: &p [/srv]}\n  dispatch: {files: *p}\n", "a");
  REQUIRE(load.config.has_value());
  CHECK(load.config->checks.dispatch.files == std::vector<std::string>{"/srv"});
}

TEST_CASE("deep nesting is refused before the recursive parser sees it") {
  CHECK(Rejected(std::string(100000, '[')) ==
        std::vector<std::string>{"agent.yaml:1:64: nesting deeper than 64 levels (a configuration "
                                 "needs a handful); not parsed"});
  CHECK(Rejected(std::string(100000, '{')).size() == 1);
  CHECK(Rejected(Repeat("[{", 50000)).size() == 1);
  CHECK(Rejected("checks: " + std::string(100000, '[')).size() == 1);
  CHECK(Rejected(Repeat("- ", 100000) + "x\n")[0] ==
        "agent.yaml:1:127: nesting deeper than 64 levels (a configuration needs a handful); not "
        "parsed");
  // A staircase of block maps, one space deeper per line.
  std::string stairs;
  for (int i = 0; i < 1000; ++i) stairs += std::string(static_cast<std::size_t>(i), ' ') + "a:\n";
  CHECK(Rejected(stairs)[0] ==
        "agent.yaml:65:65: nesting deeper than 64 levels (a configuration needs a handful); not "
        "parsed");
  // Brackets in quotes, comments and plain text are not nesting.
  std::string quoted = "node: {id: '" + std::string(200, '[') + "'}\n# " + std::string(200, '{') +
                       "\nhermes: {user: \"" + std::string(200, '[') + "\"}\nx: a[[[[[[[[\n";
  for (const auto& e : Rejected(quoted)) CHECK(e.find("nesting") == std::string::npos);
  // Shallow but legal nesting is parsed (and then judged by the schema).
  CHECK(Rejected(std::string(60, '[') + std::string(60, ']')) ==
        std::vector<std::string>{"agent.yaml:1:1: the top level must be a map of keys (node, "
                                 "interval, hermes, checks, uptime, state_dir, upstream, spool, "
                                 "alerts, remedies, node_key, metrics)"});
}

TEST_CASE("binary and non-UTF-8 text is refused with the position of the first bad byte") {
  CHECK(
      Rejected(std::string("node: {id: a\0b}\n", 16)) ==
      std::vector<std::string>{"agent.yaml:1:13: NUL byte: this is a binary file, not YAML text"});
  CHECK(Rejected("checks:\n  tmux: {expect: [B\xFFURN]}\n") ==
        std::vector<std::string>{
            "agent.yaml:2:20: invalid UTF-8 (byte 0xFF); save the file as UTF-8 text"});
  CHECK(Rejected("node: {id: \xC3\x28}\n")[0] ==
        "agent.yaml:1:12: invalid UTF-8 (byte 0xC3); save the file as UTF-8 text");
  CHECK(Rejected("node: {id: \xED\xA0\x80}\n").size() == 1);  // a UTF-16 surrogate
  CHECK(Rejected("node: {id: \xC0\xAF}\n").size() == 1);      // overlong '/'
  CHECK(Rejected("node: {id: \xE2\x82}")[0].find("invalid UTF-8") != std::string::npos);
  CHECK(Rejected("node: {id: a\x1B[31mb}\n") ==
        std::vector<std::string>{
            "agent.yaml:1:13: control character 0x1B is not allowed in YAML text"});
  // UTF-16 with a BOM is binary to us.
  CHECK(Rejected(std::string("\xFF\xFEn\0o\0", 6)).size() == 2);
  std::mt19937 random(7);
  std::string noise(64 * 1024, '\0');
  for (auto& c : noise) c = static_cast<char>(random());
  Rejected(noise);
}

TEST_CASE("tabs in indentation: one error per line") {
  CHECK(Rejected("checks:\n\ttmux: {}\n  disk: {}\n \t cron: {}\n") ==
        std::vector<std::string>{
            "agent.yaml:2:1: tab in indentation (YAML indents with spaces only)",
            "agent.yaml:4:2: tab in indentation (YAML indents with spaces only)"});
  CHECK(Rejected("node: {id: a}\n\t# a comment\n").size() == 1);
  // A tab after a key is separation, not indentation.
  CHECK(ParseConfig("node:\t{id: a}\n\t\n", "a").config.has_value());
}

TEST_CASE("oversized text and endless errors stay bounded") {
  CHECK(Rejected(std::string(2 * 1024 * 1024, '#')) ==
        std::vector<std::string>{
            "agent.yaml: too large (2.0 MiB); a configuration file is at most 1.0 MiB"});
  std::string many;
  for (int i = 0; i < 20000; ++i) many += "k" + std::to_string(i) + ": 1\n";
  auto errors = Rejected(many);
  REQUIRE(errors.size() == 101);
  CHECK(errors.back() == "agent.yaml: 19900 more errors not shown");
  // A long key is quoted short (YAML caps keys at 1024 characters); escaped characters
  // stay on the line.
  errors = Rejected(std::string(1000, 'k') + ": 1\n\"a\\nb\\u0007\": 2\n");
  REQUIRE(errors.size() == 2);
  CHECK(errors[0].find("unknown key '" + std::string(60, 'k') + "...' at the top level") !=
        std::string::npos);
  CHECK(errors[1].find("unknown key 'a\\nb\\x07'") != std::string::npos);
  errors = Rejected("checks: {tmux: {timeout: " + std::string(5000, '9') + "s}}\n");
  CHECK(errors[0].find("is not a duration") != std::string::npos);
}

TEST_CASE("every truncation of a valid file parses or fails cleanly") {
  const std::string full = R"(node: {id: vps-fra-01}
hermes:
  user: hermes
  home: "/home/hermes/.hermes"
checks:
  tmux:     {socket: /tmp/tmux-1000/default, expect: [BURN, 'BURN2', FORGE], idle_warning: 30m}
  gateway:  {units: [hermes-gateway, ai.hermes.gateway], scope: auto}   # system|user|auto
  disk:     {paths: [/], warning_free_below: 15%, critical_used_above: 90%}
  cron:
    jobs_file: cron/jobs.json
    critical_failure_streak: 3
  dispatch: {files: [fleet-dispatch-state.json, /tmp/hermes/dispatch-queue.json], stale_after: 1h}
uptime: {require: [gateway, tmux]}
)";
  int valid = 0;
  for (std::size_t cut = 0; cut <= full.size(); ++cut) {
    ConfigLoad load = ParseConfig(std::string_view(full).substr(0, cut), "t.yaml");
    CHECK(load.config.has_value() == load.errors.empty());
    if (load.config) ++valid;
    for (const auto& e : load.errors) CHECK(e.ToString().find('\n') == std::string::npos);
  }
  CHECK(valid > 0);
}

TEST_CASE("random YAML-ish garbage never crashes") {
  const std::vector<std::string> pieces{
      "checks", "tmux", ":",     " ",      "\n",      "  ",  "- ",  "[",  "]",     "{",
      "}",      ",",    "'",     "\"",     "&a ",     "*a",  "!t ", "#",  "? ",    "|",
      ">",      "---",  "...",   "expect", "30s",     "15%", "~",   "\\", "%YAML", "\t",
      "é",      "disk", "paths", "/",      "timeout", "@",   "`"};
  std::mt19937 random(42);
  for (int round = 0; round < 3000; ++round) {
    std::string text;
    const int length = static_cast<int>(random() % 40);
    for (int i = 0; i < length; ++i) text += pieces[random() % pieces.size()];
    ConfigLoad load = ParseConfig(text, "fuzz.yaml");
    CAPTURE(text);
    CHECK(load.config.has_value() == load.errors.empty());
  }
}

TEST_CASE("LineIndex: positions in characters, past line ends and after a BOM") {
  LineIndex index("ab\né€x\n");
  CHECK(index.AtOffset(0).line == 1);
  CHECK(index.AtOffset(3).line == 2);
  CHECK(index.AtOffset(3).column == 1);
  CHECK(index.AtOffset(8).column == 3);  // after é (2 bytes) and € (3 bytes)
  CHECK(index.AtMark(1, 5).column == 3);
  CHECK(index.AtMark(5, 0).line == 3);  // beyond the text: its end
  LineIndex bom(
      "\xEF\xBB\xBF"
      "abc");
  CHECK(bom.AtMark(0, 2).column == 3);
  CHECK(bom.AtOffset(5).column == 3);
}
