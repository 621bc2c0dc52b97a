#include "agent/alerts/alert_channels.h"

namespace fleet {
namespace {

void AddNamed(const AlertChannels& channels, const ChannelSecrets& secrets,
              const std::string& prefix, alerting::ChatTransport& transport,
              std::vector<NamedChannel>& out) {
  if (channels.telegram) {
    out.push_back({prefix + "telegram", alerting::MakeTelegramChannel(
                                            transport, channels.telegram->api_base,
                                            secrets.telegram_token, channels.telegram->chat_id)});
  }
  if (channels.discord) {
    out.push_back({prefix + "discord",
                   alerting::MakeDiscordChannel(transport, RebaseUrl(secrets.discord_webhook_url,
                                                                     channels.discord->api_base))});
  }
  if (channels.webhook) {
    out.push_back(
        {prefix + "webhook", alerting::MakeWebhookChannel(transport, secrets.webhook_url)});
  }
}

}  // namespace

std::vector<NamedChannel> MakeAlertChannels(const AlertSettings& settings,
                                            const AlertSecrets& secrets,
                                            alerting::ChatTransport& transport) {
  std::vector<NamedChannel> named;
  AddNamed(settings.channels, secrets.channels, "", transport, named);
  AddNamed(settings.escalation, secrets.escalation, "escalation.", transport, named);
  return named;
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

}  // namespace fleet
