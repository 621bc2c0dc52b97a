#include "receiver/alerts/alerts_config.h"

#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <charconv>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "alerting/secret_rules.h"
#include "base/units.h"
#include "base/web_url.h"
#include "base/yaml_text.h"
#include "receiver/alerts/alert_routes.h"
#include "receiver/alerts/operator_channels.h"

namespace fleet::receiver {
namespace {

using Handler = std::function<void(const YAML::Node& value, const std::string& path)>;

constexpr int kMaxDepth = 16;

// The keys that would hold a secret in the YAML itself: refused, naming the file keys.
const std::map<std::string, std::string> kSecretKeys = {
    {"token", "token_file or token_credential"},
    {"webhook_url", "webhook_url_file or webhook_url_credential"},
    {"url", "url_file or url_credential"},
};

class Reader {
 public:
  Reader(std::string file, std::string_view text) : file_(std::move(file)), index_(text) {}

  void Error(const YAML::Mark& mark, const std::string& message) {
    const TextPosition at = index_.AtMark(mark.line, mark.column);
    errors_.push_back(
        {at.line, at.column,
         file_ + ":" + std::to_string(at.line) + ":" + std::to_string(at.column) + ": " + message});
  }
  void Error(const YAML::Node& at, const std::string& message) { Error(at.Mark(), message); }
  void ErrorAtOffset(std::size_t offset, const std::string& message) {
    const TextPosition at = index_.AtOffset(offset);
    errors_.push_back(
        {at.line, at.column,
         file_ + ":" + std::to_string(at.line) + ":" + std::to_string(at.column) + ": " + message});
  }
  void FileError(const std::string& message) { errors_.push_back({0, 0, file_ + ": " + message}); }

  // A map's keys against `keys`: unknown and repeated keys are errors, each value handed on.
  void Map(const YAML::Node& node, const std::string& path,
           const std::map<std::string, Handler>& keys) {
    if (!node.IsMap()) {
      Error(node, (path.empty() ? std::string("the file") : path) + " must be a map");
      return;
    }
    std::set<std::string> seen;
    for (const auto& item : node) {
      const YAML::Node& key = item.first;
      const std::string name = key.IsScalar() ? key.Scalar() : std::string("?");
      const std::string where = path.empty() ? name : path + "." + name;
      if (!seen.insert(name).second) {
        Error(key, where + " is given twice");
        continue;
      }
      auto handler = keys.find(name);
      if (handler != keys.end()) {
        handler->second(item.second, where);
        continue;
      }
      if (auto secret = kSecretKeys.find(name); secret != kSecretKeys.end()) {
        Error(key, where +
                       ": a secret never goes in this file; put it in a file of its own and "
                       "name it with " +
                       secret->second);
        continue;
      }
      std::string known;
      for (const auto& [k, h] : keys) known += (known.empty() ? "" : ", ") + k;
      Error(key, "unknown key " + Printable(name) + (path.empty() ? "" : " in " + path) +
                     " (known: " + known + ")");
    }
  }

  std::optional<std::string> Scalar(const YAML::Node& node, const std::string& path,
                                    const std::string& what) {
    if (!node.IsScalar()) {
      Error(node, path + " must be " + what);
      return std::nullopt;
    }
    return node.Scalar();
  }

  // A duration in whole seconds within [min, max]; zero_allowed: "0s" too.
  void Duration(const YAML::Node& node, const std::string& path, std::int64_t min, std::int64_t max,
                bool zero_allowed, std::int64_t& out) {
    auto text = Scalar(node, path, "a duration such as 30s, 5m or 2h");
    if (!text) return;
    auto parsed = ParseDuration(*text);
    if (!parsed) {
      Error(node, path + ": " + parsed.error());
      return;
    }
    const std::int64_t ms = parsed->count();
    const std::int64_t s = ms / 1000;
    if (ms % 1000 != 0 || ((s < min || s > max) && !(zero_allowed && s == 0))) {
      Error(node, path + " must be " + (zero_allowed && min > 0 ? "0s or " : std::string()) +
                      "from " + FormatDuration(std::chrono::seconds(min)) + " to " +
                      FormatDuration(std::chrono::seconds(max)) + " in whole seconds (got " +
                      Printable(*text) + ")");
      return;
    }
    out = s;
  }

