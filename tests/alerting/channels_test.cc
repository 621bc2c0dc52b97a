// The alert channels and the Telegram bot over a fake transport that records every request and
// plays canned replies: the URL, method, body and deadline of each call; every kind of reply
// (done, 429 by body and by header, 5xx, garbage, 401/403/404, 409 on getUpdates, Telegram's
// "message is not modified"); and transport errors turned into RetryLater with no secret in them,
// even when the transport's own text held the URL.
#include "alerting/channels.h"

#include <doctest/doctest.h>

#include <deque>
#include <nlohmann/json.hpp>

#include "alerting/discord_api.h"
#include "alerting/telegram_bot.h"
#include "alerting/webhook_api.h"

using namespace fleet;
using namespace fleet::alerting;
using json = nlohmann::json;

namespace {

constexpr char kToken[] = "123456:AAF-s3cr3t-t0ken";
constexpr char kApi[] = "http://127.0.0.1:8081";
constexpr char kWebhook[] = "https://discord.com/api/webhooks/1234/w3bh00k-s3cr3t-t0ken";
constexpr char kHook[] = "https://hooks.example.org/services/h00k-s3cr3t";

class FakeTransport final : public ChatTransport {
 public:
  Result<ChatReply> Exchange(const ChatRequest& request) override {
    requests.push_back(request);
    REQUIRE_MESSAGE(!replies.empty(), "an exchange nobody expected: ", request.url);
    Result<ChatReply> next = std::move(replies.front());
    replies.pop_front();
    return next;
  }
  void Reply(long status, std::string body, std::optional<double> reset_after = std::nullopt,
             std::optional<std::int64_t> retry_after = std::nullopt) {
    ChatReply reply;
    reply.status = status;
    reply.body = std::move(body);
    reply.reset_after = reset_after;
    reply.retry_after = retry_after;
    replies.emplace_back(std::move(reply));
  }
  void Fail(std::string error) { replies.emplace_back(Error{std::move(error)}); }

  std::vector<ChatRequest> requests;
  std::deque<Result<ChatReply>> replies;
};

Alert Firing() {
  Alert a;
  a.key = "vps-fra-03/1/17";
  a.node = "vps-fra-03";
  a.checks.push_back({"tmux", Severity::kCritical, "session BURN2 is gone", "tmux new -d"});
  a.opened = 1764064800;
  return a;
}

std::string Message(int id) {
  return json{{"ok", true},
              {"result", {{"message_id", id}, {"chat", {{"id", -100}}}, {"text", "x"}}}}
      .dump();
}

// Every way an error could carry a secret: the transport quoting the URL, the API echoing it.
void CheckNoSecret(const ApiAnswer& answer, std::string_view secret) {
  INFO(answer.error);
  CHECK_FALSE(answer.error.empty());
  CHECK(answer.error.find(secret) == std::string::npos);
}

}  // namespace

