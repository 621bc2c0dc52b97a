// The Telegram Bot API as fleet-agent speaks it: message text escaped for HTML, the
// Acknowledge button within callback_data's 64 bytes, the calls' bodies, every kind of
// reply (ok, 429 with retry_after, 409, 401/400/403/404, 5xx, a migrated group, garbage,
// truncated, foreign JSON) and getUpdates results with foreign and partial updates.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "alerting/telegram_api.h"

using namespace fleet::alerting;
using json = nlohmann::json;

namespace {

Alert Firing() {
  Alert a;
  a.key = "vps-fra-03/1/17";
  a.node = "vps-fra-03";
  a.checks.push_back({"tmux", Severity::kCritical, "", ""});
  a.checks[0].summary = "session BURN2 is gone";
  a.checks[0].fix = "tmux new -d -s BURN2 'hermes chat --yolo'";
  a.opened = 1764064800;  // 2025-11-25T10:00:00Z
  return a;
}

json Body(const TelegramCall& call) { return json::parse(call.body); }

}  // namespace

TEST_CASE("telegram: the URL carries the token; the base may end in a slash") {
  CHECK(TelegramUrl("https://api.telegram.org", "123:ABC", "sendMessage") ==
        "https://api.telegram.org/bot123:ABC/sendMessage");
  CHECK(TelegramUrl("http://127.0.0.1:8081/", "t", "getUpdates") ==
        "http://127.0.0.1:8081/bott/getUpdates");
}

TEST_CASE("telegram: node text is escaped for HTML, so it cannot make markup") {
  CHECK(EscapeHtml("a<b>&c</b>") == "a&lt;b&gt;&amp;c&lt;/b&gt;");
  Alert a = Firing();
  a.node = "<script>alert(1)</script>";
  a.checks[0].summary = "cron error: <a href=\"http://evil\">click</a> & more";
  const std::string text = TelegramText(a);
  CHECK(text.find("<script>") == std::string::npos);
  CHECK(text.find("<a href") == std::string::npos);
  CHECK(text.find("&lt;script&gt;alert(1)&lt;/script&gt;") != std::string::npos);
  CHECK(text.find("&amp; more") != std::string::npos);
  CHECK(text.starts_with("<b>CRITICAL: tmux on &lt;script&gt;"));  // our own markup stays
}

TEST_CASE("telegram: a firing alert goes out with one Acknowledge button naming it") {
  const json body = Body(SendAlert("-1001234", Firing()));
  CHECK(body["chat_id"] == -1001234);  // a numeric chat id goes as a number
  CHECK(body["parse_mode"] == "HTML");
  const std::string text = body["text"];
  CHECK(text.find("session BURN2 is gone") != std::string::npos);
  CHECK(text.find("Fix: tmux new -d -s BURN2 'hermes chat --yolo'") != std::string::npos);
  CHECK(text.find("Opened 2025-11-25T10:00:00Z") != std::string::npos);
  const json button = body["reply_markup"]["inline_keyboard"][0][0];
  CHECK(button["text"] == "Acknowledge");
  CHECK(button["callback_data"] == "ack:vps-fra-03/1/17");
  CHECK(AlertKeyOf(button["callback_data"].get<std::string>()) == "vps-fra-03/1/17");
  CHECK(Body(SendAlert("@fleet_alerts", Firing()))["chat_id"] == "@fleet_alerts");
}

TEST_CASE("telegram: callback data stays within 64 bytes, and only ours is read") {
  CHECK(AckCallbackData(std::string(60, 'k')).value().size() == 64);
  CHECK_FALSE(AckCallbackData(std::string(61, 'k')).has_value());
  CHECK_FALSE(AckCallbackData("").has_value());
  Alert long_key = Firing();
  long_key.key = std::string(100, 'k');
  // No button rather than a button Telegram refuses (the whole message with it).
  CHECK_FALSE(Body(SendAlert("1", long_key)).contains("reply_markup"));
  CHECK_FALSE(AlertKeyOf("ack:").has_value());
  CHECK_FALSE(AlertKeyOf("other:1").has_value());
  CHECK_FALSE(AlertKeyOf("").has_value());
  CHECK_FALSE(AlertKeyOf("ack:" + std::string(61, 'k')).has_value());
}

