// The `alerts:` section (issue 13): the contract's example lands in AlertSettings, the
// defaults hold, every bad value and missing key is one error at its line:column, truncated
// and garbage text is refused cleanly, and a secret written into the YAML is refused
// without ever being repeated in an error.
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

#include "agent/config/config.h"

#include "tests/support/string_lists.h"  // error lists print one per line

using namespace fleet;
using namespace std::chrono_literals;

namespace {

constexpr char kExample[] = R"(alerts:
  telegram: {token_file: /etc/fleet-agent/telegram.token, chat_id: "-1001234", ackers: [123456789], poll: true, api_base: https://api.telegram.org}
  discord: {webhook_url_file: /etc/fleet-agent/discord.url, api_base: "http://127.0.0.1:8080/"}
  webhook: {url_file: /etc/fleet-agent/alert-webhook.url}
  escalation:                   # optional, same three channel keys
    telegram: {token_credential: telegram.token, chat_id: "@fleet_ops", poll: false}
  min_severity: warning
  confirm: 45s
  repeat: 1h
  escalate_after: 20m
  flapping: {changes: 8, window: 1h}
  weekly_summary: true
)";

// A telegram channel that needs nothing more, for tests of the other keys.
constexpr char kWebhookOnly[] = "alerts:\n  webhook: {url_file: /etc/fleet-agent/hook.url}\n";

std::vector<std::string> Errors(std::string_view text) {
  std::vector<std::string> out;
  for (const auto& e : ParseConfig(text, "agent.yaml").errors) out.push_back(e.ToString());
  return out;
}

std::string OneError(std::string_view text) {
  auto errors = Errors(text);
  INFO(text);
  REQUIRE(errors.size() == 1);
  return errors[0];
}

AlertSettings Valid(std::string_view text) {
  ConfigLoad load = ParseConfig(text, "agent.yaml");
  INFO(text);
  for (const auto& e : load.errors) INFO(e.ToString());
  REQUIRE(load.errors.empty());
  REQUIRE(load.config.has_value());
  return load.config->alerts;
}

// alerts: {telegram: {<keys>}} with one line.
std::string Telegram(std::string_view keys) {
  return "alerts: {telegram: {" + std::string(keys) + "}}\n";
}

constexpr char kTelegramOk[] = "token_file: /etc/t, chat_id: 1, ackers: [7]";

}  // namespace

TEST_CASE("the contract's example: every key in its field") {
  const AlertSettings a = Valid(kExample);
  CHECK(a.enabled());
  REQUIRE(a.channels.telegram.has_value());
  const TelegramSettings& t = *a.channels.telegram;
  CHECK(t.token == SecretSource{"/etc/fleet-agent/telegram.token", ""});
  CHECK(t.chat_id == "-1001234");
  CHECK(t.ackers == std::vector<std::int64_t>{123456789});
  CHECK(t.poll);
  CHECK(t.api_base == "https://api.telegram.org");
  REQUIRE(a.channels.discord.has_value());
  CHECK(a.channels.discord->webhook_url == SecretSource{"/etc/fleet-agent/discord.url", ""});
  CHECK(a.channels.discord->api_base == "http://127.0.0.1:8080");  // the trailing '/' goes
  REQUIRE(a.channels.webhook.has_value());
  CHECK(a.channels.webhook->url == SecretSource{"/etc/fleet-agent/alert-webhook.url", ""});

  REQUIRE(a.escalation.telegram.has_value());
  CHECK(a.escalation.telegram->token == SecretSource{"", "telegram.token"});
  CHECK(a.escalation.telegram->chat_id == "@fleet_ops");
  CHECK_FALSE(a.escalation.telegram->poll);
  CHECK(a.escalation.telegram->ackers.empty());
  CHECK_FALSE(a.escalation.discord.has_value());
  CHECK_FALSE(a.escalation.webhook.has_value());

  CHECK(a.min_severity == alerting::Severity::kWarning);
  CHECK(a.confirm == 45s);
  CHECK(a.repeat == 1h);
  CHECK(a.escalate_after == std::optional<std::chrono::seconds>(20min));
  CHECK(a.flap_changes == 8);
  CHECK(a.flap_window == 1h);
  CHECK(a.weekly_summary);
}

