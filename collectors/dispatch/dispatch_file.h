// The dispatch files as opaque JSON (their format is unpublished): ParseDispatchFile tells
// only the type and length of the top-level value; EvaluateDispatchFiles turns what was
// found on disk into the check's result. Every problem is a WARNING naming the file:
// missing, unreadable ("cannot read"), not a regular file, over the size limit, empty or
// not valid JSON, or unchanged for longer than stale_after. A modification time in the
// future counts as age 0 and is noted. Both functions are pure and never throw.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "core/check_result.h"

namespace fleet {

struct JsonShape {
  std::string type;                     // "object", "array", "string", "number", ...
  std::optional<std::uint64_t> length;  // members, elements or bytes of a string
};

Result<JsonShape> ParseDispatchFile(std::string_view text);

// What the check saw of one file.
struct DispatchFileSeen {
  std::string path;   // as resolved
  std::string shown;  // for summaries ("~/.hermes/...")
  bool present = false;
  bool symlink = false;
  std::optional<std::string> problem;  // could not look at or use the file (the finding)
  std::optional<std::uint64_t> size_bytes;
  std::optional<std::chrono::system_clock::time_point> modified;
  std::optional<JsonShape> shape;  // set when it parsed
};

CheckResult EvaluateDispatchFiles(const std::vector<DispatchFileSeen>& files,
                                  std::chrono::system_clock::time_point now,
                                  std::chrono::seconds stale_after);

}  // namespace fleet
