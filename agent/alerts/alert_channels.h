// AlertChannels: the channels an `alerts:` configuration names, made over one transport with
// the secrets read for them: "telegram", "discord", "webhook", and "escalation.<name>" for
// the escalation channels, in that order. For the sender thread and `fleet-agent alerts
// test` alike. A Discord channel with api_base has its webhook URL's scheme and host
// replaced by it (alerting::RebaseUrl; tests: a fake on loopback).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "agent/config/alert_secrets.h"
#include "agent/config/config.h"
#include "alerting/channels.h"

namespace fleet {

struct NamedChannel {
  std::string name;  // "telegram", "escalation.discord", ...
  std::unique_ptr<alerting::AlertChannel> channel;
};

std::vector<NamedChannel> MakeAlertChannels(const AlertSettings& settings,
                                            const AlertSecrets& secrets,
                                            alerting::ChatTransport& transport);

}  // namespace fleet
