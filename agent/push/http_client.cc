#include "agent/push/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "agent/push/curl_library.h"
#include "agent/push/push_policy.h"
#include "base/json_text.h"
#include "base/units.h"

namespace fleet {
namespace {

constexpr std::size_t kMaxReply = 1 << 20;

struct Transfer {
  HttpReply reply;
  bool too_large = false;
  const std::atomic<bool>* abort = nullptr;
};

std::size_t OnBody(char* data, std::size_t size, std::size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const std::size_t bytes = size * count;
  if (transfer->reply.body.size() + bytes > kMaxReply) {
    transfer->too_large = true;
    return 0;  // aborts the transfer
  }
  transfer->reply.body.append(data, bytes);
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

// Plain http: the address a connection is about to use must be loopback, whatever the
// name resolved to (libcurl calls this before connect, for every address it tries).
curl_socket_t OpenLoopbackSocket(void* user, curlsocktype, curl_sockaddr* address) {
  if (!IsLoopbackAddress(&address->addr, address->addrlen)) {
    *static_cast<std::string*>(user) = AddressText(&address->addr);
    return CURL_SOCKET_BAD;
  }
  return ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

std::string Endpoint(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url + "/v1/records";
}

// The host of an http(s) URL as written: "[::1]" keeps its brackets.
std::string_view UrlHost(std::string_view url) {
  url.remove_prefix(std::min(url.size(), url.find("://") + 3));
  const std::string_view authority = url.substr(0, url.find_first_of("/?#"));
  if (authority.starts_with("[")) return authority.substr(0, authority.find(']') + 1);
  return authority.substr(0, authority.find(':'));
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

Result<std::unique_ptr<HttpClient>> HttpClient::Create(const UpstreamSettings& upstream,
                                                       const std::atomic<bool>* abort) {
  auto lib = LoadCurlLibrary();
  if (!lib) return Error{lib.error()};
  return Create(upstream, abort, **lib);
}

Result<std::unique_ptr<HttpClient>> HttpClient::Create(const UpstreamSettings& upstream,
                                                       const std::atomic<bool>* abort,
                                                       const CurlLibrary& lib) {
  std::unique_ptr<HttpClient> client(new HttpClient());
  client->lib_ = &lib;
  client->endpoint_ = Endpoint(upstream.url);
  client->upstream_ = upstream;
  client->abort_ = abort;
  client->plain_http_ = upstream.url.starts_with("http://");
  if (client->plain_http_ && !IsLoopbackHostName(UrlHost(upstream.url))) {
    return Error{"upstream.url " + PrintableAscii(upstream.url, 200) +
                 ": plain http:// goes only to a loopback address (localhost, 127.x.y.z or "
                 "[::1]); use https://"};
  }
  client->curl_ = lib.easy_init();
  if (client->curl_ == nullptr) return Error{"libcurl: cannot create a handle"};
  auto* headers = lib.slist_append(nullptr, "Content-Type: application/x-ndjson");
  if (headers != nullptr) headers = lib.slist_append(headers, "Expect:");
  if (headers != nullptr) {
    headers = lib.slist_append(headers, "User-Agent: fleet-agent/" FLEET_VERSION);
  }
  if (headers == nullptr) return Error{"libcurl: cannot build the request headers"};
  client->headers_ = headers;
  if (auto set = client->SetFixedOptions(); !set) return Error{set.error()};
  return client;
}

// What stays the same for every request. Nothing a reply does changes these (cookies and
// redirects are not enabled), so no curl_easy_reset is needed between batches.
Outcome HttpClient::SetFixedOptions() {
  Options options(*lib_, static_cast<CURL*>(curl_));
  FLEET_SETOPT(options, CURLOPT_URL, endpoint_.c_str());
  FLEET_SETOPT(options, CURLOPT_PROTOCOLS_STR, "http,https");
  FLEET_SETOPT(options, CURLOPT_FOLLOWLOCATION, 0L);
  FLEET_SETOPT(options, CURLOPT_NOSIGNAL, 1L);
  FLEET_SETOPT(options, CURLOPT_POST, 1L);
  FLEET_SETOPT(options, CURLOPT_HTTPHEADER, static_cast<curl_slist*>(headers_));
  FLEET_SETOPT(options, CURLOPT_CONNECTTIMEOUT_MS,
               static_cast<long>(upstream_.connect_timeout.count()));
  FLEET_SETOPT(options, CURLOPT_TIMEOUT_MS, static_cast<long>(upstream_.timeout.count()));
  FLEET_SETOPT(options, CURLOPT_SSL_VERIFYPEER, 1L);
  FLEET_SETOPT(options, CURLOPT_SSL_VERIFYHOST, 2L);
  FLEET_SETOPT(options, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
  if (!upstream_.ca_file.empty()) {
    FLEET_SETOPT(options, CURLOPT_CAINFO, upstream_.ca_file.c_str());
  }
  if (!upstream_.pinned_pubkey.empty()) {
    FLEET_SETOPT(options, CURLOPT_PINNEDPUBLICKEY, upstream_.pinned_pubkey.c_str());
  }
  if (plain_http_) {
    FLEET_SETOPT(options, CURLOPT_OPENSOCKETFUNCTION, OpenLoopbackSocket);
    FLEET_SETOPT(options, CURLOPT_OPENSOCKETDATA, static_cast<void*>(&refused_address_));
  }
  FLEET_SETOPT(options, CURLOPT_WRITEFUNCTION, OnBody);
  FLEET_SETOPT(options, CURLOPT_XFERINFOFUNCTION, OnProgress);
  FLEET_SETOPT(options, CURLOPT_NOPROGRESS, 0L);
  return options.Done();
}

HttpClient::~HttpClient() {
  if (curl_ != nullptr) lib_->easy_cleanup(static_cast<CURL*>(curl_));
  if (headers_ != nullptr) lib_->slist_free_all(static_cast<curl_slist*>(headers_));
}

Result<HttpReply> HttpClient::PostRecords(std::string_view ndjson) {
  CURL* curl = static_cast<CURL*>(curl_);
  const CurlLibrary& lib = *lib_;
  Transfer transfer;
  transfer.abort = abort_;
  refused_address_.clear();
  char error[CURL_ERROR_SIZE] = {};
  Options options(lib, curl);
  FLEET_SETOPT(options, CURLOPT_POSTFIELDS, ndjson.data());
  FLEET_SETOPT(options, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(ndjson.size()));
  FLEET_SETOPT(options, CURLOPT_WRITEDATA, static_cast<void*>(&transfer));
  FLEET_SETOPT(options, CURLOPT_XFERINFODATA, static_cast<void*>(&transfer));
  FLEET_SETOPT(options, CURLOPT_ERRORBUFFER, static_cast<char*>(error));
  if (auto set = options.Done(); !set) {
    (void)lib.easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);
    return Error{endpoint_ + ": " + set.error()};
  }
  const CURLcode code = lib.easy_perform(curl);
  (void)lib.easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);  // `error` goes out of scope
  if (code != CURLE_OK) {
    // (An address refused while another, loopback, one connected is no failure.)
    if (!refused_address_.empty()) {
      return Error{endpoint_ + ": plain http:// goes only to a loopback address, and the host " +
                   "resolved to " + refused_address_ + "; nothing was sent"};
    }
    if (transfer.too_large) return Error{endpoint_ + ": the reply is larger than 1 MiB"};
    std::string detail = error[0] != '\0' ? error : lib.easy_strerror(code);
    return Error{endpoint_ + ": " + PrintableAscii(detail, 300)};
  }
  if (lib.easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &transfer.reply.status) != CURLE_OK) {
    return Error{endpoint_ + ": libcurl cannot tell the reply's status"};
  }
  curl_off_t retry_after = 0;
  if (lib.easy_getinfo(curl, CURLINFO_RETRY_AFTER, &retry_after) == CURLE_OK) {
    transfer.reply.retry_after = RetryAfterDelay(retry_after);
  }
  return std::move(transfer.reply);
}

}  // namespace fleet