  void Integer(const YAML::Node& node, const std::string& path, std::int64_t min, std::int64_t max,
               std::int64_t& out) {
    auto text = Scalar(node, path, "a whole number");
    if (!text) return;
    std::int64_t value = 0;
    const char* end = text->data() + text->size();
    auto [ptr, ec] = std::from_chars(text->data(), end, value);
    if (ec != std::errc() || ptr != end || value < min || value > max) {
      Error(node, path + " must be a whole number from " + std::to_string(min) + " to " +
                      std::to_string(max));
      return;
    }
    out = value;
  }

  void Bool(const YAML::Node& node, const std::string& path, bool& out) {
    auto text = Scalar(node, path, "true or false");
    if (!text) return;
    if (*text == "true") {
      out = true;
    } else if (*text == "false") {
      out = false;
    } else {
      Error(node, path + " must be true or false");
    }
  }

  // https://host[:port] or http:// to a loopback address; the value is never quoted back.
  void ApiBase(const YAML::Node& node, const std::string& path, std::string& out) {
    auto text = Scalar(node, path, "a URL (https://host[:port])");
    if (!text) return;
    const WebUrlRules rules{.path = false, .query = false, .user_info = false};
    if (auto fault = FindWebUrlFault(*text, rules)) {
      Error(node, path + " " + DescribeWebUrlFault(*fault, rules));
      return;
    }
    out = *text;
    while (!out.empty() && out.back() == '/') out.pop_back();
  }

  void Source(const YAML::Node& node, const std::string& path, std::string& out, bool file) {
    auto text = Scalar(node, path, file ? "an absolute path" : "a credential name");
    if (!text) return;
    if (file && !text->starts_with("/")) {
      Error(node, path + " must be an absolute path");
      return;
    }
    if (!file && (text->empty() || text->find('/') != std::string::npos)) {
      Error(node, path + " must be a credential name (LoadCredential=NAME:...), not a path");
      return;
    }
    out = *text;
  }

  // "-1001234567890", "1234" or "@channelname"; the value is never quoted back.
  void ChatId(const YAML::Node& node, const std::string& path, std::string& out) {
    auto text = Scalar(node, path, "a chat id");
    if (!text) return;
    if (!IsChatId(*text)) {
      Error(node, path + " must be a number (\"-1001234567890\") or \"@channelname\"");
      return;
    }
    out = *text;
  }

  void Ackers(const YAML::Node& node, const std::string& path, std::vector<std::int64_t>& out) {
    if (!node.IsSequence()) {
      Error(node, path + " must be a list of Telegram user ids");
      return;
    }
    for (std::size_t i = 0; i < node.size(); ++i) {
      std::int64_t id = 0;
      const std::size_t before = errors_.size();
      Integer(node[i], path + "[" + std::to_string(i) + "]", 1, (std::int64_t{1} << 53) - 1, id);
      if (errors_.size() == before) out.push_back(id);
    }
  }

  // The one of two keys that names a secret's source: exactly one of them.
  // (Counted by the keys written: a bad value of one is its own error, and so is a secret
  // written in the file instead.)
  void NeedOne(const YAML::Node& map, const std::string& path, const std::string& file_key,
               const std::string& credential_key) {
    int given = 0;
    for (const auto& item : map) {
      if (!item.first.IsScalar()) continue;
      const std::string& key = item.first.Scalar();
      given += key == file_key || key == credential_key || kSecretKeys.contains(key) ? 1 : 0;
    }
    if (given != 1) {
      Error(map, path + " needs exactly one of " + file_key + " and " + credential_key);
    }
  }

  std::vector<std::string> TakeErrors() {
    std::stable_sort(errors_.begin(), errors_.end(), [](const auto& a, const auto& b) {
      return std::tie(a.line, a.column) < std::tie(b.line, b.column);
    });
    std::vector<std::string> out;
    for (auto& e : errors_) out.push_back(std::move(e.text));
    return out;
  }
  bool failed() const { return !errors_.empty(); }

