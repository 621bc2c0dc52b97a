// What a channel's secret must look like once read from its file: the file's text (trimmed,
// one line), a Telegram bot token, a Discord webhook URL, a webhook URL; and no fault ever
// holds the secret.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "alerting/secret_rules.h"

using namespace fleet::alerting;

namespace {

constexpr char kToken[] = "123456789:AAH-s3cr3t_T0ken";
constexpr char kWebhook[] = "https://discord.com/api/webhooks/1234567890/s3cr3t-T0ken_x";

std::string FileFault(std::string_view text) {
  auto secret = SecretFromFileText(text);
  REQUIRE_FALSE(secret.ok());
  return secret.error();
}

}  // namespace

TEST_CASE("a secret file's text: trimmed, one line, not empty") {
  CHECK(SecretFromFileText(std::string(kToken) + "\n").value() == kToken);
  CHECK(SecretFromFileText(std::string("  ") + kToken + "\r\n\n").value() == kToken);
  CHECK(SecretFromFileText(std::string("\xEF\xBB\xBF") + kToken + "\r\n").value() == kToken);
  CHECK(SecretFromFileText("a b").value() == "a b");  // the shape check refuses it later

  CHECK(FileFault("") == "is empty (write the secret on one line)");
  CHECK(FileFault(" \n\t\r\n") == "is empty (write the secret on one line)");
  CHECK(FileFault("\xEF\xBB\xBF\n") == "is empty (write the secret on one line)");
  CHECK(FileFault("123:abc\n456:def\n").starts_with("holds more than one line"));
  CHECK(FileFault("123:abc\r456:def").starts_with("holds more than one line"));
  CHECK(FileFault(std::string("123:a\0bc", 8)) == "holds a control character");
  CHECK(FileFault("123:a\x1b[2Jbc") == "holds a control character");
  CHECK(FileFault("123:abc\x7F") == "holds a control character");
}

TEST_CASE("a Telegram bot token: digits, ':', then [A-Za-z0-9_-]") {
  CHECK_FALSE(TelegramTokenFault(kToken));
  CHECK_FALSE(TelegramTokenFault("1:a"));
  const std::vector<std::string> not_tokens{
      "",        "AAH-s3cr3t", ":AAH",       "12a:AAH",
      "-12:AAH", "123456789",  "123456789:", std::string(21, '1') + ":a"};
  for (const auto& token : not_tokens) {
    INFO(token);
    auto fault = TelegramTokenFault(token);
    REQUIRE(fault.has_value());
    CHECK(fault->starts_with("does not hold a Telegram bot token"));
  }
  // Whatever would change the URL path /bot<token>/<method> is refused.
  for (const char* token : {"123:ab/../sendMessage", "123:ab?x=1", "123:ab#x", "123:a%2Fb",
                            "123:ab:cd", "123:a.b", "123:ab\xC3\xA9"}) {
    INFO(token);
    auto fault = TelegramTokenFault(token);
    REQUIRE(fault.has_value());
    CHECK(fault->starts_with("holds a character a bot token never has"));
  }
  for (const char* token : {"123:ab cd", "123:ab\tcd"}) {
    auto fault = TelegramTokenFault(token);
    REQUIRE(fault.has_value());
    CHECK(fault->starts_with("holds whitespace inside the token"));
  }
  CHECK(TelegramTokenFault("123:" + std::string(257, 'a')).has_value());
}

