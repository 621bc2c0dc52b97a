#include "alerting/secret_rules.h"

#include <algorithm>
#include <array>

#include "base/web_url.h"

namespace fleet::alerting {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool IsTokenChar(char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '-';
}

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

bool AllOf(std::string_view text, bool (*pred)(char), std::size_t max) {
  return !text.empty() && text.size() <= max && std::all_of(text.begin(), text.end(), pred);
}

// Takes the next path segment ("/x") off `path`; nullopt when the path does not start one.
std::optional<std::string_view> NextSegment(std::string_view& path) {
  if (!path.starts_with("/")) return std::nullopt;
  path.remove_prefix(1);
  const std::size_t end = std::min(path.find('/'), path.size());
  const std::string_view segment = path.substr(0, end);
  path.remove_prefix(end);
  return segment;
}

bool IsDiscordHost(std::string_view host) {
  constexpr std::array<std::string_view, 6> kHosts{"discord.com",        "discordapp.com",
                                                   "ptb.discord.com",    "canary.discord.com",
                                                   "ptb.discordapp.com", "canary.discordapp.com"};
  return std::find(kHosts.begin(), kHosts.end(), host) != kHosts.end();
}

// /api[/v<N>]/webhooks/<id digits>/<token>, nothing after it.
bool IsDiscordWebhookPath(std::string_view path) {
  if (NextSegment(path) != "api") return false;
  auto segment = NextSegment(path);
  if (segment && segment->starts_with("v") && AllOf(segment->substr(1), IsDigit, 3)) {
    segment = NextSegment(path);
  }
  if (segment != "webhooks") return false;
  const auto id = NextSegment(path);
  const auto token = NextSegment(path);
  return id && AllOf(*id, IsDigit, 20) && token && AllOf(*token, IsTokenChar, 256) && path.empty();
}

std::string UrlFault(WebUrlFault fault, WebUrlRules rules) {
  return "holds a URL that " + DescribeWebUrlFault(fault, rules);
}

}  // namespace

Result<std::string> SecretFromFileText(std::string_view text) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  while (!text.empty() && IsSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsSpace(text.back())) text.remove_suffix(1);
  if (text.empty()) return Error{"is empty (write the secret on one line)"};
  if (text.find_first_of("\r\n") != std::string_view::npos) {
    return Error{"holds more than one line (a secret file holds the secret alone, on one line)"};
  }
  const bool control = std::any_of(text.begin(), text.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7F;
  });
  if (control) return Error{"holds a control character"};
  return std::string(text);
}

std::optional<std::string> TelegramTokenFault(std::string_view token) {
  const std::string shape =
      " (a bot token is the bot's number, ':', then letters, digits, '_' and '-', as "
      "@BotFather gives it)";
  const std::size_t colon = token.find(':');
  if (colon == std::string_view::npos || colon + 1 == token.size() ||
      !AllOf(token.substr(0, colon), IsDigit, 20)) {
    return "does not hold a Telegram bot token" + shape;
  }
  const std::string_view secret = token.substr(colon + 1);
  if (std::any_of(secret.begin(), secret.end(), IsSpace)) {
    return "holds whitespace inside the token" + shape;
  }
  if (!AllOf(secret, IsTokenChar, 256)) {
    return "holds a character a bot token never has" + shape;
  }
  return std::nullopt;
}

std::optional<std::string> DiscordWebhookUrlFault(std::string_view url, bool own_api_base) {
  const WebUrlRules rules{.path = true, .query = true, .user_info = false};
  if (auto fault = FindWebUrlFault(url, rules)) return UrlFault(*fault, rules);
  if (own_api_base) return std::nullopt;
  const auto parts = SplitWebUrl(url);
  if (!parts || !parts->https || !IsDiscordHost(parts->host) ||
      !IsDiscordWebhookPath(parts->path)) {
    return std::string(
        "does not hold a Discord webhook URL (https://discord.com/api/webhooks/<id>/<token>, as "
        "Discord's channel settings copy it; for another server, give the channel an "
        "api_base)");
  }
  return std::nullopt;
}

std::optional<std::string> WebhookUrlFault(std::string_view url) {
  const WebUrlRules rules{.path = true, .query = true, .user_info = true};
  if (auto fault = FindWebUrlFault(url, rules)) return UrlFault(*fault, rules);
  return std::nullopt;
}

}  // namespace fleet::alerting
