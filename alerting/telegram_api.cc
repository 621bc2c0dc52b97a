#include "alerting/telegram_api.h"

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>

#include "alerting/alert_text.h"
#include "base/text.h"

namespace fleet::alerting {
namespace {

using json = nlohmann::json;

constexpr std::string_view kAckPrefix = "ack:";
constexpr std::size_t kMaxDescription = 200;

// A chat or message id as the API takes it: a number when it is one, else the text
// ("@channel").
json IdValue(std::string_view id) {
  std::int64_t n = 0;
  const auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), n);
  if (ec == std::errc() && end == id.data() + id.size() && !id.empty()) return n;
  return std::string(id);
}

json Keyboard(const Alert& alert) {
  auto data = AckCallbackData(alert.key);
  if (alert.state != AlertState::kFiring || !data)
    return json::object({{"inline_keyboard", json::array()}});
  return {{"inline_keyboard",
           json::array({json::array({{{"text", "Acknowledge"}, {"callback_data", *data}}})})}};
}

std::string Dump(const json& body) {
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

// One line of the API's own description, printable, cut.
std::string OneLine(std::string text) {
  std::replace_if(
      text.begin(), text.end(),
      [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }, ' ');
  return TruncateUtf8(text, kMaxDescription);
}

}  // namespace

std::string TelegramUrl(std::string_view api_base, std::string_view token,
                        std::string_view method) {
  std::string base(api_base);
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + "/bot" + std::string(token) + "/" + std::string(method);
}

std::string EscapeHtml(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string TelegramText(const Alert& alert) {
  const AlertText text = TextOf(alert);
  std::string out = "<b>" + EscapeHtml(text.title) + "</b>\n" + EscapeHtml(text.summary);
  for (const auto& line : text.lines) out += "\n" + EscapeHtml(line);
  return out;
}

std::optional<std::string> AckCallbackData(std::string_view alert_key) {
  if (alert_key.empty() || kAckPrefix.size() + alert_key.size() > kMaxCallbackData) {
    return std::nullopt;
  }
  return std::string(kAckPrefix) + std::string(alert_key);
}

std::optional<std::string> AlertKeyOf(std::string_view callback_data) {
  if (!callback_data.starts_with(kAckPrefix) || callback_data.size() == kAckPrefix.size() ||
      callback_data.size() > kMaxCallbackData) {
    return std::nullopt;
  }
  return std::string(callback_data.substr(kAckPrefix.size()));
}

TelegramCall SendAlert(std::string_view chat_id, const Alert& alert) {
  json body = {{"chat_id", IdValue(chat_id)},
               {"text", TelegramText(alert)},
               {"parse_mode", "HTML"},
               {"link_preview_options", {{"is_disabled", true}}}};
  if (alert.state == AlertState::kFiring && AckCallbackData(alert.key)) {
    body["reply_markup"] = Keyboard(alert);
  }
  return {"sendMessage", Dump(body)};
}

TelegramCall EditAlert(std::string_view chat_id, std::string_view message_id, const Alert& alert) {
  const json body = {{"chat_id", IdValue(chat_id)},
                     {"message_id", IdValue(message_id)},
                     {"text", TelegramText(alert)},
                     {"parse_mode", "HTML"},
                     {"link_preview_options", {{"is_disabled", true}}},
                     {"reply_markup", Keyboard(alert)}};  // no button once taken or over
  return {"editMessageText", Dump(body)};
}

TelegramCall AnswerButton(std::string_view callback_query_id, std::string_view notice) {
  return {"answerCallbackQuery", Dump({{"callback_query_id", std::string(callback_query_id)},
                                       {"text", TruncateUtf8(notice, 200)}})};
}

TelegramCall PollButtons(std::int64_t offset, int timeout_seconds) {
  json body = {{"timeout", std::max(0, timeout_seconds)},
               {"allowed_updates", json::array({"callback_query"})}};
  if (offset > 0) body["offset"] = offset;
  return {"getUpdates", Dump(body)};
}

ApiAnswer ReadTelegramAnswer(long http_status, std::string_view body) {
  ApiAnswer answer;
  answer.http_status = http_status;
  const json reply = json::parse(body, nullptr, false);
  const auto ok = reply.is_object() ? reply.find("ok") : reply.end();
  if (!reply.is_object() || ok == reply.end() || !ok->is_boolean()) {
    answer.verdict = ApiVerdict::kRetryLater;
    answer.error =
        "telegram: HTTP " + std::to_string(http_status) + " with a reply that is not the Bot API's";
    return answer;
  }
  if (ok->get<bool>()) {
    answer.verdict = ApiVerdict::kDone;
    if (auto result = reply.find("result"); result != reply.end() && result->is_object()) {
      if (auto id = result->find("message_id"); id != result->end() && id->is_number_integer()) {
        answer.message_id = std::to_string(id->get<std::int64_t>());
      }
    }
    return answer;
  }
  long code = http_status;
  if (auto c = reply.find("error_code"); c != reply.end() && c->is_number_integer()) {
    code = c->get<long>();
  }
  std::string description = "no description";
  if (auto d = reply.find("description"); d != reply.end() && d->is_string()) {
    description = OneLine(d->get<std::string>());
  }
  answer.error = "telegram: " + std::to_string(code) + " " + description;
  const json* parameters = nullptr;
  if (auto p = reply.find("parameters"); p != reply.end() && p->is_object()) parameters = &*p;
  if (code == 429) {
    answer.verdict = ApiVerdict::kRateLimited;
    answer.retry_after = std::chrono::seconds(5);  // when it does not say
    if (parameters != nullptr) {
      if (auto r = parameters->find("retry_after"); r != parameters->end() && r->is_number()) {
        const double seconds = std::clamp(r->get<double>(), 0.0, 3600.0);
        answer.retry_after = std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000));
      }
    }
    answer.retry_after = std::min(answer.retry_after, kMaxRetryAfter);
  } else if (code == 409) {
    answer.verdict = ApiVerdict::kConflict;
    answer.error +=
        " (another getUpdates poller uses this bot token: only one may run per"
        " token, so poll where the alerts meet or give this node a bot of its own)";
  } else if (code >= 500) {
    answer.verdict = ApiVerdict::kRetryLater;
  } else {
    answer.verdict = ApiVerdict::kRefused;
    if (code == 401) answer.error += " (the bot token is refused: check token_file)";
    if (parameters != nullptr) {
      if (auto m = parameters->find("migrate_to_chat_id");
          m != parameters->end() && m->is_number_integer()) {
        answer.error += " (the group is now the supergroup " +
                        std::to_string(m->get<std::int64_t>()) + ": set chat_id to it)";
      }
    }
  }
  return answer;
}

