// ReceiverAlertSettings: how the receiver alerts (`fleet-receiver serve --alerts FILE`): the
// Telegram bot (its token from a file or a systemd credential, its api_base, whether this
// receiver takes the button presses), where operators' Discord webhooks are sent (api_base,
// tests), the foundation's own channels (silent nodes and escalations go there; an operator
// without channels has its alerts there too), silent_after and the alert rules' policy.
// ParseReceiverAlerts reads the YAML strictly, as the agent's configuration is read:
// unknown keys, wrong types and bad values are errors with file:line:column, all of them
// at once; secrets never come from the YAML (`token:`, `webhook_url:` or `url:` there is an
// error that says to use a file, and never repeats the value). LoadReceiverAlertSecrets
// reads the files and credentials it names (alerting/secret_rules.h); no error holds a
// secret. Pure but for LoadReceiverAlertSecrets (files).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "alerting/alert_rules.h"
#include "alerting/telegram_api.h"
#include "base/result.h"

namespace fleet::receiver {

// Where a secret is: exactly one of the two.
struct SecretSource {
  std::string file;        // an absolute path
  std::string credential;  // a systemd credential's name ($CREDENTIALS_DIRECTORY/<name>)
};

struct TelegramBotSettings {
  SecretSource token;
  std::string api_base{alerting::kTelegramApiBase};
  bool poll = false;  // this receiver takes the presses (getUpdates): one poller per token
};

struct FoundationTelegram {
  std::string chat_id;
  std::vector<std::int64_t> ackers;  // may acknowledge any alert
};
struct FoundationDiscord {
  SecretSource webhook_url;
  std::string api_base;  // empty: the top-level discord.api_base
};
struct FoundationWebhook {
  SecretSource url;
};

struct ReceiverAlertSettings {
  std::optional<TelegramBotSettings> telegram;
  std::string discord_api_base;  // operators' Discord webhooks go there (empty: as written)
  std::optional<FoundationTelegram> foundation_telegram;
  std::optional<FoundationDiscord> foundation_discord;
  std::optional<FoundationWebhook> foundation_webhook;
  std::int64_t silent_after = 180;  // seconds
  alerting::AlertPolicy policy;
};

struct ReceiverAlertSecrets {
  std::string telegram_token;
  std::string foundation_discord_url;
  std::string foundation_webhook_url;
  std::vector<std::string> warnings;  // files open to group or others
};

// The foundation's channel names this configuration has ("foundation.telegram", ...).
std::vector<std::string> FoundationChannelNames(const ReceiverAlertSettings& settings);

// Larger files are refused.
inline constexpr std::size_t kMaxAlertsFileBytes = 64 * 1024;

struct ParsedAlerts {
  ReceiverAlertSettings settings;
  std::vector<std::string> errors;  // "file:line:column: reason", in file order
};
// `file` names the text in messages.
ParsedAlerts ParseReceiverAlerts(const std::string& file, std::string_view text);
// Reads the file and parses it; a file that cannot be read is one error.
ParsedAlerts ReadReceiverAlerts(const std::string& file);

// A secret in a file: a regular file of at most 4 KiB holding one line of the shape `fault`
// accepts (nullopt: right). The error names the file and what is wrong, never the secret; a
// file open to group or others is used, with a warning in `warning`.
Result<std::string> ReadSecretFile(
    const std::string& path,
    const std::function<std::optional<std::string>(std::string_view)>& fault, std::string* warning);
// Every secret the settings name, read from its file or credential ($CREDENTIALS_DIRECTORY:
// credentials_dir, empty when unset); every problem in one error, "; "-separated.
Result<ReceiverAlertSecrets> LoadReceiverAlertSecrets(const ReceiverAlertSettings& settings,
                                                      std::string_view credentials_dir);

}  // namespace fleet::receiver
