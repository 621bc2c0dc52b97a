#include "agent/daemon/daemon.h"

#include <utility>  // before Asio: Boost 1.74 Asio under C++20 needs std::exchange

#include <signal.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cmath>
#include <cstdlib>
#include <map>
#include <thread>

#include "agent/check/check_report.h"
#include "agent/config/config.h"
#include "agent/config/hermes_target.h"
#include "agent/daemon/error_log.h"
#include "agent/daemon/minute_schedule.h"
#include "agent/daemon/node_clock.h"
#include "agent/daemon/node_history.h"
#include "agent/daemon/spool_watch.h"
#include "agent/daemon/state_dir.h"
#include "agent/daemon/status_document.h"
#include "agent/history/accountant.h"
#include "agent/history/spool.h"
#include "agent/logging/thread_guard.h"
#include "agent/push/pusher.h"
#include "base/units.h"
#include "base/utc_time.h"

namespace fleet {
namespace {

namespace asio = boost::asio;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr milliseconds kGrace{200};
constexpr milliseconds kStatusEvery{5000};

void SetUpLogging() {
  auto logger = spdlog::stderr_logger_mt("fleet-agent");
  // journald stamps lines itself; elsewhere a timestamp helps.
  logger->set_pattern(std::getenv("JOURNAL_STREAM") ? "%l: %v" : "[%Y-%m-%d %H:%M:%S] %l: %v");
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

void Notify(const std::string& state) { sd_notify(0, state.c_str()); }

struct CheckSlot {
  std::shared_ptr<Collector> collector;
  CheckSettings settings;
  std::unique_ptr<asio::steady_timer> timer;
  std::unique_ptr<asio::steady_timer> deadline;
  std::uint64_t run = 0;  // id of the current run
  bool running = false;   // a worker thread holds the collector
  bool answered = true;   // the current run's result (or its timeout) was counted
  std::optional<steady_clock::time_point> last_result_at;
};

class Daemon {
 public:
  explicit Daemon(DaemonOptions options)
      : options_(std::move(options)),
        signals_(io_, SIGTERM, SIGINT, SIGHUP),
        minute_timer_(io_),
        watchdog_timer_(io_),
        status_timer_(io_),
        os_(MakeLinuxOs()) {}

  int Run();

 private:
  bool Configure(const AgentConfig& config);
  void StartCheck(const std::string& name);
  void ScheduleCheck(const std::string& name, milliseconds delay);
  void OnResult(const std::string& name, std::uint64_t run, CheckResult result, bool late);
  // The uptime rule's wakes: from ready on, the heartbeat of each minute that ended.
  void StartMinutes();
  void OnMinuteWake();
  void Heartbeat(UnixMinute minute, std::chrono::system_clock::time_point now);
  void ScheduleWatchdog(milliseconds every);
  void AwaitSignal();
  void Reload();
  void Stop(const std::string& why);
  void WriteStatus(bool force);
  void Report(const std::string& key, const Outcome& outcome);
  // Starts, restarts (upstream changed) or stops the pusher to match config_.upstream.
  void ConfigurePush(const UpstreamSettings& previous);

  DaemonOptions options_;
  asio::io_context io_;
  asio::signal_set signals_;
  asio::steady_timer minute_timer_;
  asio::steady_timer watchdog_timer_;
  // Rewrites status.json kStatusEvery after the last write, so what only the pusher changed
  // (its state, the spool) shows within seconds even when every check runs once a minute.
  asio::steady_timer status_timer_;
  std::shared_ptr<const Os> os_;
  std::shared_ptr<const HermesTarget> hermes_;
  AgentConfig config_;
  std::string node_id_;
  std::map<std::string, CheckSlot> slots_;
  // Wall time of each check's last result (slots are rebuilt by a reload; this is not).
  std::map<std::string, std::chrono::system_clock::time_point> checked_at_;
  std::optional<Evaluation> evaluation_;
  // Set once every check has answered once (ready); a reload keeps it.
  std::optional<MinuteSchedule> minutes_;
  std::unique_ptr<HistoryStore> store_;
  std::unique_ptr<Accountant> accountant_;
  std::unique_ptr<Pusher> pusher_;
  SpoolWatch spool_watch_;
  NodeClock clock_;
  RepeatingErrorLog errors_;
  std::shared_ptr<std::atomic<int>> in_flight_ = std::make_shared<std::atomic<int>>(0);
  bool ready_ = false;
  bool stopping_ = false;
  std::uint64_t reloads_ = 0;
  std::string started_at_;
  steady_clock::time_point last_status_write_{};
};

bool Daemon::Configure(const AgentConfig& config) {
  auto target = ResolveHermesTarget(config, *os_);
  if (!target) {
    spdlog::error("{}", target.error());
    return false;
  }
  hermes_ = std::make_shared<const HermesTarget>(std::move(target).value());
  config_ = config;
  node_id_ = ResolveNodeId(config);
  for (auto& [name, slot] : slots_) {
    slot.timer->cancel();
    slot.deadline->cancel();
  }
  std::map<std::string, CheckSlot> slots;
  for (const auto& name : BuiltinCheckNames()) {
    auto it = config.settings.find(name);
    CheckSettings settings = it != config.settings.end() ? it->second : CheckSettings{};
    if (!settings.enabled) continue;
    CheckSlot slot;
    slot.collector = MakeBuiltinCollector(name, config.checks);
    slot.settings = settings;
    slot.timer = std::make_unique<asio::steady_timer>(io_);
    slot.deadline = std::make_unique<asio::steady_timer>(io_);
    if (auto old = slots_.find(name); old != slots_.end()) slot.run = old->second.run + 1;
    slots.emplace(name, std::move(slot));
  }
  slots_ = std::move(slots);
  if (accountant_) {
    accountant_->set_uptime_require(config.uptime_require);
    std::vector<std::string> gone;
    for (const auto& [name, result] : accountant_->latest()) {
      if (!slots_.contains(name)) gone.push_back(name);
    }
    for (const auto& name : gone) {
      accountant_->Forget(name);
      checked_at_.erase(name);
    }
  }
  for (const auto& [name, slot] : slots_) ScheduleCheck(name, milliseconds(0));
  return true;
}

void Daemon::ScheduleCheck(const std::string& name, milliseconds delay) {
  auto it = slots_.find(name);
  if (it == slots_.end()) return;
  it->second.timer->expires_after(delay);
  it->second.timer->async_wait([this, name](const boost::system::error_code& ec) {
    if (!ec && !stopping_) StartCheck(name);
  });
}

void Daemon::StartCheck(const std::string& name) {
  // A timer whose wait had completed before a reload removed or renamed its check.
  auto found = slots_.find(name);
  if (found == slots_.end()) return;
  CheckSlot& slot = found->second;
  ScheduleCheck(name, slot.settings.interval);
  if (slot.running) return;  // the previous run is still stuck; it was reported UNKNOWN
  slot.running = true;
  slot.answered = false;
  const std::uint64_t run = ++slot.run;
  const auto deadline = steady_clock::now() + slot.settings.timeout;
  in_flight_->fetch_add(1);
  std::thread([this, name, run, deadline, collector = slot.collector, os = os_, hermes = hermes_,
               in_flight = in_flight_] {
    RunGuarded(
        "check " + name,
        [&] {
          CheckContext context{*os, *hermes, deadline};
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
          asio::post(io_, [this, name, run, result = std::move(result)]() mutable {
            OnResult(name, run, std::move(result), false);
          });
          in_flight->fetch_sub(1);
        },
        ExitOnFatal);
  }).detach();
  slot.deadline->expires_at(deadline + kGrace);
  slot.deadline->async_wait([this, name, run](const boost::system::error_code& ec) {
    if (ec) return;
    auto it = slots_.find(name);
    if (it == slots_.end() || it->second.run != run || it->second.answered) return;
    auto timeout_ms = it->second.settings.timeout.count();
    OnResult(
        name, run,
        MakeResult(name, Status::kUnknown,
                   "did not answer within its timeout of " + std::to_string(timeout_ms) + " ms",
                   {{"timed_out", true}}),
        true);
  });
}

void Daemon::OnResult(const std::string& name, std::uint64_t run, CheckResult result,
                      bool timed_out) {
  auto it = slots_.find(name);
  if (it == slots_.end() || it->second.run != run) return;  // from before a reload
  CheckSlot& slot = it->second;
  if (!timed_out) slot.running = false;
  if (slot.answered) return;  // already reported UNKNOWN at its deadline
  slot.answered = true;
  slot.deadline->cancel();
  slot.last_result_at = steady_clock::now();
  checked_at_[name] = os_->Now();

  const auto& latest = accountant_->latest();
  auto previous = latest.find(name);
  if (previous == latest.end() || previous->second.status != result.status) {
    auto log_level = result.status == Status::kOk ? spdlog::level::info : spdlog::level::warn;
    spdlog::log(log_level, "{}: {} - {}", name, StatusLabel(result.status), result.summary);
  }
  Report("history", accountant_->Observe(result));
  if (pusher_) pusher_->Wake();  // an incident may have opened or closed

  bool became_ready = false;
  if (!ready_ && std::all_of(slots_.begin(), slots_.end(),
                             [](const auto& s) { return s.second.last_result_at.has_value(); })) {
    ready_ = true;
    became_ready = true;
    StartMinutes();
    WriteStatus(true);  // status.json and STATUS= say so before READY=1 goes out
    Notify("READY=1");
    spdlog::info("every check answered once; node {} is {}", node_id_,
                 IsUp(
                     [&] {
                       std::map<std::string, Status> s;
                       for (const auto& [n, r] : accountant_->latest()) s[n] = r.status;
                       return s;
                     }(),
                     config_.uptime_require)
                     ? "up"
                     : "down");
  }
  if (!became_ready) WriteStatus(false);
}

void Daemon::StartMinutes() {
  minutes_.emplace(os_->Now());
  OnMinuteWake();
}

void Daemon::OnMinuteWake() {
  const auto now = os_->Now();
  const MinuteSchedule::Wake wake = minutes_->OnWake(now);
  if (wake.evaluate) Heartbeat(*wake.evaluate, now);
  minute_timer_.expires_after(wake.wait);
  minute_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec && !stopping_) OnMinuteWake();
  });
}

