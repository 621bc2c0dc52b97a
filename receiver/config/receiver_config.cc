#include "receiver/config/receiver_config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <tuple>

#include "base/units.h"
#include "base/yaml_text.h"
#include "receiver/http/http_server.h"

namespace fleet::receiver {
namespace {

using Handler = std::function<void(const YAML::Node& value, const std::string& path)>;

constexpr int kMaxDepth = 16;
constexpr std::size_t kMaxListen = 16;

std::string Printable(std::string_view text) {
  std::string out = "'";
  for (char c : text.substr(0, 60)) {
    out += static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? '?' : c;
  }
  return out + (text.size() > 60 ? "...'" : "'");
}

// Collects errors with their positions; sorted into file order at the end.
class Reader {
 public:
  Reader(std::string file, std::string_view text) : file_(std::move(file)), index_(text) {}

  void Error(const YAML::Mark& mark, const std::string& message) {
    Add(index_.AtMark(mark.line, mark.column), message);
  }
  void Error(const YAML::Node& at, const std::string& message) { Error(at.Mark(), message); }
  void ErrorAtOffset(std::size_t offset, const std::string& message) {
    Add(index_.AtOffset(offset), message);
  }
  void FileError(const std::string& message) { errors_.push_back({0, 0, file_ + ": " + message}); }

  // A map's keys against `keys`: unknown and repeated keys are errors, each value handed on.
  void Map(const YAML::Node& node, const std::string& path,
           const std::map<std::string, Handler>& keys) {
    if (!node.IsMap()) {
      Error(node, (path.empty() ? std::string("the file") : path) + " must be a map");
      return;
    }
    std::set<std::string> seen;
    for (const auto& item : node) {
      const YAML::Node& key = item.first;
      const std::string name = key.IsScalar() ? key.Scalar() : std::string("?");
      const std::string where = path.empty() ? name : path + "." + name;
      if (!seen.insert(name).second) {
        Error(key, where + " is given twice");
        continue;
      }
      if (auto handler = keys.find(name); handler != keys.end()) {
        // "tls:" and nothing (a file cut short): said at the key, never taken as a default.
        if (item.second.IsNull()) {
          Error(key, where + " has no value");
          continue;
        }
        handler->second(item.second, where);
        continue;
      }
      std::string known;
      for (const auto& [k, h] : keys) known += (known.empty() ? "" : ", ") + k;
      Error(key, "unknown key " + Printable(name) + (path.empty() ? "" : " in " + path) +
                     " (known: " + known + ")");
    }
  }

  std::optional<std::string> Scalar(const YAML::Node& node, const std::string& path,
                                    const std::string& what) {
    if (!node.IsScalar() || node.Scalar().empty()) {
      Error(node, path + " must be " + what);
      return std::nullopt;
    }
    return node.Scalar();
  }

  std::optional<std::string> AbsolutePath(const YAML::Node& node, const std::string& path) {
    auto text = Scalar(node, path, "an absolute path");
    if (text && !text->starts_with("/")) {
      Error(node, path + " must be an absolute path (got " + Printable(*text) + ")");
      return std::nullopt;
    }
    return text;
  }

  // A duration in whole seconds within [min, max].
  std::optional<std::int64_t> Duration(const YAML::Node& node, const std::string& path,
                                       std::int64_t min, std::int64_t max) {
    auto text = Scalar(node, path, "a duration such as 30s, 5m or 2h");
    if (!text) return std::nullopt;
    auto parsed = ParseDuration(*text);
    if (!parsed) {
      Error(node, path + ": " + parsed.error());
      return std::nullopt;
    }
    const std::int64_t ms = parsed->count();
    if (ms % 1000 != 0 || ms / 1000 < min || ms / 1000 > max) {
      Error(node, path + " must be from " + FormatDuration(std::chrono::seconds(min)) + " to " +
                      FormatDuration(std::chrono::seconds(max)) + " in whole seconds (got " +
                      Printable(*text) + ")");
      return std::nullopt;
    }
    return ms / 1000;
  }

  std::optional<int> Integer(const YAML::Node& node, const std::string& path, int min, int max) {
    auto text = Scalar(node, path, "a whole number");
    if (!text) return std::nullopt;
    int value = 0;
    const char* end = text->data() + text->size();
    auto [ptr, ec] = std::from_chars(text->data(), end, value);
    if (ec != std::errc() || ptr != end || value < min || value > max) {
      Error(node, path + " must be a whole number from " + std::to_string(min) + " to " +
                      std::to_string(max) + " (got " + Printable(*text) + ")");
      return std::nullopt;
    }
    return value;
  }

