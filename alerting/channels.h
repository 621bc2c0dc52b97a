// AlertChannel: one place an alert is told (a Telegram chat, a Discord webhook, a plain
// webhook), over a ChatTransport. Send posts a new message and, when the channel can edit
// (Telegram, Discord), its id comes with the Done answer; Edit shows a new state of the same
// alert in that message (acknowledged, resolved), or, on a plain webhook, posts the alert again
// (so does Edit with an empty message id, when the message's send left none).
// Every outcome is an ApiAnswer (api_answer.h): a transport error is RetryLater with its reason,
// a reply is read by the channel's own reader; no error ever holds the secret (Telegram's token,
// a webhook's URL), cut out again here whatever produced the text. Telegram's "message is not
// modified" on an edit is Done: the message already says it. A channel holds a reference to
// its transport and is used from that transport's thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "alerting/alert.h"
#include "alerting/api_answer.h"
#include "alerting/chat_transport.h"

namespace fleet::alerting {

class AlertChannel {
 public:
  virtual ~AlertChannel() = default;
  virtual std::string_view kind() const = 0;       // "telegram", "discord", "webhook"
  virtual ApiAnswer Send(const Alert& alert) = 0;  // Done carries the message id
  virtual ApiAnswer Edit(std::string_view message_id, const Alert& alert) = 0;
};

// sendMessage / editMessageText to chat_id (a number or "@channel") by the bot `token`;
// api_base "https://api.telegram.org" (telegram_api.h: kTelegramApiBase), or a local fake.
std::unique_ptr<AlertChannel> MakeTelegramChannel(ChatTransport& transport, std::string api_base,
                                                  std::string token, std::string chat_id);
// POST <webhook>?wait=true, PATCH <webhook>/messages/<id> (discord_api.h).
std::unique_ptr<AlertChannel> MakeDiscordChannel(ChatTransport& transport, std::string webhook_url);
// POST <url> with WebhookBody (webhook_api.h); Edit posts the new state, Done without an id.
std::unique_ptr<AlertChannel> MakeWebhookChannel(ChatTransport& transport, std::string url);

// url with its scheme and host replaced by api_base (empty: url as it is): a Discord webhook
// URL sent to a channel's own api_base (a fake on loopback, a proxy).
std::string RebaseUrl(const std::string& url, const std::string& api_base);

}  // namespace fleet::alerting
