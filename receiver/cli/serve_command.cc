// `fleet-receiver serve`: the store, the HTTP server, signals, and the threads that run it.
#include <malloc.h>
#include <signal.h>
#include <sys/resource.h>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/thread_pool.hpp>
#include <condition_variable>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "base/units.h"
#include "base/utc_time.h"
#include "receiver/access/web_auth.h"
#include "receiver/alerts/alert_service.h"
#include "receiver/alerts/alerts_config.h"
#include "receiver/cli/receiver_cli.h"
#include "receiver/cli/statement_commands.h"
#include "receiver/http/receiver_api.h"
#include "receiver/http/receiver_metrics.h"
#include "receiver/store/open_report_source.h"
#include "receiver/store/open_store.h"
#include "receiver/store/sql_link.h"
#include "receiver/web/dashboard.h"

namespace fleet::receiver {

namespace {

// Each connection is a file descriptor, and the stores, logs and epoll take a few more:
// raise the soft limit towards the hard one so the cap, not EMFILE, is what limits
// connections, and say so when even the hard limit is too low.
void FitDescriptorLimit(int max_connections) {
  constexpr rlim_t kReserve = 64;
  const rlim_t wanted = static_cast<rlim_t>(max_connections) + kReserve;
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= wanted) return;
  limit.rlim_cur = limit.rlim_max == RLIM_INFINITY ? wanted : std::min(wanted, limit.rlim_max);
  setrlimit(RLIMIT_NOFILE, &limit);
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < wanted) {
    spdlog::warn(
        "--max-connections {} needs about {} file descriptors, the limit is {}: accepting "
        "will fail (and pause) before the cap is reached",
        max_connections, wanted, limit.rlim_cur);
  }
}

// SIGHUP: new TLS handshakes use the certificate and key as they are now on disk (renewed
// every 60-90 days); open connections keep theirs. A bad pair keeps the old one, said once.
void WatchHangups(boost::asio::signal_set& hangups,
                  std::vector<std::unique_ptr<HttpServer>>& servers, const HttpOptions& options) {
  hangups.async_wait([&hangups, &servers, &options](const boost::system::error_code& ec, int) {
    if (ec) return;
    if (!options.tls) {
      spdlog::info("SIGHUP: nothing to reload (no TLS)");
    } else {
      // Each server loads the same files; a bad pair fails for the first alike: said once.
      Outcome reloaded = Success();
      for (auto& server : servers) {
        if (!(reloaded = server->ReloadTls())) break;
      }
      if (!reloaded) {
        spdlog::error("SIGHUP: TLS not reloaded, still serving the previous certificate: {}",
                      reloaded.error());
      } else {
        spdlog::info("SIGHUP: TLS reloaded from {} and {}", options.tls->cert_file,
                     options.tls->key_file);
      }
    }
    WatchHangups(hangups, servers, options);
  });
}

}  // namespace

