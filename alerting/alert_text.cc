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
  const std::string check = TruncateUtf8(a.check, kMaxNameText);
  text.title = text.status + ": " + check + " on " + node;
  if (a.reminder && a.state == AlertState::kFiring) text.title = "Reminder: " + text.title;
  if (a.test) text.title = "[test] " + text.title;
  text.summary = TruncateUtf8(a.summary, kMaxNodeText);
  if (!a.fix.empty() && a.state != AlertState::kResolved) {
    text.lines.push_back("Fix: " + TruncateUtf8(a.fix, kMaxNodeText));
  }
  text.lines.push_back("Opened " + FormatUtc(a.opened));
  if (a.state == AlertState::kFlapping) {
    text.lines.push_back("Changing state too often: quiet until it is stable");
  }
  if (a.acked_by) {
    std::string line = "Acknowledged by " + TruncateUtf8(*a.acked_by, kMaxNameText);
    if (a.acked_at) line += " at " + FormatUtc(*a.acked_at);
    text.lines.push_back(std::move(line));
  }
  if (a.state == AlertState::kResolved && a.resolved) {
    const auto lasted = std::chrono::seconds(*a.resolved > a.opened ? *a.resolved - a.opened : 0);
    text.lines.push_back("Resolved " + FormatUtc(*a.resolved) + " after " + FormatDuration(lasted));
  }
  return text;
}

}  // namespace fleet::alerting
