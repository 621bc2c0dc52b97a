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
#include <cstdlib>
#include <limits>
#include <map>
#include <memory>
#include <thread>

#include "agent/alerts/alert_service.h"
#include "agent/alerts/weekly_summary.h"
#include "agent/check/check_report.h"
#include "agent/config/alert_secrets.h"
#include "agent/config/config.h"
#include "agent/config/hermes_target.h"
#include "agent/daemon/check_scheduler.h"
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
#include "agent/metrics/metrics_server.h"
#include "agent/push/enroll_client.h"
#include "agent/push/pusher.h"
#include "agent/remedies/builtin_remedies.h"
#include "agent/remedies/remedy_json.h"
#include "agent/remedies/remedy_runner.h"
#include "agent/report/metrics_report.h"
#include "base/units.h"
#include "base/utc_time.h"

namespace fleet {
namespace {

namespace asio = boost::asio;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr milliseconds kStatusEvery{5000};

void SetUpLogging() {
  auto logger = spdlog::stderr_logger_mt("fleet-agent");
  // journald stamps lines itself; elsewhere a timestamp helps.
  logger->set_pattern(std::getenv("JOURNAL_STREAM") ? "%l: %v" : "[%Y-%m-%d %H:%M:%S] %l: %v");
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

void Notify(const std::string& state) { sd_notify(0, state.c_str()); }

class Daemon {
 public:
  explicit Daemon(DaemonOptions options)
      : options_(std::move(options)),
        signals_(io_, SIGTERM, SIGINT, SIGHUP),
        minute_timer_(io_),
        watchdog_timer_(io_),
        status_timer_(io_),
        os_(MakeLinuxOs()),
        checks_(io_, os_, [this](CheckResult result) { OnAnswer(std::move(result)); }) {}

  int Run();

 private:
  bool Configure(const AgentConfig& config);
  // A check's answer for this run (its result, or the UNKNOWN of a run that timed out).
  void OnAnswer(CheckResult result);
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
  // Reads the alert channels' secrets and (re)configures alerting; false when it cannot.
  bool ConfigureAlerts(const AlertSettings& settings);
  NodeHistoryHooks AlertHooks();
  // Sets up the remedies of config_ (false, errors logged, when one cannot be set up).
  bool ConfigureRemedies(const AgentConfig& config);
  RemedyHooks RemedyRunnerHooks();

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
  CheckScheduler checks_;
  // Wall time of each check's last answer.
  std::map<std::string, std::chrono::system_clock::time_point> checked_at_;
  std::optional<Evaluation> evaluation_;
  // Set once every check has answered once (ready); a reload keeps it.
  std::optional<MinuteSchedule> minutes_;
  std::unique_ptr<HistoryStore> store_;
  std::unique_ptr<Accountant> accountant_;
  std::unique_ptr<Pusher> pusher_;
  std::unique_ptr<AlertService> alerts_;
  std::unique_ptr<RemedyRunner> remedies_;
  std::unique_ptr<MetricsServer> metrics_;  // metrics.listen set (read at start only)
  SpoolWatch spool_watch_;
  NodeClock clock_;
  RepeatingErrorLog errors_;
  bool ready_ = false;
  bool stopping_ = false;
  // Remedy tasks on their own threads: they post back onto io_ and read os_, so the daemon
  // outlives them or leaves without destructors (Run's end).
  std::shared_ptr<std::atomic<int>> remedies_in_flight_ = std::make_shared<std::atomic<int>>(0);
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
  checks_.Configure(config, hermes_);
  if (accountant_) {
    accountant_->set_uptime_require(config.uptime_require);
    std::vector<std::string> gone;
    for (const auto& [name, result] : accountant_->latest()) {
      if (!checks_.Has(name)) gone.push_back(name);
    }
    for (const auto& name : gone) {
      accountant_->Forget(name);
      if (alerts_) alerts_->Forget(name);
      checked_at_.erase(name);
    }
  }
  return true;
}

void Daemon::OnAnswer(CheckResult result) {
  const std::string name = result.name;
  checked_at_[name] = os_->Now();

  const auto& latest = accountant_->latest();
  auto previous = latest.find(name);
  if (previous == latest.end() || previous->second.status != result.status) {
    auto log_level = result.status == Status::kOk ? spdlog::level::info : spdlog::level::warn;
    spdlog::log(log_level, "{}: {} - {}", name, StatusLabel(result.status), result.summary);
  }
  Report("history", accountant_->Observe(result));
  if (pusher_) pusher_->Wake();  // an incident may have opened or closed
  // Remedies first: what they say about a check (healthy again after a restart) is in the
  // alert the same answer may resolve.
  if (remedies_) remedies_->Observe(result);
  if (alerts_) alerts_->Observe(result);

  bool became_ready = false;
  if (!ready_ && checks_.AllAnswered()) {
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
    if (Configure(*load.config) && ConfigureAlerts(load.config->alerts) &&
        ConfigureRemedies(*load.config)) {
      ConfigurePush(old.upstream);
      ++reloads_;
      spdlog::info("configuration reloaded from {}",
                   options_.config_file.empty() ? "embedded defaults" : options_.config_file);
    } else {
      spdlog::error("reload refused; still running the old configuration");
      Configure(old);
      ConfigureAlerts(old.alerts);
      ConfigureRemedies(old);
    }
  }
  Notify("READY=1");
  WriteStatus(true);
}

void Daemon::Stop(const std::string& why) {
  if (stopping_) return;
  stopping_ = true;
  checks_.Stop();
  Notify("STOPPING=1");
  spdlog::info("stopping on {}", why);
  if (remedies_) remedies_->Stop();
  if (alerts_) alerts_->Stop();
  Report("history", accountant_->Stop());
  if (pusher_) {
    pusher_->Wake();  // agent_stop goes out if the receiver is there; nothing waits for it
    pusher_->Stop();
  }
  WriteStatus(true);
  io_.stop();
}

void Daemon::ConfigurePush(const UpstreamSettings& previous_config) {
  store_->SetSpoolLimit(config_.spool.max_size);
  // No upstream.url in the configuration: the one `fleet-agent enroll` kept, if any.
  const auto effective = [this](UpstreamSettings upstream) {
    if (upstream.url.empty()) {
      if (auto enrolled = EnrolledUpstreamUrl(config_.state_dir)) upstream.url = *enrolled;
    }
    return upstream;
  };
  const UpstreamSettings now = effective(config_.upstream);
  const UpstreamSettings previous = effective(previous_config);
  const bool same = pusher_ && previous == now;
  if (same) return;
  if (pusher_) {
    pusher_->Stop();
    pusher_.reset();
  }
  if (now.url.empty()) {
    spdlog::info("no upstream.url (and no fleet-agent enroll): records stay in the spool");
    return;
  }
  spdlog::info("pushing records to {}", now.url);
  pusher_ = std::make_unique<Pusher>(now, config_.state_dir, node_id_);
  pusher_->Start();
}

bool Daemon::ConfigureAlerts(const AlertSettings& settings) {
  const char* credentials = std::getenv("CREDENTIALS_DIRECTORY");
  auto secrets = LoadAlertSecrets(settings, *os_, credentials != nullptr ? credentials : "");
  if (!secrets) {
    spdlog::error("alerts: {}", secrets.error());
    return false;
  }
  if (auto configured = alerts_->Configure(settings, *secrets); !configured) {
    spdlog::error("{}", configured.error());
    return false;
  }
  return true;
}

// Alerting's view of the history: the accountant's open incidents, the signed records.
NodeHistoryHooks Daemon::AlertHooks() {
  NodeHistoryHooks hooks;
  hooks.now = [this] { return ToUnixSeconds(os_->Now()); };
  hooks.open_incident = [this](const std::string& check) {
    return accountant_->OpenIncidentOf(check);
  };
  hooks.incident = [this](std::int64_t id) -> Result<std::optional<std::pair<std::string, bool>>> {
    auto all = store_->Incidents(0, std::numeric_limits<std::int64_t>::max());
    if (!all) return Error{all.error()};
    for (const IncidentEntry& incident : *all) {
      if (incident.id == id) return std::optional(std::pair(incident.check, !incident.closed));
    }
    return std::optional<std::pair<std::string, bool>>();
  };
  hooks.record_ack = [this](std::int64_t incident, const alerting::Acknowledgement& ack) {
    AckEntry entry;
    entry.incident = incident;
    entry.at = ack.at;
    entry.by = ack.by;
    entry.via = protocol::ParseAckVia(ack.via).value_or(protocol::AckVia::kCli);
    entry.note = ack.note;
    auto written = store_->AddAck(entry, clock_.Stamp());
    if (pusher_) pusher_->Wake();
    return written;
  };
  hooks.record_maintenance = [this](std::int64_t from, std::int64_t until,
                                    const std::string& reason, const std::string& by) {
    auto written = store_->AddMaintenance({from, until, reason, by}, clock_.Stamp());
    if (pusher_) pusher_->Wake();
    return written;
  };
  hooks.weekly_summary = [this](const Period& week) -> Result<alerting::Alert> {
    auto report = ReadReport(*store_, node_id_, week, week.end);
    if (!report) return Error{report.error()};
    return WeeklySummary(*report);
  };
  hooks.record_remediation = [this](const nlohmann::json& payload) -> Result<std::string> {
    auto entry = RemediationFromJson(payload);
    if (!entry) return Error{entry.error()};
    entry->incident = accountant_->OpenIncidentOf(entry->check);
    if (auto written = store_->AddRemediation(*entry, clock_.Stamp()); !written) {
      return Error{"the remediation record failed: " + written.error()};
    }
    if (pusher_) pusher_->Wake();
    return std::string("recorded");
  };
  return hooks;
}

bool Daemon::ConfigureRemedies(const AgentConfig& config) {
  RemedySetup setup = MakeRemedies(config, hermes_, os_);
  if (!setup.errors.empty()) {
    for (auto& e : setup.errors) {
      e.file = options_.config_file.empty() ? "remedies" : options_.config_file;
      spdlog::error("{}", e.ToString());
    }
    return false;
  }
  if (!setup.remedies.empty()) {
    spdlog::info(
        "remedies on ({}): {} remed{}",
        config.remedies.mode == RemedyMode::kDryRun ? "dry-run: nothing is changed" : "acting",
        setup.remedies.size(), setup.remedies.size() == 1 ? "y" : "ies");
  }
  remedies_->Configure(config.remedies.mode, config.remedies.limits, std::move(setup.remedies));
  return true;
}

// The remedies' view of the daemon: the clock, maintenance, the open incidents, the signed
// records, the alerts' notes, the checks (run again after an action), the loop and threads.
RemedyHooks Daemon::RemedyRunnerHooks() {
  RemedyHooks hooks;
  hooks.now = [this] { return ToUnixSeconds(os_->Now()); };
  hooks.in_maintenance = [this] { return alerts_ && alerts_->InMaintenance(); };
  hooks.open_incident = [this](const std::string& check) {
    return accountant_->OpenIncidentOf(check);
  };
  hooks.record = [this](const RemediationEntry& entry) {
    auto written = store_->AddRemediation(entry, clock_.Stamp());
    if (pusher_) pusher_->Wake();
    return written;
  };
  hooks.note = [this](const std::string& check, const std::string& note, bool tell) {
    if (alerts_) alerts_->Note(check, note, tell);
  };
  hooks.recheck = [this](const std::string& check) { checks_.RunSoon(check); };
  hooks.post = [this](std::function<void()> task) { asio::post(io_, std::move(task)); };
  hooks.launch = [in_flight = remedies_in_flight_](std::function<void()> task) {
    ++*in_flight;
    std::thread([task = std::move(task), in_flight] {
      RunGuarded("remedy", task, ExitOnFatal);
      --*in_flight;
    }).detach();
  };
  hooks.load = [this]() { return store_->Meta("remedy_limits"); };
  hooks.save = [this](const std::string& state) { return store_->SetMeta("remedy_limits", state); };
  return hooks;
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
         result.duration, checks_.Has(name)});
  }
  facts.up = IsUp(statuses, config_.uptime_require);
  facts.spool = spool_watch_.Observe(store_->SpoolStatus(), config_.spool.max_size);
  facts.push = pusher_ ? pusher_->Status() : nlohmann::json{{"state", "off"}, {"url", nullptr}};
  if (alerts_) facts.alerts = alerts_->Status();
  if (remedies_) facts.remedies = remedies_->Status();
  const nlohmann::json status = StatusDocument(facts);
  if (metrics_) metrics_->Publish(status);
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
  alerts_ = std::make_unique<AlertService>(io_, config_.state_dir, node_id_, AlertHooks());
  if (!ConfigureAlerts(config.alerts)) return 1;
  remedies_ = std::make_unique<RemedyRunner>(RemedyRunnerHooks());
  if (!ConfigureRemedies(config)) return 1;
  ConfigurePush(UpstreamSettings{});  // sets the spool limit too
  if (!config_.metrics_listen.empty()) {
    metrics_ = std::make_unique<MetricsServer>(io_);
    auto bound = metrics_->Listen(config_.metrics_listen);
    if (!bound) return spdlog::error("{}", bound.error()), 1;
    spdlog::info("serving GET /metrics on {}", config_.metrics_listen);
  }
  spdlog::info("fleet-agent {} running for node {}: {} checks, state in {}", FLEET_VERSION,
               node_id_, checks_.size(), config_.state_dir);
  AwaitSignal();
  std::uint64_t watchdog_usec = 0;
  if (sd_watchdog_enabled(0, &watchdog_usec) > 0 && watchdog_usec > 0) {
    ScheduleWatchdog(milliseconds(std::max<std::uint64_t>(watchdog_usec / 2000, 100)));
  }
  if (checks_.size() == 0) {  // nothing to check: ready right away
    ready_ = true;
    StartMinutes();
    WriteStatus(true);
    Notify("READY=1");
  }
  io_.run();
  // Workers stuck in a collector still hold shared state; give them a moment, then leave
  // without running destructors under their feet.
  const auto busy = [this] { return checks_.InFlight() > 0 || *remedies_in_flight_ > 0; };
  for (int i = 0; i < 20 && busy(); ++i) std::this_thread::sleep_for(milliseconds(50));
  if (busy()) {
    spdlog::warn("{} check(s) and {} remed{} still running at exit; leaving them",
                 checks_.InFlight(), remedies_in_flight_->load(),
                 *remedies_in_flight_ == 1 ? "y" : "ies");
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
