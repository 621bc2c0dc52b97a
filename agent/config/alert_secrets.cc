#include "agent/config/alert_secrets.h"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <optional>

#include "alerting/secret_rules.h"

namespace fleet {
namespace {

using alerting::kMaxSecretFileBytes;

// One secret to read: the key it is named by ("alerts.telegram.token") and its rules.
struct SecretSpec {
  std::string key;
  const SecretSource& source;
  std::function<std::optional<std::string>(std::string_view)> fault;
  std::string& out;
};

// Where a secret lives and how messages name it: "alerts.telegram.token_file: /etc/x".
struct SecretPlace {
  std::string path;
  std::string subject;
};

std::string Mode(unsigned mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", mode & 07777u);
  return buf;
}

// The Os seam says "path: reason".
std::string Reason(const std::string& path, const std::string& message) {
  if (message.starts_with(path + ": ")) return message.substr(path.size() + 2);
  return message;
}

bool PermissionDenied(const std::string& message) { return message.ends_with("Permission denied"); }

class SecretReader {
 public:
  SecretReader(const Os& os, std::string_view credentials_dir, AlertSecretsCheck& check)
      : os_(os), credentials_dir_(credentials_dir), check_(check) {}

  void Read(const SecretSpec& spec) {
    auto place = Place(spec);
    if (!place) return;
    auto text = ReadFile(*place);
    if (!text) return;
    auto secret = alerting::SecretFromFileText(*text);
    if (!secret) {
      Fail(*place, secret.error());
    } else if (auto fault = spec.fault(*secret)) {
      Fail(*place, *fault);
    } else {
      spec.out = std::move(secret).value();
    }
  }

 private:
  std::optional<SecretPlace> Place(const SecretSpec& spec) {
    if (!spec.source.file.empty()) {
      return SecretPlace{spec.source.file, spec.key + "_file: " + spec.source.file};
    }
    const std::string key = spec.key + "_credential: " + spec.source.credential;
    if (credentials_dir_.empty()) {  // `config check` by hand, outside the unit
      check_.unchecked.push_back(key +
                                 ": $CREDENTIALS_DIRECTORY is not set (systemd sets it for a "
                                 "unit with LoadCredential=" +
                                 spec.source.credential + ":/path)");
      return std::nullopt;
    }
    if (credentials_dir_.front() != '/') {
      check_.errors.push_back(key + ": $CREDENTIALS_DIRECTORY is not an absolute path");
      return std::nullopt;
    }
    std::string path(credentials_dir_);
    if (!path.ends_with("/")) path += '/';
    path += spec.source.credential;
    return SecretPlace{path, key + " (" + path + ")"};
  }

  std::optional<std::string> ReadFile(const SecretPlace& place) {
    auto info = os_.Stat(place.path, /*follow=*/true);
    if (!info) return Unreadable(place, Reason(place.path, info.error()));
    if (!*info) return Fail(place, "does not exist");
    if ((*info)->kind == FileInfo::Kind::kDirectory) {
      return Fail(place, "is a directory, not a file holding the secret");
    }
    if ((*info)->kind != FileInfo::Kind::kRegular) {
      return Fail(place, "is not a regular file (a FIFO, socket or device)");
    }
    if ((*info)->size > kMaxSecretFileBytes) {
      return Fail(place, "is too large (" + std::to_string((*info)->size) +
                             " bytes); a secret file holds one line of at most 4 KiB");
    }
    auto content = os_.ReadFile(place.path, kMaxSecretFileBytes);
    if (!content) return Unreadable(place, Reason(place.path, content.error()));
    if (!*content) return Fail(place, "does not exist");
    if (((*info)->mode & 077u) != 0) {
      Warn(place, "is open to group or others (mode " + Mode((*info)->mode) + "); chmod 600 it");
    }
    return std::move(*content);
  }

  // Permission denied is this user's lot (`config check` by hand), not the file's fault.
  std::nullopt_t Unreadable(const SecretPlace& place, const std::string& reason) {
    auto& list = PermissionDenied(reason) ? check_.unchecked : check_.errors;
    list.push_back(place.subject + ": " + reason);
    return std::nullopt;
  }

  std::nullopt_t Fail(const SecretPlace& place, const std::string& why) {
    check_.errors.push_back(place.subject + " " + why);
    return std::nullopt;
  }

  // Once per file, however many channels use it.
  void Warn(const SecretPlace& place, const std::string& why) {
    if (std::find(warned_.begin(), warned_.end(), place.path) != warned_.end()) return;
    warned_.push_back(place.path);
    check_.secrets.warnings.push_back(place.subject + " " + why);
  }

  const Os& os_;
  std::string_view credentials_dir_;
  AlertSecretsCheck& check_;
  std::vector<std::string> warned_;  // paths
};

void ReadChannels(SecretReader& reader, const AlertChannels& channels, const std::string& path,
                  ChannelSecrets& out) {
  if (channels.telegram) {
    reader.Read({path + ".telegram.token", channels.telegram->token, alerting::TelegramTokenFault,
                 out.telegram_token});
  }
  if (channels.discord) {
    const bool own_api_base = !channels.discord->api_base.empty();
    reader.Read({path + ".discord.webhook_url", channels.discord->webhook_url,
                 [own_api_base](std::string_view url) {
                   return alerting::DiscordWebhookUrlFault(url, own_api_base);
                 },
                 out.discord_webhook_url});
  }
  if (channels.webhook) {
    reader.Read(
        {path + ".webhook.url", channels.webhook->url, alerting::WebhookUrlFault, out.webhook_url});
  }
}

std::string Join(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines) out += (out.empty() ? "" : "; ") + line;
  return out;
}

}  // namespace

AlertSecretsCheck CheckAlertSecrets(const AlertSettings& alerts, const Os& os,
                                    std::string_view credentials_dir) {
  AlertSecretsCheck check;
  SecretReader reader(os, credentials_dir, check);
  ReadChannels(reader, alerts.channels, "alerts", check.secrets.channels);
  ReadChannels(reader, alerts.escalation, "alerts.escalation", check.secrets.escalation);
  return check;
}

Result<AlertSecrets> LoadAlertSecrets(const AlertSettings& alerts, const Os& os,
                                      std::string_view credentials_dir) {
  AlertSecretsCheck check = CheckAlertSecrets(alerts, os, credentials_dir);
  std::vector<std::string> problems = std::move(check.errors);
  problems.insert(problems.end(), check.unchecked.begin(), check.unchecked.end());
  if (!problems.empty()) return Error{Join(problems)};
  return std::move(check.secrets);
}

}  // namespace fleet
