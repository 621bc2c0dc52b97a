#include "base/curl_session.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "base/curl_library.h"
#include "base/loopback.h"
#include "base/units.h"

namespace fleet {
namespace {

constexpr std::size_t kMaxHeaderValue = 200;

struct Transfer {
  CurlReply reply;
  std::size_t max_reply_bytes = 0;
  bool too_large = false;
  const std::atomic<bool>* abort = nullptr;
  const std::vector<std::string>* keep_headers = nullptr;
};

std::size_t OnBody(char* data, std::size_t size, std::size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const std::size_t bytes = size * count;
  if (transfer->reply.body.size() + bytes > transfer->max_reply_bytes) {
    transfer->too_large = true;
    return 0;  // aborts the transfer
  }
  transfer->reply.body.append(data, bytes);
  return bytes;
}

std::string Lowercase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

// One header line at a time; a status line starts a new response (after a 100 Continue, the
// headers that count are the final response's).
std::size_t OnHeader(char* data, std::size_t size, std::size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const std::size_t bytes = size * count;
  const std::string_view line(data, bytes);
  if (line.starts_with("HTTP/")) {
    transfer->reply.headers.clear();
    return bytes;
  }
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) return bytes;
  std::string name = Lowercase(Trim(line.substr(0, colon)));
  const auto& keep = *transfer->keep_headers;
  if (std::find(keep.begin(), keep.end(), name) != keep.end()) {
    transfer->reply.headers[std::move(name)] =
        std::string(Trim(line.substr(colon + 1)).substr(0, kMaxHeaderValue));
  }
  return bytes;
}

int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* transfer = static_cast<Transfer*>(user);
  return transfer->abort != nullptr && transfer->abort->load() ? 1 : 0;
}

std::string AddressText(const sockaddr* address) {
  char text[INET6_ADDRSTRLEN] = "?";
  if (address->sa_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(address)->sin_addr, text, sizeof text);
  } else if (address->sa_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr, text,
              sizeof text);
  }
  return text;
}

// Plain http: the address a connection is about to use must be loopback, whatever the name
// resolved to (libcurl calls this before connect, for every address it tries, a proxy's too).
curl_socket_t OpenLoopbackSocket(void* user, curlsocktype, curl_sockaddr* address) {
  if (!IsLoopbackAddress(&address->addr, address->addrlen)) {
    *static_cast<std::string*>(user) = AddressText(&address->addr);
    return CURL_SOCKET_BAD;
  }
  return ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

// "10 s", "1.5 s".
std::string SecondsText(std::chrono::milliseconds duration) {
  char text[32];
  if (duration.count() % 1000 == 0) {
    std::snprintf(text, sizeof text, "%lld s", static_cast<long long>(duration.count() / 1000));
  } else {
    std::snprintf(text, sizeof text, "%.1f s", static_cast<double>(duration.count()) / 1000);
  }
  return text;
}

bool StartsWithIgnoringCase(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && Lowercase(text.substr(0, prefix.size())) == prefix;
}

// Sets options one by one and keeps the first refusal: libcurl answers an option it cannot
// apply (a TLS backend without pinning, an old version) with an error code, and a request
// sent without it would be weaker than configured.
class Options {
 public:
  Options(const CurlLibrary& lib, CURL* curl) : lib_(lib), curl_(curl) {}
  template <typename T>
  void Set(CURLoption option, const char* name, T value) {
    if (!error_.empty()) return;
    if (const CURLcode code = lib_.easy_setopt(curl_, option, value); code != CURLE_OK) {
      error_ = std::string("libcurl refused ") + name + " (" + lib_.easy_strerror(code) +
               "); no request is sent";
    }
  }
  Outcome Done() const { return error_.empty() ? Success() : Outcome(Error{error_}); }

 private:
  const CurlLibrary& lib_;
  CURL* curl_;
  std::string error_;
};

#define FLEET_SETOPT(options, option, value) (options).Set(option, #option, value)

}  // namespace