  static bool IsChatId(std::string_view text) {
    if (text.starts_with("@")) {
      if (text.size() < 2 || text.size() > 64) return false;
      return std::all_of(text.begin() + 1, text.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
      });
    }
    if (text.starts_with("-")) text.remove_prefix(1);
    return !text.empty() && text.size() <= 20 && std::all_of(text.begin(), text.end(), [](char c) {
      return std::isdigit(static_cast<unsigned char>(c));
    });
  }
  static std::string Printable(std::string_view text) {
    std::string out = "'";
    for (char c : text.substr(0, 60)) {
      out += static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? '?' : c;
    }
    return out + (text.size() > 60 ? "...'" : "'");
  }

 private:
  struct Entry {
    int line = 0;
    int column = 0;
    std::string text;
  };
  std::string file_;
  LineIndex index_;
  std::vector<Entry> errors_;
};

void ReadTelegram(Reader& r, const YAML::Node& node, const std::string& path,
                  ReceiverAlertSettings& s) {
  TelegramBotSettings t;
  r.Map(node, path,
        {{"token_file",
          [&](const YAML::Node& v, const std::string& p) { r.Source(v, p, t.token.file, true); }},
         {"token_credential",
          [&](const YAML::Node& v, const std::string& p) {
            r.Source(v, p, t.token.credential, false);
          }},
         {"api_base",
          [&](const YAML::Node& v, const std::string& p) { r.ApiBase(v, p, t.api_base); }},
         {"poll", [&](const YAML::Node& v, const std::string& p) { r.Bool(v, p, t.poll); }}});
  if (node.IsMap()) r.NeedOne(node, path, "token_file", "token_credential");
  s.telegram = std::move(t);
}

void ReadFoundation(Reader& r, const YAML::Node& node, const std::string& path,
                    ReceiverAlertSettings& s) {
  r.Map(node, path,
        {{"telegram",
          [&](const YAML::Node& v, const std::string& p) {
            FoundationTelegram t;
            bool chat = false;
            r.Map(v, p,
                  {{"chat_id",
                    [&](const YAML::Node& c, const std::string& cp) {
                      chat = true;
                      r.ChatId(c, cp, t.chat_id);
                    }},
                   {"ackers", [&](const YAML::Node& a, const std::string& ap) {
                      r.Ackers(a, ap, t.ackers);
                    }}});
            if (v.IsMap() && !chat) r.Error(v, p + " needs chat_id");
            s.foundation_telegram = std::move(t);
          }},
         {"discord",
          [&](const YAML::Node& v, const std::string& p) {
            FoundationDiscord d;
            r.Map(v, p,
                  {{"webhook_url_file",
                    [&](const YAML::Node& f, const std::string& fp) {
                      r.Source(f, fp, d.webhook_url.file, true);
                    }},
                   {"webhook_url_credential",
                    [&](const YAML::Node& f, const std::string& fp) {
                      r.Source(f, fp, d.webhook_url.credential, false);
                    }},
                   {"api_base", [&](const YAML::Node& a, const std::string& ap) {
                      r.ApiBase(a, ap, d.api_base);
                    }}});
            if (v.IsMap()) r.NeedOne(v, p, "webhook_url_file", "webhook_url_credential");
            s.foundation_discord = std::move(d);
          }},
         {"webhook", [&](const YAML::Node& v, const std::string& p) {
            FoundationWebhook w;
            r.Map(v, p,
                  {{"url_file", [&](const YAML::Node& f,
                                    const std::string& fp) { r.Source(f, fp, w.url.file, true); }},
                   {"url_credential", [&](const YAML::Node& f, const std::string& fp) {
                      r.Source(f, fp, w.url.credential, false);
                    }}});
            if (v.IsMap()) r.NeedOne(v, p, "url_file", "url_credential");
            s.foundation_webhook = std::move(w);
          }}});
}

void ReadTop(Reader& r, const YAML::Node& root, ReceiverAlertSettings& s) {
  alerting::AlertPolicy& policy = s.policy;
  std::optional<YAML::Node> escalate_at;
  std::optional<YAML::Node> foundation_at;
  r.Map(
      root, "",
      {{"telegram", [&](const YAML::Node& v, const std::string& p) { ReadTelegram(r, v, p, s); }},
       {"discord",
        [&](const YAML::Node& v, const std::string& p) {
          r.Map(v, p, {{"api_base", [&](const YAML::Node& a, const std::string& ap) {
                          r.ApiBase(a, ap, s.discord_api_base);
                        }}});
        }},
       {"foundation",
        [&](const YAML::Node& v, const std::string& p) {
          foundation_at = v;
          ReadFoundation(r, v, p, s);
        }},
       {"silent_after",
        [&](const YAML::Node& v, const std::string& p) {
          r.Duration(v, p, 60, 86400, false, s.silent_after);
        }},
       {"min_severity",
        [&](const YAML::Node& v, const std::string& p) {
          auto text = r.Scalar(v, p, "critical or warning");
          if (!text) return;
          if (*text == "critical") {
            policy.min_severity = alerting::Severity::kCritical;
          } else if (*text == "warning") {
            policy.min_severity = alerting::Severity::kWarning;
          } else {
            r.Error(v, p + " must be critical or warning (got " + Reader::Printable(*text) + ")");
          }
        }},
       {"confirm", [&](const YAML::Node& v,
                       const std::string& p) { r.Duration(v, p, 0, 3600, true, policy.confirm); }},
       {"repeat",
        [&](const YAML::Node& v, const std::string& p) {
          r.Duration(v, p, 60, 7 * 86400, true, policy.repeat);
        }},
       {"escalate_after",
        [&](const YAML::Node& v, const std::string& p) {
          escalate_at = v;
          std::int64_t seconds = 0;
          r.Duration(v, p, 60, 7 * 86400, false, seconds);
          if (seconds > 0) policy.escalate_after = seconds;
        }},
       {"flapping", [&](const YAML::Node& v, const std::string& p) {
          std::int64_t changes = policy.flap_changes;
          r.Map(v, p,
                {{"changes", [&](const YAML::Node& c,
                                 const std::string& cp) { r.Integer(c, cp, 2, 100, changes); }},
                 {"window", [&](const YAML::Node& w, const std::string& wp) {
                    r.Duration(w, wp, 60, 86400, false, policy.flap_window);
                  }}});
          policy.flap_changes = static_cast<int>(changes);
        }}});
  // The rules across keys.
  if (s.foundation_telegram && !s.telegram) {
    r.Error(*foundation_at, "foundation.telegram needs the bot: telegram: {token_file: ...}");
  }
  if (escalate_at && s.foundation_telegram == std::nullopt && !s.foundation_discord &&
      !s.foundation_webhook) {
    r.Error(*escalate_at, "escalate_after needs a foundation channel to escalate to");
  }
}

// A secret's file path, or $CREDENTIALS_DIRECTORY/<name>; nullopt with an error.
std::optional<std::string> PathOf(const SecretSource& source, std::string_view credentials_dir,
                                  const std::string& key, std::vector<std::string>& errors) {
  if (!source.file.empty()) return source.file;
  if (credentials_dir.empty()) {
    errors.push_back(key + "_credential " + source.credential +
                     ": $CREDENTIALS_DIRECTORY is not set (LoadCredential= in the unit)");
    return std::nullopt;
  }
  return std::string(credentials_dir) + "/" + source.credential;
}

}  // namespace

