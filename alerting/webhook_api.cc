#include "alerting/webhook_api.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "alerting/alert_json.h"
#include "alerting/alert_text.h"
#include "base/text.h"
#include "base/utc_time.h"

namespace fleet::alerting {
namespace {

using json = nlohmann::json;

constexpr char kNotYet[] = "0001-01-01T00:00:00Z";  // Alertmanager's zero time

json OptionalText(const std::optional<std::string>& text, std::size_t max_bytes) {
  return text ? json(TruncateUtf8(*text, max_bytes)) : json(nullptr);
}

json Fleet(const Alert& alert) {
  return {{"state", AlertStateName(alert.state)},
          {"acked_by", OptionalText(alert.acked_by, kMaxNameText)},
          {"acked_at", alert.acked_at ? json(FormatUtc(*alert.acked_at)) : json(nullptr)},
          {"ack_note", OptionalText(alert.ack_note, kMaxNodeText)},
          {"reminder", alert.reminder},
          {"escalation", alert.escalation},
          {"test", alert.test}};
}

}  // namespace

std::string WebhookBody(const Alert& alert) {
  const bool resolved = alert.state == AlertState::kResolved;
  const char* status = resolved ? "resolved" : "firing";
  const std::string node = TruncateUtf8(alert.node, kMaxNameText);
  const std::string key = TruncateUtf8(alert.key, kMaxNameText);
  const std::string ends = resolved && alert.resolved ? FormatUtc(*alert.resolved) : kNotYet;
  json alerts = json::array();
  for (const AlertCheck& check : alert.checks) {
    const std::string name = TruncateUtf8(check.name, kMaxNameText);
    alerts.push_back({{"status", status},
                      {"labels",
                       {{"alertname", name},
                        {"node", node},
                        {"check", name},
                        {"severity", SeverityName(check.severity)}}},
                      {"annotations",
                       {{"summary", TruncateUtf8(check.summary, kMaxNodeText)},
                        {"fix", TruncateUtf8(check.fix, kMaxNodeText)}}},
                      {"startsAt", FormatUtc(alert.opened)},
                      {"endsAt", ends},
                      {"fingerprint", key + "/" + name}});
    // What the node's agent did about it (its remedies), when it did something.
    if (!check.done.empty()) {
      alerts.back()["annotations"]["done"] = TruncateUtf8(check.done, kMaxNodeText);
    }
  }
  const json body = {{"version", "4"},
                     {"status", status},
                     {"receiver", "fleet-agent"},
                     {"groupKey", key},
                     {"groupLabels", {{"node", node}}},
                     {"commonLabels", {{"node", node}, {"severity", SeverityName(alert.severity)}}},
                     {"commonAnnotations", {{"summary", TextOf(alert).title}}},
                     {"externalURL", ""},
                     {"truncatedAlerts", 0},
                     {"alerts", std::move(alerts)},
                     {"fleet", Fleet(alert)}};
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

ApiAnswer ReadWebhookAnswer(long http_status, std::optional<std::int64_t> retry_after) {
  ApiAnswer answer;
  answer.http_status = http_status;
  if (http_status >= 200 && http_status < 300) {
    answer.verdict = ApiVerdict::kDone;
    return answer;
  }
  answer.error = "webhook: HTTP " + std::to_string(http_status);
  if (http_status == 429) {
    answer.verdict = ApiVerdict::kRateLimited;
    const std::int64_t seconds = std::clamp<std::int64_t>(retry_after.value_or(5), 0, 3600);
    answer.retry_after =
        std::min<std::chrono::milliseconds>(std::chrono::seconds(seconds), kMaxRetryAfter);
  } else if (http_status == 408 || http_status >= 500 || http_status < 100) {
    answer.verdict = ApiVerdict::kRetryLater;
  } else {
    answer.verdict = ApiVerdict::kRefused;
    if (http_status >= 300 && http_status < 400) {
      answer.error += " (a redirect, which is not followed: check the webhook URL)";
    } else if (http_status == 401 || http_status == 403 || http_status == 404) {
      answer.error += " (the webhook URL is refused or gone: check it)";
    }
  }
  return answer;
}

}  // namespace fleet::alerting
