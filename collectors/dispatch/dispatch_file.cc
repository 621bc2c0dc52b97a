#include "collectors/dispatch/dispatch_file.h"

#include <algorithm>

#include "base/json_text.h"
#include "base/units.h"

namespace fleet {
namespace {

using nlohmann::json;
using std::chrono::seconds;

// Reads the top-level value's type and length as the parser goes, storing nothing: a file
// of millions of elements costs its own bytes, not a DOM of them.
class ShapeReader final : public nlohmann::json_sax<json> {
 public:
  explicit ShapeReader(int max_depth) : max_depth_(max_depth) {}
  JsonShape shape;
  std::string error;

  bool null() override { return Scalar("null"); }
  bool boolean(bool) override { return Scalar("boolean"); }
  bool number_integer(number_integer_t) override { return Scalar("number"); }
  bool number_unsigned(number_unsigned_t) override { return Scalar("number"); }
  bool number_float(number_float_t, const string_t&) override { return Scalar("number"); }
  bool string(string_t& value) override {
    if (depth_ == 0) shape.length = value.size();
    return Scalar("string");
  }
  bool binary(binary_t&) override { return Scalar("binary"); }
  bool start_object(std::size_t) override { return Open("object"); }
  bool key(string_t&) override {
    if (depth_ == 1) ++*shape.length;
    return true;
  }
  bool end_object() override { return Close(); }
  bool start_array(std::size_t) override { return Open("array"); }
  bool end_array() override { return Close(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    // e.what() is "[json.exception.parse_error.101] parse error at line 1, column 5: ...".
    std::string_view what = e.what();
    if (auto close = what.find("] "); close != std::string_view::npos)
      what.remove_prefix(close + 2);
    error = "not valid JSON: " + PrintableAscii(what);
    return false;
  }

 private:
  bool Scalar(const char* type) {
    if (depth_ == 0) shape.type = type;
    if (depth_ == 1 && in_array_) ++*shape.length;
    return true;
  }
  bool Open(const char* type) {
    if (depth_ == 0) {
      shape.type = type;
      shape.length = 0;
      in_array_ = std::string_view(type) == "array";
    } else if (depth_ == 1 && in_array_) {
      ++*shape.length;
    }
    if (++depth_ > max_depth_) {
      error = "not valid JSON for this check: nested deeper than " + std::to_string(max_depth_) +
              " levels";
      return false;
    }
    return true;
  }
  bool Close() {
    --depth_;
    return true;
  }

  int max_depth_;
  int depth_ = 0;
  bool in_array_ = false;  // the top-level value is an array
};

}  // namespace

Result<JsonShape> ParseDispatchFile(std::string_view text) {
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return Error{"the file is empty"};
  }
  ShapeReader reader(kDefaultMaxJsonDepth);
  bool parsed = false;
  try {
    parsed = json::sax_parse(text, &reader);
  } catch (const std::exception& e) {
    return Error{"not valid JSON: " + PrintableAscii(e.what())};
  }
  if (!parsed) return Error{reader.error.empty() ? "not valid JSON" : reader.error};
  return reader.shape;
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
