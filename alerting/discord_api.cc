#include "alerting/discord_api.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "alerting/alert_text.h"
#include "base/text.h"
#include "base/utc_time.h"

namespace fleet::alerting {
namespace {

using json = nlohmann::json;

// Discord's embed limits (title 256, description 4096, a field's value 1024), in bytes
// here, which is never more characters than Discord counts.
constexpr std::size_t kTitleBytes = 256;
constexpr std::size_t kDescriptionBytes = 4096;

int Colour(const Alert& a) {
  switch (a.state) {
    case AlertState::kAcknowledged:
      return kDiscordAcknowledged;
    case AlertState::kFlapping:
      return kDiscordFlapping;
    case AlertState::kResolved:
      return kDiscordResolved;
    case AlertState::kFiring:
      break;
  }
  return a.severity == Severity::kCritical ? kDiscordCritical : kDiscordWarning;
}

// The webhook URL split at its query: {path, "?query" or ""}.
std::pair<std::string, std::string> SplitQuery(std::string_view url) {
  const auto q = url.find('?');
  if (q == std::string_view::npos) return {std::string(url), ""};
  return {std::string(url.substr(0, q)), std::string(url.substr(q))};
}

}  // namespace

std::string EscapeDiscordMarkdown(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (std::string_view("*_~`|>#[]\\").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

std::string DiscordSendUrl(std::string_view webhook_url) {
  auto [path, query] = SplitQuery(webhook_url);
  return path + (query.empty() ? "?wait=true" : query + "&wait=true");
}

std::string DiscordMessageUrl(std::string_view webhook_url, std::string_view message_id) {
  auto [path, query] = SplitQuery(webhook_url);
  while (!path.empty() && path.back() == '/') path.pop_back();
  return path + "/messages/" + std::string(message_id) + query;
}

std::string DiscordBody(const Alert& alert) {
  const AlertText text = TextOf(alert);
  std::string description = EscapeDiscordMarkdown(text.summary);
  for (const auto& line : text.lines) description += "\n" + EscapeDiscordMarkdown(line);
  json embed = {{"title", TruncateUtf8(EscapeDiscordMarkdown(text.title), kTitleBytes)},
                {"description", TruncateUtf8(description, kDescriptionBytes)},
                {"color", Colour(alert)},
                {"timestamp", FormatUtc(alert.opened)}};
  const json body = {{"embeds", json::array({embed})},
                     {"allowed_mentions", {{"parse", json::array()}}}};
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

ApiAnswer ReadDiscordAnswer(long http_status, std::string_view body,
                            std::optional<double> reset_after) {
  ApiAnswer answer;
  answer.http_status = http_status;
  const json reply = json::parse(body, nullptr, false);
  if (http_status == 200 || http_status == 204) {
    answer.verdict = ApiVerdict::kDone;
    if (reply.is_object()) {
      if (auto id = reply.find("id"); id != reply.end() && id->is_string()) {
        answer.message_id = id->get<std::string>();
      }
    }
    return answer;
  }
  std::string message;
  if (reply.is_object()) {
    if (auto m = reply.find("message"); m != reply.end() && m->is_string()) {
      message = TruncateUtf8(m->get<std::string>(), 200);
      std::replace_if(
          message.begin(), message.end(),
          [](char c) { return static_cast<unsigned char>(c) < 0x20; }, ' ');
    }
  }
  answer.error = "discord: HTTP " + std::to_string(http_status) +
                 (message.empty() ? std::string() : " " + message);
  if (http_status == 429) {
    answer.verdict = ApiVerdict::kRateLimited;
    double seconds = 5;  // when it does not say
    if (reply.is_object()) {
      if (auto r = reply.find("retry_after"); r != reply.end() && r->is_number()) {
        seconds = r->get<double>();
      } else if (reset_after) {
        seconds = *reset_after;
      }
    } else if (reset_after) {
      seconds = *reset_after;
    }
    seconds = std::clamp(seconds, 0.0, 3600.0);
    answer.retry_after = std::min(
        std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000)), kMaxRetryAfter);
  } else if (http_status >= 500 || http_status < 100) {
    answer.verdict = ApiVerdict::kRetryLater;
  } else if (http_status == 404) {
    answer.verdict = ApiVerdict::kRefused;
    answer.error += " (the webhook or its message no longer exists: check webhook_url_file)";
  } else if (http_status == 401 || http_status == 403) {
    answer.verdict = ApiVerdict::kRefused;
    answer.error += " (the webhook URL is refused: check webhook_url_file)";
  } else {
    answer.verdict = ApiVerdict::kRefused;
  }
  return answer;
}

}  // namespace fleet::alerting
