// Dashboard: the router of the receiver's web pages and their JSON API, in front of the
// receiver's own routes. It answers /login and /logout through DashboardAccess::login_routes,
// and GET of: / (fleet_page.h), /nodes/NODE[/records[.ndjson]] (node_page.h, node_records.h),
// /statements/OP/YYYY-MM[.csv|.json] (statement_page.h), /uptime (uptime_page.h), and under
// /v1/: fleet, nodes/NODE[/records], statements/OP/MONTH, uptime. Every other path goes to
// `next` unchanged (/v1/records, /v1/enroll, /healthz, /metrics). Under the dashboard's
// prefixes: another method than GET is 405; a request without a viewer is sent to the login
// form (303 to /login?next=PATH, percent-encoded) for a page, or answered 401 with
// `WWW-Authenticate: Bearer` for JSON, CSV and NDJSON; a path segment is percent-decoded and
// must be an id ([A-Za-z0-9._-]{1,64}, not . or ..), else 404, as is an unknown path. The
// viewer's token id is logged at debug level only. The report source and the SQL link are
// opened at the first request that needs them and used by one request at a time (a mutex);
// after a read fails (503) both are dropped and opened again by the next request (a lost
// PostgreSQL connection). The fleet page's figures of the hours that have settled are kept
// between requests (fleet_page.h FleetCache). Handle answers before it returns.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "receiver/access/viewer.h"
#include "receiver/http/http_server.h"
#include "receiver/report/statement.h"
#include "receiver/store/open_report_source.h"
#include "receiver/store/sql_link.h"

namespace fleet::receiver {

// No link dependency on the access module: serve wires WebAuth into this.
struct DashboardAccess {
  std::function<std::optional<Viewer>(const HttpRequest&)> viewer_of;        // WebAuth::ViewerOf
  std::function<bool(const HttpRequest&, const HttpRespond&)> login_routes;  // WebAuth::Handle
};

// A path segment the dashboard accepts as a node or operator id.
bool IsDashboardId(std::string_view text);

class FleetCache;

class Dashboard {
 public:
  // db: the receiver's database (--db text: a SQLite path or a postgresql:// URI).
  Dashboard(std::string db, DashboardAccess access, std::function<std::int64_t()> clock,
            std::int64_t silent_after, PayoutPolicy policy, HttpHandler next);
  ~Dashboard();
  Dashboard(const Dashboard&) = delete;
  Dashboard& operator=(const Dashboard&) = delete;

  void Handle(HttpRequest request, HttpRespond respond);
  // Is `path` the dashboard's (its pages, its /v1/ JSON, /login, /logout)? Everything else
  // Handle passes to `next`: serve runs the dashboard's requests on a thread of their own so
  // a slow page never holds up records.
  static bool Owns(std::string_view path);
  // Reads the fleet's settled figures into the cache, as the admin's fleet page would: the
  // first render after a start then costs what later ones do. Errors are left for the first
  // request to meet.
  void Warm();

  struct Route;  // a parsed path (dashboard.cc)

 private:
  HttpResponse Serve(const Route& route, const Viewer& viewer, const HttpRequest& request);

  std::string db_;
  DashboardAccess access_;
  std::function<std::int64_t()> clock_;
  std::int64_t silent_after_;
  PayoutPolicy policy_;
  HttpHandler next_;
  std::mutex mutex_;  // guards the source and the link
  std::unique_ptr<RegistrySource> source_;
  std::unique_ptr<SqlLink> link_;
  std::unique_ptr<FleetCache> fleet_cache_;  // the fleet page's settled figures (fleet_page.h)
};

}  // namespace fleet::receiver