TEST_CASE("telegram channel: send posts sendMessage with the token in the path, done with its id") {
  FakeTransport transport;
  auto channel = MakeTelegramChannel(transport, kApi, kToken, "-1001234");
  CHECK(channel->kind() == "telegram");
  transport.Reply(200, Message(42));
  const ApiAnswer answer = channel->Send(Firing());
  CHECK(answer.verdict == ApiVerdict::kDone);
  CHECK(answer.message_id == "42");
  REQUIRE(transport.requests.size() == 1);
  const ChatRequest& request = transport.requests[0];
  CHECK(request.method == "POST");
  CHECK(request.url == std::string(kApi) + "/bot" + kToken + "/sendMessage");
  CHECK(request.timeout == std::chrono::milliseconds(0));  // the transport's own
  const json body = json::parse(request.body);
  CHECK(body["chat_id"] == -1001234);
  CHECK(body["parse_mode"] == "HTML");
  CHECK(std::string(body["text"]).find("session BURN2 is gone") != std::string::npos);
  CHECK(body["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "ack:vps-fra-03/1/17");
}

TEST_CASE("telegram channel: edit sends editMessageText; 'not modified' is done, other 400s not") {
  FakeTransport transport;
  auto channel = MakeTelegramChannel(transport, kApi, kToken, "-1001234");
  Alert acked = Firing();
  acked.state = AlertState::kAcknowledged;
  acked.acked_by = "@alice";
  transport.Reply(200, Message(42));
  ApiAnswer answer = channel->Edit("42", acked);
  CHECK(answer.verdict == ApiVerdict::kDone);
  CHECK(answer.message_id == "42");
  REQUIRE(transport.requests.size() == 1);
  CHECK(transport.requests[0].url == std::string(kApi) + "/bot" + kToken + "/editMessageText");
  const json body = json::parse(transport.requests[0].body);
  CHECK(body["message_id"] == 42);
  CHECK(std::string(body["text"]).find("Acknowledged by @alice") != std::string::npos);
  CHECK(body["reply_markup"]["inline_keyboard"].empty());  // the button goes

  transport.Reply(400,
                  R"({"ok":false,"error_code":400,"description":"Bad Request: message is )"
                  R"(not modified: specified new message content and reply markup are )"
                  R"(exactly the same as a current content and reply markup of the message"})");
  answer = channel->Edit("42", acked);
  CHECK(answer.verdict == ApiVerdict::kDone);
  CHECK(answer.message_id == "42");
  CHECK(answer.error.empty());
  CHECK(answer.http_status == 400);  // what the API said, though it means done

  transport.Reply(400, R"({"ok":false,"error_code":400,)"
                       R"("description":"Bad Request: message to edit not found"})");
  answer = channel->Edit("43", acked);
  CHECK(answer.verdict == ApiVerdict::kRefused);
  CHECK(answer.error.find("message to edit not found") != std::string::npos);

  // No message id to edit (its send left none): a new message.
  transport.Reply(200, Message(44));
  answer = channel->Edit("", acked);
  CHECK(answer.verdict == ApiVerdict::kDone);
  CHECK(answer.message_id == "44");
  CHECK(transport.requests.back().url.ends_with("/sendMessage"));
}

TEST_CASE("telegram channel: 429 waits what parameters.retry_after says; 5xx and garbage retry") {
  FakeTransport transport;
  auto channel = MakeTelegramChannel(transport, kApi, kToken, "-1001234");
  transport.Reply(429, R"({"ok":false,"error_code":429,"description":"Too Many Requests: )"
                       R"(retry after 7","parameters":{"retry_after":7}})");
  ApiAnswer answer = channel->Send(Firing());
  CHECK(answer.verdict == ApiVerdict::kRateLimited);
  CHECK(answer.retry_after == std::chrono::seconds(7));
  for (auto [status, body] : {std::pair{502L, "<html>Bad Gateway</html>"},
                              std::pair{500L, R"({"ok":false,"error_code":500,"description":"x"})"},
                              std::pair{200L, "{\"ok\":tr"}, std::pair{200L, "[1,2]"}}) {
    INFO(status, " ", body);
    transport.Reply(status, body);
    answer = channel->Send(Firing());
    CHECK(answer.verdict == ApiVerdict::kRetryLater);
    CHECK_FALSE(answer.error.empty());
  }
}

TEST_CASE("telegram channel: 401, 403 and 404 are refused; the token is never in the error") {
  FakeTransport transport;
  auto channel = MakeTelegramChannel(transport, kApi, kToken, "-1001234");
  for (auto [status, description] :
       {std::pair{401L, "Unauthorized"}, std::pair{403L, "Forbidden: bot was kicked from the chat"},
        std::pair{404L, "Not Found"}, std::pair{400L, "Bad Request: chat not found"}}) {
    INFO(status);
    transport.Reply(status, json{{"ok", false},
                                 {"error_code", status},
                                 {"description", std::string(description) + " /bot" + kToken}}
                                .dump());
    const ApiAnswer answer = channel->Send(Firing());
    CHECK(answer.verdict == ApiVerdict::kRefused);
    CHECK(answer.http_status == status);
    CHECK(answer.error.find(description) != std::string::npos);
    CheckNoSecret(answer, kToken);
  }
  // A transport error is a retry later, its text redacted even if it quoted the URL.
  transport.Fail("timed out after 20 s reaching " + std::string(kApi) + "/bot" + kToken +
                 "/sendMessage");
  const ApiAnswer answer = channel->Send(Firing());
  CHECK(answer.verdict == ApiVerdict::kRetryLater);
  CHECK(answer.http_status == 0);  // no reply
  CHECK(answer.error.starts_with("telegram sendMessage: timed out after 20 s"));
  CheckNoSecret(answer, kToken);
}