TEST_CASE("no alerts section, or a null one: alerting off, every default") {
  for (const char* text : {"", "alerts:\n", "alerts: null\n", "alerts: ~\n"}) {
    INFO(std::string(text));
    const AlertSettings a = Valid(text);
    CHECK_FALSE(a.enabled());
    CHECK(a == AlertSettings{});
  }
  const AlertSettings d;
  CHECK(d.min_severity == alerting::Severity::kCritical);
  CHECK(d.confirm == 30s);
  CHECK(d.repeat == 30min);
  CHECK_FALSE(d.escalate_after.has_value());
  CHECK(d.flap_changes == 6);
  CHECK(d.flap_window == 30min);
  CHECK_FALSE(d.weekly_summary);

  // A channel's own defaults.
  const AlertSettings t = Valid(Telegram(kTelegramOk));
  CHECK(t.enabled());
  CHECK(t.channels.telegram->poll);
  CHECK(t.channels.telegram->api_base == "https://api.telegram.org");
  CHECK(Valid("alerts: {discord: {webhook_url_credential: discord.url}}\n")
            .channels.discord->api_base.empty());
  CHECK(Valid(kWebhookOnly).confirm == 30s);
}

TEST_CASE("an alerts section with no channel is an error") {
  CHECK(OneError("alerts: {}\n") ==
        "agent.yaml:1:9: alerts: no channel: give telegram, discord or webhook");
  CHECK(OneError("alerts:\n  min_severity: warning\n  repeat: 1h\n") ==
        "agent.yaml:2:3: alerts: no channel: give telegram, discord or webhook");
  // `telegram:` alone keeps its default, which is no channel.
  CHECK(OneError("alerts: {telegram: }\n") ==
        "agent.yaml:1:9: alerts: no channel: give telegram, discord or webhook");
  // Escalation channels are no channel of the first line.
  CHECK(OneError("alerts:\n  escalation: {webhook: {url_file: /x}}\n  escalate_after: 5m\n") ==
        "agent.yaml:2:3: alerts: no channel: give telegram, discord or webhook");
  CHECK(OneError("alerts: [telegram]\n") ==
        "agent.yaml:1:9: alerts must be a map of keys (telegram, discord, webhook, escalation, "
        "min_severity, confirm, repeat, escalate_after, flapping, weekly_summary)");
  CHECK(OneError("alerts: on\n").starts_with("agent.yaml:1:9: alerts must be a map of keys"));
}

TEST_CASE("each channel's secret: a file or a credential, exactly one") {
  CHECK(Valid(Telegram("token_credential: telegram.token, chat_id: 1, ackers: [7]"))
            .channels.telegram->token == SecretSource{"", "telegram.token"});
  CHECK(OneError(Telegram("chat_id: 1, ackers: [7]")) ==
        "agent.yaml:1:20: alerts.telegram needs token_file (a file holding the bot token) or "
        "token_credential (a systemd credential)");
  CHECK(OneError(Telegram("token_file: /t, token_credential: t, chat_id: 1, ackers: [7]")) ==
        "agent.yaml:1:55: alerts.telegram: give token_file or token_credential, not both");
  CHECK(OneError("alerts: {discord: {api_base: https://discord.com}}\n") ==
        "agent.yaml:1:19: alerts.discord needs webhook_url_file (a file holding the webhook URL) "
        "or webhook_url_credential (a systemd credential)");
  CHECK(OneError("alerts: {discord: {webhook_url_file: /d, webhook_url_credential: d}}\n") ==
        "agent.yaml:1:66: alerts.discord: give webhook_url_file or webhook_url_credential, not "
        "both");
  CHECK(OneError("alerts: {webhook: {}}\n") ==
        "agent.yaml:1:19: alerts.webhook needs url_file (a file holding the URL) or "
        "url_credential (a systemd credential)");
  CHECK(OneError("alerts: {webhook: {url_file: /w, url_credential: w}}\n") ==
        "agent.yaml:1:50: alerts.webhook: give url_file or url_credential, not both");

  CHECK(OneError(Telegram("token_file: etc/t, chat_id: 1, ackers: [7]")) ==
        "agent.yaml:1:33: alerts.telegram.token_file must be the absolute path of a file holding "
        "the bot token (the value is not shown: it may be the secret itself)");
  for (const char* name : {"a/b", ".", "..", "a b", "tele:gram", "\"\""}) {
    INFO(std::string(name));
    CHECK(OneError(Telegram(std::string("token_credential: ") + name + ", chat_id: 1, ackers: [7]"))
              .starts_with("agent.yaml:1:39: alerts.telegram.token_credential must be a systemd "
                           "credential name"));
  }
  CHECK(OneError("alerts: {webhook: {url_file: [/a, /b]}}\n") ==
        "agent.yaml:1:30: alerts.webhook.url_file must be the absolute path of a file holding "
        "the URL");
}

