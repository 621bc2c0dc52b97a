#include "agent/push/http_client.h"

#include "agent/push/push_policy.h"
#include "base/curl_library.h"
#include "base/curl_session.h"
#include "base/json_text.h"

namespace fleet {
namespace {

std::string Endpoint(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url + "/v1/records";
}

}  // namespace

Result<std::unique_ptr<HttpClient>> HttpClient::Create(const UpstreamSettings& upstream,
                                                       const std::atomic<bool>* abort) {
  auto lib = LoadCurlLibrary();
  if (!lib) return Error{lib.error()};
  return Create(upstream, abort, **lib);
}

Result<std::unique_ptr<HttpClient>> HttpClient::Create(const UpstreamSettings& upstream,
                                                       const std::atomic<bool>* abort,
                                                       const CurlLibrary& lib) {
  auto scheme = SchemeToSend(upstream.url);
  if (!scheme)
    return Error{"upstream.url " + PrintableAscii(upstream.url, 200) + ": " + scheme.error()};
  CurlLimits limits;
  limits.connect_timeout = upstream.connect_timeout;
  limits.timeout = upstream.timeout;
  limits.ca_file = upstream.ca_file;
  limits.pinned_pubkey = upstream.pinned_pubkey;
  limits.abort = abort;
  auto session = CurlSession::Create(
      lib, limits,
      {"Content-Type: application/x-ndjson", "Expect:", "User-Agent: fleet-agent/" FLEET_VERSION});
  if (!session) return Error{session.error()};
  if (*scheme == HttpScheme::kPlainHttp) {
    if (auto set = (*session)->RequireLoopback(true); !set) return Error{set.error()};
  }
  std::unique_ptr<HttpClient> client(new HttpClient());
  client->session_ = std::move(*session);
  client->endpoint_ = Endpoint(upstream.url);
  return client;
}

HttpClient::~HttpClient() = default;

Result<HttpReply> HttpClient::PostRecords(std::string_view ndjson) {
  CurlExchange exchange;
  exchange.url = endpoint_;
  exchange.body = ndjson;
  auto reply = session_->Perform(exchange);
  if (!reply) {
    // The upstream is no secret, and libcurl's own words say most (a certificate's name...).
    const std::string& detail = session_->curl_message();
    return Error{endpoint_ + ": " + (detail.empty() ? reply.error() : PrintableAscii(detail, 300))};
  }
  HttpReply out;
  out.status = reply->status;
  out.body = std::move(reply->body);
  out.retry_after = RetryAfterDelay(reply->retry_after);
  return out;
}

}  // namespace fleet
