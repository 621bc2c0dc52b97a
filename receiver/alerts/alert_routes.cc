#include "receiver/alerts/alert_routes.h"

#include <algorithm>

#include "alerting/alert_json.h"
#include "base/json_text.h"

namespace fleet::receiver {
namespace {

using alerting::NoticeKind;

bool CanEdit(const std::string& channel) { return !channel.ends_with(".webhook"); }

void AddTold(std::vector<std::string>& told, const std::vector<std::string>& channels) {
  for (const auto& c : channels) {
    if (std::find(told.begin(), told.end(), c) == told.end()) told.push_back(c);
  }
}

bool IsSilent(const alerting::BookAlert& alert) {
  return std::any_of(alert.checks.begin(), alert.checks.end(),
                     [](const alerting::AlertCheck& c) { return c.name == kSilentCheck; });
}

}  // namespace

std::vector<std::string> AlertRoutes::OperatorChannels(const std::string& operator_id) const {
  auto it = operators.find(operator_id);
  if (it == operators.end() || it->second.empty()) return foundation;
  return it->second;
}

std::pair<std::string, std::string> SplitChannel(const std::string& channel) {
  const auto dot = channel.rfind('.');
  if (dot == std::string::npos) return {std::string(), channel};
  return {channel.substr(0, dot), channel.substr(dot + 1)};
}

std::string ChannelName(std::string_view owner, std::string_view kind) {
  return std::string(owner) + "." + std::string(kind);
}

std::vector<OutboxMessage> MessagesOf(const NoticeEvent& event, const std::string& node,
                                      std::int64_t key, const std::string& operator_id,
                                      const AlertRoutes& routes, std::vector<std::string>& told,
                                      std::int64_t now) {
  const NoticeKind kind = event.notice.kind;
  const std::optional<std::int64_t> resolved_at =
      kind == NoticeKind::kResolved ? std::optional(event.resolved_at.value_or(now)) : std::nullopt;
  alerting::Alert alert = alerting::AlertBook::Render(event.alert, node, kind, resolved_at);
  alert.key = std::to_string(key);
  const std::string rendered = DumpJson(alerting::AlertToJson(alert));
  const std::string notice(alerting::NoticeKindName(kind));
  std::vector<OutboxMessage> messages;
  auto queue = [&](const std::string& channel, OutboxAction action) {
    messages.push_back({key, notice, channel, action, rendered});
  };
  switch (kind) {
    case NoticeKind::kOpened:
    case NoticeKind::kReminder:
    case NoticeKind::kFlapping:
    case NoticeKind::kUpdated: {
      std::vector<std::string> to = routes.OperatorChannels(operator_id);
      if (IsSilent(event.alert)) AddTold(to, routes.foundation);
      for (const auto& c : to) queue(c, OutboxAction::kSend);
      AddTold(told, to);
      break;
    }
    case NoticeKind::kEscalated:
      for (const auto& c : routes.foundation) queue(c, OutboxAction::kSend);
      AddTold(told, routes.foundation);
      break;
    case NoticeKind::kAcknowledged:
    case NoticeKind::kResolved:
      for (const auto& c : told) {
        if (kind == NoticeKind::kResolved || !CanEdit(c)) queue(c, OutboxAction::kSend);
        if (CanEdit(c)) queue(c, OutboxAction::kEdit);
      }
      break;
  }
  return messages;
}

}  // namespace fleet::receiver