Result<Updates> ReadUpdates(std::string_view body) {
  const json reply = json::parse(body, nullptr, false);
  if (!reply.is_object()) return Error{"telegram getUpdates: the reply is not a JSON object"};
  auto result = reply.find("result");
  if (result == reply.end() || !result->is_array()) {
    return Error{"telegram getUpdates: the reply has no list of updates"};
  }
  Updates updates;
  for (const json& update : *result) {
    if (!update.is_object()) continue;
    auto id = update.find("update_id");
    if (id == update.end() || !id->is_number_integer()) continue;
    updates.next_offset = std::max(updates.next_offset, id->get<std::int64_t>() + 1);
    auto query = update.find("callback_query");
    if (query == update.end() || !query->is_object()) continue;
    const json& q = *query;
    const json from = q.value("from", json::object());
    const json message = q.value("message", json::object());
    if (!q.contains("id") || !q["id"].is_string() || !from.is_object() || !from.contains("id") ||
        !from["id"].is_number_integer() || !q.contains("data") || !q["data"].is_string()) {
      continue;
    }
    ButtonPress press;
    press.callback_query_id = q["id"].get<std::string>();
    press.user_id = from["id"].get<std::int64_t>();
    if (from.contains("username") && from["username"].is_string()) {
      press.user_name = "@" + from["username"].get<std::string>();
    } else if (from.contains("first_name") && from["first_name"].is_string()) {
      press.user_name = from["first_name"].get<std::string>();
    } else {
      press.user_name = std::to_string(press.user_id);
    }
    press.user_name = TruncateUtf8(press.user_name, kMaxNameText);
    press.data = q["data"].get<std::string>();
    if (message.is_object()) {
      if (message.contains("message_id") && message["message_id"].is_number_integer()) {
        press.message_id = std::to_string(message["message_id"].get<std::int64_t>());
      }
      const json chat = message.value("chat", json::object());
      if (chat.is_object() && chat.contains("id") && chat["id"].is_number_integer()) {
        press.chat_id = std::to_string(chat["id"].get<std::int64_t>());
      }
    }
    updates.presses.push_back(std::move(press));
  }
  return updates;
}

}  // namespace fleet::alerting