void Daemon::Heartbeat(UnixMinute minute, std::chrono::system_clock::time_point now) {
  const Outcome written = accountant_->Heartbeat(minute, clock_.NtpSynced());
  Report("history", written);
  std::map<std::string, Status> statuses;
  for (const auto& [name, result] : accountant_->latest()) statuses[name] = result.status;
  // Only now, after the heartbeat's transaction committed (or failed and was queued), may
  // status.json name this minute as evaluated: a reader (and the crash test) relies on it.
  evaluation_ = Evaluation{minute, now, IsUp(statuses, config_.uptime_require),
                           written.ok() && accountant_->queued_heartbeats() == 0};
  if (pusher_) pusher_->Wake();
  WriteStatus(true);
}

void Daemon::ScheduleWatchdog(milliseconds every) {
  watchdog_timer_.expires_after(every);
  watchdog_timer_.async_wait([this, every](const boost::system::error_code& ec) {
    if (ec) return;
    Notify("WATCHDOG=1");
    ScheduleWatchdog(every);
  });
}

void Daemon::AwaitSignal() {
  signals_.async_wait([this](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    if (signal == SIGHUP) {
      Reload();
      AwaitSignal();
    } else {
      Stop(signal == SIGTERM ? "SIGTERM" : "SIGINT");
    }
  });
}

