#include "receiver/web/statement_page.h"

#include <cstdio>
#include <optional>

#include <nlohmann/json.hpp>

#include "base/utc_time.h"
#include "protocol/jws.h"
#include "receiver/report/report_format.h"
#include "receiver/report/statement.h"
#include "receiver/report/uptime_report.h"
#include "receiver/store/closed_statements.h"
#include "receiver/web/html.h"
#include "receiver/web/page_reads.h"

namespace fleet::receiver {
namespace {

struct Closed {
  ClosedStatementRow row;
  nlohmann::json operator_json;  // the operator's entry of the closed statement, or null
};

// The closed month's row and the operator's figures in its signed document (read, not
// verified here: `fleet-receiver statement verify` checks it).
Result<std::optional<Closed>> FindClosed(SqlLink& link, const std::string& month,
                                         const std::string& op) {
  auto row = ClosedStatements(link).Find(month);
  if (!row) return Error{row.error()};
  if (!*row) return std::optional<Closed>();
  Closed closed{**row, nullptr};
  const std::string& jws = closed.row.jws;
  const auto first = jws.find('.');
  const auto second = first == std::string::npos ? first : jws.find('.', first + 1);
  if (second != std::string::npos) {
    auto payload = Base64UrlDecode(std::string_view(jws).substr(first + 1, second - first - 1));
    if (payload) {
      auto doc = ParseStrictJson(*payload, 64);
      if (doc && doc->contains("statement") && (*doc)["statement"].contains("operators")) {
        for (const auto& entry : (*doc)["statement"]["operators"]) {
          if (entry.value("operator", "") == op) closed.operator_json = entry;
        }
      }
    }
  }
  return std::optional<Closed>(std::move(closed));
}

std::string Money(double amount) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", amount);
  return text;
}

std::string Row(const std::string& line, const std::string& amount, const std::string& figure,
                const std::string& css = "") {
  return "<tr" + (css.empty() ? std::string() : " class=\"" + css + "\"") + "><th scope=\"row\">" +
         Escape(line) + "</th><td class=\"num amount\">" + Escape(amount) +
         "</td><td class=\"figure\">" + Escape(figure) + "</td></tr>\n";
}

std::string Body(const OperatorStatement& o, const MonthStatement& statement, bool to_date,
                 const std::optional<Closed>& closed, const std::string& month) {
  const std::string base = "/statements/" + UrlPart(o.operator_id) + "/" + UrlPart(month);
  std::string body;
  body += "<p>Operator <strong>" + Escape(o.operator_id) + "</strong>";
  if (!o.name.empty()) body += " (" + Escape(o.name) + ")";
  body += ", " + Escape(month) + ". Bonuses due " + Escape(statement.bonuses_due) +
          ". Late records " + (statement.policy.late_minutes_count ? "count" : "do not count") +
          ". Download: <a href=\"" + base + ".csv\">CSV</a>, <a href=\"" + base +
          ".json\">JSON</a>.</p>\n";
  if (to_date) {
    body += "<p class=\"note\" id=\"in-progress\">This month is not over: the figures are to " +
            Escape(FormatUtc(statement.month.end)) + " and will change.</p>\n";
  }
  if (closed) {
    body += "<p class=\"note\" id=\"closed\">This month is closed: frozen at " +
            Escape(FormatUtc(closed->row.closed_at)) + ", signed by the receiver's key " +
            Escape(closed->row.receiver_kid) + ".";
    if (closed->operator_json.is_object()) {
      const double total = closed->operator_json.value("total", 0.0);
      body +=
          " Closed total for this operator: <span id=\"closed-total\">" + Money(total) + "</span>.";
      if (Money(total) != Money(o.total)) {
        body +=
            " The lines below are recomputed from today's records and differ: records that "
            "arrived after closing are adjustments in the next month.";
      } else {
        body += " The lines below, recomputed from today's records, agree.";
      }
    } else {
      body +=
          " The closed statement has no line for this operator; the lines below are "
          "recomputed from today's records.";
    }
    body += "</p>\n";
  }
  body +=
      "<table id=\"payout\"><thead><tr><th scope=\"col\">Line</th><th scope=\"col\">Amount</th>"
      "<th scope=\"col\">Figure</th></tr></thead><tbody>\n";
  std::string base_figure = std::to_string(o.paid_nodes) + " paid nodes (" +
                            std::to_string(o.measured_nodes) + " measured of " +
                            std::to_string(o.nodes) + " registered";
  for (const auto& left : o.left_out) {
    base_figure +=
        "; " + left.node + " left out: measured " + std::to_string(left.measured_minutes) + " min";
  }
  body += Row("base", Money(o.base), base_figure + ")", "base");
  for (const BonusLine& bonus : o.bonuses) {
    body += Row(bonus.name + " bonus" + (bonus.earned ? "" : " (missed)"), Money(bonus.amount),
                bonus.figure, "bonus");
  }
  for (const CommissionLine& c : o.commissions) {
    body += Row("commission: " + c.referred, Money(c.base_part + c.bonus_part),
                "20% of base " + Money(c.base_part * 5) + " and bonuses " +
                    Money(c.bonus_part * 5) + "; " + std::to_string(c.months_left) + " months left",
                "commission");
  }
  if (o.commissions.empty()) {
    body += Row("commissions", Money(0),
                o.partner ? "partner, no referred operator in its first 12 months"
                          : std::to_string(o.referred_operators) +
                                " referred operators (a partner needs at least 2)",
                "commission");
  }
  body += Row("total", Money(o.total),
              "base " + Money(o.base) + " + bonuses " + Money(o.bonus_total) + " + commissions " +
                  Money(o.commission_total),
              "total");
  body += "</tbody></table>\n";
  body += "<h2>Alerts</h2><p>" + std::to_string(o.alerts.alerts) + " critical alerts, " +
          std::to_string(o.alerts.answered) + " answered within 30 min";
  if (o.alerts.mtta_s) body += "; MTTA " + Escape(FormatDuration(*o.alerts.mtta_s));
  if (o.alerts.mttr_s) body += "; MTTR " + Escape(FormatDuration(*o.alerts.mttr_s));
  body += ".</p>\n";
  if (!o.alerts.lines.empty()) {
    body +=
        "<table id=\"alerts\"><thead><tr><th scope=\"col\">Node</th><th scope=\"col\">Check</th>"
        "<th scope=\"col\">Opened</th><th scope=\"col\">Answer</th><th scope=\"col\">Figure</th>"
        "</tr></thead><tbody>\n";
    for (const AlertLine& line : o.alerts.lines) {
      body += "<tr><td><a href=\"/nodes/" + UrlPart(line.node) + "?month=" + UrlPart(month) +
              "\">" + Escape(line.node) + "</a></td><td>" + Escape(line.check) + "</td><td>" +
              Escape(FormatUtc(line.opened)) + "</td><td>" +
              Escape(std::string(AlertAnswerName(line.answer))) + "</td><td class=\"figure\">" +
              Escape(line.figure) + "</td></tr>\n";
    }
    body += "</tbody></table>\n";
  }
  if (!o.conflicts.empty()) {
    body += "<h2>Conflicting minutes (counted down)</h2><ul>";
    for (const auto& c : o.conflicts) {
      body += "<li>" + Escape(c.node) + ": " + Escape(FormatUtc(c.first)) + " to " +
              Escape(FormatUtc(c.last)) + "</li>";
    }
    body += "</ul>\n";
  }
  return body;
}

}  // namespace

