#include "receiver/web/uptime_page.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "base/utc_time.h"
#include "receiver/report/report_format.h"
#include "receiver/report/uptime_report.h"
#include "receiver/web/html.h"
#include "receiver/web/page_reads.h"

namespace fleet::receiver {
namespace {

constexpr std::int64_t kDay = 86400;

struct Range {
  Period period;  // cut at now
  std::string from;
  std::string to;
};

// The range, or the 400's message.
Result<Range> ParseRange(std::string_view query, std::int64_t now) {
  const std::int64_t today = now - now % kDay;
  Range range;
  auto from_param = QueryParam(query, "from");
  if (!from_param) return Error{"from: expected a date YYYY-MM-DD"};
  auto to_param = QueryParam(query, "to");
  if (!to_param) return Error{"to: expected a date YYYY-MM-DD"};
  std::int64_t from = MonthOf(now).begin;
  std::int64_t to = today;
  if (*from_param) {
    auto day = ParseDay(**from_param);
    if (!day) return Error{"from: expected a date YYYY-MM-DD"};
    from = *day;
  }
  if (*to_param) {
    auto day = ParseDay(**to_param);
    if (!day) return Error{"to: expected a date YYYY-MM-DD"};
    to = *day;
  }
  if (from > to) return Error{"from: must not be after to"};
  if ((to - from) / kDay + 1 > kMaxUptimeRangeDays) {
    return Error{"to: the range is at most " + std::to_string(kMaxUptimeRangeDays) + " days"};
  }
  const std::int64_t current_minute = now - now % 60;
  if (from >= current_minute) return Error{"from: the range starts in the future"};
  range.from = DateOf(from);
  range.to = DateOf(to);
  range.period = {from, std::min(to + kDay, current_minute), range.from + ".." + range.to};
  return range;
}

std::string Percent(const UptimeFigures& f, bool late) {
  return f.minutes > 0 ? TwoDecimals(f.UptimePercent(late)) + "%" : "—";
}

std::string FigureCells(const UptimeFigures& f, bool late) {
  const auto tasks = f.TaskCompletionPercent();
  std::string cells;
  for (std::int64_t value : {f.minutes, f.up, f.up_late, f.down, f.unmeasured, f.conflicting}) {
    cells += "<td class=\"num\">" + std::to_string(value) + "</td>";
  }
  cells += "<td class=\"num uptime\">" + Percent(f, late) + "</td>";
  cells += "<td class=\"num\">" + (tasks ? TwoDecimals(*tasks) + "%" : std::string("—")) + "</td>";
  cells += "<td class=\"num\">" + std::to_string(f.incidents) + "</td>";
  return cells;
}

constexpr std::string_view kHead =
    "<th scope=\"col\">Minutes</th><th scope=\"col\">Up</th><th scope=\"col\">of which late</th>"
    "<th scope=\"col\">Down</th><th scope=\"col\">Unmeasured</th>"
    "<th scope=\"col\">Conflicting</th><th scope=\"col\">Uptime</th><th scope=\"col\">Tasks</th>"
    "<th scope=\"col\">Incidents</th>";

}  // namespace

HttpResponse UptimePage(WebReads& reads, const Viewer& viewer, std::string_view query) {
  auto range = ParseRange(query, reads.now);
  if (!range) return HtmlError(400, range.error(), &viewer);
  auto registry = ViewerRegistry(reads.source, viewer);
  if (!registry) return ReadFailed("the registry", registry.error(), false, viewer);
  auto uptime = ComputeUptime(reads.source, *registry, range->period, reads.live_within_s);
  if (!uptime) return ReadFailed("uptime", uptime.error(), false, viewer);
  const bool late = reads.policy.late_minutes_count;
  std::string body;
  body +=
      "<form method=\"get\" action=\"/uptime\"><label>From <input name=\"from\" type=\"date\" "
      "value=\"" +
      Escape(range->from) + "\"></label> <label>to <input name=\"to\" type=\"date\" value=\"" +
      Escape(range->to) + "\"></label> (included) <button type=\"submit\">Show</button></form>\n";
  body += "<p>From " + Escape(FormatUtc(range->period.begin)) + " to " +
          Escape(FormatUtc(range->period.end)) + " (exclusive). Late minutes " +
          (late ? "count" : "do not count") + " as up.</p>\n";
  body +=
      "<h2>Operators</h2><table id=\"uptime-operators\"><thead><tr><th scope=\"col\">"
      "Operator</th><th scope=\"col\">Nodes</th>" +
      std::string(kHead) + "</tr></thead><tbody>\n";
  for (const OperatorUptime& op : uptime->operators) {
    body += "<tr data-operator=\"" + Escape(op.operator_id) + "\"><th scope=\"row\">" +
            Escape(op.operator_id) + (op.name.empty() ? "" : " — " + Escape(op.name)) +
            "</th><td class=\"num\">" + std::to_string(op.nodes) + "</td>" +
            FigureCells(op.figures, late) + "</tr>\n";
  }
  body +=
      "</tbody></table>\n<h2>Nodes</h2><table id=\"uptime-nodes\"><thead><tr><th "
      "scope=\"col\">Node</th><th scope=\"col\">Operator</th>" +
      std::string(kHead) + "</tr></thead><tbody>\n";
  for (const NodeUptime& node : uptime->nodes) {
    body += "<tr data-node=\"" + Escape(node.node) + "\"><th scope=\"row\"><a href=\"/nodes/" +
            UrlPart(node.node) + "\">" + Escape(node.node) + "</a></th><td>" +
            Escape(node.operator_id) + "</td>" + FigureCells(node.figures, late) + "</tr>\n";
  }
  body += "</tbody></table>\n";
  return HtmlPage(200, Page("Uptime " + range->from + " to " + range->to, viewer, body));
}

HttpResponse UptimeJson(WebReads& reads, const Viewer& viewer, std::string_view query) {
  auto range = ParseRange(query, reads.now);
  if (!range) return JsonError(400, range.error());
  auto registry = ViewerRegistry(reads.source, viewer);
  if (!registry) return ReadFailed("the registry", registry.error(), true, viewer);
  auto uptime = ComputeUptime(reads.source, *registry, range->period, reads.live_within_s);
  if (!uptime) return ReadFailed("uptime", uptime.error(), true, viewer);
  nlohmann::json doc = UptimeToJson(*uptime, reads.policy.late_minutes_count);
  doc["from"] = range->from;
  doc["to"] = range->to;
  doc["begin"] = FormatUtc(range->period.begin);
  doc["end"] = FormatUtc(range->period.end);
  return JsonReply(doc);
}

}  // namespace fleet::receiver
