// ReceiverChannels: the channels the receiver's alerts go to, made by name over a transport:
// "<operator>.telegram" (the bot, the operator's chat from the registry), "<operator>.discord"
// (the operator's webhook, sent to discord.api_base when set), "foundation.telegram",
// "foundation.discord", "foundation.webhook" (from the --alerts file and its secrets). Known
// says why a name cannot be made: an operator's channel no longer in the registry (its
// messages are dropped), or a foundation channel this receiver's configuration lacks (its
// messages wait for a receiver that has it). Holds the secrets in memory only. Pure.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "alerting/channels.h"
#include "receiver/alerts/alerts_config.h"
#include "receiver/alerts/operator_channels.h"

namespace fleet::receiver {

class ReceiverChannels {
 public:
  ReceiverChannels(ReceiverAlertSettings settings, ReceiverAlertSecrets secrets,
                   std::vector<OperatorChannelsRow> operators);

  enum class Known { kYes, kGone, kNotHere };
  Known Status(const std::string& name) const;
  // nullptr unless Status(name) is kYes.
  std::unique_ptr<alerting::AlertChannel> Make(const std::string& name,
                                               alerting::ChatTransport& transport) const;
  const OperatorChannelsRow* Operator(const std::string& operator_id) const;
  const ReceiverAlertSettings& settings() const { return settings_; }

 private:
  ReceiverAlertSettings settings_;
  ReceiverAlertSecrets secrets_;
  std::vector<OperatorChannelsRow> operators_;
};

}  // namespace fleet::receiver