void Daemon::Reload() {
  Notify("RELOADING=1");
  ConfigLoad load = options_.config_file.empty() ? ConfigLoad{DefaultConfig(), {}}
                                                 : LoadConfigFile(options_.config_file);
  if (!load.config) {
    for (const auto& e : load.errors) spdlog::error("{}", e.ToString());
    spdlog::error("reload refused: the configuration has {} error(s); still running the old one",
                  load.errors.size());
  } else {
    if (!options_.state_dir.empty()) load.config->state_dir = options_.state_dir;
    if (load.config->state_dir != config_.state_dir) {
      spdlog::warn("state_dir changed to {}; it takes effect at the next restart",
                   load.config->state_dir);
      load.config->state_dir = config_.state_dir;
    }
    AgentConfig old = config_;
    if (Configure(*load.config)) {
      ConfigurePush(old.upstream);
      ++reloads_;
      spdlog::info("configuration reloaded from {}",
                   options_.config_file.empty() ? "embedded defaults" : options_.config_file);
    } else {
      spdlog::error("reload refused; still running the old configuration");
      Configure(old);
    }
  }
  Notify("READY=1");
  WriteStatus(true);
}

void Daemon::Stop(const std::string& why) {
  if (stopping_) return;
  stopping_ = true;
  Notify("STOPPING=1");
  spdlog::info("stopping on {}", why);
  Report("history", accountant_->Stop());
  if (pusher_) {
    pusher_->Wake();  // agent_stop goes out if the receiver is there; nothing waits for it
    pusher_->Stop();
  }
  WriteStatus(true);
  io_.stop();
}

void Daemon::ConfigurePush(const UpstreamSettings& previous) {
  store_->SetSpoolLimit(config_.spool.max_size);
  const UpstreamSettings& now = config_.upstream;
  const bool same = pusher_ && previous == now;
  if (same) return;
  if (pusher_) {
    pusher_->Stop();
    pusher_.reset();
  }
  if (now.url.empty()) {
    spdlog::info("no upstream.url: records stay in the spool");
    return;
  }
  spdlog::info("pushing records to {}", now.url);
  pusher_ = std::make_unique<Pusher>(now, config_.state_dir, node_id_);
  pusher_->Start();
}

