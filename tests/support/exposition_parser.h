// A strict reader of the Prometheus text exposition (format 0.0.4) for tests: every line is a
// `# HELP name text`, a `# TYPE name counter|gauge|histogram` (each at most once, TYPE before
// the family's samples) or a sample `name{label="value",...} value`; names and label names
// match [a-zA-Z_:][a-zA-Z0-9_:]*, a label value's only escapes are \\ \" \n, no label twice, no
// series twice, a family's samples are contiguous, counters end in _total and are >= 0, the text
// ends with a newline. Histograms: per label set, `le` bounds increasing to "+Inf", cumulative
// counts not decreasing, _sum and _count present, _count equal to the +Inf bucket. promtool is
// not installed here (it would be the Debian package prometheus); this plays its part.
#pragma once

#include <cmath>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace fleet::testing {

struct Exposition {
  std::map<std::string, std::string> types;  // family -> type
  std::map<std::string, double> series;      // SeriesKey -> value
  double Value(const std::string& key) const {
    auto it = series.find(key);
    return it == series.end() ? std::nan("") : it->second;
  }
  bool Has(const std::string& key) const { return series.count(key) != 0; }
};

namespace exposition_detail {

inline bool NameChar(char c, bool first) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
         (!first && c >= '0' && c <= '9');
}

inline bool ReadName(std::string_view& s, std::string& name) {
  std::size_t i = 0;
  while (i < s.size() && NameChar(s[i], i == 0)) ++i;
  if (i == 0) return false;
  name = std::string(s.substr(0, i));
  s.remove_prefix(i);
  return true;
}

inline bool ParseValue(std::string_view text, double& value) {
  if (text == "+Inf") return value = INFINITY, true;
  if (text == "-Inf") return value = -INFINITY, true;
  if (text == "NaN") return value = NAN, true;
  if (text.empty()) return false;
  std::string copy(text);
  char* end = nullptr;
  value = std::strtod(copy.c_str(), &end);
  return end == copy.c_str() + copy.size() && std::isfinite(value);
}

}  // namespace exposition_detail

// name{a="x",b="y"} with labels sorted by name: how tests name a series.
inline std::string SeriesKey(const std::string& name, std::map<std::string, std::string> labels) {
  std::string out = name;
  if (labels.empty()) return out;
  out += '{';
  bool first = true;
  for (const auto& [k, v] : labels) {
    out += (first ? "" : ",") + k + "=\"" + v + "\"";
    first = false;
  }
  return out + '}';
}