std::vector<std::string> FoundationChannelNames(const ReceiverAlertSettings& settings) {
  std::vector<std::string> names;
  if (settings.telegram && settings.foundation_telegram) {
    names.push_back(ChannelName(kFoundation, "telegram"));
  }
  if (settings.foundation_discord) names.push_back(ChannelName(kFoundation, "discord"));
  if (settings.foundation_webhook) names.push_back(ChannelName(kFoundation, "webhook"));
  return names;
}

ParsedAlerts ParseReceiverAlerts(const std::string& file, std::string_view text) {
  ParsedAlerts parsed;
  Reader reader(file, text);
  if (text.size() > kMaxAlertsFileBytes) {
    reader.FileError("larger than " + std::to_string(kMaxAlertsFileBytes / 1024) + " KiB");
    parsed.errors = reader.TakeErrors();
    return parsed;
  }
  for (const TextProblem& problem : FindTextProblems(text, kMaxDepth)) {
    reader.ErrorAtOffset(problem.offset, problem.message);
  }
  if (reader.failed()) {
    parsed.errors = reader.TakeErrors();
    return parsed;
  }
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    reader.Error(e.mark, "not YAML: " + e.msg);
    parsed.errors = reader.TakeErrors();
    return parsed;
  }
  if (root.IsNull()) {
    reader.FileError("is empty: give at least the foundation's channel or the Telegram bot");
  } else {
    try {
      ReadTop(reader, root, parsed.settings);
    } catch (const YAML::Exception& e) {
      reader.Error(e.mark, "unreadable: " + e.msg);
    }
  }
  parsed.errors = reader.TakeErrors();
  return parsed;
}

