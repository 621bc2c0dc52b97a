#include "agent/push/http_client.h"

#include "agent/core/json_text.h"
#include "agent/push/curl_library.h"

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

std::size_t OnHeader(char* data, std::size_t size, std::size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const std::size_t bytes = size * count;
  std::string_view line(data, bytes);
  constexpr std::string_view kName = "retry-after:";
  if (line.size() > kName.size() && line.size() < 200) {
    std::string lower(line.substr(0, kName.size()));
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == kName) transfer->reply.retry_after = std::string(line.substr(kName.size()));
  }
  return bytes;
}

int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* transfer = static_cast<Transfer*>(user);
  return transfer->abort != nullptr && transfer->abort->load() ? 1 : 0;
}

std::string Endpoint(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url + "/v1/records";
}

}  // namespace

Result<std::unique_ptr<HttpClient>> HttpClient::Create(const UpstreamSettings& upstream,
                                                       const std::atomic<bool>* abort) {
  auto lib = LoadCurlLibrary();
  if (!lib) return Error{lib.error()};
  std::unique_ptr<HttpClient> client(new HttpClient());
  client->lib_ = *lib;
  client->curl_ = client->lib_->easy_init();
  if (client->curl_ == nullptr) return Error{"libcurl: cannot create a handle"};
  client->endpoint_ = Endpoint(upstream.url);
  client->upstream_ = upstream;
  client->abort_ = abort;
  auto* headers = client->lib_->slist_append(nullptr, "Content-Type: application/x-ndjson");
  headers = client->lib_->slist_append(headers, "Expect:");
  headers = client->lib_->slist_append(headers, "User-Agent: fleet-agent/" FLEET_VERSION);
  client->headers_ = headers;
  return client;
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
  char error[CURL_ERROR_SIZE] = {};
  // Options are set on every request: curl_easy_reset is not needed, and nothing a reply
  // did (cookies, redirects) carries over because none of that is enabled.
  lib.easy_setopt(curl, CURLOPT_URL, endpoint_.c_str());
  lib.easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  lib.easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  lib.easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  lib.easy_setopt(curl, CURLOPT_POST, 1L);
  lib.easy_setopt(curl, CURLOPT_POSTFIELDS, ndjson.data());
  lib.easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(ndjson.size()));
  lib.easy_setopt(curl, CURLOPT_HTTPHEADER, static_cast<curl_slist*>(headers_));
  lib.easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                  static_cast<long>(upstream_.connect_timeout.count()));
  lib.easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(upstream_.timeout.count()));
  lib.easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  lib.easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!upstream_.ca_file.empty()) lib.easy_setopt(curl, CURLOPT_CAINFO, upstream_.ca_file.c_str());
  if (!upstream_.pinned_pubkey.empty()) {
    lib.easy_setopt(curl, CURLOPT_PINNEDPUBLICKEY, upstream_.pinned_pubkey.c_str());
  }
  lib.easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
  lib.easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  lib.easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  lib.easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
  lib.easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, OnProgress);
  lib.easy_setopt(curl, CURLOPT_XFERINFODATA, &transfer);
  lib.easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  lib.easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  const CURLcode code = lib.easy_perform(curl);
  lib.easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);
  if (code != CURLE_OK) {
    if (transfer.too_large) return Error{endpoint_ + ": the reply is larger than 1 MiB"};
    std::string detail = error[0] != '\0' ? error : lib.easy_strerror(code);
    return Error{endpoint_ + ": " + PrintableAscii(detail, 300)};
  }
  lib.easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &transfer.reply.status);
  return std::move(transfer.reply);
}

}  // namespace fleet