TEST_CASE("a secret written into the YAML is refused, and never repeated") {
  const std::string token = "123456789:AAH-k3pt_0ut-of-the-yaml";
  CHECK(OneError(Telegram("token: " + token + ", chat_id: 1, ackers: [7]")) ==
        "agent.yaml:1:28: alerts.telegram.token: the bot token is a secret and does not belong "
        "in the configuration; put it in a file of mode 0600 and give token_file, or "
        "token_credential for a systemd credential (the value is not shown: it may be the "
        "secret itself)");
  const std::string url = "https://discord.com/api/webhooks/1/k3pt_0ut";
  CHECK(OneError("alerts: {discord: {webhook_url: \"" + url + "\"}}\n") ==
        "agent.yaml:1:33: alerts.discord.webhook_url: the webhook URL is a secret and does not "
        "belong in the configuration; put it in a file of mode 0600 and give webhook_url_file, "
        "or webhook_url_credential for a systemd credential (the value is not shown: it may be "
        "the secret itself)");
  CHECK(OneError("alerts: {discord: {url: " + url + "}}\n")
            .starts_with("agent.yaml:1:25: alerts.discord.url: the webhook URL is a secret"));
  CHECK(OneError("alerts: {webhook: {url: " + url + "}}\n") ==
        "agent.yaml:1:25: alerts.webhook.url: the webhook URL is a secret and does not belong in "
        "the configuration; put it in a file of mode 0600 and give url_file, or url_credential "
        "for a systemd credential (the value is not shown: it may be the secret itself)");
  // The refused keys are not offered as suggestions.
  CHECK(OneError(Telegram("tokn_file: /t, chat_id: 1, ackers: [7]")) ==
        "agent.yaml:1:21: unknown key 'tokn_file' in alerts.telegram (did you mean "
        "'token_file'?)");
  CHECK(OneError(Telegram("tok: /t, chat_id: 1, ackers: [7]")) ==
        "agent.yaml:1:21: unknown key 'tok' in alerts.telegram (known keys: token_file, "
        "token_credential, chat_id, ackers, poll, api_base)");
}

