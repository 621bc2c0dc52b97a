#include "receiver/alerts/alert_service.h"

#include <spdlog/spdlog.h>

#include <ctime>

#include "receiver/alerts/alert_leases.h"
#include "receiver/alerts/telegram_poller.h"

namespace fleet::receiver {
namespace {

using namespace std::chrono_literals;

constexpr auto kStepEvery = 1s;
constexpr auto kAfterFault = 5s;

}  // namespace

WorkerSettings WorkerSettingsOf(const ReceiverAlertSettings& settings) {
  WorkerSettings w;
  w.policy = settings.policy;
  w.silent_after = settings.silent_after;
  w.telegram = settings.telegram.has_value();
  w.foundation = FoundationChannelNames(settings);
  return w;
}

Result<std::unique_ptr<alerting::ChatTransport>> CurlTransport(const std::atomic<bool>* abort) {
  alerting::ChatTransportOptions options;
  options.abort = abort;
  return alerting::MakeCurlChatTransport(options);
}

AlertService::AlertService(std::string db, ReceiverAlertSettings settings,
                           ReceiverAlertSecrets secrets, TransportFactory transport)
    : db_(std::move(db)),
      holder_(MakeHolderName()),
      settings_(std::move(settings)),
      secrets_(std::move(secrets)),
      transport_(std::move(transport)) {}

AlertService::~AlertService() { Stop(); }

void AlertService::Start() {
  sender_ = std::make_unique<AlertSender>(db_, holder_, settings_, secrets_, transport_);
  sender_->Start();
  worker_ = std::thread([this] { WorkLoop(); });
  if (settings_.telegram && settings_.telegram->poll) {
    poller_ = std::make_unique<TelegramPoller>(db_, holder_, settings_, secrets_.telegram_token,
                                               transport_);
    poller_->Start();
  }
  std::string channels;
  for (const auto& c : FoundationChannelNames(settings_)) {
    channels += (channels.empty() ? "" : ", ") + c;
  }
  spdlog::info(
      "alerting as {} (foundation channels: {}; operators' from the registry; silent "
      "after {} s)",
      holder_, channels.empty() ? "none" : channels, settings_.silent_after);
}

void AlertService::Wake() {
  {
    std::lock_guard lock(mutex_);
    woken_ = true;
  }
  wake_.notify_all();
}

void AlertService::Stop() {
  if (stop_.exchange(true)) return;
  wake_.notify_all();
  if (worker_.joinable()) worker_.join();
  if (poller_) poller_->Stop();
  if (sender_) sender_->Stop();
}

void AlertService::Sleep(std::chrono::milliseconds delay) {
  std::unique_lock lock(mutex_);
  wake_.wait_for(lock, delay, [&] { return stop_.load() || woken_; });
  woken_ = false;
}

void AlertService::WorkLoop() {
  std::unique_ptr<SqlLink> link;
  std::unique_ptr<AlertWorker> worker;
  bool leader = false;
  std::string fault;
  auto report = [&](const std::string& now_fault) {
    if (now_fault == fault) return;
    if (now_fault.empty()) {
      spdlog::info("alert worker works again");
    } else {
      spdlog::error("alert worker: {}", now_fault);
    }
    fault = now_fault;
  };
  while (!stop_) {
    if (!link) {
      auto opened = OpenSqlLink(db_);
      if (!opened) {
        report("cannot open the database: " + opened.error());
        Sleep(kAfterFault);
        continue;
      }
      link = std::move(opened).value();
      worker = std::make_unique<AlertWorker>(*link, holder_, WorkerSettingsOf(settings_));
    }
    const auto now = static_cast<std::int64_t>(std::time(nullptr));
    auto step = worker->Step(now);
    if (!step) {
      report(step.error());
      worker.reset();
      link.reset();  // a fresh connection: the database may have gone and come back
      Sleep(kAfterFault);
      continue;
    }
    report("");
    if (step->leader != leader) {
      leader = step->leader;
      spdlog::info(leader ? "alert worker: this receiver works the alerts"
                          : "alert worker: another receiver works the alerts");
    }
    if (step->dropped > 0) {
      spdlog::warn(
          "alerting: the outbox was full: {} waiting message(s) dropped (reminders "
          "first)",
          step->dropped);
    }
    if (step->queued > 0 || step->answered > 0) sender_->Wake();
    if (step->behind) continue;  // catching up: the next chunk at once
    Sleep(kStepEvery);
  }
  if (worker) (void)worker->Resign();
}

}  // namespace fleet::receiver
