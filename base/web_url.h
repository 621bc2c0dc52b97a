// WebUrl: an http(s) URL split into the parts the agent's rules look at, and those rules,
// shared by every URL the agent sends to (the upstream, a chat channel's api_base, a
// webhook URL read from a secret file): https, or plain http only to a host that is
// loopback by its text (IsLoopbackHostName); nothing a plain URL never holds (whitespace,
// control characters, quotes, a fragment); and only the parts a use expects (user info, a
// path, a query). A fault names what is wrong, never the URL: a webhook URL is a secret.
// Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace fleet {

struct WebUrl {
  bool https = false;
  std::optional<std::string_view> user_info;  // before '@' in the authority
  std::string_view host;                      // "[::1]" keeps its brackets
  std::optional<std::string_view> port;       // after the host's ':'
  std::string_view path;                      // from the first '/' after the authority
  std::optional<std::string_view> query;      // after '?'
  std::optional<std::string_view> fragment;   // after '#'
};

// nullopt unless `text` starts with http:// or https://; nothing else is checked.
std::optional<WebUrl> SplitWebUrl(std::string_view text);

// What a use accepts beyond scheme://host[:port].
struct WebUrlRules {
  bool path = true;
  bool query = false;
  bool user_info = false;
};

enum class WebUrlFault {
  kNotHttp,   // neither https:// nor http://
  kNotPlain,  // whitespace, control or quote characters, a fragment, or a part not allowed
  kNoHost,    // nothing (or "[]") where the host goes
  kBadPort,   // not 1..65535
  kPath,      // a path where only scheme, host and port are allowed ("/" is none)
  kPlainHttpElsewhere,  // http:// to a host that is not loopback by its text
};

std::optional<WebUrlFault> FindWebUrlFault(std::string_view text, WebUrlRules rules = {});

// The fault as the end of a sentence whose subject is the URL ("is plain http to another
// machine (...)"); it never quotes the URL.
std::string DescribeWebUrlFault(WebUrlFault fault, WebUrlRules rules = {});

}  // namespace fleet
