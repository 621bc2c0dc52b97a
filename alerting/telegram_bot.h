// TelegramBot: the Bot API's calls (telegram_api.h) sent over a ChatTransport, for the alert
// channel (channels.h) and for the one poller of a bot token: getUpdates long polling for
// button presses and answerCallbackQuery. Each call's outcome is an ApiAnswer: a transport
// error (nothing read: refused, timed out, too large) is RetryLater, a reply is read by
// ReadTelegramAnswer, and a 409 on getUpdates is Conflict (another poller). The token is in
// every URL, so it is cut out of every error (RedactSecret), whatever produced it. Holds a
// reference to the transport: one bot per thread, like its transport.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "alerting/api_answer.h"
#include "alerting/chat_transport.h"
#include "alerting/telegram_api.h"

namespace fleet::alerting {

// getUpdates waits this much longer than the poll's own timeout before giving up on a reply.
inline constexpr std::chrono::seconds kPollMargin{10};

class TelegramBot {
 public:
  TelegramBot(ChatTransport& transport, std::string api_base, std::string token);

  struct Reply {
    ApiAnswer answer;
    std::string body;  // the reply's body when the answer is Done
  };
  // One call. timeout 0: the transport's.
  Reply Call(const TelegramCall& call, std::chrono::milliseconds timeout = {});

  struct Polled {
    ApiAnswer answer;
    Updates updates;  // when the answer is Done
  };
  // getUpdates from `offset`, held by the API up to `timeout_seconds` (the request's deadline
  // is that plus kPollMargin). A reply that is done but holds no list of updates is RetryLater.
  Polled Poll(std::int64_t offset, int timeout_seconds);

  // answerCallbackQuery: the small notice the presser sees.
  ApiAnswer Answer(std::string_view callback_query_id, std::string_view notice);

 private:
  ChatTransport& transport_;
  std::string api_base_;
  std::string token_;
};

}  // namespace fleet::alerting