TEST_CASE("telegram bot: getUpdates waits the poll's timeout plus a margin and reads presses") {
  FakeTransport transport;
  TelegramBot bot(transport, kApi, kToken);
  transport.Reply(200,
                  R"({"ok":true,"result":[{"update_id":900,"callback_query":{"id":"cb1",)"
                  R"("from":{"id":123,"is_bot":false,"first_name":"Alice","username":"alice"},)"
                  R"("message":{"message_id":5,"chat":{"id":-100}},"data":"ack:7"}}]})");
  TelegramBot::Polled polled = bot.Poll(899, 30);
  CHECK(polled.answer.verdict == ApiVerdict::kDone);
  REQUIRE(polled.updates.presses.size() == 1);
  CHECK(polled.updates.presses[0].user_id == 123);
  CHECK(polled.updates.presses[0].user_name == "@alice");
  CHECK(polled.updates.presses[0].data == "ack:7");
  CHECK(polled.updates.next_offset == 901);
  REQUIRE(transport.requests.size() == 1);
  CHECK(transport.requests[0].url == std::string(kApi) + "/bot" + kToken + "/getUpdates");
  CHECK(transport.requests[0].timeout == std::chrono::seconds(40));
  const json body = json::parse(transport.requests[0].body);
  CHECK(body["offset"] == 899);
  CHECK(body["timeout"] == 30);
  CHECK(body["allowed_updates"] == json::array({"callback_query"}));

  // A done reply without the list is not the API's: retry later.
  transport.Reply(200, R"({"ok":true,"result":{"not":"a list"}})");
  polled = bot.Poll(901, 30);
  CHECK(polled.answer.verdict == ApiVerdict::kRetryLater);
  CHECK(polled.updates.presses.empty());
}

TEST_CASE("telegram bot: 409 on getUpdates is a conflict, said clearly; errors redacted") {
  FakeTransport transport;
  TelegramBot bot(transport, kApi, kToken);
  transport.Reply(409,
                  R"({"ok":false,"error_code":409,"description":"Conflict: terminated by )"
                  R"(other getUpdates request; make sure that only one bot instance is running"})");
  TelegramBot::Polled polled = bot.Poll(0, 30);
  CHECK(polled.answer.verdict == ApiVerdict::kConflict);
  CHECK(polled.answer.error.find("another getUpdates poller") != std::string::npos);
  transport.Fail(std::string("connection refused: ") + kToken);
  polled = bot.Poll(0, 30);
  CHECK(polled.answer.verdict == ApiVerdict::kRetryLater);
  CheckNoSecret(polled.answer, kToken);
}

TEST_CASE("telegram bot: a press is answered with answerCallbackQuery") {
  FakeTransport transport;
  TelegramBot bot(transport, kApi, kToken);
  transport.Reply(200, R"({"ok":true,"result":true})");
  CHECK(bot.Answer("cb1", "Acknowledged").verdict == ApiVerdict::kDone);
  REQUIRE(transport.requests.size() == 1);
  CHECK(transport.requests[0].url.ends_with("/answerCallbackQuery"));
  const json body = json::parse(transport.requests[0].body);
  CHECK(body["callback_query_id"] == "cb1");
  CHECK(body["text"] == "Acknowledged");
}

TEST_CASE("discord channel: send waits for the message; edit patches it") {
  FakeTransport transport;
  auto channel = MakeDiscordChannel(transport, kWebhook);
  CHECK(channel->kind() == "discord");
  transport.Reply(200, R"({"id":"1100000000000000001","type":0,"embeds":[]})");
  ApiAnswer answer = channel->Send(Firing());
  CHECK(answer.verdict == ApiVerdict::kDone);
  CHECK(answer.message_id == "1100000000000000001");
  REQUIRE(transport.requests.size() == 1);
  CHECK(transport.requests[0].method == "POST");
  CHECK(transport.requests[0].url == std::string(kWebhook) + "?wait=true");
  json body = json::parse(transport.requests[0].body);
  CHECK(body["allowed_mentions"]["parse"].empty());
  CHECK(body["embeds"][0]["color"] == kDiscordCritical);

  Alert resolved = Firing();
  resolved.state = AlertState::kResolved;
  resolved.resolved = 1764066600;
  transport.Reply(200, R"({"id":"1100000000000000001","type":0})");
  answer = channel->Edit("1100000000000000001", resolved);
  CHECK(answer.verdict == ApiVerdict::kDone);
  CHECK(answer.message_id == "1100000000000000001");
  REQUIRE(transport.requests.size() == 2);
  CHECK(transport.requests[1].method == "PATCH");
  CHECK(transport.requests[1].url == std::string(kWebhook) + "/messages/1100000000000000001");
  body = json::parse(transport.requests[1].body);
  CHECK(body["embeds"][0]["color"] == kDiscordResolved);
}