TEST_CASE("no error about a secret's key repeats its value, wherever it was pasted") {
  const std::string secret = "k3pt_0ut-of-the-yaml";
  const std::string token = "123456789:AAH-" + secret;
  const std::string url = "https://discord.com/api/webhooks/1/" + secret;
  const std::vector<std::string> texts{
      Telegram("token: " + token + ", chat_id: 1, ackers: [7]"),
      Telegram("token: [" + token + "], chat_id: 1, ackers: [7]"),
      Telegram("token_file: " + token + ", chat_id: 1, ackers: [7]"),
      Telegram("token_file: \"" + token + "\n\", chat_id: 1, ackers: [7]"),
      Telegram("token_credential: " + token + ", chat_id: 1, ackers: [7]"),
      Telegram("token_file: /t, chat_id: " + token + ", ackers: [7]"),
      Telegram("token_file: /t, chat_id: 1, ackers: [" + token + "]"),
      Telegram("token_file: /t, chat_id: 1, ackers: " + token),
      Telegram("token_file: /t, chat_id: 1, ackers: [7], api_base: \"https://api.telegram.org/bot" +
               token + "\"}"),
      Telegram("token_file: /t, chat_id: 1, ackers: [7], api_base: \"http://x/bot" + token + "\""),
      Telegram("token:" + token + ", chat_id: 1"),
      Telegram("token:" + token + ", token:" + token + ", chat_id: 1"),
      "alerts:\n  telegram:\n    token:" + token + "\n    chat_id: 1\n",
      "alerts:\n  telegram:\n    " + token + "\n",
      "alerts: {discord: {webhook_url: " + url + "}}\n",
      "alerts: {discord: {webhook_url_file: " + url + "}}\n",
      "alerts: {discord: {webhook_url_credential: " + url + "}}\n",
      "alerts: {discord: {webhook_url_file: /d, api_base: \"" + url + "\"}}\n",
      "alerts: {webhook: {url: " + url + "}}\n",
      "alerts: {webhook: {url_file: " + url + "}}\n",
      "alerts: {webhook: {url_file: /w}, escalation: {webhook: {url: " + url +
          "}}, escalate_after: 5m}\n",
  };
  for (const auto& text : texts) {
    const auto errors = Errors(text);
    INFO(text);
    CHECK_FALSE(errors.empty());
    for (const auto& error : errors) {
      INFO(error);
      CHECK(error.find(secret) == std::string::npos);
    }
  }
}