TEST_CASE("a Discord webhook URL: Discord's own, unless the channel has an api_base") {
  for (const char* url : {kWebhook, "https://discordapp.com/api/webhooks/1/t",
                          "https://ptb.discord.com/api/webhooks/1/t",
                          "https://canary.discord.com/api/v10/webhooks/1/t",
                          "https://discord.com/api/webhooks/1/t?thread_id=99"}) {
    INFO(url);
    CHECK_FALSE(DiscordWebhookUrlFault(url, false));
  }
  for (const char* url :
       {"https://discord.com.evil.example/api/webhooks/1/t",
        "https://evil.example/api/webhooks/1/t", "https://discord.com/api/webhooks/1",
        "https://discord.com/api/webhooks/x/t", "https://discord.com/api/webhooks/1/t/extra",
        "https://discord.com/api/webhooks/1/t/", "https://discord.com/api/vx/webhooks/1/t",
        "https://discord.com/webhooks/1/t", "https://discord.com/api/webhooks/1/t%2F",
        "http://127.0.0.1/api/webhooks/1/t"}) {
    INFO(url);
    auto fault = DiscordWebhookUrlFault(url, false);
    REQUIRE(fault.has_value());
    CHECK(fault->starts_with("does not hold a Discord webhook URL"));
  }
  CHECK(*DiscordWebhookUrlFault("http://discord.com/api/webhooks/1/t", false) ==
        "holds a URL that is plain http to another machine (http:// is only for a loopback "
        "address)");
  CHECK(*DiscordWebhookUrlFault("https://u:p@discord.com/api/webhooks/1/t", false) ==
        "holds a URL that is not a plain URL (no spaces, user names or fragments)");
  CHECK(DiscordWebhookUrlFault("discord.com/api/webhooks/1/t", false).has_value());

  // With an api_base of its own (a fake on loopback, a proxy): any URL under the rules.
  CHECK_FALSE(DiscordWebhookUrlFault("http://127.0.0.1:8080/api/webhooks/1/t", true));
  CHECK_FALSE(DiscordWebhookUrlFault("https://hooks.example.org/x?y=1", true));
  CHECK(DiscordWebhookUrlFault("http://hooks.example.org/x", true).has_value());
  CHECK(DiscordWebhookUrlFault("https://hooks.example.org/x#y", true).has_value());
}

TEST_CASE("a webhook URL: http(s) with the loopback rule; path, query and user info allowed") {
  CHECK_FALSE(WebhookUrlFault("https://hooks.example.org/alert?token=abc"));
  CHECK_FALSE(WebhookUrlFault("https://user:pw@hooks.example.org/alert"));
  CHECK_FALSE(WebhookUrlFault("http://localhost:9093/api/v2/alerts"));
  CHECK(*WebhookUrlFault("http://hooks.example.org/alert") ==
        "holds a URL that is plain http to another machine (http:// is only for a loopback "
        "address)");
  CHECK(*WebhookUrlFault("http://127.0.0.1@hooks.example.org/") ==
        "holds a URL that is plain http to another machine (http:// is only for a loopback "
        "address)");
  CHECK(*WebhookUrlFault("hooks.example.org") == "holds a URL that is not an https:// URL");
  CHECK(*WebhookUrlFault("https://hooks.example.org/a b") ==
        "holds a URL that is not a plain URL (no spaces or fragments)");
}

TEST_CASE("no fault holds the secret or a part of it") {
  const std::string secret_part = "s3cr3t";
  std::vector<std::string> faults;
  for (const char* token : {"12a:AAH-s3cr3t", "123:AAH-s3cr3t/x", "123:AAH s3cr3t", "s3cr3t"}) {
    faults.push_back(TelegramTokenFault(token).value_or("(accepted)"));
  }
  for (const char* url :
       {"http://example.org/api/webhooks/1/s3cr3t", "https://example.org/api/webhooks/1/s3cr3t",
        "https://discord.com/api/webhooks/1/s3cr3t#x",
        "https://s3cr3t@discord.com/api/webhooks/1/t", "ftp://discord.com/s3cr3t"}) {
    faults.push_back(DiscordWebhookUrlFault(url, false).value_or("(accepted)"));
    faults.push_back(WebhookUrlFault(url).value_or("(accepted)"));
  }
  for (const char* text : {"s3cr3t\ns3cr3t", "s3cr3t\x01"}) {
    auto secret = SecretFromFileText(text);
    faults.push_back(secret.ok() ? "(accepted)" : secret.error());
  }
  for (const auto& fault : faults) {
    INFO(fault);
    CHECK(fault.find(secret_part) == std::string::npos);
  }
}
