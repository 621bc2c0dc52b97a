#include "alerting/telegram_bot.h"

#include <algorithm>
#include <utility>

namespace fleet::alerting {

TelegramBot::TelegramBot(ChatTransport& transport, std::string api_base, std::string token)
    : transport_(transport), api_base_(std::move(api_base)), token_(std::move(token)) {}

TelegramBot::Reply TelegramBot::Call(const TelegramCall& call, std::chrono::milliseconds timeout) {
  ChatRequest request;
  request.url = TelegramUrl(api_base_, token_, call.method);
  request.body = call.body;
  request.timeout = timeout;
  Reply reply;
  auto exchanged = transport_.Exchange(request);
  if (!exchanged) {
    reply.answer.verdict = ApiVerdict::kRetryLater;
    reply.answer.error = "telegram " + call.method + ": " + exchanged.error();
  } else {
    reply.answer = ReadTelegramAnswer(exchanged->status, exchanged->body);
    if (reply.answer.verdict == ApiVerdict::kDone) reply.body = std::move(exchanged->body);
  }
  reply.answer.error = RedactSecret(std::move(reply.answer.error), token_);
  return reply;
}

TelegramBot::Polled TelegramBot::Poll(std::int64_t offset, int timeout_seconds) {
  const auto deadline = std::chrono::seconds(std::max(0, timeout_seconds)) + kPollMargin;
  Reply reply = Call(PollButtons(offset, timeout_seconds), deadline);
  Polled polled;
  polled.answer = std::move(reply.answer);
  if (polled.answer.verdict != ApiVerdict::kDone) return polled;
  auto updates = ReadUpdates(reply.body);
  if (!updates) {
    polled.answer.verdict = ApiVerdict::kRetryLater;
    polled.answer.error = RedactSecret(updates.error(), token_);
    return polled;
  }
  polled.updates = std::move(*updates);
  return polled;
}

ApiAnswer TelegramBot::Answer(std::string_view callback_query_id, std::string_view notice) {
  return Call(AnswerButton(callback_query_id, notice)).answer;
}

}  // namespace fleet::alerting
