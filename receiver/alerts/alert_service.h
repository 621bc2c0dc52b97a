// AlertService: alerting inside `fleet-receiver serve --alerts FILE`: the alert worker on a
// thread of its own (alert_worker.h: a step every second, and at once when Wake() says an
// ingest commit stored an incident, an ack or a maintenance window; only the receiver holding
// the worker lease works, the others stand by and take over when it stops), the outbox sender
// (alert_sender.h: every receiver sends, each message claimed first) and, with
// telegram.poll, the Telegram poller (telegram_poller.h, under a lease of its own). Ingest
// never waits for any of it: Wake only signals. Stop() gives the leases up so another
// receiver takes over at once, and joins the threads. Threads of its own; Wake is
// thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "receiver/alerts/alert_sender.h"
#include "receiver/alerts/alert_worker.h"
#include "receiver/alerts/alerts_config.h"

namespace fleet::receiver {

class TelegramPoller;

WorkerSettings WorkerSettingsOf(const ReceiverAlertSettings& settings);

class AlertService {
 public:
  AlertService(std::string db, ReceiverAlertSettings settings, ReceiverAlertSecrets secrets,
               TransportFactory transport);
  ~AlertService();
  AlertService(const AlertService&) = delete;
  AlertService& operator=(const AlertService&) = delete;

  void Start();
  void Wake();
  void Stop();

 private:
  void WorkLoop();
  void Sleep(std::chrono::milliseconds delay);

  std::string db_;
  std::string holder_;
  ReceiverAlertSettings settings_;
  ReceiverAlertSecrets secrets_;
  TransportFactory transport_;
  std::unique_ptr<AlertSender> sender_;
  std::unique_ptr<TelegramPoller> poller_;
  std::thread worker_;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  bool woken_ = false;
};

// The real transport (libcurl), with the stop flag.
Result<std::unique_ptr<alerting::ChatTransport>> CurlTransport(const std::atomic<bool>* abort);

}  // namespace fleet::receiver
