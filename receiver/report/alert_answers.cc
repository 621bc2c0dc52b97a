#include "receiver/report/alert_answers.h"

#include <cstdio>

namespace fleet::receiver {
namespace {

// "acknowledged by ada via telegram after 4m", marked when it arrived late.
std::string AckPhrase(const AlertAck& ack, std::int64_t opened, bool counted) {
  std::string phrase =
      "acknowledged by " + ack.by + " via " + ack.via + " after " + FormatDuration(ack.at - opened);
  if (!ack.live) phrase += counted ? " (late: from the spool)" : " (late: not counted)";
  return phrase;
}

std::optional<std::int64_t> Mean(std::int64_t sum, std::int64_t count) {
  if (count == 0) return std::nullopt;
  return (sum + count / 2) / count;
}

AlertLine Judge(const std::string& node, const AlertFacts& alert, bool late_acks_count) {
  AlertLine line;
  line.node = node;
  line.incident = alert.id;
  line.alert = alert.alert;
  line.silent = alert.silent;
  line.check = alert.check;
  line.opened = alert.opened;
  line.closed = alert.closed;
  const AlertAck* counted = nullptr;
  for (const AlertAck& ack : alert.acks) {
    if (ack.live || late_acks_count) {
      counted = &ack;
      break;
    }
  }
  if (counted != nullptr) {
    line.ack = *counted;
    line.ack_counted = true;
  } else if (!alert.acks.empty()) {
    line.ack = alert.acks.front();
  }
  std::optional<std::int64_t> acked_after, closed_after;
  if (counted != nullptr) acked_after = counted->at - alert.opened;
  if (alert.closed) closed_after = *alert.closed - alert.opened;
  const bool acked_in_time = acked_after && *acked_after <= kAnswerWithinSeconds;
  const bool closed_in_time = closed_after && *closed_after <= kAnswerWithinSeconds;
  const std::string ack_phrase =
      line.ack ? AckPhrase(*line.ack, alert.opened, line.ack_counted) : std::string();
  if (acked_in_time && (!closed_in_time || *acked_after <= *closed_after)) {
    line.answer = AlertAnswer::kAcknowledged;
    line.answered_after_s = acked_after;
    line.figure = ack_phrase;
  } else if (closed_in_time) {
    line.answer = AlertAnswer::kResolved;
    line.answered_after_s = closed_after;
    line.figure = "resolved after " + FormatDuration(*closed_after);
    if (line.ack) line.figure += "; " + ack_phrase;
  } else {
    line.figure = "not answered within " + FormatDuration(kAnswerWithinSeconds) + " (";
    if (line.ack) line.figure += ack_phrase + "; ";
    line.figure += closed_after ? "resolved after " + FormatDuration(*closed_after) : "still open";
    line.figure += ")";
  }
  return line;
}

}  // namespace

std::string_view AlertAnswerName(AlertAnswer answer) {
  switch (answer) {
    case AlertAnswer::kAcknowledged:
      return "acknowledged";
    case AlertAnswer::kResolved:
      return "resolved";
    case AlertAnswer::kNotAnswered:
      break;
  }
  return "not_answered";
}

std::string FormatDuration(std::int64_t seconds) {
  char text[48];
  const long long s = seconds < 0 ? 0 : seconds;
  if (s < 60) {
    std::snprintf(text, sizeof text, "%llds", s);
  } else if (s < 3600) {
    if (s % 60 == 0) {
      std::snprintf(text, sizeof text, "%lldm", s / 60);
    } else {
      std::snprintf(text, sizeof text, "%lldm%02llds", s / 60, s % 60);
    }
  } else if (s < 86400) {
    std::snprintf(text, sizeof text, "%lldh%02lldm", s / 3600, s % 3600 / 60);
  } else {
    std::snprintf(text, sizeof text, "%lldd%02lldh", s / 86400, s % 86400 / 3600);
  }
  return text;
}

AlertSummary AnswerAlerts(const std::vector<const NodeUptime*>& nodes, bool late_acks_count) {
  AlertSummary summary;
  std::int64_t ack_sum = 0, close_sum = 0;
  for (const NodeUptime* node : nodes) {
    for (const AlertFacts& alert : node->alerts) {
      AlertLine line = Judge(node->node, alert, late_acks_count);
      ++summary.alerts;
      if (line.answer != AlertAnswer::kNotAnswered) ++summary.answered;
      if (line.answer == AlertAnswer::kAcknowledged) ++summary.acknowledged;
      if (line.answer == AlertAnswer::kResolved) ++summary.resolved;
      if (line.ack && !line.ack->live) ++summary.late_acks;
      if (line.ack_counted) {
        ++summary.mtta_alerts;
        ack_sum += line.ack->at - line.opened;
      }
      if (line.closed) {
        ++summary.mttr_alerts;
        close_sum += *line.closed - line.opened;
      }
      summary.lines.push_back(std::move(line));
    }
  }
  summary.mtta_s = Mean(ack_sum, summary.mtta_alerts);
  summary.mttr_s = Mean(close_sum, summary.mttr_alerts);
  return summary;
}

}  // namespace fleet::receiver
