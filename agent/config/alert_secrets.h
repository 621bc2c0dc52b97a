// AlertSecrets: the secrets the `alerts:` settings name (a Telegram bot token, webhook
// URLs), read once at load time through the Os seam from their files or from systemd
// credentials ($CREDENTIALS_DIRECTORY/<name>, LoadCredential=). Each file must be regular,
// at most 4 KiB, and hold one line (trimmed) of the channel's shape (alerting/
// secret_rules.h). A file open to group or others is used, with a warning for the daemon
// to log once. No error or warning ever holds a secret: only keys, paths, credential names
// and what is wrong. Holders keep the secrets in memory only; nothing here logs.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "agent/config/config.h"
#include "base/result.h"
#include "core/os.h"

namespace fleet {

// Empty strings for the channels not configured.
struct ChannelSecrets {
  std::string telegram_token;
  std::string discord_webhook_url;  // as written in its file (api_base is applied by the sender)
  std::string webhook_url;
};

struct AlertSecrets {
  ChannelSecrets channels;
  ChannelSecrets escalation;
  std::vector<std::string> warnings;  // files open to group or others; log each once
};

// What reading the secrets found, sorted by what a caller does with it: `config check`
// run by hand may not be allowed to read root's files or see a unit's credentials, which
// is not the file's fault.
struct AlertSecretsCheck {
  AlertSecrets secrets;                // every secret that was read and is right
  std::vector<std::string> errors;     // missing, not a regular file, too large, empty, bad shape
  std::vector<std::string> unchecked;  // permission denied; a credential without
                                       // $CREDENTIALS_DIRECTORY
};

// Reads every secret `alerts` names (nothing when alerting is off). credentials_dir:
// $CREDENTIALS_DIRECTORY, or empty when it is not set.
AlertSecretsCheck CheckAlertSecrets(const AlertSettings& alerts, const Os& os,
                                    std::string_view credentials_dir);

// The same for the daemon: an error (every problem, "; "-separated, one line) unless every
// secret was read and is right.
Result<AlertSecrets> LoadAlertSecrets(const AlertSettings& alerts, const Os& os,
                                      std::string_view credentials_dir);

}  // namespace fleet
