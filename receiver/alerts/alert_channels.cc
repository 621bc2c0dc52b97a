#include "receiver/alerts/alert_channels.h"

#include "receiver/alerts/alert_routes.h"

namespace fleet::receiver {

ReceiverChannels::ReceiverChannels(ReceiverAlertSettings settings, ReceiverAlertSecrets secrets,
                                   std::vector<OperatorChannelsRow> operators)
    : settings_(std::move(settings)),
      secrets_(std::move(secrets)),
      operators_(std::move(operators)) {}

const OperatorChannelsRow* ReceiverChannels::Operator(const std::string& operator_id) const {
  for (const auto& row : operators_) {
    if (row.operator_id == operator_id) return &row;
  }
  return nullptr;
}

ReceiverChannels::Known ReceiverChannels::Status(const std::string& name) const {
  const auto [owner, kind] = SplitChannel(name);
  if (owner == kFoundation) {
    for (const auto& n : FoundationChannelNames(settings_)) {
      if (n == name) return Known::kYes;
    }
    return Known::kNotHere;
  }
  const OperatorChannelsRow* row = Operator(owner);
  if (row == nullptr) return Known::kGone;
  if (kind == "telegram") {
    if (!row->telegram_chat) return Known::kGone;
    return settings_.telegram ? Known::kYes : Known::kNotHere;
  }
  if (kind == "discord") return row->discord_webhook ? Known::kYes : Known::kGone;
  return Known::kGone;
}

std::unique_ptr<alerting::AlertChannel> ReceiverChannels::Make(
    const std::string& name, alerting::ChatTransport& transport) const {
  if (Status(name) != Known::kYes) return nullptr;
  const auto [owner, kind] = SplitChannel(name);
  if (owner == kFoundation) {
    if (kind == "telegram") {
      return alerting::MakeTelegramChannel(transport, settings_.telegram->api_base,
                                           secrets_.telegram_token,
                                           settings_.foundation_telegram->chat_id);
    }
    if (kind == "discord") {
      const std::string& base = settings_.foundation_discord->api_base.empty()
                                    ? settings_.discord_api_base
                                    : settings_.foundation_discord->api_base;
      return alerting::MakeDiscordChannel(
          transport, alerting::RebaseUrl(secrets_.foundation_discord_url, base));
    }
    return alerting::MakeWebhookChannel(transport, secrets_.foundation_webhook_url);
  }
  const OperatorChannelsRow* row = Operator(owner);
  if (kind == "telegram") {
    return alerting::MakeTelegramChannel(transport, settings_.telegram->api_base,
                                         secrets_.telegram_token, *row->telegram_chat);
  }
  return alerting::MakeDiscordChannel(
      transport, alerting::RebaseUrl(*row->discord_webhook, settings_.discord_api_base));
}

}  // namespace fleet::receiver
