// HttpClient: one libcurl easy handle that POSTs a batch of records to <url>/v1/records
// and returns the receiver's reply, or the transport error as a value. TLS verification is
// always on (peer and host, TLS 1.2 at least); a CA file and a pinned public key may narrow
// it further. Every option is checked: one libcurl refuses (an old or odd build) is a clear
// error and no request is sent. Only http and https, no redirects, connect and
// whole-request timeouts, a 1 MiB cap on the reply, and an abort flag checked during
// transfers so the daemon stops promptly. Plain http goes to loopback only, by name and by
// the address each connection is about to use (push_policy.h). One handle per thread; the
// connection is reused between batches. libcurl itself is loaded when the first client is
// made (curl_library.h); tests may pass their own CurlLibrary.
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
  Outcome SetFixedOptions();

  const CurlLibrary* lib_ = nullptr;  // libcurl, loaded on first use (curl_library.h)
  void* curl_ = nullptr;              // CURL*
  void* headers_ = nullptr;           // curl_slist*
  std::string endpoint_;
  bool plain_http_ = false;
  std::string refused_address_;  // set by the socket callback: a non-loopback address
  UpstreamSettings upstream_;
  const std::atomic<bool>* abort_ = nullptr;
};

}  // namespace fleet