Result<HttpScheme> SchemeToSend(std::string_view url) {
  if (StartsWithIgnoringCase(url, "https://")) return HttpScheme::kHttps;
  if (!StartsWithIgnoringCase(url, "http://")) {
    return Error{"only https:// (or http:// to a loopback address) is sent to"};
  }
  if (!IsLoopbackHostName(UrlHost(url))) {
    return Error{
        "plain http:// goes only to a loopback address (localhost, 127.x.y.z or [::1]); use "
        "https://"};
  }
  return HttpScheme::kPlainHttp;
}

Result<std::unique_ptr<CurlSession>> CurlSession::Create(
    const CurlLibrary& lib, const CurlLimits& limits, const std::vector<std::string>& header_lines,
    std::vector<std::string> keep_headers) {
  std::unique_ptr<CurlSession> session(new CurlSession());
  session->lib_ = &lib;
  session->limits_ = limits;
  for (auto& name : keep_headers) name = Lowercase(name);
  session->keep_headers_ = std::move(keep_headers);
  session->curl_ = lib.easy_init();
  if (session->curl_ == nullptr) return Error{"libcurl: cannot create a handle"};
  curl_slist* headers = nullptr;
  for (const auto& line : header_lines) {
    curl_slist* longer = lib.slist_append(headers, line.c_str());
    if (longer == nullptr) {
      if (headers != nullptr) lib.slist_free_all(headers);
      return Error{"libcurl: cannot build the request headers"};
    }
    headers = longer;
  }
  session->headers_ = headers;
  if (auto set = session->SetFixedOptions(); !set) return Error{set.error()};
  return session;
}