TEST_CASE("discord channel: 429 by body, by X-RateLimit-Reset-After, by Retry-After") {
  FakeTransport transport;
  auto channel = MakeDiscordChannel(transport, kWebhook);
  transport.Reply(429,
                  R"({"message":"You are being rate limited.","retry_after":1.5,"global":false})");
  ApiAnswer answer = channel->Send(Firing());
  CHECK(answer.verdict == ApiVerdict::kRateLimited);
  CHECK(answer.retry_after == std::chrono::milliseconds(1500));
  transport.Reply(429, "<html>slow down</html>", 2.25);
  answer = channel->Send(Firing());
  CHECK(answer.verdict == ApiVerdict::kRateLimited);
  CHECK(answer.retry_after == std::chrono::milliseconds(2250));
  transport.Reply(429, "", std::nullopt, 3);
  answer = channel->Send(Firing());
  CHECK(answer.verdict == ApiVerdict::kRateLimited);
  CHECK(answer.retry_after == std::chrono::seconds(3));
}

TEST_CASE("discord channel: 5xx retries, 401/403/404 refused, the webhook never in an error") {
  FakeTransport transport;
  auto channel = MakeDiscordChannel(transport, kWebhook);
  transport.Reply(503, "upstream connect error");
  CHECK(channel->Send(Firing()).verdict == ApiVerdict::kRetryLater);
  for (long status : {401L, 403L, 404L}) {
    INFO(status);
    transport.Reply(status, R"({"message":"Unknown Webhook","code":10015})");
    const ApiAnswer answer = channel->Send(Firing());
    CHECK(answer.verdict == ApiVerdict::kRefused);
    CHECK(answer.error.find("webhook_url_file") != std::string::npos);
  }
  transport.Fail(std::string("could not connect to ") + kWebhook + "?wait=true");
  ApiAnswer answer = channel->Send(Firing());
  CHECK(answer.verdict == ApiVerdict::kRetryLater);
  CheckNoSecret(answer, "w3bh00k-s3cr3t-t0ken");
  transport.Fail("the API said: w3bh00k-s3cr3t-t0ken is odd");  // the token alone
  answer = channel->Send(Firing());
  CheckNoSecret(answer, "w3bh00k-s3cr3t-t0ken");
}

TEST_CASE("webhook channel: posts the documented body; an edit posts the new state again") {
  FakeTransport transport;
  auto channel = MakeWebhookChannel(transport, kHook);
  CHECK(channel->kind() == "webhook");
  transport.Reply(204, "");
  ApiAnswer answer = channel->Send(Firing());
  CHECK(answer.verdict == ApiVerdict::kDone);
  CHECK(answer.message_id.empty());
  Alert acked = Firing();
  acked.state = AlertState::kAcknowledged;
  acked.acked_by = "@alice";
  transport.Reply(200, "ok");
  CHECK(channel->Edit("", acked).verdict == ApiVerdict::kDone);
  REQUIRE(transport.requests.size() == 2);
  for (const ChatRequest& request : transport.requests) {
    CHECK(request.method == "POST");
    CHECK(request.url == kHook);
  }
  CHECK(transport.requests[0].body == WebhookBody(Firing()));
  CHECK(json::parse(transport.requests[1].body)["fleet"]["state"] == "acknowledged");
}

TEST_CASE("webhook channel: 429 with Retry-After, 5xx retry, 4xx refused, errors redacted") {
  FakeTransport transport;
  auto channel = MakeWebhookChannel(transport, kHook);
  transport.Reply(429, "", std::nullopt, 9);
  ApiAnswer answer = channel->Send(Firing());
  CHECK(answer.verdict == ApiVerdict::kRateLimited);
  CHECK(answer.retry_after == std::chrono::seconds(9));
  transport.Reply(500, "");
  CHECK(channel->Send(Firing()).verdict == ApiVerdict::kRetryLater);
  transport.Reply(404, "");
  CHECK(channel->Send(Firing()).verdict == ApiVerdict::kRefused);
  transport.Fail(std::string("reply larger than 1 MiB from ") + kHook);
  answer = channel->Send(Firing());
  CHECK(answer.verdict == ApiVerdict::kRetryLater);
  CHECK(answer.error.starts_with("webhook: reply larger than 1 MiB"));
  CheckNoSecret(answer, "h00k-s3cr3t");
}
