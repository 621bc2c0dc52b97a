#include "alerting/alert_text.h"

#include <chrono>

#include "base/text.h"
#include "base/units.h"
#include "base/utc_time.h"

namespace fleet::alerting {
namespace {

std::string StatusWord(const Alert& a) {
  switch (a.state) {
    case AlertState::kAcknowledged:
      return "ACKNOWLEDGED";
    case AlertState::kFlapping:
      return "FLAPPING";
    case AlertState::kResolved:
      return "RESOLVED";
    case AlertState::kFiring:
      break;
  }
  return a.severity == Severity::kCritical ? "CRITICAL" : "WARNING";
}

}  // namespace

AlertText TextOf(const Alert& a) {
  AlertText text;
  text.status = StatusWord(a);
  const std::string node = TruncateUtf8(a.node, kMaxNameText);
  std::string checks;
  for (const auto& c : a.checks) {
    checks += (checks.empty() ? "" : ", ") + TruncateUtf8(c.name, kMaxNameText);
  }
  if (checks.empty()) checks = "(no check)";
  text.title = a.headline.empty() ? text.status + ": " + checks + " on " + node
                                  : TruncateUtf8(a.headline, kMaxNodeText);
  if (a.escalation && a.state == AlertState::kFiring) text.title = "Escalated: " + text.title;
  if (a.reminder && a.state == AlertState::kFiring) text.title = "Reminder: " + text.title;
  if (a.update && a.state == AlertState::kFiring) text.title = "Update: " + text.title;
  if (a.test) text.title = "[test] " + text.title;
  // One check: its summary and fix as they are. Several: each line names its check.
  const bool several = a.checks.size() > 1;
  for (const auto& c : a.checks) {
    const std::string summary = TruncateUtf8(c.summary, kMaxNodeText);
    const std::string name = TruncateUtf8(c.name, kMaxNameText);
    if (!text.summary.empty()) text.summary += "\n";
    text.summary += several ? name + ": " + summary : summary;
  }
  if (a.state != AlertState::kResolved) {
    for (const auto& c : a.checks) {
      if (c.fix.empty()) continue;
      const std::string fix = TruncateUtf8(c.fix, kMaxNodeText);
      text.lines.push_back(several ? "Fix (" + TruncateUtf8(c.name, kMaxNameText) + "): " + fix
                                   : "Fix: " + fix);
    }
  }
  for (const auto& c : a.checks) {
    if (c.done.empty()) continue;
    const std::string done = TruncateUtf8(c.done, kMaxNodeText);
    text.lines.push_back(several ? "Done (" + TruncateUtf8(c.name, kMaxNameText) + "): " + done
                                 : "Done: " + done);
  }
  if (!a.headline.empty()) return text;  // a report: its lines are its checks
  text.lines.push_back("Opened " + FormatUtc(a.opened));
  if (a.state == AlertState::kFlapping) {
    text.lines.push_back("Changing state too often: quiet until it is stable");
  }
  if (a.acked_by) {
    std::string line = "Acknowledged by " + TruncateUtf8(*a.acked_by, kMaxNameText);
    if (a.acked_at) line += " at " + FormatUtc(*a.acked_at);
    text.lines.push_back(std::move(line));
    if (a.ack_note && !a.ack_note->empty()) {
      text.lines.push_back("Note: " + TruncateUtf8(*a.ack_note, kMaxNodeText));
    }
  }
  if (a.state == AlertState::kResolved && a.resolved) {
    const auto lasted = std::chrono::seconds(*a.resolved > a.opened ? *a.resolved - a.opened : 0);
    text.lines.push_back("Resolved " + FormatUtc(*a.resolved) + " after " + FormatDuration(lasted));
  }
  return text;
}

}  // namespace fleet::alerting