TEST_CASE("telegram: chat_id, ackers, poll and api_base") {
  for (const char* chat : {"-1001234", "\"-1001234\"", "1234", "\"@fleet_ops\"", "'@abcde'",
                           "\"-9223372036854775807\""}) {
    INFO(std::string(chat));
    std::string expected = chat;
    if (expected.front() == '"' || expected.front() == '\'') {
      expected = expected.substr(1, expected.size() - 2);
    }
    CHECK(Valid(Telegram(std::string("token_file: /t, ackers: [7], chat_id: ") + chat))
              .channels.telegram->chat_id == expected);
  }
  for (const char* chat : {"0", "-0", "abc", "\"@abcd\"", "\"@fleet-ops\"", "1.5", "0x10", "\"\"",
                           "\"- 1\"", "\"9223372036854775808\"", "[1]", "{a: 1}"}) {
    INFO(std::string(chat));
    CHECK(OneError(Telegram(std::string("token_file: /t, ackers: [7], chat_id: ") + chat))
              .starts_with("agent.yaml:1:59: alerts.telegram.chat_id must be a chat id: a number "
                           "such as -1001234567890, or \"@channelname\" (quoted)"));
  }
  CHECK(OneError(Telegram("token_file: /t, ackers: [7]")) ==
        "agent.yaml:1:20: alerts.telegram needs chat_id (the chat, group or channel alerts go to)");

  CHECK(Valid(Telegram("token_file: /t, chat_id: 1, ackers: [7, 123456789, '42']"))
            .channels.telegram->ackers == std::vector<std::int64_t>{7, 123456789, 42});
  CHECK(Errors(Telegram("token_file: /t, chat_id: 1, ackers: [0, -1, x, 99999999999999999999]")) ==
        std::vector<std::string>{
            "agent.yaml:1:58: alerts.telegram.ackers: an item must be a Telegram user id (a "
            "positive whole number, as the bot sees the user)",
            "agent.yaml:1:61: alerts.telegram.ackers: an item must be a Telegram user id (a "
            "positive whole number, as the bot sees the user)",
            "agent.yaml:1:65: alerts.telegram.ackers: an item must be a Telegram user id (a "
            "positive whole number, as the bot sees the user)",
            "agent.yaml:1:68: alerts.telegram.ackers: an item must be a Telegram user id (a "
            "positive whole number, as the bot sees the user)",
        });
  CHECK(OneError(Telegram("token_file: /t, chat_id: 1, ackers: [[7]]")) ==
        "agent.yaml:1:58: alerts.telegram.ackers must be a list of Telegram user ids");
  CHECK(OneError(Telegram("token_file: /t, chat_id: 1, ackers: 7")) ==
        "agent.yaml:1:57: alerts.telegram.ackers must be a list of Telegram user ids (for one, "
        "write [123456789])");

  // Polling with nobody allowed to acknowledge: every press would be refused.
  const std::string nobody =
      " alerts.telegram.ackers must list at least one Telegram user id while "
      "alerts.telegram.poll is true (only their button presses acknowledge; with nobody listed, "
      "nobody can); or set poll: false";
  CHECK(OneError(Telegram("token_file: /t, chat_id: 1")) == "agent.yaml:1:20:" + nobody);
  CHECK(OneError(Telegram("token_file: /t, chat_id: 1, ackers: []")) ==
        "agent.yaml:1:57:" + nobody);
  CHECK(OneError(Telegram("token_file: /t, chat_id: 1, ackers: [], poll: true")) ==
        "agent.yaml:1:57:" + nobody);
  CHECK(
      Valid(Telegram("token_file: /t, chat_id: 1, poll: false")).channels.telegram->ackers.empty());
  CHECK(OneError(Telegram("token_file: /t, chat_id: 1, ackers: [7], poll: maybe")) ==
        "agent.yaml:1:68: alerts.telegram.poll must be true or false (got 'maybe')");

  const std::string base = std::string(kTelegramOk) + ", api_base: ";
  for (const auto& [given, kept] : std::vector<std::pair<std::string, std::string>>{
           {"https://api.telegram.org", "https://api.telegram.org"},
           {"https://api.telegram.org/", "https://api.telegram.org"},
           {"\"http://127.0.0.1:8081\"", "http://127.0.0.1:8081"},
           {"\"http://[::1]:8081/\"", "http://[::1]:8081"},
           {"http://localhost:8081", "http://localhost:8081"},
           {"https://tg-proxy.example.org:8443", "https://tg-proxy.example.org:8443"}}) {
    INFO(given);
    CHECK(Valid(Telegram(base + given)).channels.telegram->api_base == kept);
  }
  const std::vector<std::pair<std::string, std::string>> bad_bases{
      {"http://api.telegram.org",
       "is plain http to another machine (http:// is only for a loopback address)"},
      {"\"http://127.evil.example\"",
       "is plain http to another machine (http:// is only for a loopback address)"},
      {"https://api.telegram.org/bot", "has a path (give the scheme, host and port only)"},
      {"\"https://u:p@api.telegram.org\"",
       "is not a plain URL (no spaces, user names, queries or fragments)"},
      {"\"https://api.telegram.org?x=1\"",
       "is not a plain URL (no spaces, user names, queries or fragments)"},
      {"\"https://api.telegram.org#x\"",
       "is not a plain URL (no spaces, user names, queries or fragments)"},
      {"api.telegram.org", "is not an https:// URL"},
      {"\"https://\"", "has no host"},
      {"\"https://api.telegram.org:0\"", "has a bad port (a number from 1 to 65535)"},
      {"\"\"", "must not be empty"},
  };
  for (const auto& [given, why] : bad_bases) {
    INFO(given);
    CHECK(OneError(Telegram(base + given)) == "agent.yaml:1:76: alerts.telegram.api_base " + why);
  }
  CHECK(OneError("alerts: {discord: {webhook_url_file: /d, api_base: \"http://10.0.0.1\"}}\n") ==
        "agent.yaml:1:52: alerts.discord.api_base is plain http to another machine (http:// is "
        "only for a loopback address)");
}

