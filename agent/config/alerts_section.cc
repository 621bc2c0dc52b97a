#include "agent/config/alerts_section.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/web_url.h"

namespace fleet::config {
namespace {

using namespace std::chrono_literals;

// Appended to errors about the keys a secret comes from: the value may be the secret.
constexpr std::string_view kNotShown = " (the value is not shown: it may be the secret itself)";
constexpr std::string_view kNoChannel = ": no channel: give telegram, discord or webhook";

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsWordChar(char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool HasControl(std::string_view text) {
  return std::any_of(text.begin(), text.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7F; });
}

// 1..19 digits that fit a signed 64-bit number; 0 when they do not.
std::int64_t ParseId(std::string_view digits) {
  if (digits.empty() || digits.size() > 19 || !std::all_of(digits.begin(), digits.end(), IsDigit)) {
    return 0;
  }
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  return ec == std::errc() && end == digits.data() + digits.size() ? value : 0;
}

// A secret's file: an absolute path.
ValueReader SecretFile(std::string& out, std::string what) {
  return [&out, what = std::move(what)](ConfigReader& reader, const YAML::Node& value,
                                        const std::string& path) {
    const std::string must = "the absolute path of a file holding " + what;
    auto text = ReadScalar(reader, value, path, must);
    if (!text) return;
    if (text->empty() || text->front() != '/' || HasControl(*text)) {
      reader.AddError(value, path + " must be " + must + std::string(kNotShown));
      return;
    }
    out = *text;
  };
}

// A systemd credential's name (LoadCredential=NAME:/path): a plain file name, read from
// $CREDENTIALS_DIRECTORY.
ValueReader SecretCredential(std::string& out) {
  return [&out](ConfigReader& reader, const YAML::Node& value, const std::string& path) {
    const std::string must =
        "a systemd credential name (letters, digits, '.', '_', '-', as in "
        "LoadCredential=NAME:/path)";
    auto text = ReadScalar(reader, value, path, must);
    if (!text) return;
    const bool ok = !text->empty() && text->size() <= 255 && *text != "." && *text != ".." &&
                    std::all_of(text->begin(), text->end(),
                                [](char c) { return IsWordChar(c) || c == '.' || c == '-'; });
    if (!ok) {
      reader.AddError(value, path + " must be " + must + std::string(kNotShown));
      return;
    }
    out = *text;
  };
}

// `token: 123:ABC` and the like: refused by the key, the value never repeated.
ValueReader SecretInYaml(std::string what, std::string file_key, std::string credential_key) {
  return [what = std::move(what), file_key = std::move(file_key),
          credential_key = std::move(credential_key)](ConfigReader& reader, const YAML::Node& value,
                                                      const std::string& path) {
    reader.AddError(value, path + ": " + what +
                               " is a secret and does not belong in the configuration; put it "
                               "in a file of mode 0600 and give " +
                               file_key + ", or " + credential_key + " for a systemd credential" +
                               std::string(kNotShown));
  };
}

// A Telegram chat: its number (-1001234567890 for a supergroup) or "@channelname".
ValueReader ChatId(std::string& out) {
  return [&out](ConfigReader& reader, const YAML::Node& value, const std::string& path) {
    const std::string must =
        "a chat id: a number such as -1001234567890, or \"@channelname\" (quoted)";
    auto text = ReadScalar(reader, value, path, must);
    if (!text) return;
    const std::string_view id = *text;
    const std::string_view digits = id.starts_with("-") ? id.substr(1) : id;
    const bool number = ParseId(digits) > 0;
    const std::string_view name = id.starts_with("@") ? id.substr(1) : std::string_view();
    const bool channel =
        name.size() >= 5 && name.size() <= 32 && std::all_of(name.begin(), name.end(), IsWordChar);
    if (!number && !channel) {
      reader.AddError(value, path + " must be " + must);
      return;
    }
    out = *text;
  };
}

// Telegram user ids: positive whole numbers.
ValueReader UserIds(std::vector<std::int64_t>& out) {
  return [&out](ConfigReader& reader, const YAML::Node& value, const std::string& path) {
    if (!value.IsSequence()) {
      reader.AddError(value,
                      path + " must be a list of Telegram user ids (for one, write [123456789])");
      return;
    }
    std::vector<std::int64_t> ids;
    bool ok = true;
    for (const auto& element : value) {
      auto text = ReadScalar(reader, element, path, "a list of Telegram user ids");
      const std::int64_t id = text ? ParseId(*text) : 0;
      if (text && id == 0) {
        reader.AddError(element, path +
                                     ": an item must be a Telegram user id (a positive whole "
                                     "number, as the bot sees the user)");
      }
      ok = ok && id > 0;
      ids.push_back(id);
    }
    if (ok) out = std::move(ids);
  };
}

// Where a channel's API is: scheme, host and port (tests point it at a fake on loopback).
ValueReader ApiBase(std::string& out) {
  return [&out](ConfigReader& reader, const YAML::Node& value, const std::string& path) {
    auto text = ReadScalar(reader, value, path, "a URL (https://host[:port])");
    if (!text) return;
    const WebUrlRules rules{.path = false};
    if (text->empty()) {
      reader.AddError(value, path + " must not be empty");
    } else if (auto fault = FindWebUrlFault(*text, rules)) {
      reader.AddError(value, path + " " + DescribeWebUrlFault(*fault, rules));
    } else {
      out = text->ends_with("/") ? text->substr(0, text->size() - 1) : *text;
    }
  };
}

// Exactly one of <name>_file and <name>_credential.
void CheckSecretSource(ConfigReader& reader, const YAML::Node& channel, const std::string& path,
                       const SecretSource& source, const std::string& name,
                       const std::string& what) {
  if (!source.file.empty() && !source.credential.empty()) {
    reader.AddError(FindValue(channel, name + "_credential"),
                    path + ": give " + name + "_file or " + name + "_credential, not both");
  } else if (source.file.empty() && source.credential.empty()) {
    reader.AddError(channel, path + " needs " + name + "_file (a file holding " + what + ") or " +
                                 name + "_credential (a systemd credential)");
  }
}

// Reads one channel's map into a fresh settings struct, stored even when the map had
// errors (the configuration is refused then, and "no channel" would be one error too
// many); `check` applies the rules across its keys once the keys themselves are right.
template <typename Settings, typename KeysOf, typename Check>
ValueReader Channel(std::optional<Settings>& out, KeysOf keys_of, Check check) {
  return [&out, keys_of, check](ConfigReader& reader, const YAML::Node& value,
                                const std::string& path) {
    Settings settings;
    const std::size_t errors_before = reader.error_count();
    ReadSection(reader, value, path, keys_of(settings));
    if (reader.error_count() == errors_before) check(reader, value, path, settings);
    out = std::move(settings);
  };
}

ValueReader Telegram(std::optional<TelegramSettings>& out) {
  auto keys = [](TelegramSettings& t) -> Section {
    return {
        {"token_file", SecretFile(t.token.file, "the bot token")},
        {"token_credential", SecretCredential(t.token.credential)},
        {"chat_id", ChatId(t.chat_id)},
        {"ackers", UserIds(t.ackers)},
        {"poll", Bool(t.poll)},
        {"api_base", ApiBase(t.api_base)},
        {"token", SecretInYaml("the bot token", "token_file", "token_credential"), false},
    };
  };
  auto check = [](ConfigReader& reader, const YAML::Node& value, const std::string& path,
                  const TelegramSettings& t) {
    CheckSecretSource(reader, value, path, t.token, "token", "the bot token");
    if (t.chat_id.empty()) {
      reader.AddError(value, path + " needs chat_id (the chat, group or channel alerts go to)");
    }
    if (t.poll && t.ackers.empty()) {
      const YAML::Node ackers = FindValue(value, "ackers");
      reader.AddError(ackers.IsDefined() && !ackers.IsNull() ? ackers : value,
                      path + ".ackers must list at least one Telegram user id while " + path +
                          ".poll is true (only their button presses acknowledge; with nobody "
                          "listed, nobody can); or set poll: false");
    }
  };
  return Channel<TelegramSettings>(out, keys, check);
}

ValueReader Discord(std::optional<DiscordSettings>& out) {
  auto keys = [](DiscordSettings& d) -> Section {
    return {
        {"webhook_url_file", SecretFile(d.webhook_url.file, "the webhook URL")},
        {"webhook_url_credential", SecretCredential(d.webhook_url.credential)},
        {"api_base", ApiBase(d.api_base)},
        {"webhook_url",
         SecretInYaml("the webhook URL", "webhook_url_file", "webhook_url_credential"), false},
        {"url", SecretInYaml("the webhook URL", "webhook_url_file", "webhook_url_credential"),
         false},
    };
  };
  auto check = [](ConfigReader& reader, const YAML::Node& value, const std::string& path,
                  const DiscordSettings& d) {
    CheckSecretSource(reader, value, path, d.webhook_url, "webhook_url", "the webhook URL");
  };
  return Channel<DiscordSettings>(out, keys, check);
}

ValueReader Webhook(std::optional<WebhookSettings>& out) {
  auto keys = [](WebhookSettings& w) -> Section {
    return {
        {"url_file", SecretFile(w.url.file, "the URL")},
        {"url_credential", SecretCredential(w.url.credential)},
        {"url", SecretInYaml("the webhook URL", "url_file", "url_credential"), false},
    };
  };
  auto check = [](ConfigReader& reader, const YAML::Node& value, const std::string& path,
                  const WebhookSettings& w) {
    CheckSecretSource(reader, value, path, w.url, "url", "the URL");
  };
  return Channel<WebhookSettings>(out, keys, check);
}

Section ChannelKeys(AlertChannels& c) {
  return {
      {"telegram", Telegram(c.telegram)},
      {"discord", Discord(c.discord)},
      {"webhook", Webhook(c.webhook)},
  };
}

// 0s (no reminders) or 1m..7d.
ValueReader Repeat(std::chrono::seconds& out) {
  return [&out](ConfigReader& reader, const YAML::Node& value, const std::string& path) {
    std::chrono::seconds repeat = out;
    const std::size_t errors_before = reader.error_count();
    Seconds(repeat, 0s, 7 * 24h)(reader, value, path);
    if (reader.error_count() != errors_before) return;
    if (repeat > 0s && repeat < 1min) {
      reader.AddError(value, path + " must be 0s (no reminders) or at least 1m (got " +
                                 FormatMilliseconds(repeat) + ")");
      return;
    }
    out = repeat;
  };
}

ValueReader OptionalSeconds(std::optional<std::chrono::seconds>& out, std::chrono::seconds min,
                            std::chrono::seconds max) {
  return [&out, min, max](ConfigReader& reader, const YAML::Node& value, const std::string& path) {
    std::chrono::seconds parsed{-1};
    Seconds(parsed, min, max)(reader, value, path);
    if (parsed >= 0s) out = parsed;
  };
}

Section AlertKeys(AlertSettings& a) {
  Section keys = ChannelKeys(a.channels);
  keys.push_back({"escalation", Nested(ChannelKeys(a.escalation))});
  keys.push_back(
      {"min_severity",
       Choice<alerting::Severity>(a.min_severity, {{"critical", alerting::Severity::kCritical},
                                                   {"warning", alerting::Severity::kWarning}})});
  keys.push_back({"confirm", Seconds(a.confirm, 0s, 1h)});
  keys.push_back({"repeat", Repeat(a.repeat)});
  keys.push_back({"escalate_after", OptionalSeconds(a.escalate_after, 1min, 7 * 24h)});
  keys.push_back({"flapping", Nested({{"changes", Integer(a.flap_changes, 2, 100)},
                                      {"window", Seconds(a.flap_window, 1min, 24h)}})});
  keys.push_back({"weekly_summary", Bool(a.weekly_summary)});
  return keys;
}

// Escalation channels and escalate_after come together.
void CheckEscalation(ConfigReader& reader, const YAML::Node& value, const std::string& path,
                     const AlertSettings& a) {
  const YAML::Node escalation = FindValue(value, "escalation");
  const bool given = escalation.IsDefined() && !escalation.IsNull();
  if (given && a.escalation.empty()) {
    reader.AddError(escalation, path + ".escalation" + std::string(kNoChannel));
  } else if (!a.escalation.empty() && !a.escalate_after) {
    reader.AddError(escalation, path + ".escalation needs " + path +
                                    ".escalate_after (how long an alert stays unacknowledged "
                                    "before these channels are told too)");
  } else if (!given && a.escalate_after) {
    reader.AddError(FindValue(value, "escalate_after"),
                    path + ".escalate_after needs " + path +
                        ".escalation (the channels told when an alert stays unacknowledged)");
  }
}

}  // namespace

ValueReader AlertsSection(AlertSettings& alerts) {
  return [&alerts](ConfigReader& reader, const YAML::Node& value, const std::string& path) {
    const std::size_t errors_before = reader.error_count();
    ReadSection(reader, value, path, AlertKeys(alerts));
    if (reader.error_count() != errors_before) return;
    if (alerts.channels.empty()) reader.AddError(value, path + std::string(kNoChannel));
    CheckEscalation(reader, value, path, alerts);
  };
}

}  // namespace fleet::config
