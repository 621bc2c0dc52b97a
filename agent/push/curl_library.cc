#include "agent/push/curl_library.h"

#include <dlfcn.h>

#include <mutex>
#include <string>

namespace fleet {
namespace {

constexpr const char* kSoname = "libcurl.so.4";

Result<const CurlLibrary*> Load() {
  void* handle = dlopen(kSoname, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    return Error{std::string("cannot load ") + kSoname +
                 " (Debian package libcurl4): " + (why != nullptr ? why : "unknown error")};
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
  if (!missing.empty()) return Error{std::string(kSoname) + " lacks " + missing};
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
