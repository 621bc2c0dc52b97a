// ChatTransport: one HTTP exchange with a chat API (Telegram Bot API, a Discord webhook, a
// plain webhook), for the channels (channels.h). The URL may hold a secret (Telegram's token
// is in its path, a webhook URL is its own credential), so no error a transport returns ever
// contains the URL or any part of it: it says what failed ("connection refused", "timed out
// after 10 s", "reply larger than 1 MiB") and the caller names the channel. Every exchange
// has a deadline (connect and whole request; a long poll gives its own), the reply is capped,
// redirects are never followed, TLS is verified (peer and host, TLS 1.2 at least), and plain
// http:// goes to a loopback address only (by name and by the address connected to), as for
// the upstream. One transport per thread; it may keep its connection between exchanges.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "base/result.h"

namespace fleet::alerting {

struct ChatRequest {
  std::string method = "POST";  // POST or PATCH
  std::string url;
  std::string body;  // JSON
  // 0: the transport's timeout. A long poll (getUpdates with timeout N) gives N + a margin.
  std::chrono::milliseconds timeout{0};
};

struct ChatReply {
  long status = 0;
  std::string body;
  // Discord's X-RateLimit-Reset-After header (seconds, fractional), when the reply had one.
  std::optional<double> reset_after;
  // The Retry-After header, in seconds (libcurl's CURLINFO_RETRY_AFTER), when there was one.
  std::optional<std::int64_t> retry_after;
};

struct ChatTransportOptions {
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds timeout{20'000};  // a whole exchange, reply included
  std::size_t max_reply_bytes = 1 << 20;
  std::string ca_file;  // PEM bundle to trust instead of the system's (tests: a local CA)
  // Cancels an exchange in flight when it becomes true (the daemon stopping). May be null.
  const std::atomic<bool>* abort = nullptr;
};

class ChatTransport {
 public:
  virtual ~ChatTransport() = default;
  // The reply whatever its status; an Error only when no reply was read (refused, timed out,
  // too large, not loopback for http://, aborted). The Error never holds the URL.
  virtual Result<ChatReply> Exchange(const ChatRequest& request) = 0;
};

// The real one, over libcurl (loaded on first use, base/curl_library.h).
Result<std::unique_ptr<ChatTransport>> MakeCurlChatTransport(const ChatTransportOptions& options);

}  // namespace fleet::alerting