TEST_CASE("telegram: an edit shows who acknowledged and drops the button; resolved says how long") {
  Alert a = Firing();
  a.state = AlertState::kAcknowledged;
  a.acked_by = "@ana";
  a.acked_at = a.opened + 240;
  const json acked = Body(EditAlert("-1001234", "42", a));
  CHECK(acked["message_id"] == 42);
  CHECK(acked["reply_markup"]["inline_keyboard"].empty());
  const std::string text = acked["text"];
  CHECK(text.starts_with("<b>ACKNOWLEDGED: tmux on vps-fra-03</b>"));
  CHECK(text.find("Acknowledged by @ana at 2025-11-25T10:04:00Z") != std::string::npos);

  a.state = AlertState::kResolved;
  a.resolved = a.opened + 372;
  const std::string resolved = Body(EditAlert("-1001234", "42", a))["text"];
  CHECK(resolved.starts_with("<b>RESOLVED: tmux on vps-fra-03</b>"));
  CHECK(resolved.find("after 6m 12s") != std::string::npos);
  CHECK(resolved.find("Fix:") == std::string::npos);  // nothing to fix any more
}

TEST_CASE("telegram: reminders and tests say so") {
  Alert a = Firing();
  a.reminder = true;
  CHECK(TelegramText(a).starts_with("<b>Reminder: CRITICAL: tmux"));
  a.test = true;
  CHECK(TelegramText(a).starts_with("<b>[test] Reminder: CRITICAL"));
  a = Firing();
  a.severity = Severity::kWarning;
  CHECK(TelegramText(a).starts_with("<b>WARNING: tmux"));
}

TEST_CASE("telegram: polling asks for button presses only, from the offset on") {
  const json first = Body(PollButtons(0, 50));
  CHECK(first["timeout"] == 50);
  CHECK(first["allowed_updates"] == json::array({"callback_query"}));
  CHECK_FALSE(first.contains("offset"));
  CHECK(Body(PollButtons(7001, 50))["offset"] == 7001);
  const json answer = Body(AnswerButton("q-1", "Acknowledged"));
  CHECK(answer == json{{"callback_query_id", "q-1"}, {"text", "Acknowledged"}});
}

TEST_CASE("telegram: a reply that went through gives the message id") {
  const ApiAnswer done =
      ReadTelegramAnswer(200, R"({"ok":true,"result":{"message_id":42,"chat":{"id":-1}}})");
  CHECK(done.verdict == ApiVerdict::kDone);
  CHECK(done.message_id == "42");
  CHECK(ReadTelegramAnswer(200, R"({"ok":true,"result":true})").verdict == ApiVerdict::kDone);
}

TEST_CASE("telegram: flood control is honoured as asked, within an hour") {
  const ApiAnswer limited = ReadTelegramAnswer(
      429, R"({"ok":false,"error_code":429,"description":"Too Many Requests: retry after 17",)"
           R"("parameters":{"retry_after":17}})");
  CHECK(limited.verdict == ApiVerdict::kRateLimited);
  CHECK(limited.retry_after == std::chrono::seconds(17));
  CHECK(limited.error == "telegram: 429 Too Many Requests: retry after 17");
  // Without parameters: a default wait, never none.
  CHECK(ReadTelegramAnswer(429, R"({"ok":false,"error_code":429})").retry_after ==
        std::chrono::seconds(5));
  CHECK(ReadTelegramAnswer(429, R"({"ok":false,"error_code":429,"parameters":{"retry_after":1e9}})")
            .retry_after == kMaxRetryAfter);
  CHECK(ReadTelegramAnswer(429, R"({"ok":false,"error_code":429,"parameters":{"retry_after":-5}})")
            .retry_after == std::chrono::seconds(0));
}

TEST_CASE("telegram: a second poller (409) is a conflict, said plainly") {
  const ApiAnswer conflict = ReadTelegramAnswer(
      409,
      R"({"ok":false,"error_code":409,"description":"Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"})");
  CHECK(conflict.verdict == ApiVerdict::kConflict);
  CHECK(conflict.error.find("Conflict: terminated by other getUpdates request") !=
        std::string::npos);
  CHECK(conflict.error.find("only one may run per token") != std::string::npos);
}

