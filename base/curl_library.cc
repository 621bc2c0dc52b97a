#include "base/curl_library.h"

#include <dlfcn.h>

#include <mutex>
#include <string>

namespace fleet {
namespace {

// The GnuTLS flavour first: GnuTLS is mapped anyway by libcurl's LDAP and RTMP
// dependencies, and the OpenSSL flavour adds libcrypto and libssl on top, 3.5 MiB of RSS
// (bench/README.md). Either serves: the API is the same.
constexpr const char* kSonames[] = {"libcurl-gnutls.so.4", "libcurl.so.4"};

Result<const CurlLibrary*> Load() {
  void* handle = nullptr;
  std::string why;
  const char* soname = nullptr;
  for (const char* name : kSonames) {
    handle = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (handle != nullptr) {
      soname = name;
      break;
    }
    const char* error = dlerror();
    why += std::string(why.empty() ? "" : "; ") + (error != nullptr ? error : name);
  }
  if (handle == nullptr) {
    return Error{"cannot load libcurl (Debian package libcurl3-gnutls): " + why};
  }
  static CurlLibrary lib;
  std::string missing;
  auto bind = [&](auto& slot, const char* name) {
    void* symbol = dlsym(handle, name);
    if (symbol == nullptr) missing += std::string(missing.empty() ? "" : ", ") + name;
    slot = reinterpret_cast<std::remove_reference_t<decltype(slot)>>(symbol);
  };
  bind(lib.global_init, "curl_global_init");
  bind(lib.easy_init, "curl_easy_init");
  bind(lib.easy_setopt, "curl_easy_setopt");
  bind(lib.easy_perform, "curl_easy_perform");
  bind(lib.easy_getinfo, "curl_easy_getinfo");
  bind(lib.easy_cleanup, "curl_easy_cleanup");
  bind(lib.easy_strerror, "curl_easy_strerror");
  bind(lib.slist_append, "curl_slist_append");
  bind(lib.slist_free_all, "curl_slist_free_all");
  if (!missing.empty()) return Error{std::string(soname) + " lacks " + missing};
  if (CURLcode code = lib.global_init(CURL_GLOBAL_DEFAULT); code != CURLE_OK) {
    return Error{std::string("libcurl: ") + lib.easy_strerror(code)};
  }
  return &lib;
}

}  // namespace

Result<const CurlLibrary*> LoadCurlLibrary() {
  static std::once_flag once;
  static Result<const CurlLibrary*> loaded = Error{"not loaded"};
  std::call_once(once, [] { loaded = Load(); });
  return loaded;
}

}  // namespace fleet
