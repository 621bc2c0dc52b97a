// NodeRecords: the signed records behind a node's figures (GET /nodes/NODE/records?hour=
// YYYY-MM-DDTHH or ?day=YYYY-MM-DD): each record's compact JWS, kid, chain position and
// whether it verifies; a day's records as NDJSON (GET /nodes/NODE/records.ndjson?day=), one
// compact JWS per line, which `fleet-agent verify` or any JOSE library checks; and as JSON
// (GET /v1/nodes/NODE/records?day=). A node the viewer does not see is answered as one that
// does not exist (404). (Contract to be completed by its implementation.)
#pragma once

#include <string>
#include <string_view>

#include "receiver/access/viewer.h"
#include "receiver/http/http_server.h"
#include "receiver/web/web_reads.h"

namespace fleet::receiver {

HttpResponse NodeRecordsPage(WebReads& reads, const Viewer& viewer, const std::string& node,
                             std::string_view query);
HttpResponse NodeRecordsNdjson(WebReads& reads, const Viewer& viewer, const std::string& node,
                               std::string_view query);
HttpResponse NodeRecordsJson(WebReads& reads, const Viewer& viewer, const std::string& node,
                             std::string_view query);

}  // namespace fleet::receiver
