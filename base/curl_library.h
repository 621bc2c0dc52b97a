// CurlLibrary: libcurl's functions, loaded (GnuTLS flavour, else the OpenSSL one) the first
// time an HTTP client is made (the agent's push client, the chat transport of alerting/)
// instead of when the program starts. `check`, `status` and `report` never push, and mapping
// libcurl with the 30 libraries it pulls in cost every start about 12 ms of CPU (a quarter of
// `check`'s budget; bench/README.md). Loaded once per process, never unloaded; a failure
// (libcurl missing or too old) is an error naming what is missing. Only the headers of libcurl
// are needed to build: nothing links it.
#pragma once

#include <curl/curl.h>

#include "base/result.h"

namespace fleet {

struct CurlLibrary {
  decltype(&curl_global_init) global_init = nullptr;
  decltype(&curl_easy_init) easy_init = nullptr;
  decltype(&curl_easy_setopt) easy_setopt = nullptr;
  decltype(&curl_easy_perform) easy_perform = nullptr;
  decltype(&curl_easy_getinfo) easy_getinfo = nullptr;
  decltype(&curl_easy_cleanup) easy_cleanup = nullptr;
  decltype(&curl_easy_strerror) easy_strerror = nullptr;
  decltype(&curl_slist_append) slist_append = nullptr;
  decltype(&curl_slist_free_all) slist_free_all = nullptr;
};

// Loads the library (and runs curl_global_init) once; later calls return the same answer.
Result<const CurlLibrary*> LoadCurlLibrary();

}  // namespace fleet
