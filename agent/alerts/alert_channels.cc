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
    out.push_back(
        {prefix + "discord",
         alerting::MakeDiscordChannel(transport, alerting::RebaseUrl(secrets.discord_webhook_url,
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

}  // namespace fleet
