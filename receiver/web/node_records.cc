#include "receiver/web/node_records.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "base/utc_time.h"
#include "receiver/web/html.h"
#include "receiver/web/page_reads.h"
#include "receiver/web/record_listing.h"
#include "receiver/web/shown_node.h"

namespace fleet::receiver {
namespace {

constexpr std::string_view kUnreadable = "the database could not be read";

// The span and records a request asks for, or the reply that ends it (400, 404, 500, 422).
struct Asked {
  RecordSpan span;
  RecordListing listing;
  std::optional<std::pair<int, std::string>> refusal;
};

Asked Ask(WebReads& reads, const Viewer& viewer, const std::string& node, std::string_view query,
          int limit, bool verify) {
  Asked asked;
  auto span = ParseSpan(query);
  if (!span) {
    asked.refusal = std::pair(400, span.error());
    return asked;
  }
  asked.span = *span;
  auto shown = FindShownNode(reads, viewer, node);
  if (!shown || !*shown) {
    if (!shown) spdlog::warn("records of {}: {}", node, shown.error());
    asked.refusal =
        shown ? std::pair(404, std::string(kNoSuchNode)) : std::pair(500, std::string(kUnreadable));
    return asked;
  }
  auto listing = ListRecords(reads.link, node, *span, limit, verify, reads.now);
  if (!listing) {
    spdlog::warn("records of {}: {}", node, listing.error());
    asked.refusal = std::pair(500, std::string(kUnreadable));
    return asked;
  }
  asked.listing = std::move(*listing);
  return asked;
}

// The download's file name: NODE-SPAN.ndjson, any character but [A-Za-z0-9._-] as "_" (the
// router lets through only ids of that shape; this keeps the header safe whatever it is given).
std::string FileName(const std::string& node, const std::string& span) {
  std::string name = node + "-" + span + ".ndjson";
  for (char& c : name) {
    const bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                       c == '.' || c == '_' || c == '-';
    if (!plain) c = '_';
  }
  return name;
}

std::string Shift(const RecordSpan& span, std::int64_t by) {
  const std::string t = FormatUtc(span.begin + by);
  return span.day ? "day=" + t.substr(0, 10) : "hour=" + t.substr(0, 13);
}

std::string Body(const std::string& node, const Asked& asked) {
  const RecordSpan& span = asked.span;
  const std::string node_url = "/nodes/" + UrlPart(node);
  const std::string day = FormatUtc(span.begin).substr(0, 10);
  const std::int64_t step = span.day ? 86400 : 3600;
  std::string html =
      "<p><a href=\"" + node_url + "?month=" + day.substr(0, 7) + "\">" + Escape(node) + " in " +
      day.substr(0, 7) + "</a> · <a rel=\"prev\" href=\"" + node_url + "/records?" +
      Shift(span, -step) + "\">earlier</a> · <a " + "rel=\"next\" href=\"" + node_url +
      "/records?" + Shift(span, step) + "\">later</a>" +
      (span.day ? ""
                : " · <a href=\"" + node_url + "/records?day=" + day + "\">the whole day</a>") +
      " · <a class=\"download\" href=\"" + node_url + "/records.ndjson?day=" + day +
      "\" download>" + day + " as NDJSON</a></p>";
  html += "<p>Records signed (t) from " + FormatUtc(span.begin) + " to " + FormatUtc(span.end) +
          ", by chain position. A heartbeat is signed just after the minute it covers (its "
          "minute is shown), so an hour's last minute is in the next hour's records. "
          "Verified: checked now against the node's registered keys.</p>";
  if (asked.listing.cut) {
    html += "<p class=\"cut\">Only the first " + std::to_string(kMaxListedRecords) +
            " records are shown: see the hours one by one, or download the day.</p>";
  }
  html +=
      "<table id=\"records\"><thead><tr><th>Epoch</th><th>Seq</th><th>Type</th><th>t</th>"
      "<th>Minute</th><th>kid</th><th>Verified</th><th>Chained</th><th>prev / hash</th>"
      "<th>Compact JWS</th></tr></thead><tbody>";
  for (const ListedRecord& r : asked.listing.records) {
    html += "<tr data-epoch=\"" + std::to_string(r.epoch) + "\" data-seq=\"" +
            std::to_string(r.seq) + "\"><td class=\"num\">" + std::to_string(r.epoch) +
            "</td><td class=\"num\">" + std::to_string(r.seq) + "</td><td class=\"type\">" +
            Escape(r.type) + "</td><td class=\"t\">" + Escape(r.t) + "</td><td class=\"minute\">" +
            (r.minute ? FormatUtc(*r.minute).substr(11, 5) : "") + "</td><td class=\"kid\">" +
            Escape(r.kid) + "</td><td class=\"verified\">" +
            (r.verified ? std::string("verified") : "not verified: " + Escape(r.reason)) +
            "</td><td class=\"chained\">" +
            (r.chained ? "yes" : "not yet (past a gap: not counted)") +
            "</td><td style=\"white-space:nowrap\">prev <code class=\"prev\">" + Escape(r.prev) +
            "</code><br>hash <code class=\"hash\">" + Escape(r.hash) +
            "</code></td><td><code class=\"jws\">" + Escape(r.jws) + "</code></td></tr>";
  }
  if (asked.listing.records.empty()) {
    html += "<tr><td colspan=\"10\">No records of this node in this span.</td></tr>";
  }
  return html + "</tbody></table>";
}

nlohmann::json ListingJson(const std::string& node, const Asked& asked) {
  nlohmann::json records = nlohmann::json::array();
  for (const ListedRecord& r : asked.listing.records) {
    nlohmann::json one{{"epoch", r.epoch},     {"seq", r.seq},
                       {"type", r.type},       {"t", r.t},
                       {"kid", r.kid},         {"prev", r.prev},
                       {"hash", r.hash},       {"received_at", FormatUtc(r.received_at)},
                       {"chained", r.chained}, {"verified", r.verified},
                       {"jws", r.jws}};
    if (!r.verified) one["reason"] = r.reason;
    if (r.minute) one["minute"] = FormatUtc(*r.minute);
    records.push_back(std::move(one));
  }
  return {{"node", node},
          {asked.span.day ? "day" : "hour", asked.span.label},
          {"from", FormatUtc(asked.span.begin)},
          {"until", FormatUtc(asked.span.end)},
          {"cut", asked.listing.cut},
          {"limit", kMaxListedRecords},
          {"records", std::move(records)}};
}

}  // namespace

HttpResponse NodeRecordsPage(WebReads& reads, const Viewer& viewer, const std::string& node,
                             std::string_view query) {
  Asked asked = Ask(reads, viewer, node, query, kMaxListedRecords, true);
  if (asked.refusal) return HtmlError(asked.refusal->first, asked.refusal->second, &viewer);
  return HtmlPage(200,
                  Page("Records of " + node + " · " + asked.span.label, viewer, Body(node, asked)));
}

HttpResponse NodeRecordsNdjson(WebReads& reads, const Viewer& viewer, const std::string& node,
                               std::string_view query) {
  Asked asked = Ask(reads, viewer, node, query, kMaxNdjsonRecords, false);
  if (asked.refusal) {
    HttpResponse reply{asked.refusal->first, asked.refusal->second + "\n", "",
                       "text/plain; charset=utf-8"};
    reply.headers.emplace_back("Cache-Control", "no-store");
    return reply;
  }
  if (asked.listing.cut) {
    HttpResponse reply{422,
                       "more than " + std::to_string(kMaxNdjsonRecords) + " records in " +
                           asked.span.label + ": download it by hour (?hour=)\n",
                       "", "text/plain; charset=utf-8"};
    reply.headers.emplace_back("Cache-Control", "no-store");
    return reply;
  }
  std::string body;
  for (const ListedRecord& r : asked.listing.records) body += r.jws + "\n";
  HttpResponse reply{200, std::move(body), "", "application/x-ndjson"};
  reply.headers.emplace_back("Content-Disposition",
                             "attachment; filename=\"" + FileName(node, asked.span.label) + "\"");
  reply.headers.emplace_back("Cache-Control", "no-store");
  return reply;
}

HttpResponse NodeRecordsJson(WebReads& reads, const Viewer& viewer, const std::string& node,
                             std::string_view query) {
  Asked asked = Ask(reads, viewer, node, query, kMaxListedRecords, true);
  if (asked.refusal) return JsonError(asked.refusal->first, asked.refusal->second);
  return JsonReply(ListingJson(node, asked));
}

}  // namespace fleet::receiver
