// SecretRules: what a channel's secret must look like once read from its file (a Telegram
// bot token, a Discord webhook URL, a webhook URL), checked before anything is sent with it.
// The token goes into Telegram's URL path, so it is held to the exact shape @BotFather
// gives (nothing that could change the path); webhook URLs follow the agent's URL rules
// (base/web_url.h: http:// only to loopback). A fault is one phrase that never holds the
// secret or any part of it: the caller adds the key and the file's path, which are not
// secret. Each fault is a predicate whose subject is the file ("is empty", "holds a URL
// that ..."). Pure; for the agent and the receiver, which both keep secrets in files.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace fleet::alerting {

// A secret file is one short line.
inline constexpr std::size_t kMaxSecretFileBytes = 4096;

// The secret a file's text holds: trimmed of surrounding whitespace (a final newline, a
// Windows line end, a UTF-8 byte order mark), not empty, one line, no control character.
Result<std::string> SecretFromFileText(std::string_view text);

// "<bot id digits>:<letters, digits, '_', '-'>"; nullopt when the token has that shape.
std::optional<std::string> TelegramTokenFault(std::string_view token);

// https://discord.com/api/webhooks/<id>/<token> (also discordapp.com, ptb. and canary.,
// /api/v<N>/webhooks/..., a query such as ?thread_id=). With an api_base of the channel's
// own (a fake, a proxy), any URL under the web URL rules, a query allowed.
std::optional<std::string> DiscordWebhookUrlFault(std::string_view url, bool own_api_base);

// Any http(s) URL under the web URL rules; a path, a query and user info are allowed (the
// whole URL is the secret).
std::optional<std::string> WebhookUrlFault(std::string_view url);

}  // namespace fleet::alerting
