#include "receiver/web/html.h"

#include <cstdio>

#include "base/text.h"

namespace fleet::receiver {

std::string Escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string UrlPart(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", c);
      out += hex;
    }
  }
  return out;
}

std::optional<std::string> PercentDecode(std::string_view text) {
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+') {
      c = ' ';
    } else if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      const int high = digit(text[i + 1]);
      const int low = digit(text[i + 2]);
      if (high < 0 || low < 0) return std::nullopt;
      c = static_cast<char>(high * 16 + low);
      i += 2;
    }
    if (c == '\0') return std::nullopt;
    out += c;
  }
  return out;
}

std::optional<std::string> QueryValue(std::string_view query, std::string_view name) {
  std::optional<std::string> found;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const auto eq = pair.find('=');
    auto key = PercentDecode(pair.substr(0, eq));
    if (!key || *key != name) continue;
    if (found) return std::nullopt;  // repeated: ambiguous
    const std::string_view raw =
        eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    if (raw.size() > kMaxQueryValue * 3) return std::nullopt;
    auto value = PercentDecode(raw);
    if (!value || value->size() > kMaxQueryValue || !IsPlainUtf8Text(*value)) return std::nullopt;
    found = std::move(*value);
  }
  return found;
}

Result<std::optional<std::string>> QueryParam(std::string_view query, std::string_view name) {
  bool present = false;
  for (std::string_view rest = query; !rest.empty();) {
    const auto amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    auto key = PercentDecode(pair.substr(0, pair.find('=')));
    if (key && *key == name) present = true;
  }
  if (!present) return std::optional<std::string>();
  auto value = QueryValue(query, name);
  if (!value) return Error{std::string(name) + ": given more than once, too long or not text"};
  return std::optional<std::string>(std::move(*value));
}

namespace {

constexpr std::string_view kStyle = R"(
body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1b1f24;background:#fafafa}
header{display:flex;gap:1.5em;align-items:center;padding:.6em 1.2em;background:#1b2a3a;color:#fff}
header a{color:#fff}header form{margin-left:auto}
main{padding:1em 1.2em;max-width:1400px}
table{border-collapse:collapse;margin:.6em 0}th,td{padding:.25em .6em;border-bottom:1px solid #ddd;text-align:left}
th{background:#eef1f4}td.num{text-align:right;font-variant-numeric:tabular-nums}
code{font-size:12px;word-break:break-all}
.sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
)";

}  // namespace

std::string Page(std::string_view title, const Viewer& viewer, std::string_view body) {
  std::string html = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">";
  html += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">";
  html += "<title>" + Escape(title) + " · fleet-receiver</title><style>";
  html += kStyle;
  html += "</style></head><body><header><strong>fleet-receiver</strong>";
  html += "<nav><a href=\"/\">Fleet</a></nav>";
  html += "<span>" +
          (viewer.admin() ? std::string("admin") : "operator " + Escape(*viewer.operator_id)) +
          "</span>";
  html +=
      "<form method=\"post\" action=\"/logout\"><button type=\"submit\">Log out</button></form>";
  html += "</header><main><h1>" + Escape(title) + "</h1>\n";
  html += body;
  html += "\n</main></body></html>\n";
  return html;
}

HttpResponse HtmlPage(int status, std::string html) {
  HttpResponse response{status, std::move(html), "", "text/html; charset=utf-8"};
  response.headers.emplace_back("Cache-Control", "no-store");
  return response;
}

HttpResponse HtmlError(int status, std::string_view message, const Viewer* viewer) {
  const std::string body = "<p>" + Escape(message) + "</p><p><a href=\"/\">Fleet</a></p>";
  if (viewer != nullptr)
    return HtmlPage(status, Page("Error " + std::to_string(status), *viewer, body));
  return HtmlPage(status,
                  "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Error " +
                      std::to_string(status) + "</title></head><body>" + body + "</body></html>\n");
}

}  // namespace fleet::receiver
