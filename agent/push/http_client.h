// HttpClient: POSTs a batch of records to <url>/v1/records and returns the receiver's reply,
// or the transport error as a value. The HTTP rules are base/curl_session.h's, the same as the
// chat transport's: every option checked (one libcurl refuses is a clear error and no request
// is sent), TLS always verified (peer and host, TLS 1.2 at least; a CA file and a pinned public
// key may narrow it further), only http and https, no redirects, connect and whole-request
// timeouts, a 1 MiB cap on the reply, an abort flag checked during transfers so the daemon
// stops promptly, plain http to loopback only, by name and by the address each connection is
// about to use (base/loopback.h). The upstream URL is no secret: errors name it and carry
// libcurl's own words. One client per thread; the connection is reused between batches.
// libcurl itself is loaded when the first client is made (base/curl_library.h); tests may pass
// their own CurlLibrary.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "agent/config/config.h"
#include "base/result.h"

namespace fleet {

struct CurlLibrary;
class CurlSession;

struct HttpReply {
  long status = 0;
  std::string body;
  std::optional<std::chrono::seconds> retry_after;  // Retry-After, read by libcurl, capped
};

class HttpClient {
 public:
  // `abort` (may be null) cancels a transfer in flight when it becomes true.
  static Result<std::unique_ptr<HttpClient>> Create(const UpstreamSettings& upstream,
                                                    const std::atomic<bool>* abort);
  // The same over a given libcurl (tests: a fake that fails an option on demand).
  static Result<std::unique_ptr<HttpClient>> Create(const UpstreamSettings& upstream,
                                                    const std::atomic<bool>* abort,
                                                    const CurlLibrary& lib);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  Result<HttpReply> PostRecords(std::string_view ndjson);
  const std::string& endpoint() const { return endpoint_; }

 private:
  HttpClient() = default;

  std::unique_ptr<CurlSession> session_;
  std::string endpoint_;
};

}  // namespace fleet
