// The chat transport over libcurl: a CurlSession (base/curl_session.h) holds the HTTP rules,
// this adds what chat APIs need: JSON bodies, POST or PATCH, a long poll's own deadline, and
// the rate-limit headers. Errors are the session's own words (never libcurl's message, which
// may name the host or the URL: the URL holds the secret).
#include <charconv>
#include <cmath>

#include "alerting/chat_transport.h"
#include "base/curl_library.h"
#include "base/curl_session.h"

namespace fleet::alerting {
namespace {

constexpr char kResetAfter[] = "x-ratelimit-reset-after";

// Discord's X-RateLimit-Reset-After: seconds, fractional ("1.5"); nullopt for anything else.
std::optional<double> Seconds(const std::string& text) {
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value) || value < 0) {
    return std::nullopt;
  }
  return value;
}

class CurlChatTransport final : public ChatTransport {
 public:
  explicit CurlChatTransport(std::unique_ptr<CurlSession> session) : session_(std::move(session)) {}

  Result<ChatReply> Exchange(const ChatRequest& request) override {
    if (request.method != "POST" && request.method != "PATCH") {
      return Error{"only POST and PATCH are sent, not " + request.method.substr(0, 10)};
    }
    auto scheme = SchemeToSend(request.url);
    if (!scheme) return Error{scheme.error() + "; nothing was sent"};
    if (auto set = session_->RequireLoopback(*scheme == HttpScheme::kPlainHttp); !set) {
      return Error{set.error()};
    }
    CurlExchange exchange;
    exchange.method = request.method;
    exchange.url = request.url;
    exchange.body = request.body;
    exchange.timeout = request.timeout;
    auto reply = session_->Perform(exchange);
    if (!reply) return Error{reply.error()};
    ChatReply out;
    out.status = reply->status;
    out.body = std::move(reply->body);
    if (auto header = reply->headers.find(kResetAfter); header != reply->headers.end()) {
      out.reset_after = Seconds(header->second);
    }
    if (reply->retry_after > 0) out.retry_after = reply->retry_after;
    return out;
  }

 private:
  std::unique_ptr<CurlSession> session_;
};

}  // namespace

Result<std::unique_ptr<ChatTransport>> MakeCurlChatTransport(const ChatTransportOptions& options) {
  auto lib = LoadCurlLibrary();
  if (!lib) return Error{lib.error()};
  CurlLimits limits;
  limits.connect_timeout = options.connect_timeout;
  limits.timeout = options.timeout;
  limits.max_reply_bytes = options.max_reply_bytes;
  limits.ca_file = options.ca_file;
  limits.abort = options.abort;
  auto session = CurlSession::Create(**lib, limits,
                                     {"Content-Type: application/json", "Accept: application/json",
                                      "Expect:", "User-Agent: fleet-agent/" FLEET_VERSION},
                                     {kResetAfter});
  if (!session) return Error{session.error()};
  return std::unique_ptr<ChatTransport>(new CurlChatTransport(std::move(*session)));
}

}  // namespace fleet::alerting
