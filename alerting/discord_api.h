// DiscordApi: an alert as a Discord webhook message, as data (the HTTP is the caller's).
// Sent with POST <webhook>?wait=true (so the reply carries the message id) as one embed
// coloured by state (critical red, warning orange, acknowledged blue, flapping purple,
// resolved green), node text with Discord's markdown escaped and cut to the embed limits,
// and allowed_mentions {parse: []}: a cron error that says @everyone pings nobody. Plain
// webhooks carry no buttons, so acknowledgement and recovery edit the message: PATCH
// <webhook>/messages/<id>. ReadDiscordAnswer reads the reply: 200/204 done (the id from
// the message object), 429 with retry_after (seconds, fractional) or the
// X-RateLimit-Reset-After header, 5xx and garbage retry later, 401/403/404 (a deleted
// webhook) refused with one clear error. The webhook URL is a secret (it holds the token):
// it never appears in an error. Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "alerting/alert.h"
#include "alerting/api_answer.h"

namespace fleet::alerting {

inline constexpr int kDiscordCritical = 0xE74C3C;
inline constexpr int kDiscordWarning = 0xF39C12;
inline constexpr int kDiscordAcknowledged = 0x3498DB;
inline constexpr int kDiscordFlapping = 0x9B59B6;
inline constexpr int kDiscordResolved = 0x2ECC71;

// Markdown that would format node text (*, _, ~, `, |, >, #, [, ], \) escaped with '\'.
std::string EscapeDiscordMarkdown(std::string_view text);

// The URL that executes the webhook and waits for the message (?wait=true, kept with any
// query the webhook URL has, thread_id say).
std::string DiscordSendUrl(std::string_view webhook_url);
// The URL of a message the webhook sent, for PATCH (its query kept).
std::string DiscordMessageUrl(std::string_view webhook_url, std::string_view message_id);

// The JSON body for sending or editing (the same: the whole embed each time).
std::string DiscordBody(const Alert& alert);

// reset_after: the X-RateLimit-Reset-After header's value in seconds, when there was one.
ApiAnswer ReadDiscordAnswer(long http_status, std::string_view body,
                            std::optional<double> reset_after);

}  // namespace fleet::alerting