TEST_CASE("telegram: a bad token, a missing chat or a bad request is refused, not retried") {
  const ApiAnswer token =
      ReadTelegramAnswer(401, R"({"ok":false,"error_code":401,"description":"Unauthorized"})");
  CHECK(token.verdict == ApiVerdict::kRefused);
  CHECK(token.error == "telegram: 401 Unauthorized (the bot token is refused: check token_file)");
  CHECK(ReadTelegramAnswer(
            400, R"({"ok":false,"error_code":400,"description":"Bad Request: chat not found"})")
            .error == "telegram: 400 Bad Request: chat not found");
  CHECK(ReadTelegramAnswer(
            403, R"({"ok":false,"error_code":403,"description":"Forbidden: bot was kicked"})")
            .verdict == ApiVerdict::kRefused);
  CHECK(ReadTelegramAnswer(404, R"({"ok":false,"error_code":404,"description":"Not Found"})")
            .verdict == ApiVerdict::kRefused);
  const ApiAnswer migrated = ReadTelegramAnswer(
      400,
      R"({"ok":false,"error_code":400,"description":"Bad Request: group chat was upgraded to a supergroup chat","parameters":{"migrate_to_chat_id":-1009876543210}})");
  CHECK(migrated.verdict == ApiVerdict::kRefused);
  CHECK(migrated.error.find("set chat_id to it") != std::string::npos);
  CHECK(migrated.error.find("-1009876543210") != std::string::npos);
}

TEST_CASE("telegram: 5xx, garbage, truncated or foreign replies mean retry later") {
  CHECK(ReadTelegramAnswer(502, R"({"ok":false,"error_code":502,"description":"Bad Gateway"})")
            .verdict == ApiVerdict::kRetryLater);
  for (const char* reply : {"", "<html>502 Bad Gateway</html>", R"({"ok":tr)", "[]", "null",
                            R"({"result":{"message_id":1}})", R"({"ok":"true"})", "\xff\xfe"}) {
    CAPTURE(reply);
    const ApiAnswer a = ReadTelegramAnswer(200, reply);
    CHECK(a.verdict == ApiVerdict::kRetryLater);
    CHECK(a.error == "telegram: HTTP 200 with a reply that is not the Bot API's");
  }
  // A description with control characters and a great length becomes one short line.
  const ApiAnswer noisy = ReadTelegramAnswer(
      400,
      json{{"ok", false}, {"error_code", 400}, {"description", "a\nb\rc" + std::string(500, 'x')}}
          .dump());
  CHECK(noisy.error.find('\n') == std::string::npos);
  CHECK(noisy.error.size() < 260);
}

TEST_CASE("telegram: updates become button presses; the offset passes every update seen") {
  auto updates = ReadUpdates(R"({"ok":true,"result":[
    {"update_id":7000,"callback_query":{"id":"q-1","from":{"id":123456789,"is_bot":false,
      "first_name":"Ana","username":"ana"},"message":{"message_id":42,"chat":{"id":-1001234}},
      "data":"ack:vps-fra-03/1/17"}},
    {"update_id":7001,"message":{"message_id":5,"text":"hello"}},
    {"update_id":7002,"callback_query":{"id":"q-2","from":{"id":99,"first_name":"Bo"},
      "data":"ack:x"}},
    {"update_id":7003,"callback_query":{"id":"q-3","data":"ack:no-from"}},
    {"update_id":"7004"},
    "garbage",
    {"update_id":7005,"callback_query":{"id":"q-4","from":{"id":7},"data":"ack:y"}}]})");
  REQUIRE(updates.ok());
  CHECK(updates->next_offset == 7006);
  REQUIRE(updates->presses.size() == 3);
  const ButtonPress& ana = updates->presses[0];
  CHECK(ana.callback_query_id == "q-1");
  CHECK(ana.user_id == 123456789);
  CHECK(ana.user_name == "@ana");
  CHECK(ana.chat_id == "-1001234");
  CHECK(ana.message_id == "42");
  CHECK(ana.data == "ack:vps-fra-03/1/17");
  CHECK(updates->presses[1].user_name == "Bo");
  CHECK(updates->presses[1].message_id.empty());  // an old message Telegram no longer sends
  CHECK(updates->presses[2].user_name == "7");

  auto none = ReadUpdates(R"({"ok":true,"result":[]})");
  REQUIRE(none.ok());
  CHECK(none->next_offset == 0);
  CHECK(none->presses.empty());
  for (const char* bad : {"", "{", R"({"ok":true})", R"({"ok":true,"result":{}})", "[1,2]"}) {
    CAPTURE(bad);
    CHECK_FALSE(ReadUpdates(bad).ok());
  }
}
