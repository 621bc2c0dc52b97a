#include "receiver/web/page_reads.h"

#include <cmath>
#include <cstdio>
#include <set>

#include <spdlog/spdlog.h>

#include "base/utc_time.h"
#include "receiver/web/html.h"

namespace fleet::receiver {

Result<Registry> ViewerRegistry(ReportSource& source, const Viewer& viewer, bool with_referred) {
  auto all = source.LoadRegistry();
  if (!all) return Error{all.error()};
  if (viewer.admin()) return std::move(all).value();
  std::set<std::string> keep = {*viewer.operator_id};
  Registry out;
  for (const Referral& referral : all->referrals) {
    if (referral.partner != *viewer.operator_id) continue;
    out.referrals.push_back(referral);
    if (with_referred) keep.insert(referral.referred);
  }
  for (const OperatorEntry& op : all->operators) {
    if (keep.count(op.id) > 0) out.operators.push_back(op);
  }
  for (const NodeRegistration& node : all->nodes) {
    if (keep.count(node.operator_id) > 0) out.nodes.push_back(node);
  }
  return out;
}

HttpResponse ReadFailed(std::string_view what, const std::string& cause, bool json,
                        const Viewer& viewer) {
  spdlog::warn("dashboard: reading {}: {}", what, cause);
  const std::string message = "the database could not be read; try again shortly";
  if (json) return JsonError(503, message);
  return HtmlError(503, message, &viewer);
}

HttpResponse JsonReply(const nlohmann::json& body, int status) {
  HttpResponse response{status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                        ""};
  response.headers.emplace_back("Cache-Control", "no-store");
  return response;
}

std::string TwoDecimals(double value) {
  const double truncated = std::trunc(value * 100.0) / 100.0;
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", truncated);
  return text;
}

std::string DateOf(std::int64_t t) { return FormatUtc(t).substr(0, 10); }

std::string AgeText(std::int64_t seconds) {
  if (seconds < 0) seconds = 0;
  if (seconds < 120) return std::to_string(seconds) + " s";
  const std::int64_t minutes = seconds / 60;
  if (minutes < 60) return std::to_string(minutes) + " min";
  const std::int64_t hours = minutes / 60;
  if (hours < 48) return std::to_string(hours) + " h " + std::to_string(minutes % 60) + " min";
  return std::to_string(hours / 24) + " d " + std::to_string(hours % 24) + " h";
}

std::optional<std::int64_t> ParseDay(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  return ParseUtcSeconds(std::string(text) + "T00:00:00Z");
}

}  // namespace fleet::receiver
