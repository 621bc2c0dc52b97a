// UptimePage: uptime over a custom range of days (GET /uptime?from=YYYY-MM-DD&to=YYYY-MM-DD,
// `to` included) and the same as JSON (GET /v1/uptime?from=&to=): ComputeUptime over
// [from 00:00 UTC, the day after `to` 00:00 UTC), cut at the current minute's start when the
// range reaches it, over the nodes the viewer sees (an operator: their own; nothing of another
// operator is read): per node and per operator, registered minutes, up (live and late), down,
// unmeasured, conflicting, uptime % (policy.late_minutes_count), task completion, incidents.
// `from` defaults to the current month's first day, `to` to today. A malformed date, from after
// to, a range of more than 366 days, or one that starts in the future is a 400 naming the
// parameter.
#pragma once

#include <string_view>

#include "receiver/access/viewer.h"
#include "receiver/http/http_server.h"
#include "receiver/web/web_reads.h"

namespace fleet::receiver {

inline constexpr std::int64_t kMaxUptimeRangeDays = 366;

HttpResponse UptimePage(WebReads& reads, const Viewer& viewer, std::string_view query);
HttpResponse UptimeJson(WebReads& reads, const Viewer& viewer, std::string_view query);

}  // namespace fleet::receiver
