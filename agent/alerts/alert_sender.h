// AlertSender: delivers the outbox (alert_ledger.h) on its own thread, so alerting never
// delays the checks or the pusher. Each channel goes on by itself, oldest message first
// (a later message never overtakes an earlier one of its channel): at the channel's pace
// (alerting/send_pace.h); a rate limit (429 with retry_after) holds that channel for as
// long as asked; a 5xx, garbage or no reply is retried with full-jitter backoff (1 s to
// 5 min); a channel that refuses as configured (401/403/404: a bad token, a chat or webhook
// that is gone) is told once in the log, shown in status, and retried every 10 minutes
// with its messages kept; a message refused for itself (400), or an edit of a message that
// was never sent, is set aside as failed. A message leaves the outbox only when its channel
// took it, so a kill -9 at any moment loses nothing; the price is that a message whose
// reply was lost in the crash is sent once more. Wake() says the outbox has new messages;
// Stop() interrupts a transfer in flight and joins. Status() is a snapshot for status.json.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "agent/alerts/alert_channels.h"
#include "agent/daemon/error_log.h"
#include "alerting/channels.h"
#include "alerting/chat_transport.h"
#include "base/result.h"

namespace fleet {

class AlertLedger;

// The configured channels, made on the sender's thread over its transport. The secrets
// they need are the factory's (captured when the configuration was loaded).
using ChannelFactory =
    std::function<Result<std::vector<NamedChannel>>(alerting::ChatTransport& transport)>;
using TransportFactory =
    std::function<Result<std::unique_ptr<alerting::ChatTransport>>(const std::atomic<bool>* abort)>;

class AlertSender {
 public:
  AlertSender(std::string state_dir, ChannelFactory channels, TransportFactory transport);
  ~AlertSender();
  AlertSender(const AlertSender&) = delete;
  AlertSender& operator=(const AlertSender&) = delete;

  void Start();
  void Wake();
  void Stop();
  // {"channels": [{name, state, last_error, last_sent, sent, next_attempt}...]}
  nlohmann::json Status() const;

 private:
  struct Channel;
  void Loop();
  // Sends the channel's next due message, if any; true when it tried one.
  bool SendNext(AlertLedger& ledger, Channel& channel);
  void Sleep(std::chrono::milliseconds delay);
  void SetState(Channel& channel, std::string state, std::string error);

  std::string state_dir_;
  ChannelFactory make_channels_;
  TransportFactory make_transport_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool woken_ = false;
  RepeatingErrorLog errors_;
  std::vector<std::unique_ptr<Channel>> channels_;  // the thread's; states under mutex_
  std::string fault_;                               // guarded by mutex_: ledger or transport
};

}  // namespace fleet
