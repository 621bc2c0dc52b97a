#include "agent/check/check_report.h"
#include "base/utc_time.h"

#include <ctime>

namespace fleet {
namespace {

std::string_view Colour(Status status) {
  switch (status) {
    case Status::kOk:
      return "\033[32m";
    case Status::kWarning:
      return "\033[33m";
    case Status::kCritical:
      return "\033[1;31m";
    case Status::kUnknown:
      return "\033[35m";
  }
  return "";
}

constexpr std::string_view kReset = "\033[0m";

std::string Pad(std::string_view text, std::size_t width) {
  std::string out(text);
  if (out.size() < width) out.append(width - out.size(), ' ');
  return out;
}

}  // namespace

std::string FormatTable(const CheckReport& report, bool colour) {
  std::size_t name_width = 4;
  for (const auto& r : report.round.results) name_width = std::max(name_width, r.name.size());
  std::string out;
  for (const auto& r : report.round.results) {
    std::string label = Pad(StatusLabel(r.status), 9);
    if (colour) label = std::string(Colour(r.status)) + label + std::string(kReset);
    out += label + Pad(r.name, name_width + 2) + r.summary + "\n";
  }
  int counts[4] = {0, 0, 0, 0};
  for (const auto& r : report.round.results) ++counts[static_cast<int>(r.status)];
  std::string overall(StatusLabel(report.round.overall));
  if (colour) overall = std::string(Colour(report.round.overall)) + overall + std::string(kReset);
  out += "\n" + overall + " on " + report.node + " at " + FormatUtc(report.time) + ": " +
         std::to_string(report.round.results.size()) + " checks, " +
         std::to_string(counts[static_cast<int>(Status::kCritical)]) + " critical, " +
         std::to_string(counts[static_cast<int>(Status::kWarning)]) + " warning, " +
         std::to_string(counts[static_cast<int>(Status::kUnknown)]) + " unknown\n";
  return out;
}

nlohmann::json ToJson(const CheckReport& report) {
  nlohmann::json checks = nlohmann::json::array();
  for (const auto& r : report.round.results) {
    checks.push_back({{"name", r.name},
                      {"status", StatusName(r.status)},
                      {"summary", r.summary},
                      {"details", r.details.is_object() ? r.details : nlohmann::json::object()},
                      {"duration_ms", static_cast<double>(r.duration.count()) / 1000.0}});
  }
  return {{"status", StatusName(report.round.overall)},
          {"node", report.node},
          {"time", FormatUtc(report.time)},
          {"checks", std::move(checks)}};
}

}  // namespace fleet
