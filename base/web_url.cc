#include "base/web_url.h"

#include <algorithm>
#include <charconv>
#include <vector>

#include "base/units.h"

namespace fleet {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Bytes no URL the agent uses holds: whitespace and other control characters, and the
// characters RFC 3986 never allows unescaped.
bool HasForbiddenByte(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u <= 0x20 || u == 0x7F ||
           std::string_view("\"<>\\^`{|}").find(c) != std::string_view::npos;
  });
}

bool ValidPort(std::string_view port) {
  if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), IsDigit)) {
    return false;
  }
  int value = 0;
  std::from_chars(port.data(), port.data() + port.size(), value);
  return value >= 1 && value <= 65535;
}

}  // namespace

std::optional<WebUrl> SplitWebUrl(std::string_view text) {
  WebUrl url;
  if (text.starts_with("https://")) {
    url.https = true;
    text.remove_prefix(8);
  } else if (text.starts_with("http://")) {
    text.remove_prefix(7);
  } else {
    return std::nullopt;
  }
  if (const std::size_t hash = text.find('#'); hash != std::string_view::npos) {
    url.fragment = text.substr(hash + 1);
    text = text.substr(0, hash);
  }
  if (const std::size_t mark = text.find('?'); mark != std::string_view::npos) {
    url.query = text.substr(mark + 1);
    text = text.substr(0, mark);
  }
  const std::size_t slash = text.find('/');
  std::string_view authority = text.substr(0, slash);
  if (slash != std::string_view::npos) url.path = text.substr(slash);
  if (const std::size_t at = authority.rfind('@'); at != std::string_view::npos) {
    url.user_info = authority.substr(0, at);
    authority.remove_prefix(at + 1);
  }
  std::size_t host_end = 0;
  if (authority.starts_with("[")) {
    const std::size_t close = authority.find(']');
    host_end = close == std::string_view::npos ? authority.size() : close + 1;
  } else {
    host_end = std::min(authority.find(':'), authority.size());
  }
  url.host = authority.substr(0, host_end);
  if (host_end < authority.size() && authority[host_end] == ':') {
    url.port = authority.substr(host_end + 1);
  } else if (host_end < authority.size()) {
    url.host = authority;  // "[::1]x": junk after the brackets stays in the host
  }
  return url;
}

std::optional<WebUrlFault> FindWebUrlFault(std::string_view text, WebUrlRules rules) {
  const auto url = SplitWebUrl(text);
  if (!url) return WebUrlFault::kNotHttp;
  if (HasForbiddenByte(text) || url->fragment || (url->query && !rules.query) ||
      (url->user_info && !rules.user_info)) {
    return WebUrlFault::kNotPlain;
  }
  if (url->host.empty() || url->host == "[]" ||
      (url->host.starts_with("[") && !url->host.ends_with("]"))) {
    return WebUrlFault::kNoHost;
  }
  if (url->port && !ValidPort(*url->port)) return WebUrlFault::kBadPort;
  if (!rules.path && !url->path.empty() && url->path != "/") return WebUrlFault::kPath;
  if (!url->https && !IsLoopbackHostName(url->host)) return WebUrlFault::kPlainHttpElsewhere;
  return std::nullopt;
}

std::string DescribeWebUrlFault(WebUrlFault fault, WebUrlRules rules) {
  switch (fault) {
    case WebUrlFault::kNotHttp:
      return "is not an https:// URL";
    case WebUrlFault::kNotPlain: {
      std::vector<std::string> refused{"spaces"};
      if (!rules.user_info) refused.emplace_back("user names");
      if (!rules.query) refused.emplace_back("queries");
      refused.emplace_back("fragments");
      std::string list;
      for (std::size_t i = 0; i < refused.size(); ++i) {
        list += (i == 0 ? "" : i + 1 == refused.size() ? " or " : ", ") + refused[i];
      }
      return "is not a plain URL (no " + list + ")";
    }
    case WebUrlFault::kNoHost:
      return "has no host";
    case WebUrlFault::kBadPort:
      return "has a bad port (a number from 1 to 65535)";
    case WebUrlFault::kPath:
      return "has a path (give the scheme, host and port only)";
    case WebUrlFault::kPlainHttpElsewhere:
      return "is plain http to another machine (http:// is only for a loopback address)";
  }
  return "is not a usable URL";
}

}  // namespace fleet
