#include "agent/alerts/alerter.h"

#include "alerting/alert_json.h"
#include "alerting/runbook.h"
#include "base/json_text.h"

namespace fleet {
namespace {

using alerting::AlertBook;
using alerting::BookAlert;
using alerting::Notice;
using alerting::NoticeKind;

void AddChannels(const AlertChannels& channels, const std::string& prefix,
                 std::vector<std::string>& out) {
  if (channels.telegram) out.push_back(prefix + "telegram");
  if (channels.discord) out.push_back(prefix + "discord");
  if (channels.webhook) out.push_back(prefix + "webhook");
}

bool CanEdit(const std::string& channel) { return !channel.ends_with("webhook"); }

}  // namespace

std::vector<std::string> AlertRoutes::All() const {
  std::vector<std::string> all = main;
  all.insert(all.end(), escalation.begin(), escalation.end());
  return all;
}

AlertRoutes RoutesOf(const AlertSettings& settings) {
  AlertRoutes routes;
  AddChannels(settings.channels, "", routes.main);
  AddChannels(settings.escalation, "escalation.", routes.escalation);
  return routes;
}

alerting::AlertPolicy PolicyOf(const AlertSettings& settings) {
  alerting::AlertPolicy policy;
  policy.min_severity = settings.min_severity;
  policy.confirm = settings.confirm.count();
  policy.repeat = settings.repeat.count();
  if (settings.escalate_after) policy.escalate_after = settings.escalate_after->count();
  policy.flap_changes = settings.flap_changes;
  policy.flap_window = settings.flap_window.count();
  return policy;
}

alerting::Level LevelOf(Status status) {
  switch (status) {
    case Status::kOk:
      return alerting::Level::kOk;
    case Status::kWarning:
      return alerting::Level::kWarning;
    case Status::kCritical:
      return alerting::Level::kCritical;
    case Status::kUnknown:
      break;
  }
  return alerting::Level::kUnknown;
}

Result<std::unique_ptr<Alerter>> Alerter::Open(std::unique_ptr<AlertLedger> ledger,
                                               std::string node, const AlertSettings& settings) {
  auto saved = ledger->LoadBook();
  std::string warning;
  AlertBook book(PolicyOf(settings));
  if (!saved) {
    warning = saved.error();
  } else if (*saved) {
    auto loaded = AlertBook::Load(**saved, PolicyOf(settings));
    if (loaded) {
      book = std::move(loaded).value();
    } else {
      warning = loaded.error();
    }
  }
  std::unique_ptr<Alerter> alerter(
      new Alerter(std::move(ledger), std::move(node), std::move(book)));
  alerter->routes_ = RoutesOf(settings);
  alerter->load_warning_ = warning;
  if (saved && *saved && warning.empty()) {
    nlohmann::json compared = **saved;
    compared.erase("last_now");
    alerter->last_saved_ = DumpJson(compared);
  }
  return alerter;
}

void Alerter::Configure(const AlertSettings& settings) {
  book_.set_policy(PolicyOf(settings));
  routes_ = RoutesOf(settings);
}

std::vector<QueuedMessage> Alerter::MessagesOf(const std::vector<Notice>& notices,
                                               std::int64_t now) const {
  std::vector<QueuedMessage> messages;
  for (const Notice& notice : notices) {
    const BookAlert* alert = book_.Find(notice.alert);
    if (alert == nullptr) {
      auto gone = book_.just_resolved().find(notice.alert);
      if (gone == book_.just_resolved().end()) continue;
      alert = &gone->second;
    }
    const std::optional<std::int64_t> resolved_at =
        notice.kind == NoticeKind::kResolved ? std::optional(now) : std::nullopt;
    const nlohmann::json rendered =
        alerting::AlertToJson(AlertBook::Render(*alert, node_, notice.kind, resolved_at));
    const std::string name(alerting::NoticeKindName(notice.kind));
    auto queue = [&](const std::string& channel, OutboxAction action) {
      messages.push_back({notice.alert, name, channel, action, rendered});
    };
    switch (notice.kind) {
      case NoticeKind::kOpened:
      case NoticeKind::kReminder:
      case NoticeKind::kFlapping:
      case NoticeKind::kUpdated:
        for (const auto& c : routes_.main) queue(c, OutboxAction::kSend);
        break;
      case NoticeKind::kEscalated:
        for (const auto& c : routes_.escalation) queue(c, OutboxAction::kSend);
        break;
      case NoticeKind::kAcknowledged:
      case NoticeKind::kResolved: {
        std::vector<std::string> told = routes_.main;
        if (alert->escalated) {
          told.insert(told.end(), routes_.escalation.begin(), routes_.escalation.end());
        }
        for (const auto& c : told) {
          if (notice.kind == NoticeKind::kResolved || !CanEdit(c)) queue(c, OutboxAction::kSend);
          if (CanEdit(c)) queue(c, OutboxAction::kEdit);
        }
        break;
      }
    }
  }
  return messages;
}

Result<bool> Alerter::Commit(const std::vector<Notice>& notices, const AlertBook& before,
                             std::int64_t now) {
  const nlohmann::json state = book_.Save();
  // The clock the book last saw moves at every call; alone, it is not worth a write.
  nlohmann::json compared = state;
  compared.erase("last_now");
  std::string text = DumpJson(compared);
  if (notices.empty() && text == last_saved_) return false;
  const std::vector<QueuedMessage> messages = MessagesOf(notices, now);
  if (auto written = ledger_->Record(state, messages, now); !written) {
    book_ = before;  // undone: the same observation is made again next time
    return Error{"alert state: " + written.error()};
  }
  last_saved_ = std::move(text);
  return !messages.empty();
}

Result<bool> Alerter::Observe(const CheckResult& result, std::int64_t now) {
  const AlertBook before = book_;
  std::vector<Notice> notices;
  book_.Observe(result.name, LevelOf(result.status), result.summary,
                alerting::RunbookFix(result.name), now, notices);
  return Commit(notices, before, now);
}

Result<bool> Alerter::Forget(const std::string& check, std::int64_t now) {
  const AlertBook before = book_;
  std::vector<Notice> notices;
  book_.Forget(check, now, notices);
  return Commit(notices, before, now);
}

Result<bool> Alerter::SetNote(const std::string& check, const std::string& note, bool tell,
                              std::int64_t now) {
  const AlertBook before = book_;
  std::vector<Notice> notices;
  book_.SetNote(check, note, tell, now, notices);
  return Commit(notices, before, now);
}

Result<bool> Alerter::Tick(std::int64_t now) {
  const AlertBook before = book_;
  std::vector<Notice> notices;
  book_.Tick(now, notices);
  return Commit(notices, before, now);
}

Result<Alerter::AckOutcome> Alerter::Acknowledge(std::int64_t alert,
                                                 const alerting::Acknowledgement& ack,
                                                 std::int64_t now) {
  const AlertBook before = book_;
  std::vector<Notice> notices;
  AckOutcome outcome;
  if (const BookAlert* found = book_.Find(alert)) {
    for (const auto& c : found->checks) outcome.checks.push_back(c.name);
  }
  outcome.result = book_.Acknowledge(alert, ack, notices);
  if (outcome.result != alerting::AckResult::kAcknowledged) return outcome;
  auto committed = Commit(notices, before, now);
  if (!committed) return Error{committed.error()};
  outcome.queued = *committed;
  return outcome;
}

Result<bool> Alerter::QueueReport(const alerting::Alert& report, std::int64_t now) {
  std::vector<QueuedMessage> messages;
  const nlohmann::json rendered = alerting::AlertToJson(report);
  for (const auto& channel : routes_.main) {
    if (CanEdit(channel)) messages.push_back({0, "report", channel, OutboxAction::kSend, rendered});
  }
  if (messages.empty()) return false;
  if (auto written = ledger_->Record(book_.Save(), messages, now); !written) {
    return Error{"weekly summary: " + written.error()};
  }
  return true;
}

Result<bool> Alerter::SetMaintenance(std::int64_t until, std::int64_t now) {
  const AlertBook before = book_;
  std::vector<Notice> notices;
  book_.SetMaintenance(until);
  book_.Tick(now, notices);
  return Commit(notices, before, now);
}

}  // namespace fleet
