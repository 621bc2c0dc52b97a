#include "receiver/web/dashboard.h"

#include <utility>
#include <vector>

#include <spdlog/spdlog.h>

#include "base/utc_time.h"
#include "receiver/web/fleet_page.h"
#include "receiver/web/html.h"
#include "receiver/web/node_page.h"
#include "receiver/web/node_records.h"
#include "receiver/web/page_reads.h"
#include "receiver/web/statement_page.h"
#include "receiver/web/uptime_page.h"
#include "receiver/web/web_reads.h"

namespace fleet::receiver {

enum class Kind {
  kNotFound,
  kFleet,
  kFleetJson,
  kNode,
  kNodeJson,
  kNodeRecords,
  kNodeRecordsNdjson,
  kNodeRecordsJson,
  kStatement,
  kUptime,
  kUptimeJson,
};

struct Dashboard::Route {
  Kind kind = Kind::kNotFound;
  bool api = false;  // JSON, CSV or NDJSON: 401 without a viewer, errors as JSON
  std::string id;    // the node or operator
  std::string month;
  StatementFormat format = StatementFormat::kHtml;
};

namespace {

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// Is `path` `prefix` itself or below it?
bool Under(std::string_view path, std::string_view prefix) {
  return path == prefix || StartsWith(path, std::string(prefix) + "/");
}

// The decoded segments after `prefix` ("/nodes/a/records" under "/nodes": {"a", "records"}),
// nullopt when one does not decode.
std::optional<std::vector<std::string>> Segments(std::string_view path, std::string_view prefix) {
  std::vector<std::string> out;
  std::string_view rest = path.substr(prefix.size());
  if (rest.empty()) return out;
  rest.remove_prefix(1);  // the '/'
  while (true) {
    const auto slash = rest.find('/');
    // '+' is a plain character in a path, not a space.
    const std::string_view raw = rest.substr(0, slash);
    if (raw.find('+') != std::string_view::npos) return std::nullopt;
    auto decoded = PercentDecode(raw);
    if (!decoded) return std::nullopt;
    out.push_back(std::move(*decoded));
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  return out;
}

}  // namespace

bool IsDashboardId(std::string_view text) {
  if (text.empty() || text.size() > 64 || text == "." || text == "..") return false;
  for (char c : text) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

namespace {

// nullopt: not the dashboard's path (`next` answers it).
std::optional<Dashboard::Route> ParseRoute(std::string_view path) {
  using Route = Dashboard::Route;
  if (path == "/") {
    Route fleet;
    fleet.kind = Kind::kFleet;
    return fleet;
  }
  const bool v1 = StartsWith(path, "/v1/");
  const std::string_view local = v1 ? path.substr(3) : path;  // "/fleet", "/nodes/..."
  Route route;
  route.api = v1;
  if (v1 && Under(local, "/fleet")) {
    if (local == "/fleet") route.kind = Kind::kFleetJson;
    return route;
  }
  if (Under(local, "/uptime")) {
    if (local == "/uptime") route.kind = v1 ? Kind::kUptimeJson : Kind::kUptime;
    return route;
  }
  if (Under(local, "/nodes")) {
    auto segments = Segments(local, "/nodes");
    if (!segments || segments->empty() || segments->size() > 2 || !IsDashboardId((*segments)[0])) {
      return route;
    }
    route.id = (*segments)[0];
    if (segments->size() == 1) {
      route.kind = v1 ? Kind::kNodeJson : Kind::kNode;
    } else if ((*segments)[1] == "records") {
      route.kind = v1 ? Kind::kNodeRecordsJson : Kind::kNodeRecords;
    } else if ((*segments)[1] == "records.ndjson" && !v1) {
      route.kind = Kind::kNodeRecordsNdjson;
      route.api = true;
    }
    return route;
  }
  if (Under(local, "/statements")) {
    auto segments = Segments(local, "/statements");
    if (!segments || segments->size() != 2 || !IsDashboardId((*segments)[0]) ||
        !IsDashboardId((*segments)[1])) {
      return route;
    }
    std::string month = (*segments)[1];
    route.format = v1 ? StatementFormat::kApi : StatementFormat::kHtml;
    if (!v1 && month.size() > 4 && month.ends_with(".csv")) {
      route.format = StatementFormat::kCsv;
      month.resize(month.size() - 4);
      route.api = true;
    } else if (!v1 && month.size() > 5 && month.ends_with(".json")) {
      route.format = StatementFormat::kJson;
      month.resize(month.size() - 5);
      route.api = true;
    }
    if (month.size() != 7 || !ParseMonth(month)) return route;
    route.kind = Kind::kStatement;
    route.id = (*segments)[0];
    route.month = std::move(month);
    return route;
  }
  return std::nullopt;
}

HttpResponse NotFound(const Dashboard::Route& route, const Viewer& viewer) {
  if (route.api) return JsonError(404, "not found");
  return HtmlError(404, "Not found.", &viewer);
}

}  // namespace

Dashboard::Dashboard(std::string db, DashboardAccess access, std::function<std::int64_t()> clock,
                     std::int64_t silent_after, PayoutPolicy policy, HttpHandler next)
    : db_(std::move(db)),
      access_(std::move(access)),
      clock_(std::move(clock)),
      silent_after_(silent_after),
      policy_(policy),
      next_(std::move(next)),
      fleet_cache_(std::make_unique<FleetCache>()) {}

Dashboard::~Dashboard() = default;

bool Dashboard::Owns(std::string_view path) {
  return path == "/login" || path == "/logout" || ParseRoute(path).has_value();
}

void Dashboard::Warm() {
  Route fleet;
  fleet.kind = Kind::kFleet;
  const Viewer admin{std::nullopt, "warm-up"};
  std::lock_guard lock(mutex_);
  if (Serve(fleet, admin, HttpRequest{}).status == 503) {
    link_.reset();
    source_.reset();
  }
}

void Dashboard::Handle(HttpRequest request, HttpRespond respond) {
  if (request.path == "/login" || request.path == "/logout") {
    if (access_.login_routes && access_.login_routes(request, respond)) return;
    HttpResponse refused = HtmlError(access_.login_routes ? 405 : 404,
                                     access_.login_routes ? "Method not allowed." : "Not found.");
    if (access_.login_routes) refused.allow = request.path == "/login" ? "GET, POST" : "POST";
    respond(std::move(refused));
    return;
  }
  const auto route = ParseRoute(request.path);
  if (!route) {
    next_(std::move(request), std::move(respond));
    return;
  }
  if (request.method != "GET") {
    HttpResponse refused = route->api ? JsonError(405, "method not allowed: use GET")
                                      : HtmlError(405, "Method not allowed: use GET.");
    refused.allow = "GET";
    respond(std::move(refused));
    return;
  }
  const std::optional<Viewer> viewer =
      access_.viewer_of ? access_.viewer_of(request) : std::nullopt;
  if (!viewer) {
    if (route->api) {
      HttpResponse refused = JsonError(401, "a bearer token is required");
      refused.headers.emplace_back("WWW-Authenticate", "Bearer");
      respond(std::move(refused));
      return;
    }
    std::string target = request.path;
    if (!request.query.empty()) target += "?" + request.query;
    if (target.size() > 2048) target = "/";
    HttpResponse to_login = HtmlError(303, "Log in first.");
    to_login.headers.emplace_back("Location", "/login?next=" + UrlPart(target));
    respond(std::move(to_login));
    return;
  }
  spdlog::debug("dashboard: {} {} by token {}", request.method, request.path, viewer->token_id);
  if (route->kind == Kind::kNotFound) {
    respond(NotFound(*route, *viewer));
    return;
  }
  HttpResponse response;
  {
    std::lock_guard lock(mutex_);
    response = Serve(*route, *viewer, request);
    if (response.status == 503) {  // a failed read: open afresh next time
      link_.reset();
      source_.reset();
    }
  }
  respond(std::move(response));
}

HttpResponse Dashboard::Serve(const Route& route, const Viewer& viewer,
                              const HttpRequest& request) {
  if (!source_) {
    // The source first: opening it brings a SQLite database's schema up to date.
    auto source = OpenReportSource(db_);
    if (!source) return ReadFailed("the database (opening)", source.error(), route.api, viewer);
    source_ = std::move(source).value();
  }
  if (!link_) {
    auto link = OpenSqlLink(db_);
    if (!link) return ReadFailed("the database (opening)", link.error(), route.api, viewer);
    link_ = std::move(link).value();
  }
  WebReads reads{*source_, *link_, clock_(), silent_after_, kLiveWithinSeconds, policy_};
  switch (route.kind) {
    case Kind::kFleet:
      return FleetPage(reads, viewer, fleet_cache_.get());
    case Kind::kFleetJson:
      return FleetJson(reads, viewer, fleet_cache_.get());
    case Kind::kNode:
      return NodePage(reads, viewer, route.id, request.query);
    case Kind::kNodeJson:
      return NodeJson(reads, viewer, route.id, request.query);
    case Kind::kNodeRecords:
      return NodeRecordsPage(reads, viewer, route.id, request.query);
    case Kind::kNodeRecordsNdjson:
      return NodeRecordsNdjson(reads, viewer, route.id, request.query);
    case Kind::kNodeRecordsJson:
      return NodeRecordsJson(reads, viewer, route.id, request.query);
    case Kind::kStatement:
      return StatementPage(reads, viewer, route.id, route.month, route.format);
    case Kind::kUptime:
      return UptimePage(reads, viewer, request.query);
    case Kind::kUptimeJson:
      return UptimeJson(reads, viewer, request.query);
    case Kind::kNotFound:
      break;
  }
  return NotFound(route, viewer);
}

}  // namespace fleet::receiver
