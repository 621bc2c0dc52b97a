// NodePage: one node's month on the dashboard (GET /nodes/NODE?month=YYYY-MM, default the
// current month) and the same data as JSON (GET /v1/nodes/NODE?month=): its uptime, the month
// as a heat map of days by hours (each cell its up, late, down and unmeasured minutes, as the
// uptime report counts them), incidents with time to acknowledge and to resolve, remediations
// and task runs. A node the viewer does not see is answered as one that does not exist (404).
// `query` is the raw query string.
//
// The figures are the uptime report's for the node alone (node_month.h: ComputeUptime, and the
// hours from the same minute map, receiver/report/minute_map.h), so the cells' data-up, -late,
// -down and -unmeasured sum to `fleet-receiver uptime --month`'s up, up_late, down and
// unmeasured, and #uptime-percent is its UptimePercent(policy.late_minutes_count) with two
// decimals ("n/a" for a month the node was not registered in). Markup (the dashboard's
// contract): <svg id="heatmap" role="img">, one <a href="/nodes/NODE/records?hour=..."><rect
// class="cell" data-day data-hour data-up data-late data-down data-unmeasured/><title/>...</a>
// per day and hour (class "cell none" and all 0 for an hour the node was not registered in;
// late minutes hatched, down crossed, unmeasured dotted: cues besides the fill, which darkens
// with the share of up minutes), then <table id="heatmap-table"> (per day), <table
// id="incidents">, <table id="remediations">, <table id="tasks">. Every text from the database
// is escaped. Answers: 200; 400 for a month that is not YYYY-MM or a query value repeated or
// unreadable (naming "month"); 404 "no such node", the same body for a node that does not exist
// and one of another operator (the viewer is checked against the registry's operator of the
// node before anything else of it is read); 500 with no detail when the database fails (logged).
// Uses the request's WebReads only: not thread-safe, one request at a time.
#pragma once

#include <string>
#include <string_view>

#include "receiver/access/viewer.h"
#include "receiver/http/http_server.h"
#include "receiver/web/web_reads.h"

namespace fleet::receiver {

HttpResponse NodePage(WebReads& reads, const Viewer& viewer, const std::string& node,
                      std::string_view query);
// {"node","operator","month","registered","uptime_percent" (null when not registered),
// "minutes":{registered,up,up_live,up_late,down,conflicting,unmeasured}, "hours":[{hour
// "YYYY-MM-DDTHH",registered,up,late,down,conflicting,unmeasured}...], "incidents":[...],
// "remediations":[...], "tasks":{runs,ok,list}, "cut"}; errors {"error": text}, same statuses.
HttpResponse NodeJson(WebReads& reads, const Viewer& viewer, const std::string& node,
                      std::string_view query);

}  // namespace fleet::receiver
