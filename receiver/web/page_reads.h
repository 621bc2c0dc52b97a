// PageReads: what the dashboard's fleet, statement and uptime pages share: the registry cut
// to what a viewer sees (read once, then only those operators' nodes are read further), a
// query parameter told apart as absent or malformed, the replies for a failed read (logged with
// its cause, answered 503 without it) and for JSON, and the figures' text forms.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "receiver/access/viewer.h"
#include "receiver/http/http_server.h"
#include "receiver/report/report_source.h"

namespace fleet::receiver {

// The registry restricted to the operators the viewer sees and their nodes; referrals where
// one of them is the partner (a partner's commissions need the referred operators' figures:
// those operators and their nodes are kept too when `with_referred`).
Result<Registry> ViewerRegistry(ReportSource& source, const Viewer& viewer,
                                bool with_referred = false);

// A read of the database failed: logged with `what` and the cause, answered 503 (HTML or
// JSON) without details. The router drops its connections after a 503.
HttpResponse ReadFailed(std::string_view what, const std::string& cause, bool json,
                        const Viewer& viewer);
// A JSON answer (text not UTF-8 replaced, never thrown), with Cache-Control no-store; errors
// are http_server.h's JsonError ({"error": message}).
HttpResponse JsonReply(const nlohmann::json& body, int status = 200);

// "99.86" (two decimals, truncated toward zero so 99.999 is not shown as 100.00).
std::string TwoDecimals(double value);
// A date "2026-11-03" of unix seconds.
std::string DateOf(std::int64_t t);
// "42 s", "5 min", "3 h 2 min", "2 d 4 h".
std::string AgeText(std::int64_t seconds);
// Strict "YYYY-MM-DD": unix seconds of its 00:00 UTC, nullopt when malformed or no such day.
std::optional<std::int64_t> ParseDay(std::string_view text);

}  // namespace fleet::receiver
