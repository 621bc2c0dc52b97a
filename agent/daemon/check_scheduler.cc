#include "agent/daemon/check_scheduler.h"

#include <boost/asio/post.hpp>
#include <thread>

#include "agent/logging/thread_guard.h"
#include "collectors/builtin.h"

namespace fleet {

namespace asio = boost::asio;
using std::chrono::steady_clock;

CheckScheduler::CheckScheduler(asio::io_context& io, std::shared_ptr<const Os> os,
                               OnAnswer on_answer)
    : io_(io), timer_(io), os_(std::move(os)), on_answer_(std::move(on_answer)) {}

void CheckScheduler::Configure(const AgentConfig& config,
                               std::shared_ptr<const HermesTarget> hermes) {
  hermes_ = std::move(hermes);
  std::map<std::string, CheckSettings> enabled;
  collectors_.clear();
  for (const auto& name : BuiltinCheckNames()) {
    auto it = config.settings.find(name);
    CheckSettings settings = it != config.settings.end() ? it->second : CheckSettings{};
    if (!settings.enabled) continue;
    enabled.emplace(name, settings);
    collectors_.emplace(name, MakeBuiltinCollector(name, config.checks));
  }
  runs_.Configure(enabled, steady_clock::now());
  Wake();
}

void CheckScheduler::Stop() {
  stopped_ = true;
  timer_.cancel();
}

void CheckScheduler::RunSoon(const std::string& check) {
  if (stopped_) return;
  runs_.RunSoon(check, steady_clock::now());
  Wake();
}

void CheckScheduler::Wake() {
  if (stopped_) return;
  CheckRuns::Wake wake = runs_.OnWake(steady_clock::now());
  for (auto& result : wake.timeouts) on_answer_(std::move(result));
  for (const auto& start : wake.starts) Begin(start);
  if (stopped_ || wake.next == CheckRuns::Mono::max()) return;
  timer_.expires_at(wake.next);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) Wake();
  });
}

void CheckScheduler::Begin(const CheckRuns::Start& start) {
  in_flight_->fetch_add(1);
  std::thread([this, start, collector = collectors_.at(start.check), os = os_, hermes = hermes_,
               in_flight = in_flight_] {
    RunGuarded(
        "check " + start.check,
        [&] {
          CheckContext context{*os, *hermes, start.deadline};
          const auto started = steady_clock::now();
          CheckResult result;
          try {
            result = collector->Run(context);
          } catch (const std::exception& e) {
            result = MakeResult(collector->Name(), Status::kUnknown,
                                std::string("check failed unexpectedly: ") + e.what());
          } catch (...) {
            result =
                MakeResult(collector->Name(), Status::kUnknown,
                           "check failed unexpectedly (an exception that is not std::exception)");
          }
          if (result.name.empty()) result.name = collector->Name();
          result.duration =
              std::chrono::duration_cast<std::chrono::microseconds>(steady_clock::now() - started);
          asio::post(io_, [this, check = start.check, run = start.run,
                           result = std::move(result)]() mutable {
            OnFinished(check, run, std::move(result));
          });
          in_flight->fetch_sub(1);
        },
        ExitOnFatal);
  }).detach();
}

void CheckScheduler::OnFinished(const std::string& check, std::uint64_t run, CheckResult result) {
  if (stopped_ || !runs_.Finish(check, run)) return;
  on_answer_(std::move(result));
  Wake();  // a run asked for while this one was busy (RunSoon) starts now
}

}  // namespace fleet