int RunServe(const ServeArgs& args) {
  auto logger = spdlog::stderr_logger_mt("fleet-receiver");
  logger->set_pattern("[%Y-%m-%d %H:%M:%S] %l: %v");
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);

  // glibc hands freed heap back with madvise as soon as 128 KiB lie free at an arena's top;
  // with hundreds of requests a second that alone took over a third of the receiver's CPU
  // (TLB shootdowns; perf, bench/README.md). Keep up to 64 MiB, and bodies (<= 1 MiB) on the
  // heap rather than in mappings of their own.
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
  mallopt(M_MMAP_THRESHOLD, 4 << 20);

  FitDescriptorLimit(args.max_connections);
  std::vector<boost::asio::ip::tcp::endpoint> endpoints;
  for (const std::string& listen : args.listen) {
    auto endpoint = ParseListenAddress(listen);
    if (!endpoint) {
      spdlog::error("--listen {}: {}", listen, endpoint.error());
      return kExitUsage;
    }
    endpoints.push_back(*endpoint);
  }
  if (endpoints.empty()) {
    spdlog::error("no address to listen on");
    return kExitUsage;
  }
  if (args.close_months && !ParseDuration(args.close_after)) {
    spdlog::error("--close-after: {}", ParseDuration(args.close_after).error());
    return kExitUsage;
  }
  if (args.late_minutes != "count" && args.late_minutes != "ignore") {
    spdlog::error("reports.late_minutes must be count or ignore");
    return kExitUsage;
  }
  if (args.tls_cert.empty() != args.tls_key.empty()) {
    spdlog::error("--tls-cert and --tls-key go together");
    return kExitUsage;
  }
  auto store = OpenRecordStore(args.db, true);
  if (!store) {
    spdlog::error("{}", store.error());
    return kExitRuntime;
  }
  auto keys = OpenRecordStore(args.db, false);  // the registry, read by the io threads
  if (!keys) {
    spdlog::error("{}", keys.error());
    return kExitRuntime;
  }
  std::unique_ptr<AlertService> alerting;
  std::int64_t silent_after = 180;  // the alert worker's default
  if (!args.alerts_file.empty()) {
    ParsedAlerts parsed = ReadReceiverAlerts(args.alerts_file);
    if (!parsed.errors.empty()) {
      for (const auto& error : parsed.errors) spdlog::error("{}", error);
      return kExitUsage;
    }
    if (args.silent_after_s) parsed.settings.silent_after = *args.silent_after_s;
    silent_after = parsed.settings.silent_after;
    const char* credentials = std::getenv("CREDENTIALS_DIRECTORY");
    auto secrets = LoadReceiverAlertSecrets(parsed.settings, credentials ? credentials : "");
    if (!secrets) {
      spdlog::error("--alerts {}: {}", args.alerts_file, secrets.error());
      return kExitRuntime;
    }
    for (const auto& warning : secrets->warnings) spdlog::warn("alerting: {}", warning);
    alerting = std::make_unique<AlertService>(args.db, parsed.settings, *secrets, CurlTransport);
  }
  ReceiverApi api(**store, **keys, [] { return static_cast<std::int64_t>(std::time(nullptr)); });
  api.EnableEnrolment([db = args.db] { return OpenSqlLink(db); });  // POST /v1/enroll
  if (alerting) {
    api.OnAlertRecords([service = alerting.get()] { service->Wake(); });
    alerting->Start();
  }

  if (args.silent_after_s) silent_after = *args.silent_after_s;
  // GET /metrics: counters in memory; the fleet's state read at each scrape, on a connection
  // of its own.
  ReceiverMetrics metrics;
  std::unique_ptr<RegistrySource> fleet_source;
  std::mutex fleet_mutex;
  const bool metrics_on = args.metrics != "off";
  if (metrics_on) {
    auto opened = OpenReportSource(args.db);
    if (!opened) {
      spdlog::error("{}", opened.error());
      return kExitRuntime;
    }
    fleet_source = std::move(opened).value();
    api.CountInto(&metrics);
  }
  const FleetGauge fleet = [&]() -> std::optional<FleetStates> {
    std::lock_guard lock(fleet_mutex);
    auto states = ReadFleetStates(*fleet_source, std::time(nullptr), silent_after);
    if (!states) {
      spdlog::warn("metrics: reading the fleet's state: {}", states.error());
      return std::nullopt;
    }
    return *states;
  };
  const HttpHandler handler = [&api](HttpRequest request, HttpRespond respond) {
    api.Handle(std::move(request), std::move(respond));
  };
  const HttpHandler counted = metrics_on ? metrics.Serve(handler, fleet) : handler;

  // The dashboard: its pages, /v1/ JSON, /login and /logout, on a thread of their own (a
  // page reads a month of the fleet; records must not wait behind it). Its cookie is
  // __Host- and Secure: browsers keep it only over HTTPS.
  const auto clock = [] { return static_cast<std::int64_t>(std::time(nullptr)); };
  std::unique_ptr<WebAuth> web_auth;
  std::unique_ptr<Dashboard> dashboard;
  boost::asio::thread_pool web_thread(1);
  if (args.dashboard || args.metrics == "token") {
    web_auth = std::make_unique<WebAuth>([db = args.db] { return OpenSqlLink(db); }, clock);
  }
  if (args.dashboard) {
    DashboardAccess access{
        [auth = web_auth.get()](const HttpRequest& request) { return auth->ViewerOf(request); },
        [auth = web_auth.get()](const HttpRequest& request, const HttpRespond& respond) {
          return auth->Handle(request, respond);
        }};
    PayoutPolicy policy;
    policy.late_minutes_count = args.late_minutes == "count";
    dashboard = std::make_unique<Dashboard>(args.db, std::move(access), clock, silent_after, policy,
                                            counted);
    boost::asio::post(web_thread, [page = dashboard.get()] { page->Warm(); });
    if (args.tls_cert.empty()) {
      spdlog::info(
          "dashboard: served without TLS here; its login cookie needs HTTPS (a TLS proxy in "
          "front, or tls: in receiver.yaml)");
    }
  }
  const HttpHandler served = [&](HttpRequest request, HttpRespond respond) {
    if (args.metrics == "token" && request.path == "/metrics") {
      const std::optional<Viewer> viewer = web_auth->ViewerOf(request);
      if (!viewer || !viewer->admin()) {
        HttpResponse refused = JsonError(401, "GET /metrics needs an admin token (Bearer)");
        refused.headers.emplace_back("WWW-Authenticate", "Bearer");
        return respond(std::move(refused));
      }
    }
    if (!dashboard || !Dashboard::Owns(request.path)) {
      return counted(std::move(request), std::move(respond));
    }
    boost::asio::post(web_thread, [&dashboard, request = std::move(request),
                                   respond = std::move(respond)]() mutable {
      dashboard->Handle(std::move(request), std::move(respond));
    });
  };

  boost::asio::io_context io(args.threads);
  HttpOptions options;
  if (!args.tls_cert.empty()) options.tls = TlsFiles{args.tls_cert, args.tls_key};
  options.max_connections = args.max_connections;
  options.max_connections_per_peer = args.max_connections_per_peer;
  options.read_timeout = std::chrono::seconds(args.read_timeout_s);
  // One server per address, each with its own connection table, all on the same threads.
  std::vector<std::unique_ptr<HttpServer>> servers;
  std::string bound_text;
  for (const auto& endpoint : endpoints) {
    servers.push_back(std::make_unique<HttpServer>(io, options, served));
    auto bound = servers.back()->Listen(endpoint);
    if (!bound) {
      spdlog::error("{}", bound.error());
      return kExitRuntime;
    }
    const std::string address = bound->address().to_string();
    bound_text += (bound_text.empty() ? "" : ", ") +
                  (bound->address().is_v6() ? "[" + address + "]" : address) + ":" +
                  std::to_string(bound->port());
  }

  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signal_number) {
    if (ec) return;
    spdlog::info("stopping on {}", signal_number == SIGTERM ? "SIGTERM" : "SIGINT");
    for (auto& server : servers) server->Stop();
    io.stop();
  });
  boost::asio::signal_set hangups(io, SIGHUP);
  WatchHangups(hangups, servers, options);
  spdlog::info("listening on {}{} (database {}, {} thread(s))", bound_text,
               options.tls ? " with TLS" : "", DisplayDb(args.db), args.threads);

  // --close-months: every hour, the month whose window passed is closed (once).
  std::mutex closer_mutex;
  std::condition_variable closer_wake;
  bool closer_stop = false;
  std::thread closer;
  if (args.close_months) {
    closer = std::thread([&, window = std::chrono::duration_cast<std::chrono::seconds>(
                                          ParseDuration(args.close_after).value())
                                          .count()] {
      std::unique_lock lock(closer_mutex);
      while (!closer_stop) {
        lock.unlock();
        const std::int64_t now = ToUnixSeconds(std::chrono::system_clock::now());
        if (CloseDueMonth(args.db, args.statement_key, window, now) != 0) {
          spdlog::error("closing the statement of {} failed (statement close)",
                        DueMonth(window, now));
        }
        lock.lock();
        closer_wake.wait_for(lock, std::chrono::hours(1), [&] { return closer_stop; });
      }
    });
  }
  std::vector<std::thread> threads;
  for (int i = 1; i < args.threads; ++i) threads.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& thread : threads) thread.join();
  if (closer.joinable()) {
    {
      std::lock_guard lock(closer_mutex);
      closer_stop = true;
    }
    closer_wake.notify_all();
    closer.join();
  }
  web_thread.stop();  // queued pages dropped; one being rendered ends, its reply goes nowhere
  web_thread.join();
  api.Stop();                      // before `io` goes: the writer's last replies are posted to it
  if (alerting) alerting->Stop();  // gives its leases up: another receiver takes over at once
  const GroupCommitStats stats = api.Stats();
  spdlog::info("stopped ({} batches in {} transactions, {} replayed)", stats.batches,
               stats.transactions, stats.replays);
  return 0;
}

}  // namespace fleet::receiver
