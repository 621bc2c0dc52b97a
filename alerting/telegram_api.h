// TelegramApi: the Bot API calls fleet-agent and fleet-receiver make, as data (the HTTP is
// the caller's): POST <api_base>/bot<token>/<method> with a JSON body. An alert goes out
// with sendMessage (parse_mode HTML, every value escaped; while it fires, an inline
// "Acknowledge" button whose callback_data names the alert, at most 64 bytes), is updated
// with editMessageText (who acknowledged and when, or resolved: the button goes), and a
// press is answered with answerCallbackQuery. Presses arrive by getUpdates long polling
// (offset, timeout, allowed_updates ["callback_query"]); ReadUpdates turns its result into
// ButtonPresses and the offset of the next poll. ReadTelegramAnswer reads any method's
// reply (ok/result, or error_code/description/parameters.retry_after) into an ApiAnswer.
// Every reader is total: garbage, truncated or foreign JSON is a RetryLater with a reason,
// never an exception. Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "alerting/alert.h"
#include "alerting/api_answer.h"
#include "base/result.h"

namespace fleet::alerting {

inline constexpr std::string_view kTelegramApiBase = "https://api.telegram.org";
inline constexpr std::size_t kMaxCallbackData = 64;  // bytes, the Bot API's limit

struct TelegramCall {
  std::string method;  // "sendMessage", ...
  std::string body;    // JSON
};

// <api_base>/bot<token>/<method> (api_base without a trailing slash).
std::string TelegramUrl(std::string_view api_base, std::string_view token, std::string_view method);

// Text for parse_mode HTML: &, < and > as entities (the Bot API needs no other escape).
std::string EscapeHtml(std::string_view text);
// The alert's message text, HTML.
std::string TelegramText(const Alert& alert);

// The button's callback_data for an alert key; nullopt when the key does not fit in 64 bytes.
std::optional<std::string> AckCallbackData(std::string_view alert_key);
// The alert key a button press names; nullopt for callback data that is not ours.
std::optional<std::string> AlertKeyOf(std::string_view callback_data);

TelegramCall SendAlert(std::string_view chat_id, const Alert& alert);
TelegramCall EditAlert(std::string_view chat_id, std::string_view message_id, const Alert& alert);
// The small notice the presser sees ("Acknowledged", "You may not acknowledge this alert").
TelegramCall AnswerButton(std::string_view callback_query_id, std::string_view notice);
TelegramCall PollButtons(std::int64_t offset, int timeout_seconds);

ApiAnswer ReadTelegramAnswer(long http_status, std::string_view body);

struct ButtonPress {
  std::string callback_query_id;  // for answerCallbackQuery
  std::int64_t user_id = 0;       // who pressed (checked against `ackers`)
  std::string user_name;          // @username, else first name, else the id
  std::string chat_id;
  std::string message_id;
  std::string data;  // callback_data
};
struct Updates {
  std::vector<ButtonPress> presses;
  std::int64_t next_offset = 0;  // the highest update_id seen + 1 (0: none seen)
};
// The result of a getUpdates call that ReadTelegramAnswer said was done. Updates that are
// not button presses (or lack their fields) are skipped, their ids still counted, so a
// foreign update can never block the poll.
Result<Updates> ReadUpdates(std::string_view body);

}  // namespace fleet::alerting