inline Result<Exposition> ParseExposition(std::string_view text) {
  using namespace exposition_detail;
  Exposition out;
  if (!text.empty() && text.back() != '\n') return Error{"the text does not end with a newline"};
  std::set<std::string> helped, done_families;
  std::string current;  // the family whose samples are being read
  struct Histo {
    std::vector<std::pair<double, double>> buckets;
    bool has_sum = false, has_count = false;
    double count = 0;
  };
  std::map<std::string, Histo> histos;  // family + labels without le
  int number = 0;
  while (!text.empty()) {
    const std::size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol + 1);
    ++number;
    const std::string at = "line " + std::to_string(number) + ": ";
    if (line.empty()) return Error{at + "empty line"};
    if (line[0] == '#') {
      const bool help = line.starts_with("# HELP "), type = line.starts_with("# TYPE ");
      if (!help && !type) return Error{at + "a comment that is neither HELP nor TYPE"};
      std::string_view rest = line.substr(7);
      std::string name;
      if (!ReadName(rest, name) || (!rest.empty() && rest[0] != ' ')) {
        return Error{at + "bad metric name"};
      }
      if (done_families.count(name) || (current != name && out.types.count(name))) {
        return Error{at + name + " described after its samples"};
      }
      if (help) {
        if (!helped.insert(name).second) return Error{at + "HELP twice for " + name};
        for (std::size_t i = 0; i < rest.size(); ++i) {
          if (rest[i] == '\\' &&
              (i + 1 >= rest.size() || (rest[i + 1] != '\\' && rest[i + 1] != 'n'))) {
            return Error{at + "bad escape in HELP"};
          }
          if (rest[i] == '\\') ++i;
        }
      } else {
        if (out.types.count(name)) return Error{at + "TYPE twice for " + name};
        const std::string_view kind = rest.empty() ? rest : rest.substr(1);
        if (kind != "counter" && kind != "gauge" && kind != "histogram") {
          return Error{at + "unknown type '" + std::string(kind) + "'"};
        }
        if (kind == "counter" && !name.ends_with("_total")) {
          return Error{at + "counter " + name + " does not end in _total"};
        }
        out.types[name] = std::string(kind);
      }
      if (!current.empty() && current != name) done_families.insert(current);
      current = name;
      continue;
    }
    std::string name;
    if (!ReadName(line, name)) return Error{at + "bad metric name"};
    std::map<std::string, std::string> labels;
    if (!line.empty() && line[0] == '{') {
      line.remove_prefix(1);
      while (true) {
        if (!line.empty() && line[0] == '}') break;
        std::string label;
        if (!ReadName(line, label)) return Error{at + "bad label name"};
        if (line.size() < 2 || line[0] != '=' || line[1] != '"') return Error{at + "bad label"};
        line.remove_prefix(2);
        std::string value;
        bool closed = false;
        while (!line.empty()) {
          const char c = line[0];
          line.remove_prefix(1);
          if (c == '"') {
            closed = true;
            break;
          }
          if (c == '\n') return Error{at + "raw newline in a label value"};
          if (c == '\\') {
            if (line.empty()) return Error{at + "truncated escape"};
            const char e = line[0];
            line.remove_prefix(1);
            if (e == '\\')
              value += '\\';
            else if (e == '"')
              value += '"';
            else if (e == 'n')
              value += '\n';
            else
              return Error{at + "bad escape in a label value"};
            continue;
          }
          value += c;
        }
        if (!closed) return Error{at + "unterminated label value"};
        if (!labels.emplace(label, value).second) return Error{at + "label " + label + " twice"};
        if (!line.empty() && line[0] == ',') {
          line.remove_prefix(1);
          continue;
        }
        if (line.empty() || line[0] != '}') return Error{at + "bad label list"};
        break;
      }
      line.remove_prefix(1);
    }
    if (line.empty() || line[0] != ' ') return Error{at + "no value"};
    line.remove_prefix(1);
    double value = 0;
    if (!ParseValue(line, value)) return Error{at + "bad value '" + std::string(line) + "'"};
    // Which family: the name itself, or a histogram's base.
    std::string family = name, suffix;
    for (const char* s : {"_bucket", "_sum", "_count"}) {
      const std::string_view sv(s);
      if (name.ends_with(sv)) {
        const std::string base = name.substr(0, name.size() - sv.size());
        if (out.types.count(base) && out.types[base] == "histogram") family = base, suffix = s;
      }
    }
    if (!out.types.count(family)) return Error{at + "sample of " + name + " before its TYPE"};
    if (family != current) return Error{at + "samples of " + family + " not together"};
    const std::string& type = out.types[family];
    if (type == "histogram" && suffix.empty()) return Error{at + "histogram sample without suffix"};
    if (type == "counter" && !(value >= 0)) return Error{at + "counter below zero"};
    const std::string key = SeriesKey(name, labels);
    if (!out.series.emplace(key, value).second) return Error{at + "series twice: " + key};
    if (type == "histogram") {
      auto rest = labels;
      std::string le;
      if (suffix == "_bucket") {
        if (!rest.count("le")) return Error{at + "bucket without le"};
        le = rest["le"];
        rest.erase("le");
      } else if (rest.count("le")) {
        return Error{at + "le on " + suffix};
      }
      Histo& h = histos[SeriesKey(family, rest)];
      if (suffix == "_bucket") {
        double bound = 0;
        if (!ParseValue(le, bound) || std::isnan(bound)) return Error{at + "bad le " + le};
        if (!h.buckets.empty() &&
            (bound <= h.buckets.back().first || value < h.buckets.back().second)) {
          return Error{at + "buckets not increasing or not cumulative"};
        }
        if (h.has_sum || h.has_count) return Error{at + "bucket after _sum/_count"};
        h.buckets.emplace_back(bound, value);
      } else if (suffix == "_sum") {
        h.has_sum = true;
      } else {
        h.has_count = true;
        h.count = value;
      }
    }
  }
  for (const auto& [key, h] : histos) {
    if (h.buckets.empty() || !std::isinf(h.buckets.back().first)) {
      return Error{key + ": no +Inf bucket"};
    }
    if (!h.has_sum || !h.has_count) return Error{key + ": no _sum or _count"};
    if (h.count != h.buckets.back().second) return Error{key + ": _count is not the +Inf bucket"};
  }
  return out;
}

}  // namespace fleet::testing
