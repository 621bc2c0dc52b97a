#include "alerting/channels.h"

#include <utility>

#include "alerting/discord_api.h"
#include "alerting/telegram_api.h"
#include "alerting/telegram_bot.h"
#include "alerting/webhook_api.h"

namespace fleet::alerting {
namespace {

constexpr std::size_t kMinSecretPart = 8;

// A webhook URL is a credential whole, and its last path segment (Discord's token) alone.
std::string RedactUrl(std::string text, std::string_view url) {
  text = RedactSecret(std::move(text), url);
  const std::string_view path = url.substr(0, url.find_first_of("?#"));
  text = RedactSecret(std::move(text), path);
  const std::string_view last = path.substr(path.find_last_of('/') + 1);
  if (last.size() >= kMinSecretPart) text = RedactSecret(std::move(text), last);
  return text;
}

ApiAnswer TransportError(std::string_view what, const std::string& error) {
  ApiAnswer answer;
  answer.verdict = ApiVerdict::kRetryLater;
  answer.error = std::string(what) + ": " + error;
  return answer;
}

class TelegramChannel final : public AlertChannel {
 public:
  TelegramChannel(ChatTransport& transport, std::string api_base, std::string token,
                  std::string chat_id)
      : bot_(transport, std::move(api_base), std::move(token)), chat_id_(std::move(chat_id)) {}

  std::string_view kind() const override { return "telegram"; }

  ApiAnswer Send(const Alert& alert) override {
    return bot_.Call(SendAlert(chat_id_, alert)).answer;
  }

  ApiAnswer Edit(std::string_view message_id, const Alert& alert) override {
    if (message_id.empty()) return Send(alert);
    ApiAnswer answer = bot_.Call(EditAlert(chat_id_, message_id, alert)).answer;
    // Sent again after a restart, say: the message already shows this.
    if (answer.verdict == ApiVerdict::kRefused &&
        answer.error.find("message is not modified") != std::string::npos) {
      answer.verdict = ApiVerdict::kDone;
      answer.error.clear();
    }
    if (answer.verdict == ApiVerdict::kDone) answer.message_id = std::string(message_id);
    return answer;
  }

 private:
  TelegramBot bot_;
  std::string chat_id_;
};

class DiscordChannel final : public AlertChannel {
 public:
  DiscordChannel(ChatTransport& transport, std::string webhook_url)
      : transport_(transport), webhook_url_(std::move(webhook_url)) {}

  std::string_view kind() const override { return "discord"; }

  ApiAnswer Send(const Alert& alert) override {
    return Exchange("POST", DiscordSendUrl(webhook_url_), alert);
  }

  ApiAnswer Edit(std::string_view message_id, const Alert& alert) override {
    if (message_id.empty()) return Send(alert);
    ApiAnswer answer = Exchange("PATCH", DiscordMessageUrl(webhook_url_, message_id), alert);
    if (answer.verdict == ApiVerdict::kDone) answer.message_id = std::string(message_id);
    return answer;
  }

 private:
  ApiAnswer Exchange(std::string method, std::string url, const Alert& alert) {
    ChatRequest request;
    request.method = std::move(method);
    request.url = std::move(url);
    request.body = DiscordBody(alert);
    auto reply = transport_.Exchange(request);
    ApiAnswer answer;
    if (!reply) {
      answer = TransportError("discord " + request.method, reply.error());
    } else {
      // The rate-limit header, else the standard Retry-After (whole seconds).
      std::optional<double> reset_after = reply->reset_after;
      if (!reset_after && reply->retry_after)
        reset_after = static_cast<double>(*reply->retry_after);
      answer = ReadDiscordAnswer(reply->status, reply->body, reset_after);
    }
    answer.error = RedactUrl(std::move(answer.error), webhook_url_);
    return answer;
  }

  ChatTransport& transport_;
  std::string webhook_url_;
};

class WebhookChannel final : public AlertChannel {
 public:
  WebhookChannel(ChatTransport& transport, std::string url)
      : transport_(transport), url_(std::move(url)) {}

  std::string_view kind() const override { return "webhook"; }

  ApiAnswer Send(const Alert& alert) override {
    ChatRequest request;
    request.url = url_;
    request.body = WebhookBody(alert);
    auto reply = transport_.Exchange(request);
    ApiAnswer answer = reply ? ReadWebhookAnswer(reply->status, reply->retry_after)
                             : TransportError("webhook", reply.error());
    answer.error = RedactUrl(std::move(answer.error), url_);
    return answer;
  }

  // A webhook has no message to edit: the new state is a new event.
  ApiAnswer Edit(std::string_view, const Alert& alert) override { return Send(alert); }

 private:
  ChatTransport& transport_;
  std::string url_;
};

}  // namespace

std::unique_ptr<AlertChannel> MakeTelegramChannel(ChatTransport& transport, std::string api_base,
                                                  std::string token, std::string chat_id) {
  return std::make_unique<TelegramChannel>(transport, std::move(api_base), std::move(token),
                                           std::move(chat_id));
}

std::unique_ptr<AlertChannel> MakeDiscordChannel(ChatTransport& transport,
                                                 std::string webhook_url) {
  return std::make_unique<DiscordChannel>(transport, std::move(webhook_url));
}

std::unique_ptr<AlertChannel> MakeWebhookChannel(ChatTransport& transport, std::string url) {
  return std::make_unique<WebhookChannel>(transport, std::move(url));
}

std::string RebaseUrl(const std::string& url, const std::string& api_base) {
  if (api_base.empty()) return url;
  const auto scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  const auto path = url.find('/', scheme + 3);
  std::string base = api_base;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + (path == std::string::npos ? std::string() : url.substr(path));
}

}  // namespace fleet::alerting