TEST_CASE("timing keys: their ranges") {
  const auto with = [](std::string_view line) {
    return std::string(kWebhookOnly) + "  " + std::string(line) + "\n";
  };
  CHECK(Valid(with("confirm: 0s")).confirm == 0s);
  CHECK(Valid(with("confirm: 1h")).confirm == 1h);
  CHECK(OneError(with("confirm: 61m")) ==
        "agent.yaml:3:12: alerts.confirm must be at most 1h (got 1h 1m)");
  CHECK(OneError(with("confirm: 30")) ==
        "agent.yaml:3:12: alerts.confirm: duration '30' needs a unit (ms, s, m, h, d)");

  CHECK(Valid(with("repeat: 0s")).repeat == 0s);
  CHECK(Valid(with("repeat: 1m")).repeat == 1min);
  CHECK(Valid(with("repeat: 7d")).repeat == 7 * 24h);
  CHECK(OneError(with("repeat: 59s")) ==
        "agent.yaml:3:11: alerts.repeat must be 0s (no reminders) or at least 1m (got 59s)");
  CHECK(OneError(with("repeat: 8d")) ==
        "agent.yaml:3:11: alerts.repeat must be at most 7d (got 8d)");

  CHECK(Valid(with("min_severity: warning")).min_severity == alerting::Severity::kWarning);
  CHECK(Valid(with("min_severity: critical")).min_severity == alerting::Severity::kCritical);
  CHECK(OneError(with("min_severity: info")) ==
        "agent.yaml:3:17: alerts.min_severity must be one of critical, warning (got 'info')");

  CHECK(Valid(with("flapping: {changes: 2, window: 1m}")).flap_changes == 2);
  CHECK(Valid(with("flapping: {changes: 100, window: 1d}")).flap_window == 24h);
  CHECK(Valid(with("flapping: {window: 10m}")).flap_changes == 6);
  CHECK(Errors(with("flapping: {changes: 1, window: 59s}")) ==
        std::vector<std::string>{
            "agent.yaml:3:23: alerts.flapping.changes must be at least 2 (got 1)",
            "agent.yaml:3:34: alerts.flapping.window must be at least 1m (got 59s)"});
  CHECK(Errors(with("flapping: {changes: 101, window: 25h}")) ==
        std::vector<std::string>{
            "agent.yaml:3:23: alerts.flapping.changes must be at most 100 (got '101')",
            "agent.yaml:3:36: alerts.flapping.window must be at most 1d (got 1d 1h)"});
  CHECK(OneError(with("flapping: 6")) ==
        "agent.yaml:3:13: alerts.flapping must be a map of keys (changes, window)");

  CHECK(Valid(with("weekly_summary: true")).weekly_summary);
  CHECK(OneError(with("weekly_summary: \"true\"")) ==
        "agent.yaml:3:19: alerts.weekly_summary must be true or false, not a quoted string");
}

TEST_CASE("escalation: channels and escalate_after come together") {
  const AlertSettings a = Valid(std::string(kWebhookOnly) +
                                "  escalation: {discord: {webhook_url_file: /d}}\n"
                                "  escalate_after: 7d\n");
  CHECK(a.escalation.discord.has_value());
  CHECK(a.escalate_after == std::optional<std::chrono::seconds>(7 * 24h));
  CHECK(Valid(std::string(kWebhookOnly) + "  escalation:\n").escalation.empty());

  CHECK(OneError(std::string(kWebhookOnly) + "  escalation: {}\n") ==
        "agent.yaml:3:15: alerts.escalation: no channel: give telegram, discord or webhook");
  CHECK(OneError(std::string(kWebhookOnly) + "  escalation: {webhook: {url_file: /e}}\n") ==
        "agent.yaml:3:15: alerts.escalation needs alerts.escalate_after (how long an alert stays "
        "unacknowledged before these channels are told too)");
  CHECK(OneError(std::string(kWebhookOnly) + "  escalate_after: 20m\n") ==
        "agent.yaml:3:19: alerts.escalate_after needs alerts.escalation (the channels told when "
        "an alert stays unacknowledged)");
  CHECK(OneError(std::string(kWebhookOnly) +
                 "  escalation: {webhook: {url_file: /e}}\n  escalate_after: 59s\n") ==
        "agent.yaml:4:19: alerts.escalate_after must be at least 1m (got 59s)");
  CHECK(OneError(std::string(kWebhookOnly) +
                 "  escalation: {webhook: {url_file: /e}}\n  escalate_after: 8d\n") ==
        "agent.yaml:4:19: alerts.escalate_after must be at most 7d (got 8d)");
  // Escalation channels follow the same rules as the others, named by their full path.
  CHECK(OneError(std::string(kWebhookOnly) +
                 "  escalation: {telegram: {token_file: /t, chat_id: 1}}\n"
                 "  escalate_after: 20m\n") ==
        "agent.yaml:3:26: alerts.escalation.telegram.ackers must list at least one Telegram user "
        "id while alerts.escalation.telegram.poll is true (only their button presses "
        "acknowledge; with nobody listed, nobody can); or set poll: false");
  CHECK(OneError(std::string(kWebhookOnly) + "  escalation: {escalation: {}}\n")
            .starts_with("agent.yaml:3:16: unknown key 'escalation' in alerts.escalation"));
}

