// ParseJsonText: nlohmann parsing for files the agent does not control, as a Result. It
// refuses nesting deeper than max_depth before parsing (nlohmann parses any depth, but
// copying, comparing or dumping a deep value recurses and would overflow the stack), and
// turns parse errors into one printable ASCII line ("parse error at line 3, column 5:
// ..."), so no raw bytes from the file reach summaries or details. A parser callback
// (nlohmann's parser_callback_t) may skip what the caller does not need as it is read, so
// a large file costs its own size, not a DOM of it. Header-only, pure.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "base/result.h"

namespace fleet {

inline constexpr int kDefaultMaxJsonDepth = 128;

// Compact JSON text; invalid UTF-8 in a string becomes U+FFFD instead of an exception.
inline std::string DumpJson(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Printable ASCII only (other bytes become '?'), at most max_chars.
inline std::string PrintableAscii(std::string_view text, std::size_t max_chars = 200) {
  std::string out;
  for (char c : text) {
    if (out.size() >= max_chars) {
      out += "...";
      break;
    }
    const auto byte = static_cast<unsigned char>(c);
    out += (byte >= 0x20 && byte < 0x7f) ? c : '?';
  }
  return out;
}

// Deepest nesting of arrays/objects in text (strings skipped), stopping once past limit.
inline int JsonNestingDepth(std::string_view text, int limit) {
  int depth = 0;
  int deepest = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > deepest) deepest = depth;
      if (deepest > limit) return deepest;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

// "object", "array", "string", "number", "boolean", "null".
inline std::string JsonTypeName(const nlohmann::json& value) { return value.type_name(); }

inline Result<nlohmann::json> ParseJsonText(
    std::string_view text, int max_depth = kDefaultMaxJsonDepth,
    const nlohmann::json::parser_callback_t& keep = nullptr) {
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return Error{"the file is empty"};
  }
  if (JsonNestingDepth(text, max_depth) > max_depth) {
    return Error{"not valid JSON for this check: nested deeper than " + std::to_string(max_depth) +
                 " levels"};
  }
  try {
    return nlohmann::json::parse(text, keep);
  } catch (const nlohmann::json::exception& e) {
    // e.what() is "[json.exception.parse_error.101] parse error at line 1, column 5: ...".
    std::string_view what = e.what();
    if (auto close = what.find("] "); close != std::string_view::npos) {
      what.remove_prefix(close + 2);
    }
    return Error{"not valid JSON: " + PrintableAscii(what)};
  } catch (const std::exception& e) {
    return Error{"not valid JSON: " + PrintableAscii(e.what())};
  }
}

}  // namespace fleet