  bool failed() const { return !errors_.empty(); }
  std::vector<std::string> TakeErrors() {
    std::stable_sort(errors_.begin(), errors_.end(), [](const auto& a, const auto& b) {
      return std::tie(a.line, a.column) < std::tie(b.line, b.column);
    });
    std::vector<std::string> out;
    for (auto& e : errors_) out.push_back(std::move(e.text));
    return out;
  }

 private:
  struct Entry {
    int line = 0;
    int column = 0;
    std::string text;
  };
  void Add(const TextPosition& at, const std::string& message) {
    errors_.push_back(
        {at.line, at.column,
         file_ + ":" + std::to_string(at.line) + ":" + std::to_string(at.column) + ": " + message});
  }
  std::string file_;
  LineIndex index_;
  std::vector<Entry> errors_;
};

void ReadListen(Reader& r, const YAML::Node& node, const std::string& path,
                std::vector<std::string>& out) {
  auto one = [&](const YAML::Node& item, const std::string& where) {
    auto text = r.Scalar(item, where, "an address and port: 127.0.0.1:8080 or [::1]:8443");
    if (!text) return;
    if (auto endpoint = ParseListenAddress(*text); !endpoint) {
      r.Error(item, where + ": " + Printable(*text) + ": " + endpoint.error());
      return;
    }
    out.push_back(*text);
  };
  if (!node.IsSequence()) return one(node, path);
  if (node.size() == 0 || node.size() > kMaxListen) {
    r.Error(node, path + " must list from 1 to " + std::to_string(kMaxListen) + " addresses");
    return;
  }
  for (std::size_t i = 0; i < node.size(); ++i) {
    one(node[i], path + "[" + std::to_string(i) + "]");
  }
}

void ReadDatabase(Reader& r, const YAML::Node& node, const std::string& path, ReceiverConfig& c) {
  auto text = r.Scalar(node, path, "a SQLite file (absolute path) or a postgresql:// URL");
  if (!text) return;
  if (!text->starts_with("/") && !text->starts_with("postgresql://") &&
      !text->starts_with("postgres://")) {
    // The URL may hold a password: never quoted back.
    r.Error(node, path + " must be an absolute path to a SQLite file or a postgresql:// URL");
    return;
  }
  c.database = *text;
}

void ReadTls(Reader& r, const YAML::Node& node, const std::string& path, ReceiverConfig& c) {
  ReceiverTlsConfig tls;
  r.Map(node, path,
        {{"cert", [&](const YAML::Node& v,
                      const std::string& p) { tls.cert = r.AbsolutePath(v, p).value_or(""); }},
         {"key", [&](const YAML::Node& v, const std::string& p) {
            tls.key = r.AbsolutePath(v, p).value_or("");
          }}});
  if (!node.IsMap()) return;
  if (!node["cert"] || !node["key"]) {
    r.Error(node, path + " needs both cert and key");
    return;
  }
  if (!tls.cert.empty() && !tls.key.empty()) c.tls = tls;
}

void ReadReports(Reader& r, const YAML::Node& node, const std::string& path, ReceiverConfig& c) {
  r.Map(node, path,
        {{"live_within",
          [&](const YAML::Node& v, const std::string& p) {
            if (r.Duration(v, p, 1, 86400)) c.live_within = v.Scalar();
          }},
         {"late_minutes", [&](const YAML::Node& v, const std::string& p) {
            auto text = r.Scalar(v, p, "count or ignore");
            if (!text) return;
            if (*text != "count" && *text != "ignore") {
              r.Error(v, p + " must be count or ignore (got " + Printable(*text) + ")");
              return;
            }
            c.late_minutes = *text;
          }}});
}

// on | off (YAML's own on/off/true/false as well).
std::optional<bool> Switch(Reader& r, const YAML::Node& node, const std::string& path) {
  auto text = r.Scalar(node, path, "on or off");
  if (!text) return std::nullopt;
  if (*text == "on" || *text == "true") return true;
  if (*text == "off" || *text == "false") return false;
  r.Error(node, path + " must be on or off (got " + Printable(*text) + ")");
  return std::nullopt;
}

void ReadStatements(Reader& r, const YAML::Node& node, const std::string& path, ReceiverConfig& c) {
  r.Map(node, path,
        {{"close",
          [&](const YAML::Node& v, const std::string& p) {
            auto text = r.Scalar(v, p, "auto or manual");
            if (!text) return;
            if (*text != "auto" && *text != "manual") {
              r.Error(v, p + " must be auto or manual (got " + Printable(*text) + ")");
              return;
            }
            c.close_months = *text == "auto";
          }},
         {"close_after",
          [&](const YAML::Node& v, const std::string& p) {
            if (r.Duration(v, p, 3600, 90 * 86400)) c.close_after = v.Scalar();
          }},
         {"key", [&](const YAML::Node& v, const std::string& p) {
            c.statement_key = r.AbsolutePath(v, p);
          }}});
}

void ReadTop(Reader& r, const YAML::Node& root, ReceiverConfig& c) {
  auto integer = [&](std::optional<int>& out, int min, int max) {
    return [&r, &out, min, max](const YAML::Node& v, const std::string& p) {
      out = r.Integer(v, p, min, max);
    };
  };
  r.Map(root, "",
        {{"listen",
          [&](const YAML::Node& v, const std::string& p) { ReadListen(r, v, p, c.listen); }},
         {"database", [&](const YAML::Node& v, const std::string& p) { ReadDatabase(r, v, p, c); }},
         {"tls", [&](const YAML::Node& v, const std::string& p) { ReadTls(r, v, p, c); }},
         {"threads", integer(c.threads, 1, 64)},
         {"max_connections", integer(c.max_connections, 1, 100000)},
         {"max_connections_per_peer", integer(c.max_connections_per_peer, 0, 100000)},
         {"read_timeout",
          [&](const YAML::Node& v, const std::string& p) {
            if (auto s = r.Duration(v, p, 1, 3600)) c.read_timeout_s = static_cast<int>(*s);
          }},
         {"alerts_file",
          [&](const YAML::Node& v, const std::string& p) { c.alerts_file = r.AbsolutePath(v, p); }},
         {"silent_after",
          [&](const YAML::Node& v, const std::string& p) {
            c.silent_after_s = r.Duration(v, p, 60, 86400);
          }},
         {"reports", [&](const YAML::Node& v, const std::string& p) { ReadReports(r, v, p, c); }},
         {"metrics",
          [&](const YAML::Node& v, const std::string& p) {
            auto text = r.Scalar(v, p, "on, off or token");
            if (!text) return;
            if (*text == "true") text = "on";
            if (*text == "false") text = "off";
            if (*text != "on" && *text != "off" && *text != "token") {
              r.Error(v, p + " must be on, off or token (got " + Printable(*text) + ")");
              return;
            }
            c.metrics = *text;
          }},
         {"dashboard",
          [&](const YAML::Node& v, const std::string& p) { c.dashboard = Switch(r, v, p); }},
         {"statements",
          [&](const YAML::Node& v, const std::string& p) { ReadStatements(r, v, p, c); }}});
}

}  // namespace

ParsedReceiverConfig ParseReceiverConfig(const std::string& file, std::string_view text) {
  ParsedReceiverConfig parsed;
  Reader reader(file, text);
  if (text.size() > kMaxReceiverConfigBytes) {
    reader.FileError("larger than " + std::to_string(kMaxReceiverConfigBytes / 1024) + " KiB");
    parsed.errors = reader.TakeErrors();
    return parsed;
  }
  for (const TextProblem& problem : FindTextProblems(text, kMaxDepth)) {
    reader.ErrorAtOffset(problem.offset, problem.message);
  }
  if (reader.failed()) {
    parsed.errors = reader.TakeErrors();
    return parsed;
  }
  try {
    const YAML::Node root = YAML::Load(std::string(text));
    if (!root.IsNull()) ReadTop(reader, root, parsed.config);  // empty: every default
  } catch (const YAML::Exception& e) {
    reader.Error(e.mark, "not YAML: " + e.msg);
  }
  parsed.errors = reader.TakeErrors();
  if (!parsed.errors.empty()) parsed.config = {};
  return parsed;
}

ParsedReceiverConfig ReadReceiverConfig(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return {{}, {file + ": cannot be read"}};
  std::string text;
  text.resize(kMaxReceiverConfigBytes + 1);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  return ParseReceiverConfig(file, text);
}

}  // namespace fleet::receiver
