// ConfigSchema: the table-driven core under ParseConfig. A Section is a table of keys,
// each bound to a ValueReader that checks one YAML value and stores it in a field;
// ReadSection walks a YAML map against a table and records every problem (unknown key
// with the closest known one, duplicate key, wrong type, bad value) with its position
// instead of stopping at the first; an unknown key with a ':' in it is shown only up to
// the ':' (a missing space: `token:123:ABC` is one key, and its rest may be a secret). A
// key set to null keeps its default. A field whose value is wrong keeps its default too
// (the config is rejected anyway). Adding a key is one table row. Not thread-safe: one
// ConfigReader per parse.
#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/config/config.h"
#include "base/yaml_text.h"

namespace fleet::config {

// Collects errors with positions resolved against the text being parsed.
class ConfigReader {
 public:
  ConfigReader(std::string file, std::string_view text) : file_(std::move(file)), index_(text) {}

  void AddError(const YAML::Mark& mark, std::string message);
  void AddError(const YAML::Node& at, std::string message) {
    AddError(at.Mark(), std::move(message));
  }
  void AddErrorAtOffset(std::size_t offset, std::string message);
  void AddFileError(std::string message);  // no position

  // 1-based line of a yaml-cpp mark, for "first at line N".
  int LineOf(const YAML::Mark& mark) const;
  // 1-based line and column of a yaml-cpp mark, for errors found after parsing.
  std::pair<int, int> PositionOf(const YAML::Mark& mark) const;

  std::size_t error_count() const { return errors_.size(); }
  // In file order; beyond kMaxErrors, one last line says how many more there were.
  std::vector<ConfigError> TakeErrors();

  static constexpr std::size_t kMaxErrors = 100;

 private:
  std::string file_;
  LineIndex index_;
  std::vector<ConfigError> errors_;
};

// `path` is the dotted name of the key being read ("checks.tmux.expect"), for messages.
using ValueReader =
    std::function<void(ConfigReader& reader, const YAML::Node& value, const std::string& path)>;

struct Key {
  std::string name;
  ValueReader read;
  // false: known only to be refused with a message of its own (a secret written into the
  // YAML); never offered as a suggestion or listed among the known keys.
  bool listed = true;
};
using Section = std::vector<Key>;

// Reads `map` (null: every default) against `keys`. path "" is the top level.
void ReadSection(ConfigReader& reader, const YAML::Node& map, const std::string& path,
                 const Section& keys);
// The value of the first `key` in a map node, or an invalid node (check with IsDefined()).
YAML::Node FindValue(const YAML::Node& map, std::string_view key);

// What a string must look like; each kind has its own check and nouns for messages.
enum class Text {
  kNodeId,        // 1..64 of [A-Za-z0-9._-]
  kUserName,      // no whitespace, '/' or ':'
  kName,          // any non-empty text (tmux session and window names)
  kUnitName,      // no whitespace or '/'
  kPath,          // any non-empty path
  kAbsolutePath,  // starts with '/'
  kCheckName,     // as kName; the caller checks it names a check
  kUpstreamUrl,   // https://host[:port][/path], or http:// to a loopback address
};

// Value readers bound to a field (captured by reference: the field must outlive them).
ValueReader Nested(Section keys);
ValueReader Bool(bool& out);
ValueReader Integer(int& out, int min, int max);
ValueReader Duration(std::chrono::milliseconds& out, std::chrono::milliseconds min,
                     std::chrono::milliseconds max);
ValueReader Seconds(std::chrono::seconds& out, std::chrono::seconds min, std::chrono::seconds max);
ValueReader Percent(double& out);
ValueReader Size(std::uint64_t& out, std::uint64_t min, std::uint64_t max);
ValueReader String(std::string& out, Text kind);
ValueReader StringList(std::vector<std::string>& out, Text kind, bool may_be_empty);

template <typename E>
ValueReader Choice(E& out, std::vector<std::pair<std::string, E>> choices);

// The elements of a string list with their nodes (for checks that need positions);
// nullopt after recording an error.
std::optional<std::vector<std::pair<std::string, YAML::Node>>> ReadStringList(
    ConfigReader& reader, const YAML::Node& value, const std::string& path, Text kind,
    bool may_be_empty);
// The scalar text of `value` if it is a string-like scalar, else records
// "<path> must be <what>" and returns nullopt.
std::optional<std::string> ReadScalar(ConfigReader& reader, const YAML::Node& value,
                                      const std::string& path, std::string_view what);

// The candidate closest to `name` within a small edit distance (typos, swapped letters).
std::optional<std::string> ClosestName(std::string_view name,
                                       const std::vector<std::string>& candidates);
// " (did you mean 'x'?)" or " (known: a, b, c)".
std::string SuggestName(std::string_view name, const std::vector<std::string>& candidates,
                        std::string_view known_label);
// 'text' for messages: control characters escaped, long text cut.
std::string Quote(std::string_view text);
// "250ms", "30s", "1m", "2h 5m".
std::string FormatMilliseconds(std::chrono::milliseconds duration);

template <typename E>
ValueReader Choice(E& out, std::vector<std::pair<std::string, E>> choices) {
  return [&out, choices = std::move(choices)](ConfigReader& reader, const YAML::Node& value,
                                              const std::string& path) {
    std::vector<std::string> names;
    for (const auto& choice : choices) names.push_back(choice.first);
    std::string list;
    for (const auto& name : names) list += (list.empty() ? "" : ", ") + name;
    auto text = ReadScalar(reader, value, path, "one of " + list);
    if (!text) return;
    for (const auto& [name, choice] : choices) {
      if (name == *text) {
        out = choice;
        return;
      }
    }
    reader.AddError(value, path + " must be one of " + list + " (got " + Quote(*text) + ")");
  };
}

}  // namespace fleet::config