TEST_CASE("unknown and duplicate keys, block style: line and column") {
  CHECK(Errors("alerts:\n"
               "  telegarm: {token_file: /t}\n"
               "  webhook:\n"
               "    url_file: /w\n"
               "    url_fiel: /x\n"
               "  flapping:\n"
               "    chagnes: 3\n"
               "  confirm: 10s\n"
               "  confirm: 20s\n"
               "  repeat:30m\n") ==
        std::vector<std::string>{
            "agent.yaml:2:3: unknown key 'telegarm' in alerts (did you mean 'telegram'?)",
            "agent.yaml:5:5: unknown key 'url_fiel' in alerts.webhook (did you mean 'url_file'?)",
            "agent.yaml:7:5: unknown key 'chagnes' in alerts.flapping (did you mean 'changes'?)",
            "agent.yaml:9:3: duplicate key 'confirm' in alerts (first at line 8)",
            "agent.yaml:10:3: unknown key 'repeat:...' in alerts (a ':' needs a space after it: "
            "'repeat: ...')",
        });
  CHECK(OneError("alerts:\n  webhook: {url_file: /w}\n  escalation:\n    slack: {}\n") ==
        "agent.yaml:4:5: unknown key 'slack' in alerts.escalation (known keys: telegram, discord, "
        "webhook)");
}

TEST_CASE("truncated: every prefix of the example parses or fails cleanly") {
  const std::string text = kExample;
  int valid = 0;
  for (std::size_t cut = 0; cut <= text.size(); ++cut) {
    ConfigLoad load = ParseConfig(text.substr(0, cut), "agent.yaml");
    INFO(text.substr(0, cut));
    CHECK(load.config.has_value() == load.errors.empty());
    if (load.config) ++valid;
    for (const auto& e : load.errors) {
      CHECK(e.ToString().find('\n') == std::string::npos);
      CHECK_FALSE(e.message.empty());
    }
  }
  CHECK(valid > 1);  // the empty text and the whole example at least
}

TEST_CASE("garbage under alerts:") {
  for (const char* text :
       {"alerts: !!binary aGVsbG8=\n", "alerts: &a {webhook: *a}\n",
        "alerts: {webhook: {url_file: !!str /w}}\n", "alerts: {<<: {webhook: {url_file: /w}}}\n",
        "alerts: {telegram: {token_file: /t, chat_id: 1, ackers: [7]}}}\n",
        "alerts:\n  telegram:\n  - token_file: /t\n", "alerts: {{}: 1}\n", "alerts: {? [a]: 1}\n",
        "alerts:\n\ttelegram: {}\n", "alerts: \"\\x00\"\n"}) {
    INFO(std::string(text));
    ConfigLoad load = ParseConfig(text, "agent.yaml");
    CHECK_FALSE(load.config.has_value());
    REQUIRE_FALSE(load.errors.empty());
    CHECK(load.errors[0].line > 0);
  }
}
