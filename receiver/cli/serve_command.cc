// `fleet-receiver serve`: the store, the HTTP server, signals, and the threads that run it.
#include <signal.h>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <ctime>
#include <thread>
#include <vector>

#include "receiver/cli/receiver_cli.h"
#include "receiver/http/receiver_api.h"
#include "receiver/store/open_store.h"

namespace fleet::receiver {

int RunServe(const ServeArgs& args) {
  auto logger = spdlog::stderr_logger_mt("fleet-receiver");
  logger->set_pattern("[%Y-%m-%d %H:%M:%S] %l: %v");
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);

  auto endpoint = ParseListenAddress(args.listen);
  if (!endpoint) {
    spdlog::error("--listen {}: {}", args.listen, endpoint.error());
    return kExitUsage;
  }
  auto store = OpenRecordStore(args.db, true);
  if (!store) {
    spdlog::error("{}", store.error());
    return kExitRuntime;
  }
  ReceiverApi api(**store, [] { return static_cast<std::int64_t>(std::time(nullptr)); });

  boost::asio::io_context io(args.threads);
  HttpOptions options;
  options.max_connections = args.max_connections;
  options.read_timeout = std::chrono::seconds(args.read_timeout_s);
  HttpServer server(io, options,
                    [&api](const HttpRequest& request) { return api.Handle(request); });
  auto bound = server.Listen(*endpoint);
  if (!bound) {
    spdlog::error("{}", bound.error());
    return kExitRuntime;
  }

  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signal_number) {
    if (ec) return;
    spdlog::info("stopping on {}", signal_number == SIGTERM ? "SIGTERM" : "SIGINT");
    server.Stop();
    io.stop();
  });
  spdlog::info("listening on {}:{} (database {}, {} thread(s))", bound->address().to_string(),
               bound->port(), DisplayDb(args.db), args.threads);

  std::vector<std::thread> threads;
  for (int i = 1; i < args.threads; ++i) threads.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& thread : threads) thread.join();
  spdlog::info("stopped");
  return 0;
}

}  // namespace fleet::receiver
