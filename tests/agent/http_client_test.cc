#include <doctest/doctest.h>

#include <cstdarg>
#include <set>
#include <string>

#include "agent/push/http_client.h"
#include "base/curl_library.h"

using namespace fleet;

namespace {

// A libcurl that refuses the options in `refuse` and counts the requests it would send.
struct FakeCurl {
  static inline std::set<CURLoption> refuse;
  static inline std::set<CURLoption> seen;
  static inline int performed = 0;
  static inline char handle = 0;
  static inline curl_slist list{};

  static CURLcode Setopt(CURL*, CURLoption option, ...) {
    seen.insert(option);
    return refuse.count(option) != 0 ? CURLE_UNKNOWN_OPTION : CURLE_OK;
  }
  static CURL* Init() { return static_cast<CURL*>(static_cast<void*>(&handle)); }
  static CURLcode Perform(CURL*) {
    ++performed;
    return CURLE_COULDNT_CONNECT;
  }
  static CURLcode Getinfo(CURL*, CURLINFO, ...) { return CURLE_OK; }
  static void Cleanup(CURL*) {}
  static const char* Strerror(CURLcode) { return "An unknown option was passed in to libcurl"; }
  static curl_slist* Append(curl_slist*, const char*) { return &list; }
  static void FreeAll(curl_slist*) {}

  static CurlLibrary Library() {
    CurlLibrary lib;
    lib.easy_init = Init;
    lib.easy_setopt = Setopt;
    lib.easy_perform = Perform;
    lib.easy_getinfo = Getinfo;
    lib.easy_cleanup = Cleanup;
    lib.easy_strerror = Strerror;
    lib.slist_append = Append;
    lib.slist_free_all = FreeAll;
    return lib;
  }
  FakeCurl(std::set<CURLoption> refused) {
    refuse = std::move(refused);
    seen.clear();
    performed = 0;
  }
};

UpstreamSettings Upstream(const std::string& url) {
  UpstreamSettings upstream;
  upstream.url = url;
  upstream.ca_file = "/etc/fleet-agent/ca.pem";
  upstream.pinned_pubkey = "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
  return upstream;
}

}  // namespace

TEST_CASE("http client: an option libcurl refuses is a clear error, and nothing is sent") {
  const CurlLibrary lib = FakeCurl::Library();
  for (auto [option, name] : {std::pair{CURLOPT_PINNEDPUBLICKEY, "CURLOPT_PINNEDPUBLICKEY"},
                              std::pair{CURLOPT_CAINFO, "CURLOPT_CAINFO"},
                              std::pair{CURLOPT_SSLVERSION, "CURLOPT_SSLVERSION"},
                              std::pair{CURLOPT_SSL_VERIFYPEER, "CURLOPT_SSL_VERIFYPEER"},
                              std::pair{CURLOPT_SSL_VERIFYHOST, "CURLOPT_SSL_VERIFYHOST"},
                              std::pair{CURLOPT_PROTOCOLS_STR, "CURLOPT_PROTOCOLS_STR"},
                              std::pair{CURLOPT_FOLLOWLOCATION, "CURLOPT_FOLLOWLOCATION"},
                              std::pair{CURLOPT_TIMEOUT_MS, "CURLOPT_TIMEOUT_MS"}}) {
    INFO(name);
    FakeCurl fake({option});
    auto client = HttpClient::Create(Upstream("https://fleet.example.org"), nullptr, lib);
    if (client.ok()) {
      auto reply = (*client)->PostRecords("x\n");
      REQUIRE_FALSE(reply.ok());
      CHECK(reply.error().find(name) != std::string::npos);
    } else {
      CHECK(client.error().find(std::string("libcurl refused ") + name) != std::string::npos);
      CHECK(client.error().find("no request is sent") != std::string::npos);
    }
    CHECK(FakeCurl::performed == 0);
  }
}

TEST_CASE("http client: a per-request option refused sends nothing either") {
  const CurlLibrary lib = FakeCurl::Library();
  for (CURLoption option : {CURLOPT_POSTFIELDS, CURLOPT_POSTFIELDSIZE_LARGE, CURLOPT_WRITEDATA}) {
    FakeCurl fake({option});
    auto client = HttpClient::Create(Upstream("https://fleet.example.org"), nullptr, lib);
    REQUIRE(client.ok());
    auto reply = (*client)->PostRecords("x\n");
    REQUIRE_FALSE(reply.ok());
    CHECK(reply.error().find("libcurl refused CURLOPT_") != std::string::npos);
    CHECK(FakeCurl::performed == 0);
  }
  FakeCurl fine({});
  auto client = HttpClient::Create(Upstream("https://fleet.example.org"), nullptr, lib);
  REQUIRE(client.ok());
  CHECK_FALSE((*client)->PostRecords("x\n").ok());  // the fake cannot connect...
  CHECK(FakeCurl::performed == 1);                  // ...but the request was attempted
  CHECK(FakeCurl::seen.count(CURLOPT_PINNEDPUBLICKEY) == 1);
  CHECK(FakeCurl::seen.count(CURLOPT_SSLVERSION) == 1);
  CHECK(FakeCurl::seen.count(CURLOPT_OPENSOCKETFUNCTION) == 0);  // https: any address
}

TEST_CASE("http client: plain http only to a loopback name, its address checked on connect") {
  const CurlLibrary lib = FakeCurl::Library();
  for (const char* url :
       {"http://127.evil.example:8080", "http://127.0.0.1.nip.io", "http://example.org",
        "http://10.0.0.1:80/", "HTTP://10.0.0.1/", "http://127.0.0.1:80@10.0.0.1/"}) {
    INFO(url);
    FakeCurl fake({});
    auto client = HttpClient::Create(Upstream(url), nullptr, lib);
    REQUIRE_FALSE(client.ok());
    CHECK(client.error().find("plain http:// goes only to a loopback address") !=
          std::string::npos);
  }
  for (const char* url : {"http://localhost:8080", "http://127.0.0.1:9/base/", "http://[::1]:80",
                          "http://127.3.2.1"}) {
    INFO(url);
    FakeCurl fake({});
    auto client = HttpClient::Create(Upstream(url), nullptr, lib);
    REQUIRE(client.ok());
    CHECK(FakeCurl::seen.count(CURLOPT_OPENSOCKETFUNCTION) == 1);
  }
  // No scheme: libcurl would guess http:// and send it anywhere.
  {
    FakeCurl fake({});
    auto client = HttpClient::Create(Upstream("fleet.example.org"), nullptr, lib);
    REQUIRE_FALSE(client.ok());
    CHECK(client.error().find("only https://") != std::string::npos);
  }
  // The address check is itself an option: refused, no client.
  FakeCurl fake({CURLOPT_OPENSOCKETFUNCTION});
  CHECK_FALSE(HttpClient::Create(Upstream("http://localhost:8080"), nullptr, lib).ok());
}
