// Discord webhooks as fleet-agent speaks them: the send and edit URLs (a webhook's own query
// kept), the embed (colour by state, markdown escaped, cut to the embed limits, no mention
// possible), and every kind of reply (the message, 429 by body or header, 404 deleted
// webhook, 401/403, 5xx, garbage); and secrets redacted from any error text.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "alerting/discord_api.h"

using namespace fleet::alerting;
using json = nlohmann::json;

namespace {

constexpr char kWebhook[] = "https://discord.com/api/webhooks/1234/s3cr3t-t0ken";

Alert Firing() {
  Alert a;
  a.key = "vps-fra-03/1/17";
  a.node = "vps-fra-03";
  a.checks.push_back({"cron", Severity::kCritical, "", ""});
  a.checks[0].summary = "job daily-report failed: Timeout";
  a.opened = 1764064800;
  return a;
}

json Embed(const Alert& a) {
  const json body = json::parse(DiscordBody(a));
  REQUIRE(body["embeds"].size() == 1);
  return body["embeds"][0];
}

}  // namespace

TEST_CASE("discord: send waits for the message; edits go to the message, queries kept") {
  CHECK(DiscordSendUrl(kWebhook) == std::string(kWebhook) + "?wait=true");
  CHECK(DiscordSendUrl(std::string(kWebhook) + "?thread_id=99") ==
        std::string(kWebhook) + "?thread_id=99&wait=true");
  CHECK(DiscordMessageUrl(kWebhook, "1100") == std::string(kWebhook) + "/messages/1100");
  CHECK(DiscordMessageUrl(std::string(kWebhook) + "/?thread_id=99", "1100") ==
        std::string(kWebhook) + "/messages/1100?thread_id=99");
}

TEST_CASE("discord: one embed coloured by state, and nobody can be pinged") {
  Alert a = Firing();
  a.checks[0].summary = "@everyone @here <@123> job failed";
  const json body = json::parse(DiscordBody(a));
  CHECK(body["allowed_mentions"] == json{{"parse", json::array()}});
  CHECK_FALSE(body.contains("content"));  // embeds only: content is where mentions ping
  const json embed = body["embeds"][0];
  CHECK(embed["title"] == "CRITICAL: cron on vps-fra-03");
  CHECK(embed["color"] == kDiscordCritical);
  CHECK(embed["timestamp"] == "2025-11-25T10:00:00Z");
  // The words stay (the operator should see what the node said); they mention no one.
  CHECK(embed["description"].get<std::string>().starts_with("@everyone @here <@123\\> job failed"));

  a.severity = Severity::kWarning;
  CHECK(Embed(a)["color"] == kDiscordWarning);
  a.state = AlertState::kAcknowledged;
  CHECK(Embed(a)["color"] == kDiscordAcknowledged);
  a.state = AlertState::kFlapping;
  CHECK(Embed(a)["color"] == kDiscordFlapping);
  a.state = AlertState::kResolved;
  a.resolved = a.opened + 90;
  const json resolved = Embed(a);
  CHECK(resolved["color"] == kDiscordResolved);
  CHECK(resolved["description"].get<std::string>().find("after 1m 30s") != std::string::npos);
}

TEST_CASE("discord: node text cannot format the message, and fits the embed limits") {
  Alert a = Firing();
  a.node = "**bold** _it_ `code` ||spoiler|| > quote # head [link](http://x) \\";
  const std::string title = Embed(a)["title"];
  CHECK(title.find("\\*\\*bold\\*\\*") != std::string::npos);
  CHECK(title.find("\\|\\|spoiler\\|\\|") != std::string::npos);
  CHECK(title.find("\\[link\\](http://x)") != std::string::npos);
  CHECK(EscapeDiscordMarkdown("a*b") == "a\\*b");

  std::string huge;
  while (huge.size() < 100'000) huge += "\xE6\x97\xA5";  // 3-byte characters
  a.node = huge;
  a.checks[0].summary = huge;
  a.checks[0].fix = huge;
  const json embed = Embed(a);
  CHECK(embed["title"].get<std::string>().size() <= 256);
  CHECK(embed["description"].get<std::string>().size() <= 4096);
  // Cut on characters: strict dumping would throw on a split one.
  CHECK_NOTHROW((void)embed.dump(-1, ' ', false, json::error_handler_t::strict));
}

TEST_CASE("discord: the message id comes back; rate limits by body or header") {
  const ApiAnswer sent = ReadDiscordAnswer(200, R"({"id":"1100","channel_id":"9"})", std::nullopt);
  CHECK(sent.verdict == ApiVerdict::kDone);
  CHECK(sent.message_id == "1100");
  CHECK(ReadDiscordAnswer(204, "", std::nullopt).verdict == ApiVerdict::kDone);

  const ApiAnswer limited = ReadDiscordAnswer(
      429, R"({"message":"You are being rate limited.","retry_after":1.5,"global":false})", 9.0);
  CHECK(limited.verdict == ApiVerdict::kRateLimited);
  CHECK(limited.retry_after == std::chrono::milliseconds(1500));  // the body's, first
  CHECK(limited.error == "discord: HTTP 429 You are being rate limited.");
  CHECK(ReadDiscordAnswer(429, "rate limited", 2.25).retry_after ==
        std::chrono::milliseconds(2250));
  CHECK(ReadDiscordAnswer(429, "{}", 3.0).retry_after == std::chrono::seconds(3));
  CHECK(ReadDiscordAnswer(429, "", std::nullopt).retry_after == std::chrono::seconds(5));
  CHECK(ReadDiscordAnswer(429, R"({"retry_after":99999})", std::nullopt).retry_after ==
        kMaxRetryAfter);
}

TEST_CASE("discord: a deleted or refused webhook is one clear error; 5xx and garbage retry") {
  const ApiAnswer gone =
      ReadDiscordAnswer(404, R"({"message":"Unknown Webhook","code":10015})", std::nullopt);
  CHECK(gone.verdict == ApiVerdict::kRefused);
  CHECK(gone.error ==
        "discord: HTTP 404 Unknown Webhook (the webhook or its message no longer "
        "exists: check webhook_url_file)");
  CHECK(ReadDiscordAnswer(401, R"({"message":"Invalid Webhook Token"})", std::nullopt).verdict ==
        ApiVerdict::kRefused);
  CHECK(ReadDiscordAnswer(403, "", std::nullopt).verdict == ApiVerdict::kRefused);
  CHECK(ReadDiscordAnswer(400, R"({"message":"Invalid Form Body"})", std::nullopt).verdict ==
        ApiVerdict::kRefused);
  CHECK(ReadDiscordAnswer(502, "<html>bad gateway</html>", std::nullopt).verdict ==
        ApiVerdict::kRetryLater);
  CHECK(ReadDiscordAnswer(0, "", std::nullopt).verdict == ApiVerdict::kRetryLater);
  // The webhook URL is never part of an error, whatever the reply says.
  const ApiAnswer noisy = ReadDiscordAnswer(400, R"({"message":"a\nb"})", std::nullopt);
  CHECK(noisy.error == "discord: HTTP 400 a b");
}

TEST_CASE("secrets are redacted from error text, every time they occur") {
  CHECK(RedactSecret("POST https://api.telegram.org/bot123:ABC/sendMessage: 123:ABC failed",
                     "123:ABC") ==
        "POST https://api.telegram.org/bot<redacted>/sendMessage: <redacted> failed");
  CHECK(RedactSecret("nothing here", "123:ABC") == "nothing here");
  CHECK(RedactSecret("empty secret", "") == "empty secret");
  CHECK(RedactSecret("aaaa", "aa") == "<redacted><redacted>");
}