HttpResponse StatementPage(WebReads& reads, const Viewer& viewer, const std::string& op,
                           const std::string& month_text, StatementFormat format) {
  const bool json = format != StatementFormat::kHtml;
  const auto not_found = [&] {
    return json ? JsonError(404, "no such statement")
                : HtmlError(404, "No such statement.", &viewer);
  };
  auto month = ParseMonth(month_text);
  if (!viewer.Sees(op) || !month) return not_found();
  const Period current = MonthOf(reads.now);
  if (month->begin > current.begin) return not_found();
  const bool to_date = month->begin == current.begin;
  Period period = *month;
  if (to_date) period.end = std::max(period.begin + 60, reads.now - reads.now % 60);

  auto registry = ViewerRegistry(reads.source, Viewer{op, viewer.token_id}, true);
  if (!registry) return ReadFailed("a statement's registry", registry.error(), json, viewer);
  bool registered = false;
  for (const auto& entry : registry->operators) registered = registered || entry.id == op;
  if (!registered) return not_found();
  auto uptime = ComputeUptime(reads.source, *registry, period, reads.live_within_s);
  if (!uptime) return ReadFailed("a statement's uptime", uptime.error(), json, viewer);
  MonthStatement statement = ComputeStatement(*uptime, *registry, reads.policy);
  std::optional<OperatorStatement> mine;
  for (auto& entry : statement.operators) {
    if (entry.operator_id == op) mine = std::move(entry);
  }
  if (!mine) return not_found();
  statement.operators = {*mine};
  statement.total = mine->total;
  auto closed = FindClosed(reads.link, month_text, op);
  if (!closed) return ReadFailed("the closed statements", closed.error(), json, viewer);

  switch (format) {
    case StatementFormat::kCsv: {
      HttpResponse response{200, StatementToCsv(statement), "", "text/csv; charset=utf-8"};
      response.headers.emplace_back("Content-Disposition", "attachment; filename=\"statement-" +
                                                               op + "-" + month_text + ".csv\"");
      response.headers.emplace_back("Cache-Control", "no-store");
      return response;
    }
    case StatementFormat::kJson:
    case StatementFormat::kApi: {
      nlohmann::json doc = StatementToJson(statement);
      doc["to_date"] = to_date;
      doc["until"] = FormatUtc(period.end);
      doc["closed"] = nullptr;
      if (*closed) {
        doc["closed"] = {{"closed_at", FormatUtc((*closed)->row.closed_at)},
                         {"receiver_kid", (*closed)->row.receiver_kid},
                         {"operator", (*closed)->operator_json}};
      }
      HttpResponse response = JsonReply(doc);
      if (format == StatementFormat::kJson) {
        response.headers.emplace_back("Content-Disposition", "attachment; filename=\"statement-" +
                                                                 op + "-" + month_text + ".json\"");
      }
      return response;
    }
    case StatementFormat::kHtml:
      break;
  }
  return HtmlPage(200, Page("Statement " + op + " " + month_text, viewer,
                            Body(*mine, statement, to_date, *closed, month_text)));
}

}  // namespace fleet::receiver
