// The receiver's --alerts file: the whole example reads; every key's bad value, unknown and
// repeated keys, secrets written into the file, the rules across keys and garbage are errors
// with file:line:column (all of them at once), never repeating a secret; the secret files are
// read and checked (shape, size, not a file, a credential), a group-readable one warned of.
#include <doctest/doctest.h>

#include <string>

#include "receiver/alerts/alerts_config.h"

#include "alerting/secret_rules.h"
#include "tests/support/temp_dir.h"

namespace fleet::receiver {
namespace {

constexpr char kGood[] = R"(# the foundation's alerting
telegram: {token_file: /etc/fleet-receiver/telegram.token, api_base: "https://api.telegram.org", poll: true}
discord: {api_base: "http://127.0.0.1:8089"}
foundation:
  telegram: {chat_id: "-100999", ackers: [1, 2]}
  discord: {webhook_url_file: /etc/fleet-receiver/discord.url, api_base: "http://[::1]:9000"}
  webhook: {url_credential: alert-webhook}
silent_after: 3m
min_severity: critical
confirm: 30s
repeat: 30m
escalate_after: 20m
flapping: {changes: 6, window: 30m}
)";

std::string Errors(const ParsedAlerts& parsed) {
  std::string out;
  for (const auto& e : parsed.errors) out += e + "\n";
  return out;
}

// The one error a text makes.
std::string OneError(std::string_view text) {
  ParsedAlerts parsed = ParseReceiverAlerts("alerts.yaml", text);
  INFO(Errors(parsed));
  CHECK(parsed.errors.size() == 1);
  return parsed.errors.empty() ? std::string() : parsed.errors[0];
}

TEST_CASE("receiver alerts config: the full example reads") {
  ParsedAlerts parsed = ParseReceiverAlerts("alerts.yaml", kGood);
  REQUIRE_MESSAGE(parsed.errors.empty(), Errors(parsed));
  const ReceiverAlertSettings& s = parsed.settings;
  REQUIRE(s.telegram.has_value());
  CHECK(s.telegram->token.file == "/etc/fleet-receiver/telegram.token");
  CHECK(s.telegram->poll);
  CHECK(s.discord_api_base == "http://127.0.0.1:8089");
  REQUIRE(s.foundation_telegram.has_value());
  CHECK(s.foundation_telegram->chat_id == "-100999");
  CHECK(s.foundation_telegram->ackers == std::vector<std::int64_t>{1, 2});
  CHECK(s.foundation_discord->api_base == "http://[::1]:9000");
  CHECK(s.foundation_webhook->url.credential == "alert-webhook");
  CHECK(s.silent_after == 180);
  CHECK(s.policy.confirm == 30);
  CHECK(s.policy.repeat == 1800);
  CHECK(s.policy.escalate_after == 1200);
  CHECK(s.policy.flap_changes == 6);
  CHECK(s.policy.flap_window == 1800);
  CHECK(FoundationChannelNames(s) == std::vector<std::string>{"foundation.telegram",
                                                              "foundation.discord",
                                                              "foundation.webhook"});
}

TEST_CASE("receiver alerts config: defaults, and a small file") {
  ParsedAlerts parsed =
      ParseReceiverAlerts("a.yaml", "discord: {api_base: \"https://proxy.example\"}\n");
  REQUIRE_MESSAGE(parsed.errors.empty(), Errors(parsed));
  CHECK(parsed.settings.silent_after == 180);
  CHECK(parsed.settings.policy.confirm == 30);
  CHECK_FALSE(parsed.settings.policy.escalate_after.has_value());
  CHECK(FoundationChannelNames(parsed.settings).empty());
  ParsedAlerts zero = ParseReceiverAlerts("a.yaml", "repeat: 0s\nconfirm: 0s\nsilent_after: 1m\n");
  REQUIRE_MESSAGE(zero.errors.empty(), Errors(zero));
  CHECK(zero.settings.policy.repeat == 0);
  CHECK(zero.settings.silent_after == 60);
}

TEST_CASE("receiver alerts config: every bad value, with its position") {
  CHECK(OneError("silent_after: 30s\n") ==
        "alerts.yaml:1:15: silent_after must be from 1m to 1d in whole seconds (got '30s')");
  CHECK(OneError("silent_after: 3\n").starts_with("alerts.yaml:1:15: silent_after: "));
  CHECK(OneError("confirm: 2h\n") ==
        "alerts.yaml:1:10: confirm must be from 0s to 1h in whole seconds (got '2h')");
  CHECK(OneError("confirm: 1500ms\n").find("whole seconds") != std::string::npos);
  CHECK(OneError("repeat: 30s\n").starts_with("alerts.yaml:1:9: repeat must be 0s or from 1m"));
  CHECK(OneError("min_severity: high\n") ==
        "alerts.yaml:1:15: min_severity must be critical or warning (got 'high')");
  CHECK(OneError("flapping: {changes: 1, window: 30m}\n")
            .starts_with("alerts.yaml:1:21: flapping.changes must be a whole number from 2"));
  CHECK(OneError("flapping: {changes: 6, window: 10s}\n")
            .starts_with("alerts.yaml:1:32: flapping.window must be from 1m"));
  CHECK(OneError("telegram: {token_file: relative/path}\n") ==
        "alerts.yaml:1:24: telegram.token_file must be an absolute path");
  CHECK(OneError("telegram: {token_credential: /etc/x}\n")
            .starts_with("alerts.yaml:1:30: telegram.token_credential must be a credential name"));
  CHECK(OneError("telegram: {token_file: /t, poll: yes}\n") ==
        "alerts.yaml:1:34: telegram.poll must be true or false");
  CHECK(OneError("telegram: {token_file: /t, api_base: \"http://10.0.0.1:80\"}\n")
            .starts_with("alerts.yaml:1:38: telegram.api_base is plain http"));
  CHECK(OneError("telegram: {token_file: /t, api_base: \"https://h/path\"}\n")
            .starts_with("alerts.yaml:1:38: telegram.api_base"));
  CHECK(OneError("telegram: {token_file: /t}\nfoundation: {telegram: {chat_id: \"chat 1\"}}\n") ==
        "alerts.yaml:2:34: foundation.telegram.chat_id must be a number (\"-1001234567890\") or "
        "\"@channelname\"");
  CHECK(OneError(
            "telegram: {token_file: /t}\nfoundation: {telegram: {chat_id: \"1\", ackers: [0]}}\n")
            .starts_with("alerts.yaml:2:48: foundation.telegram.ackers[0] must be a whole number"));
  CHECK(OneError(
            "telegram: {token_file: /t}\nfoundation: {telegram: {chat_id: \"1\", ackers: 5}}\n") ==
        "alerts.yaml:2:47: foundation.telegram.ackers must be a list of Telegram user ids");
  CHECK(OneError("telegram: [1, 2]\n") == "alerts.yaml:1:11: telegram must be a map");
  CHECK(OneError("- a\n- b\n") == "alerts.yaml:1:1: the file must be a map");
}

TEST_CASE("receiver alerts config: unknown, repeated and secret keys") {
  CHECK(OneError("confrim: 30s\n").starts_with("alerts.yaml:1:1: unknown key 'confrim' (known: "));
  CHECK(OneError("foundation: {slack: {}}\n")
            .starts_with("alerts.yaml:1:14: unknown key 'slack' in foundation (known: discord, "
                         "telegram, webhook)"));
  CHECK(OneError("confirm: 30s\nconfirm: 40s\n") == "alerts.yaml:2:1: confirm is given twice");
  const std::string token = "123456:AAF-secret-token-value";
  const std::string error = OneError("telegram: {token: \"" + token + "\"}\n");
  CHECK(error.starts_with("alerts.yaml:1:12: telegram.token: a secret never goes in this file"));
  CHECK(error.find("token_file") != std::string::npos);
  CHECK(error.find(token) == std::string::npos);
  ParsedAlerts url = ParseReceiverAlerts(
      "a.yaml",
      "foundation:\n  discord: {webhook_url: \"https://discord.com/api/webhooks/1/s3cr3t\"}\n");
  CHECK(Errors(url).find("s3cr3t") == std::string::npos);
  CHECK(Errors(url).find("foundation.discord.webhook_url: a secret never goes") !=
        std::string::npos);
}

TEST_CASE("receiver alerts config: rules across keys; all errors at once") {
  CHECK(OneError("telegram: {api_base: \"https://a.example\"}\n") ==
        "alerts.yaml:1:11: telegram needs exactly one of token_file and token_credential");
  CHECK(OneError("foundation: {telegram: {chat_id: \"-1\"}}\n") ==
        "alerts.yaml:1:13: foundation.telegram needs the bot: telegram: {token_file: ...}");
  CHECK(OneError("escalate_after: 20m\n") ==
        "alerts.yaml:1:17: escalate_after needs a foundation channel to escalate to");
  CHECK(OneError("telegram: {token_file: /t}\nfoundation: {telegram: {ackers: [1]}}\n") ==
        "alerts.yaml:2:24: foundation.telegram needs chat_id");
  ParsedAlerts many = ParseReceiverAlerts("a.yaml", "confirm: x\nrepeat: y\nbogus: 1\n");
  REQUIRE(many.errors.size() == 3);
  CHECK(many.errors[0].starts_with("a.yaml:1:"));
  CHECK(many.errors[2].starts_with("a.yaml:3:1: unknown key 'bogus'"));
}

TEST_CASE("receiver alerts config: garbage, truncated, empty") {
  CHECK(OneError("").find("is empty") != std::string::npos);
  CHECK(OneError("telegram: {token_file: /t\n").starts_with("alerts.yaml:"));
  CHECK(OneError("flapping: {changes: 6, wind").starts_with("alerts.yaml:1:"));
  CHECK(OneError(std::string("confirm: 30s\n\0\x01", 15)).starts_with("alerts.yaml:2:1: "));
  CHECK(OneError("confirm: \xff\xfe\n").starts_with("alerts.yaml:1:10: "));
  CHECK(OneError(std::string(100, '[')).starts_with("alerts.yaml:1:"));
  CHECK_FALSE(ParseReceiverAlerts("a.yaml", std::string(70000, '#')).errors.empty());
  CHECK(ReadReceiverAlerts("/nonexistent/alerts.yaml").errors ==
        std::vector<std::string>{"/nonexistent/alerts.yaml: cannot be read"});
}

TEST_CASE("receiver alerts config: the secrets read from their files and credentials") {
  testing::TempDir dir;
  const std::string token = dir.WriteFile("telegram.token", "123456:AAF-s3cr3t\n", 0600);
  const std::string discord =
      dir.WriteFile("discord.url", "https://discord.com/api/webhooks/77/h00k-s3cr3t\n", 0644);
  dir.WriteFile("creds/hook", "http://127.0.0.1:9/hook/x\n", 0600);
  ReceiverAlertSettings s;
  s.telegram = TelegramBotSettings{{token, ""}, "https://api.telegram.org", false};
  s.foundation_discord = FoundationDiscord{{discord, ""}, ""};
  s.foundation_webhook = FoundationWebhook{{"", "hook"}};
  auto secrets = LoadReceiverAlertSecrets(s, dir.Path("creds"));
  REQUIRE_MESSAGE(secrets.ok(), (secrets ? "" : secrets.error()));
  CHECK(secrets->telegram_token == "123456:AAF-s3cr3t");
  CHECK(secrets->foundation_discord_url == "https://discord.com/api/webhooks/77/h00k-s3cr3t");
  CHECK(secrets->foundation_webhook_url == "http://127.0.0.1:9/hook/x");
  REQUIRE(secrets->warnings.size() == 1);
  CHECK(secrets->warnings[0].find("chmod 600") != std::string::npos);
  // Without $CREDENTIALS_DIRECTORY, a wrong shape, a missing file: every problem, no secret.
  dir.WriteFile("telegram.token", "not a token s3cr3t\n", 0600);
  s.foundation_discord = FoundationDiscord{{dir.Path("missing.url"), ""}, ""};
  auto bad = LoadReceiverAlertSecrets(s, "");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().find("telegram.token: " + token) != std::string::npos);
  CHECK(bad.error().find("foundation.discord.webhook_url: ") != std::string::npos);
  CHECK(bad.error().find("$CREDENTIALS_DIRECTORY is not set") != std::string::npos);
  CHECK(bad.error().find("s3cr3t") == std::string::npos);
  // A directory, a large file.
  auto dir_error = ReadSecretFile(dir.path(), alerting::WebhookUrlFault, nullptr);
  CHECK(dir_error.error().find("is not a regular file") != std::string::npos);
  const std::string big = dir.WriteFile("big", std::string(5000, 'a'), 0600);
  CHECK(ReadSecretFile(big, alerting::WebhookUrlFault, nullptr).error().find("larger than 4 KiB") !=
        std::string::npos);
}

}  // namespace
}  // namespace fleet::receiver