ParsedAlerts ReadReceiverAlerts(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return {{}, {file + ": cannot be read"}};
  std::string text;
  text.resize(kMaxAlertsFileBytes + 1);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  return ParseReceiverAlerts(file, text);
}

Result<std::string> ReadSecretFile(
    const std::string& path,
    const std::function<std::optional<std::string>(std::string_view)>& fault,
    std::string* warning) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return Error{path + ": cannot be read (no such file?)"};
  if (!S_ISREG(info.st_mode)) return Error{path + ": is not a regular file"};
  if (static_cast<std::size_t>(info.st_size) > alerting::kMaxSecretFileBytes) {
    return Error{path + ": is larger than 4 KiB (a secret file holds one line)"};
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{path + ": cannot be read (permission?)"};
  std::stringstream text;
  text << in.rdbuf();
  auto secret = alerting::SecretFromFileText(text.str());
  if (!secret) return Error{path + ": " + secret.error()};
  if (auto wrong = fault(*secret)) return Error{path + ": " + *wrong};
  if (warning != nullptr && (info.st_mode & 077) != 0) {
    *warning = path + " is readable by group or others: chmod 600 it";
  }
  return std::move(secret).value();
}

Result<ReceiverAlertSecrets> LoadReceiverAlertSecrets(const ReceiverAlertSettings& settings,
                                                      std::string_view credentials_dir) {
  ReceiverAlertSecrets secrets;
  std::vector<std::string> errors;
  auto read = [&](const SecretSource& source, const std::string& key,
                  const std::function<std::optional<std::string>(std::string_view)>& fault,
                  std::string& out) {
    auto path = PathOf(source, credentials_dir, key, errors);
    if (!path) return;
    std::string warning;
    auto secret = ReadSecretFile(*path, fault, &warning);
    if (!secret) {
      errors.push_back(key + ": " + secret.error());
      return;
    }
    if (!warning.empty()) secrets.warnings.push_back(key + ": " + warning);
    out = std::move(secret).value();
  };
  if (settings.telegram) {
    read(settings.telegram->token, "telegram.token", alerting::TelegramTokenFault,
         secrets.telegram_token);
  }
  if (settings.foundation_discord) {
    const bool own_base =
        !settings.foundation_discord->api_base.empty() || !settings.discord_api_base.empty();
    read(
        settings.foundation_discord->webhook_url, "foundation.discord.webhook_url",
        [own_base](std::string_view url) {
          return alerting::DiscordWebhookUrlFault(url, own_base);
        },
        secrets.foundation_discord_url);
  }
  if (settings.foundation_webhook) {
    read(settings.foundation_webhook->url, "foundation.webhook.url", alerting::WebhookUrlFault,
         secrets.foundation_webhook_url);
  }
  if (!errors.empty()) {
    std::string joined;
    for (const auto& e : errors) joined += (joined.empty() ? "" : "; ") + e;
    return Error{joined};
  }
  return secrets;
}

}  // namespace fleet::receiver
