#include "collectors/dispatch/dispatch_file.h"

#include <algorithm>

#include "agent/core/json_text.h"
#include "agent/core/units.h"

namespace fleet {
namespace {

using nlohmann::json;
using std::chrono::seconds;

}  // namespace

Result<JsonShape> ParseDispatchFile(std::string_view text) {
  auto parsed = ParseJsonText(text);
  if (!parsed) return Error{parsed.error()};
  JsonShape shape;
  shape.type = JsonTypeName(*parsed);
  if (parsed->is_array() || parsed->is_object()) {
    shape.length = parsed->size();
  } else if (parsed->is_string()) {
    shape.length = parsed->get_ref<const std::string&>().size();
  }
  return shape;
}

CheckResult EvaluateDispatchFiles(const std::vector<DispatchFileSeen>& files,
                                  std::chrono::system_clock::time_point now, seconds stale_after) {
  json entries = json::array();
  std::vector<std::string> findings;
  std::optional<seconds> oldest;
  for (const DispatchFileSeen& file : files) {
    json entry = {
        {"path", file.path}, {"present", file.present}, {"parses", file.shape.has_value()}};
    if (file.symlink) entry["symlink"] = true;
    if (file.size_bytes) entry["size_bytes"] = *file.size_bytes;
    if (file.shape) {
      entry["type"] = file.shape->type;
      entry["length"] = file.shape->length ? json(*file.shape->length) : json(nullptr);
    }
    bool stale = false;
    if (file.modified) {
      auto age = std::chrono::duration_cast<seconds>(now - *file.modified);
      if (age.count() < 0) {
        entry["note"] = "modified in the future; is the clock right?";
        age = seconds(0);
      }
      entry["age_seconds"] = age.count();
      stale = age > stale_after;
      if (stale) {
        findings.push_back(file.shown + " unchanged for " + FormatDuration(age) + " (stale after " +
                           FormatDuration(stale_after) + ")");
      }
      if (!oldest || age > *oldest) oldest = age;
    }
    entry["stale"] = stale;
    if (file.problem) {
      entry["problem"] = *file.problem;
      // A problem is the more basic finding; it goes before any staleness of the same file.
      auto at = stale ? findings.end() - 1 : findings.end();
      findings.insert(at, *file.problem);
    }
    entries.push_back(std::move(entry));
  }
  json details = {{"files", std::move(entries)}, {"stale_after_seconds", stale_after.count()}};
  if (files.empty()) {
    return MakeResult("dispatch", Status::kOk, "no dispatch files configured", std::move(details));
  }
  if (findings.empty()) {
    std::string summary = std::to_string(files.size()) +
                          (files.size() == 1 ? " dispatch file" : " dispatch files") +
                          " present and valid JSON";
    if (oldest) summary += ", oldest change " + FormatDuration(*oldest) + " ago";
    return MakeResult("dispatch", Status::kOk, std::move(summary), std::move(details));
  }
  std::string summary = findings.front();
  if (findings.size() > 1) {
    const auto more = findings.size() - 1;
    summary += " (+" + std::to_string(more) + " more problem" + (more == 1 ? "" : "s") + ")";
  }
  return MakeResult("dispatch", Status::kWarning, std::move(summary), std::move(details));
}

}  // namespace fleet
