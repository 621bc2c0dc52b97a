// Html: the few pieces every dashboard page shares. Escape makes any text safe inside an
// element or a double-quoted attribute; UrlPart percent-encodes a path segment or query value.
// QueryValue reads one parameter of a query string, percent-decoded, or nullopt when it is
// absent, repeated, longer than kMaxQueryValue or not plain UTF-8 text (base/text.h) after decoding
// (a page then answers 400). Page wraps a body in the common layout: inline CSS (no script, nothing
// from another origin: the server's CSP allows neither), a navigation naming the viewer, and a
// logout form. HtmlPage and PlainError make the replies.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "receiver/access/viewer.h"
#include "receiver/http/http_server.h"

namespace fleet::receiver {

inline constexpr std::size_t kMaxQueryValue = 256;

std::string Escape(std::string_view text);
std::string UrlPart(std::string_view text);
std::optional<std::string> QueryValue(std::string_view query, std::string_view name);
// One query parameter for a page: absent is nullopt; a value given but unreadable (as
// QueryValue refuses it) is an Error naming the parameter (the page answers 400).
Result<std::optional<std::string>> QueryParam(std::string_view query, std::string_view name);
// Percent-decodes; nullopt on a broken escape or a NUL.
std::optional<std::string> PercentDecode(std::string_view text);

// `title` is text (escaped here); `body` is HTML.
std::string Page(std::string_view title, const Viewer& viewer, std::string_view body);
HttpResponse HtmlPage(int status, std::string html);
// A small HTML page saying `message` (escaped), for 400/404 and the like.
HttpResponse HtmlError(int status, std::string_view message, const Viewer* viewer = nullptr);

}  // namespace fleet::receiver
