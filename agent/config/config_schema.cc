#include "agent/config/config_schema.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <unordered_map>

#include "base/units.h"
#include "base/web_url.h"

namespace fleet::config {
namespace {

using std::chrono::milliseconds;

constexpr std::size_t kMaxQuoted = 60;

std::string Join(const std::vector<std::string>& names) {
  std::string list;
  for (const auto& name : names) list += (list.empty() ? "" : ", ") + name;
  return list;
}

std::string Where(const std::string& path) {
  return path.empty() ? "at the top level" : "in " + path;
}

bool HasControl(std::string_view text) {
  return std::any_of(text.begin(), text.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7F; });
}

bool HasAny(std::string_view text, std::string_view chars) {
  return text.find_first_of(chars) != std::string_view::npos;
}

std::string_view Singular(Text kind) {
  switch (kind) {
    case Text::kNodeId:
      return "a node id";
    case Text::kUserName:
      return "a user name";
    case Text::kName:
      return "a name";
    case Text::kUnitName:
      return "a unit name";
    case Text::kPath:
      return "a path";
    case Text::kAbsolutePath:
      return "an absolute path";
    case Text::kCheckName:
      return "a check name";
    case Text::kUpstreamUrl:
      return "a URL";
  }
  return "a string";
}

std::string_view Plural(Text kind) {
  switch (kind) {
    case Text::kNodeId:
      return "node ids";
    case Text::kUserName:
      return "user names";
    case Text::kName:
      return "names";
    case Text::kUnitName:
      return "unit names";
    case Text::kPath:
      return "paths";
    case Text::kAbsolutePath:
      return "paths";
    case Text::kCheckName:
      return "check names";
    case Text::kUpstreamUrl:
      return "URLs";
  }
  return "strings";
}

std::optional<std::string> InvalidUpstreamUrl(std::string_view text) {
  const auto fault = FindWebUrlFault(text);
  if (!fault) return std::nullopt;
  if (*fault == WebUrlFault::kPlainHttpElsewhere) {
    return Quote(text) +
           " is plain http to another machine; records travel over https (http:// is only for "
           "a loopback address, such as a local TLS proxy)";
  }
  return Quote(text) + " " + DescribeWebUrlFault(*fault);
}

// Why `text` is not a valid `kind`, as the end of a sentence; nullopt when it is valid.
std::optional<std::string> Invalid(Text kind, std::string_view text) {
  if (text.empty()) return "must not be empty";
  if (HasControl(text)) return Quote(text) + " contains a control character";
  switch (kind) {
    case Text::kNodeId: {
      const bool ok = text.size() <= 64 && std::all_of(text.begin(), text.end(), [](char c) {
                        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                               (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
                      });
      if (!ok) return Quote(text) + " is not a node id (1 to 64 letters, digits, '.', '-', '_')";
      break;
    }
    case Text::kUserName:
      if (HasAny(text, " \t/:")) return Quote(text) + " is not a user name";
      break;
    case Text::kUnitName:
      if (HasAny(text, " \t/")) return Quote(text) + " is not a systemd unit name";
      break;
    case Text::kAbsolutePath:
      if (text.front() != '/') return Quote(text) + " is not an absolute path (start it with /)";
      break;
    case Text::kUpstreamUrl:
      return InvalidUpstreamUrl(text);
    case Text::kName:
    case Text::kPath:
    case Text::kCheckName:
      break;
  }
  return std::nullopt;
}

// Optimal string alignment distance: edits, with a swap of neighbours counting as one.
std::size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

// A plain (unquoted, untagged) scalar, for booleans and numbers.
std::optional<std::string> ReadPlain(ConfigReader& reader, const YAML::Node& value,
                                     const std::string& path, std::string_view what) {
  auto text = ReadScalar(reader, value, path, what);
  if (text && value.Tag() == "!") {
    reader.AddError(value, path + " must be " + std::string(what) + ", not a quoted string");
    return std::nullopt;
  }
  return text;
}

std::optional<milliseconds> ReadDuration(ConfigReader& reader, const YAML::Node& value,
                                         const std::string& path, milliseconds min,
                                         milliseconds max) {
  auto text = ReadScalar(reader, value, path, "a duration (examples: 30s, 5m, 2h)");
  if (!text) return std::nullopt;
  auto parsed = text->size() > kMaxQuoted
                    ? Result<milliseconds>(Error{Quote(*text) + " is not a duration"})
                    : ParseDuration(*text);
  if (!parsed) {
    reader.AddError(value, path + ": " + parsed.error());
    return std::nullopt;
  }
  const std::string got = " (got " + FormatMilliseconds(*parsed) + ")";
  if (*parsed < min) {
    reader.AddError(value,
                    path +
                        (min <= milliseconds(1) ? " must be longer than 0"
                                                : " must be at least " + FormatMilliseconds(min)) +
                        got);
    return std::nullopt;
  }
  if (*parsed > max) {
    reader.AddError(value, path + " must be at most " + FormatMilliseconds(max) + got);
    return std::nullopt;
  }
  return *parsed;
}

}  // namespace

void ConfigReader::AddError(const YAML::Mark& mark, std::string message) {
  if (mark.is_null() || mark.line < 0) return AddFileError(std::move(message));
  const TextPosition at = index_.AtMark(mark.line, mark.column);
  errors_.push_back({file_, at.line, at.column, std::move(message)});
}

void ConfigReader::AddErrorAtOffset(std::size_t offset, std::string message) {
  const TextPosition at = index_.AtOffset(offset);
  errors_.push_back({file_, at.line, at.column, std::move(message)});
}

void ConfigReader::AddFileError(std::string message) {
  errors_.push_back({file_, 0, 0, std::move(message)});
}

int ConfigReader::LineOf(const YAML::Mark& mark) const {
  return index_.AtMark(mark.line, mark.column).line;
}

std::pair<int, int> ConfigReader::PositionOf(const YAML::Mark& mark) const {
  if (mark.is_null() || mark.line < 0) return {0, 0};
  const TextPosition at = index_.AtMark(mark.line, mark.column);
  return {at.line, at.column};
}

std::vector<ConfigError> ConfigReader::TakeErrors() {
  std::stable_sort(errors_.begin(), errors_.end(), [](const auto& a, const auto& b) {
    return std::pair(a.line, a.column) < std::pair(b.line, b.column);
  });
  if (errors_.size() > kMaxErrors) {
    const std::size_t more = errors_.size() - kMaxErrors;
    errors_.resize(kMaxErrors);
    errors_.push_back({file_, 0, 0, std::to_string(more) + " more errors not shown"});
  }
  return std::move(errors_);
}

void ReadSection(ConfigReader& reader, const YAML::Node& map, const std::string& path,
                 const Section& keys) {
  if (!map.IsDefined() || map.IsNull()) return;
  std::vector<std::string> names;
  for (const auto& key : keys) {
    if (key.listed) names.push_back(key.name);
  }
  if (!map.IsMap()) {
    reader.AddError(map, (path.empty() ? std::string("the top level") : path) +
                             " must be a map of keys (" + Join(names) + ")");
    return;
  }
  std::unordered_map<std::string, YAML::Mark> seen;
  for (const auto& entry : map) {  // yaml-cpp yields pairs by value
    const YAML::Node key = entry.first;
    const YAML::Node value = entry.second;
    if (!key.IsScalar()) {
      reader.AddError(key, (key.IsNull() ? "empty key " : "a list or map as a key ") + Where(path) +
                               " (keys are plain names)");
      continue;
    }
    const std::string& name = key.Scalar();
    const std::size_t colon = name.find(':');
    const std::string shown =
        Quote(colon == std::string::npos ? name : name.substr(0, colon + 1) + "...");
    auto [first, inserted] = seen.emplace(name, key.Mark());
    if (!inserted) {
      reader.AddError(key, "duplicate key " + shown + " " + Where(path) + " (first at line " +
                               std::to_string(reader.LineOf(first->second)) + ")");
      continue;
    }
    auto spec =
        std::find_if(keys.begin(), keys.end(), [&](const Key& k) { return k.name == name; });
    if (spec == keys.end() && colon != std::string::npos) {
      reader.AddError(key, "unknown key " + shown + " " + Where(path) +
                               " (a ':' needs a space after it: " +
                               Quote(name.substr(0, colon) + ": ...") + ")");
      continue;
    }
    if (spec == keys.end()) {
      reader.AddError(
          key, "unknown key " + shown + " " + Where(path) + SuggestName(name, names, "known keys"));
      continue;
    }
    if (value.IsNull()) continue;  // `key:` alone keeps the defaults
    spec->read(reader, value, path.empty() ? name : path + "." + name);
  }
}

YAML::Node FindValue(const YAML::Node& map, std::string_view key) {
  if (map.IsMap()) {
    for (const auto& entry : map) {
      if (entry.first.IsScalar() && entry.first.Scalar() == key) return entry.second;
    }
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

ValueReader Nested(Section keys) {
  return
      [keys = std::move(keys)](ConfigReader& reader, const YAML::Node& value,
                               const std::string& path) { ReadSection(reader, value, path, keys); };
}

ValueReader Bool(bool& out) {
  return [&out](ConfigReader& reader, const YAML::Node& value, const std::string& path) {
    auto text = ReadPlain(reader, value, path, "true or false");
    if (!text) return;
    bool parsed = false;
    if (!YAML::convert<bool>::decode(value, parsed)) {
      reader.AddError(value, path + " must be true or false (got " + Quote(*text) + ")");
      return;
    }
    out = parsed;
  };
}

ValueReader Integer(int& out, int min, int max) {
  return [&out, min, max](ConfigReader& reader, const YAML::Node& value, const std::string& path) {
    auto text = ReadPlain(reader, value, path, "a whole number");
    if (!text) return;
    long long parsed = 0;
    const char* begin = text->data();
    const char* end = begin + text->size();
    auto [ptr, ec] = std::from_chars(begin, end, parsed);
    if (text->empty() || (*text)[0] == '+' || ptr != end ||
        (ec != std::errc() && ec != std::errc::result_out_of_range)) {
      reader.AddError(value, path + " must be a whole number (got " + Quote(*text) + ")");
    } else if (ec == std::errc::result_out_of_range || parsed > max) {
      reader.AddError(
          value, path + " must be at most " + std::to_string(max) + " (got " + Quote(*text) + ")");
    } else if (parsed < min) {
      reader.AddError(value, path + " must be at least " + std::to_string(min) + " (got " +
                                 std::to_string(parsed) + ")");
    } else {
      out = static_cast<int>(parsed);
    }
  };
}

ValueReader Duration(milliseconds& out, milliseconds min, milliseconds max) {
  return [&out, min, max](ConfigReader& reader, const YAML::Node& value, const std::string& path) {
    if (auto parsed = ReadDuration(reader, value, path, min, max)) out = *parsed;
  };
}

ValueReader Seconds(std::chrono::seconds& out, std::chrono::seconds min, std::chrono::seconds max) {
  return [&out, min, max](ConfigReader& reader, const YAML::Node& value, const std::string& path) {
    if (auto parsed = ReadDuration(reader, value, path, min, max)) {
      out = std::chrono::duration_cast<std::chrono::seconds>(*parsed);
    }
  };
}

ValueReader Percent(double& out) {
  return [&out](ConfigReader& reader, const YAML::Node& value, const std::string& path) {
    auto text = ReadScalar(reader, value, path, "a percentage (example: 15%)");
    if (!text) return;
    auto parsed = text->size() > kMaxQuoted
                      ? Result<double>(Error{Quote(*text) + " is not a percentage"})
                      : ParsePercent(*text);
    if (!parsed) {
      reader.AddError(value, path + ": " + parsed.error());
      return;
    }
    out = *parsed;
  };
}

ValueReader Size(std::uint64_t& out, std::uint64_t min, std::uint64_t max) {
  return [&out, min, max](ConfigReader& reader, const YAML::Node& value, const std::string& path) {
    auto text = ReadScalar(reader, value, path, "a size (examples: 256KiB, 512MiB)");
    if (!text) return;
    auto parsed = text->size() > kMaxQuoted
                      ? Result<std::uint64_t>(Error{Quote(*text) + " is not a size"})
                      : ParseSize(*text);
    if (!parsed) {
      reader.AddError(value, path + ": " + parsed.error());
    } else if (*parsed < min) {
      reader.AddError(value, path + " must be at least " + FormatBytes(min) + " (got " +
                                 FormatBytes(*parsed) + ")");
    } else if (*parsed > max) {
      reader.AddError(value, path + " must be at most " + FormatBytes(max) + " (got " +
                                 FormatBytes(*parsed) + ")");
    } else {
      out = *parsed;
    }
  };
}

ValueReader String(std::string& out, Text kind) {
  return [&out, kind](ConfigReader& reader, const YAML::Node& value, const std::string& path) {
    auto text = ReadScalar(reader, value, path, Singular(kind));
    if (!text) return;
    if (auto why = Invalid(kind, *text)) {
      reader.AddError(value, path + (why->starts_with("must") ? " " : ": ") + *why);
      return;
    }
    out = *text;
  };
}

ValueReader StringList(std::vector<std::string>& out, Text kind, bool may_be_empty) {
  return [&out, kind, may_be_empty](ConfigReader& reader, const YAML::Node& value,
                                    const std::string& path) {
    auto items = ReadStringList(reader, value, path, kind, may_be_empty);
    if (!items) return;
    out.clear();
    for (auto& item : *items) out.push_back(std::move(item.first));
  };
}

std::optional<std::vector<std::pair<std::string, YAML::Node>>> ReadStringList(
    ConfigReader& reader, const YAML::Node& value, const std::string& path, Text kind,
    bool may_be_empty) {
  const std::string list = "a list of " + std::string(Plural(kind));
  if (!value.IsSequence()) {
    std::string hint;
    if (value.IsScalar() && value.Scalar().size() <= kMaxQuoted && !HasControl(value.Scalar())) {
      hint = " (for one, write [" + value.Scalar() + "])";
    }
    reader.AddError(value, path + " must be " + list + hint);
    return std::nullopt;
  }
  if (value.size() == 0 && !may_be_empty) {
    reader.AddError(value, path + " must not be empty (list at least one " +
                               std::string(Singular(kind).substr(Singular(kind).find(' ') + 1)) +
                               ")");
    return std::nullopt;
  }
  std::vector<std::pair<std::string, YAML::Node>> items;
  bool ok = true;
  for (const auto& element : value) {
    auto text = ReadScalar(reader, element, path, list);
    if (!text) {
      ok = false;
      continue;
    }
    if (auto why = Invalid(kind, *text)) {
      reader.AddError(element, path + ": " + (why->starts_with("must") ? "an item " : "") + *why);
      ok = false;
      continue;
    }
    items.emplace_back(std::move(*text), element);
  }
  if (!ok) return std::nullopt;
  return items;
}

std::optional<std::string> ReadScalar(ConfigReader& reader, const YAML::Node& value,
                                      const std::string& path, std::string_view what) {
  if (!value.IsScalar()) {
    reader.AddError(value, path + " must be " + std::string(what));
    return std::nullopt;
  }
  const std::string& tag = value.Tag();
  if (tag != "?" && tag != "!") {
    reader.AddError(value, path + ": YAML tags such as " + Quote(tag) + " are not supported");
    return std::nullopt;
  }
  return value.Scalar();
}

std::optional<std::string> ClosestName(std::string_view name,
                                       const std::vector<std::string>& candidates) {
  if (name.size() > 64) return std::nullopt;
  const std::size_t limit = name.size() <= 4 ? 1 : 2;
  std::optional<std::string> best;
  std::size_t best_distance = limit + 1;
  for (const auto& candidate : candidates) {
    const std::size_t gap = candidate.size() > name.size() ? candidate.size() - name.size()
                                                           : name.size() - candidate.size();
    if (gap > limit) continue;
    const std::size_t distance = EditDistance(name, candidate);
    if (distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

std::string SuggestName(std::string_view name, const std::vector<std::string>& candidates,
                        std::string_view known_label) {
  if (auto closest = ClosestName(name, candidates)) return " (did you mean '" + *closest + "'?)";
  return " (" + std::string(known_label) + ": " + Join(candidates) + ")";
}

std::string Quote(std::string_view text) {
  std::string out = "'";
  std::size_t cut = text.size();
  if (text.size() > kMaxQuoted) {
    cut = kMaxQuoted;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  }
  for (char c : text.substr(0, cut)) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", u);
      out += buf;
    } else {
      out += c;
    }
  }
  if (cut < text.size()) out += "...";
  return out + "'";
}

std::string FormatMilliseconds(milliseconds duration) {
  if (duration.count() % 1000 != 0) return std::to_string(duration.count()) + "ms";
  return FormatDuration(std::chrono::duration_cast<std::chrono::seconds>(duration));
}

}  // namespace fleet::config