// What stays the same for every request. Nothing a reply does changes these (cookies and
// redirects are not enabled), so no curl_easy_reset is needed between exchanges.
Outcome CurlSession::SetFixedOptions() {
  Options options(*lib_, static_cast<CURL*>(curl_));
  FLEET_SETOPT(options, CURLOPT_PROTOCOLS_STR, "http,https");
  FLEET_SETOPT(options, CURLOPT_FOLLOWLOCATION, 0L);
  FLEET_SETOPT(options, CURLOPT_NOSIGNAL, 1L);
  FLEET_SETOPT(options, CURLOPT_POST, 1L);
  if (headers_ != nullptr) {
    FLEET_SETOPT(options, CURLOPT_HTTPHEADER, static_cast<curl_slist*>(headers_));
  }
  FLEET_SETOPT(options, CURLOPT_CONNECTTIMEOUT_MS,
               static_cast<long>(limits_.connect_timeout.count()));
  FLEET_SETOPT(options, CURLOPT_TIMEOUT_MS, static_cast<long>(limits_.timeout.count()));
  FLEET_SETOPT(options, CURLOPT_SSL_VERIFYPEER, 1L);
  FLEET_SETOPT(options, CURLOPT_SSL_VERIFYHOST, 2L);
  FLEET_SETOPT(options, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
  if (!limits_.ca_file.empty()) {
    FLEET_SETOPT(options, CURLOPT_CAINFO, limits_.ca_file.c_str());
  }
  if (!limits_.pinned_pubkey.empty()) {
    FLEET_SETOPT(options, CURLOPT_PINNEDPUBLICKEY, limits_.pinned_pubkey.c_str());
  }
  // A Content-Length over the cap ends the exchange before its body is read.
  FLEET_SETOPT(options, CURLOPT_MAXFILESIZE_LARGE,
               static_cast<curl_off_t>(limits_.max_reply_bytes));
  FLEET_SETOPT(options, CURLOPT_WRITEFUNCTION, OnBody);
  FLEET_SETOPT(options, CURLOPT_HEADERFUNCTION, OnHeader);
  FLEET_SETOPT(options, CURLOPT_XFERINFOFUNCTION, OnProgress);
  FLEET_SETOPT(options, CURLOPT_NOPROGRESS, 0L);
  return options.Done();
}

Outcome CurlSession::RequireLoopback(bool on) {
  if (on == loopback_only_) return Success();
  Options options(*lib_, static_cast<CURL*>(curl_));
  if (on) {
    FLEET_SETOPT(options, CURLOPT_OPENSOCKETFUNCTION, OpenLoopbackSocket);
    FLEET_SETOPT(options, CURLOPT_OPENSOCKETDATA, static_cast<void*>(&refused_address_));
  } else {
    FLEET_SETOPT(options, CURLOPT_OPENSOCKETFUNCTION,
                 static_cast<curl_opensocket_callback>(nullptr));
  }
  if (auto set = options.Done(); !set) return set;
  loopback_only_ = on;
  return Success();
}

CurlSession::~CurlSession() {
  if (curl_ != nullptr) lib_->easy_cleanup(static_cast<CURL*>(curl_));
  if (headers_ != nullptr) lib_->slist_free_all(static_cast<curl_slist*>(headers_));
}

Result<CurlReply> CurlSession::Perform(const CurlExchange& exchange) {
  CURL* curl = static_cast<CURL*>(curl_);
  const CurlLibrary& lib = *lib_;
  curl_message_.clear();
  refused_address_.clear();
  Transfer transfer;
  transfer.max_reply_bytes = limits_.max_reply_bytes;
  transfer.abort = limits_.abort;
  transfer.keep_headers = &keep_headers_;
  const auto timeout = exchange.timeout.count() > 0 ? exchange.timeout : limits_.timeout;
  // An empty view may have no data at all, and a null POSTFIELDS would read the body from stdin.
  const char* body = exchange.body.data() != nullptr ? exchange.body.data() : "";
  char error[CURL_ERROR_SIZE] = {};
  Options options(lib, curl);
  FLEET_SETOPT(options, CURLOPT_URL, exchange.url.c_str());
  FLEET_SETOPT(options, CURLOPT_CUSTOMREQUEST,
               exchange.method == "POST" ? nullptr : exchange.method.c_str());
  FLEET_SETOPT(options, CURLOPT_POSTFIELDS, body);
  FLEET_SETOPT(options, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(exchange.body.size()));
  FLEET_SETOPT(options, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  FLEET_SETOPT(options, CURLOPT_WRITEDATA, static_cast<void*>(&transfer));
  FLEET_SETOPT(options, CURLOPT_HEADERDATA, static_cast<void*>(&transfer));
  FLEET_SETOPT(options, CURLOPT_XFERINFODATA, static_cast<void*>(&transfer));
  FLEET_SETOPT(options, CURLOPT_ERRORBUFFER, static_cast<char*>(error));
  if (auto set = options.Done(); !set) {
    (void)lib.easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);
    return Error{set.error()};
  }
  const auto started = std::chrono::steady_clock::now();
  const CURLcode code = lib.easy_perform(curl);
  const auto took = std::chrono::steady_clock::now() - started;
  (void)lib.easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);  // `error` goes out of scope
  if (code != CURLE_OK) {
    // (An address refused while another, loopback, one connected is no failure.)
    if (!refused_address_.empty()) {
      return Error{"plain http:// goes only to a loopback address, and the host resolved to " +
                   refused_address_ + "; nothing was sent"};
    }
    if (transfer.too_large || code == CURLE_FILESIZE_EXCEEDED) {
      return Error{"the reply is larger than " + FormatBytes(limits_.max_reply_bytes)};
    }
    if (code == CURLE_ABORTED_BY_CALLBACK) return Error{"aborted before the reply was read"};
    curl_message_ = error;
    if (code == CURLE_OPERATION_TIMEDOUT) {
      // Stopped well before the whole exchange's deadline: it was the connect timeout.
      if (took + std::chrono::milliseconds(200) < timeout && limits_.connect_timeout < timeout) {
        return Error{"timed out after " + SecondsText(limits_.connect_timeout) +
                     " (no connection)"};
      }
      return Error{"timed out after " + SecondsText(timeout) + " (no complete reply)"};
    }
    return Error{lib.easy_strerror(code)};
  }
  if (lib.easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &transfer.reply.status) != CURLE_OK) {
    return Error{"libcurl cannot tell the reply's status"};
  }
  curl_off_t retry_after = 0;
  if (lib.easy_getinfo(curl, CURLINFO_RETRY_AFTER, &retry_after) == CURLE_OK && retry_after > 0) {
    transfer.reply.retry_after = static_cast<std::int64_t>(retry_after);
  }
  return std::move(transfer.reply);
}

}  // namespace fleet