void Daemon::Report(const std::string& key, const Outcome& outcome) {
  if (outcome.ok()) {
    errors_.Clear(key);
  } else {
    errors_.Report(key, outcome.error());
  }
}

void Daemon::WriteStatus(bool force) {
  const auto now = steady_clock::now();
  if (!force && now - last_status_write_ < kStatusEvery) return;
  last_status_write_ = now;
  StatusFacts facts;
  facts.pid = ::getpid();
  facts.node = node_id_;
  facts.agent_version = FLEET_VERSION;
  facts.started = started_at_;
  facts.now = os_->Now();
  facts.config_file = options_.config_file;
  facts.ready = ready_;
  facts.stopping = stopping_;
  facts.reloads = reloads_;
  facts.evaluation = evaluation_;
  facts.queued_heartbeats = accountant_->queued_heartbeats();
  facts.queued_entries = accountant_->queued_entries();
  facts.history_write_failures = errors_.repeats("history");
  std::map<std::string, Status> statuses;
  for (const auto& [name, result] : accountant_->latest()) {
    statuses[name] = result.status;
    auto checked = checked_at_.find(name);
    facts.checks.push_back(
        {name, result.status, result.summary,
         checked != checked_at_.end() ? std::optional(checked->second) : std::nullopt,
         result.duration, slots_.contains(name)});
  }
  facts.up = IsUp(statuses, config_.uptime_require);
  facts.spool = spool_watch_.Observe(store_->SpoolStatus(), config_.spool.max_size);
  facts.push = pusher_ ? pusher_->Status() : nlohmann::json{{"state", "off"}, {"url", nullptr}};
  const nlohmann::json status = StatusDocument(facts);
  auto written = WriteFileAtomically(
      config_.state_dir + "/status.json",
      status.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  Report("status file", written);
  if (!stopping_) {
    status_timer_.expires_after(kStatusEvery);
    status_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec && !stopping_) WriteStatus(true);
    });
  }
  Notify("STATUS=" + StatusLine(facts));
}

int Daemon::Run() {
  SetUpLogging();
  ConfigLoad load = options_.config_file.empty() ? ConfigLoad{DefaultConfig(), {}}
                                                 : LoadConfigFile(options_.config_file);
  if (!load.config) {
    for (const auto& e : load.errors) spdlog::error("{}", e.ToString());
    spdlog::error("configuration rejected; not starting");
    return 1;
  }
  AgentConfig config = *load.config;
  if (!options_.state_dir.empty()) config.state_dir = options_.state_dir;
  if (auto prepared = PrepareStateDir(config.state_dir); !prepared) {
    spdlog::error("{}", prepared.error());
    return 1;
  }
  auto store = OpenNodeHistory(config.state_dir, ResolveNodeId(config), os_->Now());
  if (!store) {
    spdlog::error("{}", store.error());
    return 1;
  }
  store_ = std::move(store).value();
  accountant_ = std::make_unique<Accountant>(*store_, config.uptime_require,
                                             [this] { return clock_.Stamp(); });
  config_ = config;
  started_at_ = FormatUtc(os_->Now());
  Report("history", accountant_->Start());
  if (!Configure(config)) return 1;
  ConfigurePush(UpstreamSettings{});  // sets the spool limit too
  spdlog::info("fleet-agent {} running for node {}: {} checks, state in {}", FLEET_VERSION,
               node_id_, slots_.size(), config_.state_dir);
  AwaitSignal();
  std::uint64_t watchdog_usec = 0;
  if (sd_watchdog_enabled(0, &watchdog_usec) > 0 && watchdog_usec > 0) {
    ScheduleWatchdog(milliseconds(std::max<std::uint64_t>(watchdog_usec / 2000, 100)));
  }
  if (slots_.empty()) {  // nothing to check: ready right away
    ready_ = true;
    StartMinutes();
    WriteStatus(true);
    Notify("READY=1");
  }
  io_.run();
  // Workers stuck in a collector still hold shared state; give them a moment, then leave
  // without running destructors under their feet.
  for (int i = 0; i < 20 && in_flight_->load() > 0; ++i)
    std::this_thread::sleep_for(milliseconds(50));
  if (in_flight_->load() > 0) {
    spdlog::warn("{} check(s) still running at exit; leaving them", in_flight_->load());
    spdlog::shutdown();
    std::_Exit(0);
  }
  return 0;
}

}  // namespace

int RunDaemon(const DaemonOptions& options) {
  int code = kFatalExitCode;
  RunGuarded(
      "main",
      [&] {
        Daemon daemon(options);
        code = daemon.Run();
      },
      ExitOnFatal);
  return code;
}

}  // namespace fleet
