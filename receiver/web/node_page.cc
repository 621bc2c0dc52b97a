#include "receiver/web/node_page.h"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "base/utc_time.h"
#include "receiver/web/html.h"
#include "receiver/web/node_month.h"
#include "receiver/web/page_reads.h"
#include "receiver/web/shown_node.h"

namespace fleet::receiver {
namespace {

constexpr int kCellWidth = 22, kCellHeight = 16, kLeft = 84, kTop = 22;

std::string Fixed2(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", value);
  return text;
}

std::string Duration(std::int64_t seconds) {
  if (seconds < 0) seconds = 0;
  const std::int64_t d = seconds / 86400, h = seconds % 86400 / 3600, m = seconds % 3600 / 60;
  const std::int64_t s = seconds % 60;
  if (d > 0) return std::to_string(d) + " d " + std::to_string(h) + " h";
  if (h > 0) return std::to_string(h) + " h " + std::to_string(m) + " min";
  if (m > 0) return std::to_string(m) + " min " + std::to_string(s) + " s";
  return std::to_string(s) + " s";
}

std::string Day(std::int64_t t) { return FormatUtc(t).substr(0, 10); }   // YYYY-MM-DD
std::string Hour(std::int64_t t) { return FormatUtc(t).substr(0, 13); }  // YYYY-MM-DDTHH
std::string Minute(std::int64_t t) { return FormatUtc(t).substr(0, 16) + "Z"; }

// The month a query asks for (default: the one `now` is in), or the 400 text.
Result<Period> MonthOfQuery(std::string_view query, std::int64_t now) {
  auto text = QueryParam(query, "month");
  if (!text) return Error{text.error()};
  if (!*text) return MonthOf(now);
  auto month = ParseMonth(**text);
  if (!month) return Error{"month: expected YYYY-MM"};
  return *month;
}

// A cell's fill by its share of up minutes, one hue from light (none up) to dark (all up),
// so the shade reads in grey too; unregistered hours are a plain grey.
std::string Fill(const HourTally& hour) {
  if (hour.registered == 0) return "#e4e6e9";
  const double share = static_cast<double>(hour.up) / static_cast<double>(hour.registered);
  const int lightness = static_cast<int>(96.0 - 62.0 * share + 0.5);
  return "hsl(145,55%," + std::to_string(lightness) + "%)";
}

std::string CellTitle(const HourTally& hour, std::int64_t now) {
  std::string text = Day(hour.start) + " " + FormatUtc(hour.start).substr(11, 5) + "–" +
                     FormatUtc(hour.start + 3600).substr(11, 5) + " UTC: ";
  if (hour.registered == 0) return text + "not registered";
  text += std::to_string(hour.up) + " up (" + std::to_string(hour.late) + " late), " +
          std::to_string(hour.down) + " down";
  if (hour.conflicting > 0) text += " (" + std::to_string(hour.conflicting) + " conflicting)";
  text += ", " + std::to_string(hour.unmeasured) + " unmeasured";
  if (hour.start + 3600 > now) text += " (not over yet)";
  return text;
}

std::string Patterns() {
  // Cues besides colour: late minutes hatched, unmeasured dotted, down crossed out.
  return "<svg width=\"0\" height=\"0\" aria-hidden=\"true\" style=\"position:absolute\">"
         "<defs><pattern id=\"p-late\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" "
         "patternTransform=\"rotate(45)\"><line x1=\"1\" y1=\"0\" x2=\"1\" y2=\"6\" "
         "stroke=\"#fff\" "
         "stroke-width=\"1.4\"/><line x1=\"3\" y1=\"0\" x2=\"3\" y2=\"6\" stroke=\"#222\" "
         "stroke-width=\"1.4\"/></pattern>"
         "<pattern id=\"p-unmeasured\" width=\"5\" height=\"5\" patternUnits=\"userSpaceOnUse\">"
         "<circle cx=\"2.5\" cy=\"2.5\" r=\"1.1\" fill=\"#333\" "
         "fill-opacity=\".6\"/></pattern></defs></svg>";
}

std::string HeatMap(const NodeMonth& m, std::int64_t now) {
  const int days = static_cast<int>((m.month.end - m.month.begin) / 86400);
  const int width = kLeft + 24 * kCellWidth + 2, height = kTop + days * kCellHeight + 2;
  const std::string node_url = "/nodes/" + UrlPart(m.node.node);
  std::string svg = "<svg id=\"heatmap\" role=\"img\" aria-labelledby=\"heatmap-title\" width=\"" +
                    std::to_string(width) + "\" height=\"" + std::to_string(height) +
                    "\" viewBox=\"0 0 " + std::to_string(width) + " " + std::to_string(height) +
                    "\" xmlns=\"http://www.w3.org/2000/svg\">";
  svg += "<title id=\"heatmap-title\">Uptime of " + Escape(m.node.node) + " in " +
         Escape(m.month.label) +
         " by day and hour (the table below gives the same figures)</title>";

  for (int h = 0; h < 24; h += 3) {
    svg += "<text x=\"" + std::to_string(kLeft + h * kCellWidth + 2) + "\" y=\"" +
           std::to_string(kTop - 7) + "\" font-size=\"11\">" + (h < 10 ? "0" : "") +
           std::to_string(h) + "</text>";
  }
  for (std::size_t i = 0; i < m.hours.size(); ++i) {
    const HourTally& hour = m.hours[i];
    const int row = static_cast<int>((hour.start - m.month.begin) / 86400);
    const int column = static_cast<int>((hour.start - m.month.begin) % 86400 / 3600);
    const int x = kLeft + column * kCellWidth, y = kTop + row * kCellHeight;
    const int w = kCellWidth - 2, ht = kCellHeight - 2;
    if (column == 0) {
      svg += "<text x=\"0\" y=\"" + std::to_string(y + ht - 2) + "\" font-size=\"11\">" +
             Day(hour.start) + "</text>";
    }
    const std::string xy = " x=\"" + std::to_string(x) + "\" y=\"" + std::to_string(y) +
                           "\" width=\"" + std::to_string(w) + "\" height=\"" + std::to_string(ht) +
                           "\"";
    // An hour not over yet (the current month's rest) is faded: the report counts it
    // unmeasured all the same.
    svg += "<a href=\"" + node_url + "/records?hour=" + Hour(hour.start) + "\"" +
           (hour.start + 3600 > now ? " opacity=\".4\"" : "") + ">";
    svg += "<rect class=\"cell" + std::string(hour.registered == 0 ? " none" : "") +
           "\" data-day=\"" + Day(hour.start) + "\" data-hour=\"" +
           FormatUtc(hour.start).substr(11, 2) + "\" data-up=\"" + std::to_string(hour.up) +
           "\" data-late=\"" + std::to_string(hour.late) + "\" data-down=\"" +
           std::to_string(hour.down) + "\" data-unmeasured=\"" + std::to_string(hour.unmeasured) +
           "\"" + xy + " fill=\"" + Fill(hour) + "\"/>";
    svg += "<title>" + Escape(CellTitle(hour, now)) + "</title>";
    if (hour.late > 0) svg += "<rect class=\"cue late\"" + xy + " fill=\"url(#p-late)\"/>";
    if (hour.unmeasured > 0) {
      svg += "<rect class=\"cue unmeasured\"" + xy + " fill=\"url(#p-unmeasured)\"/>";
    }
    if (hour.down > 0) {
      svg += "<path class=\"cue down\" d=\"M" + std::to_string(x + 3) + " " +
             std::to_string(y + 2) + "L" + std::to_string(x + w - 3) + " " +
             std::to_string(y + ht - 2) + "M" + std::to_string(x + 3) + " " +
             std::to_string(y + ht - 2) + "L" + std::to_string(x + w - 3) + " " +
             std::to_string(y + 2) + "\" stroke=\"#a40e26\" stroke-width=\"2\"/>";
    }
    svg += "</a>";
  }
  return svg + "</svg>";
}

std::string Legend() {
  const auto swatch = [](const std::string& inner, const std::string& label) {
    return "<span style=\"margin-right:1.2em\"><svg width=\"20\" height=\"14\" "
           "aria-hidden=\"true\"><rect width=\"20\" height=\"14\" fill=\"hsl(145,55%,60%)\"/>" +
           inner + "</svg> " + label + "</span>";
  };
  return "<p class=\"legend\">" + swatch("", "darker: more of the hour up") +
         swatch("<rect width=\"20\" height=\"14\" fill=\"url(#p-late)\"/>",
                "hatched: late minutes") +
         swatch("<path d=\"M3 2L17 12M3 12L17 2\" stroke=\"#a40e26\" stroke-width=\"2\"/>",
                "crossed: down minutes") +
         swatch("<rect width=\"20\" height=\"14\" fill=\"url(#p-unmeasured)\"/>",
                "dotted: unmeasured minutes") +
         "<span>grey: not registered</span></p>";
}

std::string DayTable(const NodeMonth& m) {
  std::string html =
      "<table id=\"heatmap-table\"><caption>Minutes per day (UTC)</caption><thead><tr>"
      "<th scope=\"col\">Day</th><th scope=\"col\">Registered</th><th scope=\"col\">Up</th>"
      "<th scope=\"col\">of which late</th><th scope=\"col\">Down</th>"
      "<th scope=\"col\">of which conflicting</th><th scope=\"col\">Unmeasured</th>"
      "<th scope=\"col\">Up share</th></tr></thead><tbody>";
  for (std::size_t i = 0; i < m.hours.size(); i += 24) {
    HourTally day{m.hours[i].start, 0, 0, 0, 0, 0, 0};
    for (std::size_t j = i; j < i + 24 && j < m.hours.size(); ++j) {
      day.registered += m.hours[j].registered;
      day.up += m.hours[j].up;
      day.late += m.hours[j].late;
      day.down += m.hours[j].down;
      day.conflicting += m.hours[j].conflicting;
      day.unmeasured += m.hours[j].unmeasured;
    }
    const std::string share =
        day.registered == 0
            ? "not registered"
            : Fixed2(100.0 * static_cast<double>(day.up) / static_cast<double>(day.registered)) +
                  "%";
    html += "<tr data-day=\"" + Day(day.start) + "\"><th scope=\"row\">" + Day(day.start) +
            "</th><td class=\"num\">" + std::to_string(day.registered) + "</td><td class=\"num\">" +
            std::to_string(day.up) + "</td><td class=\"num\">" + std::to_string(day.late) +
            "</td><td class=\"num\">" + std::to_string(day.down) + "</td><td class=\"num\">" +
            std::to_string(day.conflicting) + "</td><td class=\"num\">" +
            std::to_string(day.unmeasured) + "</td><td class=\"num\">" + share + "</td></tr>";
  }
  return html + "</tbody></table>";
}

std::string RecordsLink(const NodeMonth& m, std::int64_t t, const std::string& text) {
  return "<a href=\"/nodes/" + UrlPart(m.node.node) + "/records?hour=" + Hour(t) + "\">" + text +
         "</a>";
}

std::string IncidentTable(const NodeMonth& m) {
  std::string html =
      "<h2>Critical alerts</h2><table id=\"incidents\"><thead><tr><th>Opened</th><th>Check</th>"
      "<th>Summary</th><th>Acknowledged</th><th>Time to acknowledge</th><th>Closed</th>"
      "<th>Time to resolve</th></tr></thead><tbody>";
  for (const IncidentLine& line : m.incidents) {
    const AlertFacts& a = line.alert;
    std::string what = Escape(a.check);
    if (a.alert) what += " (receiver alert " + std::to_string(*a.alert) + ")";
    if (a.silent)
      what = "no heartbeat (receiver alert " + std::to_string(a.alert.value_or(0)) + ")";
    std::string acked = "no";
    for (const AlertAck& ack : a.acks) {
      acked = Minute(ack.at) + " by " + Escape(ack.by) + " via " + Escape(ack.via) +
              (ack.live ? "" : " (late)");
      break;
    }
    html += "<tr data-opened=\"" + std::to_string(a.opened) + "\"><td>" +
            RecordsLink(m, a.opened, Minute(a.opened)) + "</td><td class=\"check\">" + what +
            "</td><td class=\"summary\">" + Escape(line.summary) + "</td><td>" + acked +
            "</td><td class=\"to-ack\">" + (line.to_ack ? Duration(*line.to_ack) : "—") +
            "</td><td>" + (a.closed ? RecordsLink(m, *a.closed, Minute(*a.closed)) : "open") +
            "</td><td class=\"to-resolve\">" +
            (line.to_resolve ? Duration(*line.to_resolve) : "—") + "</td></tr>";
  }
  if (m.incidents.empty()) html += "<tr><td colspan=\"7\">None this month.</td></tr>";
  return html + "</tbody></table>";
}

std::string RemediationTable(const NodeMonth& m) {
  std::string html =
      "<h2>Remediations</h2><table id=\"remediations\"><thead><tr><th>Started</th><th>Check</th>"
      "<th>Target</th><th>Action</th><th>Reason</th><th>Attempt</th><th>Took</th>"
      "<th>Outcome</th><th>Changed</th><th>Incident</th></tr></thead><tbody>";
  for (const RemediationLine& r : m.remediations) {
    html += "<tr data-epoch=\"" + std::to_string(r.epoch) + "\" data-seq=\"" +
            std::to_string(r.seq) + "\"><td>" + RecordsLink(m, r.started, Minute(r.started)) +
            "</td><td>" + Escape(r.check) + "</td><td>" + Escape(r.target) + "</td><td>" +
            Escape(r.action) + "</td><td>" + Escape(r.reason) + "</td><td class=\"num\">" +
            std::to_string(r.attempt) + "</td><td>" + Duration(r.finished - r.started) +
            "</td><td class=\"outcome\">" + Escape(r.outcome) + "</td><td>" +
            Escape(r.changed.value_or("")) + "</td><td>" +
            (r.incident ? std::to_string(*r.incident) : "") + "</td></tr>";
  }
  if (m.remediations.empty()) html += "<tr><td colspan=\"10\">None this month.</td></tr>";
  return html + "</tbody></table>";
}

std::string TaskTable(const NodeMonth& m) {
  std::string html = "<h2>Task runs</h2><p>" + std::to_string(m.task_ok) + " of " +
                     std::to_string(m.task_runs) + " runs succeeded";
  if (m.task_runs > 0) {
    html += " (" +
            Fixed2(100.0 * static_cast<double>(m.task_ok) / static_cast<double>(m.task_runs)) +
            "%)";
  }
  html +=
      ".</p><table id=\"tasks\"><thead><tr><th>Run at</th><th>Job</th><th>Result</th>"
      "</tr></thead><tbody>";
  for (const TaskLine& t : m.tasks) {
    html += "<tr><td>" + RecordsLink(m, t.run_at, FormatUtc(t.run_at)) + "</td><td>" +
            Escape(t.job) + "</td><td class=\"result\">" + (t.ok ? "ok" : "failed") + "</td></tr>";
  }
  if (m.tasks.empty()) html += "<tr><td colspan=\"3\">None this month.</td></tr>";
  return html + "</tbody></table>";
}

std::string Body(const NodeMonth& m, const WebReads& reads) {
  const std::string node_url = "/nodes/" + UrlPart(m.node.node);
  const Period previous = MonthOf(m.month.begin - 1), next = MonthOf(m.month.end);
  std::string html =
      "<p>Operator " + Escape(m.node.operator_id) + " · registered " + Day(m.node.added_at) +
      (m.node.revoked_at ? " · revoked " + FormatUtc(*m.node.revoked_at) : "") + "</p>";
  html += "<nav class=\"months\"><a rel=\"prev\" href=\"" + node_url + "?month=" + previous.label +
          "\">← " + previous.label + "</a> · <strong>" + Escape(m.month.label) + "</strong>";
  if (next.begin <= reads.now) {
    html += " · <a rel=\"next\" href=\"" + node_url + "?month=" + next.label + "\">" + next.label +
            " →</a>";
  }
  html += "</nav>";
  if (m.figures) {
    const UptimeFigures& f = *m.figures;
    html += "<p>Uptime <span id=\"uptime-percent\">" + Fixed2(m.uptime_percent) + "</span>% of " +
            std::to_string(f.minutes) + " registered minutes: " + std::to_string(f.up) + " up (" +
            std::to_string(f.up_late) + " arrived late" +
            (reads.policy.late_minutes_count ? ", counted" : ", not counted") + "), " +
            std::to_string(f.down) + " down (" + std::to_string(f.conflicting) + " conflicting), " +
            std::to_string(f.unmeasured) + " unmeasured.</p>";
  } else {
    html += "<p>Not registered in " + Escape(m.month.label) +
            ": uptime <span id=\"uptime-percent\">n/a</span>.</p>";
  }
  html += Patterns() + Legend() + HeatMap(m, reads.now) + DayTable(m);
  html += IncidentTable(m) + RemediationTable(m) + TaskTable(m);
  if (m.cut) {
    html += "<p class=\"cut\">Some lists were cut at " + std::to_string(kMaxLines) +
            " lines; the JSON at /v1" + node_url + " has the same cut.</p>";
  }
  return html;
}

// The node and month a request asks for, or the reply that ends it (400, 404, 500).
struct Asked {
  std::optional<NodeMonth> month;
  std::optional<std::pair<int, std::string>> refusal;
};

Asked Ask(WebReads& reads, const Viewer& viewer, const std::string& node, std::string_view query) {
  auto month = MonthOfQuery(query, reads.now);
  if (!month) return {std::nullopt, std::pair(400, month.error())};
  auto shown = FindShownNode(reads, viewer, node);
  if (!shown) {
    spdlog::warn("node page {}: {}", node, shown.error());
    return {std::nullopt, std::pair(500, std::string("the database could not be read"))};
  }
  if (!*shown) return {std::nullopt, std::pair(404, std::string(kNoSuchNode))};
  auto data = LoadNodeMonth(reads, (*shown)->registration, (*shown)->registry, *month);
  if (!data) {
    spdlog::warn("node page {}: {}", node, data.error());
    return {std::nullopt, std::pair(500, std::string("the database could not be read"))};
  }
  return {std::move(*data), std::nullopt};
}

nlohmann::json AlertJson(const IncidentLine& line) {
  const AlertFacts& a = line.alert;
  nlohmann::json acks = nlohmann::json::array();
  for (const AlertAck& ack : a.acks) {
    acks.push_back(
        {{"at", FormatUtc(ack.at)}, {"by", ack.by}, {"via", ack.via}, {"live", ack.live}});
  }
  return {{"incident", a.id},
          {"check", a.check},
          {"summary", line.summary},
          {"opened", FormatUtc(a.opened)},
          {"closed", a.closed ? nlohmann::json(FormatUtc(*a.closed)) : nlohmann::json()},
          {"receiver_alert", a.alert ? nlohmann::json(*a.alert) : nlohmann::json()},
          {"silent", a.silent},
          {"acks", acks},
          {"to_ack_s", line.to_ack ? nlohmann::json(*line.to_ack) : nlohmann::json()},
          {"to_resolve_s", line.to_resolve ? nlohmann::json(*line.to_resolve) : nlohmann::json()}};
}

nlohmann::json MonthJson(const NodeMonth& m) {
  nlohmann::json out{{"node", m.node.node},
                     {"operator", m.node.operator_id},
                     {"month", m.month.label},
                     {"registered", m.figures.has_value()},
                     {"cut", m.cut}};
  if (m.figures) {
    const UptimeFigures& f = *m.figures;
    out["uptime_percent"] = m.uptime_percent;
    out["minutes"] = {{"registered", f.minutes},   {"up", f.up},     {"up_live", f.up_live},
                      {"up_late", f.up_late},      {"down", f.down}, {"conflicting", f.conflicting},
                      {"unmeasured", f.unmeasured}};
  } else {
    out["uptime_percent"] = nullptr;
  }
  nlohmann::json hours = nlohmann::json::array();
  for (const HourTally& h : m.hours) {
    hours.push_back({{"hour", Hour(h.start)},
                     {"registered", h.registered},
                     {"up", h.up},
                     {"late", h.late},
                     {"down", h.down},
                     {"conflicting", h.conflicting},
                     {"unmeasured", h.unmeasured}});
  }
  out["hours"] = std::move(hours);
  nlohmann::json alerts = nlohmann::json::array();
  for (const IncidentLine& line : m.incidents) alerts.push_back(AlertJson(line));
  out["incidents"] = std::move(alerts);
  nlohmann::json remediations = nlohmann::json::array();
  for (const RemediationLine& r : m.remediations) {
    remediations.push_back(
        {{"epoch", r.epoch},
         {"seq", r.seq},
         {"check", r.check},
         {"target", r.target},
         {"action", r.action},
         {"reason", r.reason},
         {"attempt", r.attempt},
         {"started", FormatUtc(r.started)},
         {"finished", FormatUtc(r.finished)},
         {"outcome", r.outcome},
         {"changed", r.changed ? nlohmann::json(*r.changed) : nlohmann::json()},
         {"incident", r.incident ? nlohmann::json(*r.incident) : nlohmann::json()}});
  }
  out["remediations"] = std::move(remediations);
  nlohmann::json tasks = nlohmann::json::array();
  for (const TaskLine& t : m.tasks) {
    tasks.push_back({{"job", t.job}, {"run_at", FormatUtc(t.run_at)}, {"ok", t.ok}});
  }
  out["tasks"] = {{"runs", m.task_runs}, {"ok", m.task_ok}, {"list", std::move(tasks)}};
  return out;
}

}  // namespace

HttpResponse NodePage(WebReads& reads, const Viewer& viewer, const std::string& node,
                      std::string_view query) {
  Asked asked = Ask(reads, viewer, node, query);
  if (asked.refusal) return HtmlError(asked.refusal->first, asked.refusal->second, &viewer);
  return HtmlPage(200, Page("Node " + node, viewer, Body(*asked.month, reads)));
}

HttpResponse NodeJson(WebReads& reads, const Viewer& viewer, const std::string& node,
                      std::string_view query) {
  Asked asked = Ask(reads, viewer, node, query);
  if (asked.refusal) return JsonError(asked.refusal->first, asked.refusal->second);
  return JsonReply(MonthJson(*asked.month));
}

}  // namespace fleet::receiver
