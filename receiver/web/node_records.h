// NodeRecords: the signed records behind a node's figures (GET /nodes/NODE/records?hour=
// YYYY-MM-DDTHH or ?day=YYYY-MM-DD): each record's compact JWS, kid, chain position and
// whether it verifies; a day's records as NDJSON (GET /nodes/NODE/records.ndjson?day=), one
// compact JWS per line, which `fleet-agent verify` or any JOSE library checks; and as JSON
// (GET /v1/nodes/NODE/records?day=). A node the viewer does not see is answered as one that
// does not exist (404).
//
// A record belongs to an hour or a day by its `t` (when the node signed it; a heartbeat is
// signed just after the minute it covers, shown beside it), listed by epoch and seq, at most
// kMaxListedRecords (the page and the JSON say when cut; a day of one node is about 1,500).
// "verified" is recomputed at each request (record_listing.h): the JWS against the node's
// registered keys, and the stored columns against what it signs; else "not verified: REASON".
// Markup: <table id="records">, a <tr data-epoch data-seq> per record with <td class="type">,
// <td class="t">, <td class="kid">, <td class="verified">, <code class="jws">, <code
// class="prev">, <code class="hash">; <a class="download" href="/nodes/NODE/records.ndjson?day=">.
// The NDJSON is the stored JWS exactly, one per line, application/x-ndjson, Content-Disposition
// attachment; filename="NODE-YYYY-MM-DD.ndjson" (?hour= works too: NODE-YYYY-MM-DDTHH.ndjson);
// a day of more than kMaxNdjsonRecords is refused 422 (download it by hour) rather than cut.
// Query values are checked here: exactly one of hour and day, each of its exact shape and a
// real date, not repeated, else 400 naming the parameter. 404 "no such node" alike for an
// unknown node and another operator's; 500 with no detail when the database fails (logged);
// the NDJSON's errors are text/plain. Uses the request's WebReads only: not thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "receiver/access/viewer.h"
#include "receiver/http/http_server.h"
#include "receiver/web/web_reads.h"

namespace fleet::receiver {

inline constexpr int kMaxNdjsonRecords = 50000;

HttpResponse NodeRecordsPage(WebReads& reads, const Viewer& viewer, const std::string& node,
                             std::string_view query);
HttpResponse NodeRecordsNdjson(WebReads& reads, const Viewer& viewer, const std::string& node,
                               std::string_view query);
// {"node","day" (or "hour"),"from","until","cut","limit","records":[{epoch,seq,type,t,kid,prev,
// hash,received_at,chained,verified,reason (when not verified),minute (a heartbeat's),jws}]}.
HttpResponse NodeRecordsJson(WebReads& reads, const Viewer& viewer, const std::string& node,
                             std::string_view query);

}  // namespace fleet::receiver
