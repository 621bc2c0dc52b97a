#include "receiver/alerts/alerts_config.h"

#include "receiver/alerts/alert_routes.h"
#include "receiver/alerts/operator_channels.h"

namespace fleet::receiver {

std::vector<std::string> FoundationChannelNames(const ReceiverAlertSettings& settings) {
  std::vector<std::string> names;
  if (settings.telegram && settings.foundation_telegram) {
    names.push_back(ChannelName(kFoundation, "telegram"));
  }
  if (settings.foundation_discord) names.push_back(ChannelName(kFoundation, "discord"));
  if (settings.foundation_webhook) names.push_back(ChannelName(kFoundation, "webhook"));
  return names;
}

}  // namespace fleet::receiver
