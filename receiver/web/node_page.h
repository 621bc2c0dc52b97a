// NodePage: one node's month on the dashboard (GET /nodes/NODE?month=YYYY-MM, default the
// current month) and the same data as JSON (GET /v1/nodes/NODE?month=): its uptime, the month
// as a heat map of days by hours (each cell its up, late, down and unmeasured minutes, as the
// uptime report counts them), incidents with time to acknowledge and to resolve, remediations
// and task runs. A node the viewer does not see is answered as one that does not exist (404).
// `query` is the raw query string. (Contract to be completed by its implementation.)
#pragma once

#include <string>
#include <string_view>

#include "receiver/access/viewer.h"
#include "receiver/http/http_server.h"
#include "receiver/web/web_reads.h"

namespace fleet::receiver {

HttpResponse NodePage(WebReads& reads, const Viewer& viewer, const std::string& node,
                      std::string_view query);
HttpResponse NodeJson(WebReads& reads, const Viewer& viewer, const std::string& node,
                      std::string_view query);

}  // namespace fleet::receiver
